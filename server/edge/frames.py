"""uvicorn's WebSocket protocol with what the sitting needs from the transport.

Two changes to ``WebSocketsSansIOProtocol`` (what uvicorn's ``ws="auto"`` picks when the
``websockets`` package is installed), both in the one method that hands a complete
message to the application:

- **When a message was received.** Each ``websocket.receive`` carries ``RECEIVED``: the
  ``time.monotonic()`` at which uvicorn parsed the frame off the socket. The endpoint
  judges a command by that moment (``Sitting.request(..., at=...)``), not by when the
  event loop got round to deciding it: a vote read before a ballot's deadline is counted
  even if a stall kept it waiting past the deadline (docs/protocol.md, "Time").
- **A text frame that is not UTF-8 is the client's fault.** uvicorn logged each one with a
  full traceback at ERROR level, so anyone could flood the log with a few bytes per frame;
  here it closes the connection with 1007 (RFC 6455, "invalid frame payload data") and
  notes one line at DEBUG.

The rest is uvicorn's code: keep this method in step with
``uvicorn/protocols/websockets/websockets_sansio_impl.py`` when upgrading uvicorn
(tests/test_receive_time.py and tests/test_fuzz_edge.py fail if it drifts).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

#: key of the receive time in a ``websocket.receive`` message (an ASGI extension key)
RECEIVED = "hemicycle.received"

log = logging.getLogger("hemicycle.frames")


class StampingWebSocketProtocol(WebSocketsSansIOProtocol):
    """What ``hemicycle serve`` runs uvicorn with (``ws=StampingWebSocketProtocol``)."""

    def send_receive_event_to_app(self) -> None:
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            # past `websocket.close`: uvicorn discards the message and keeps reading until
            # the peer's close reply arrives
            return
        received = time.monotonic()
        if self.curr_msg_data_type == "text":
            try:
                text = data.decode()
            except UnicodeDecodeError:
                log.debug("%s: a text frame that is not UTF-8; closed with 1007", self.client)
                self.conn.send_close(1007, "text frames must be UTF-8")
                self.handle_parser_exception()
                return
            message: dict[str, Any] = {"type": "websocket.receive", "text": text, RECEIVED: received}
        else:
            message = {"type": "websocket.receive", "bytes": data, RECEIVED: received}
        self.queue.put_nowait(message)  # type: ignore[arg-type]  # an ASGI message with one key more
        if not self.read_paused:
            self.read_paused = True
            self.transport.pause_reading()
