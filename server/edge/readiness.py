"""``GET /ready`` on a port of its own, answered by a thread: what a reverse proxy checks.

The proxy in front of a leader and its standbys (docs/deploy/haproxy.cfg) asks every 100 ms
and marks a server down when it does not answer in time, closing every session it routed
there. On the main port the answer waits its turn on the event loop — and a new leader
taking 3,000 tablets' reconnections at once is busy for seconds: its checks timed out, the
proxy marked it down and closed the whole room's sessions, which reconnected and stalled it
again (bench/failover.py at 3,000 seats). A thread answers within milliseconds however
busy the loop is, so the check says what it should: this process holds the lock and its
loop is alive. A loop that has not turned for ``STALLED`` seconds (a wedged server) is
reported not ready, and a stopped process (SIGSTOP, a frozen VM) answers nothing at all.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .standby import READY_PATH

log = logging.getLogger("hemicycle.readiness")

STALLED = 10.0  # seconds without a turn of the event loop: not ready, whatever the lock says
BEAT = 0.5  # how often the loop notes that it turns
READ_TIMEOUT = 5.0  # seconds a checker has to send its request (a proxy sends it at once)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A checker that hangs up before reading its answer (HAProxy does, once it has the
        status line) is no error worth a traceback ten times a second."""


class ReadinessPort:
    """A tiny HTTP server on its own thread that answers ``GET /ready`` from ``status``."""

    def __init__(self, host: str, port: int, status: Callable[[], dict[str, Any]]) -> None:
        self.status = status
        self.loop_seen = time.monotonic()
        self._beat: asyncio.Task[None] | None = None
        probe = self

        class Handler(BaseHTTPRequestHandler):
            timeout = READ_TIMEOUT  # a connection that sends nothing is dropped, never held

            def do_GET(self) -> None:  # the name http.server calls
                if self.path.split("?", 1)[0] != READY_PATH:
                    self._answer(404, {"error": "not_found"})
                    return
                body = dict(probe.status())
                stalled = time.monotonic() - probe.loop_seen > STALLED
                body["loop_stalled"] = stalled
                self._answer(200 if body["leading"] and not stalled else 503, body)

            def _answer(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # silent: checked 10 times a second
                pass

        self.server = _QuietServer((host, port), Handler)
        self.server.daemon_threads = True
        self.server.timeout = 2
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, name="readiness", daemon=True)

    async def start(self) -> None:
        """Answer from now on; the event loop notes every ``BEAT`` that it still turns."""
        self._beat = asyncio.get_running_loop().create_task(self._turns())
        self._thread.start()
        log.info("readiness answered on port %d", self.port)

    async def _turns(self) -> None:
        while True:
            self.loop_seen = time.monotonic()
            await asyncio.sleep(BEAT)

    async def stop(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
        if self._thread.is_alive():  # shutdown() waits for serve_forever: never call it before
            await asyncio.to_thread(self.server.shutdown)
        self.server.server_close()
