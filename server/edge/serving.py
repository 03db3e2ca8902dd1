"""uvicorn as Hemicycle runs it: header timeouts, connection caps, outboxes that cannot hang.

Why this exists: uvicorn has no timeout for a request's headers (a connection that sends
nothing, or a header a byte a minute, is held for ever) and no cap on connections, so
1,100 such connections once exhausted the server's file descriptors: ``/health`` failed and
seats could not reconnect. And a WebSocket close waited for the transport to drain, which a
client that never reads never lets happen. So the server runs uvicorn with its own protocol
classes (``uvicorn.Config(http=..., ws=...)``), small subclasses of uvicorn's own:

* **Header timeout.** A request's line and headers (a WebSocket handshake too) must arrive
  within ``header_timeout`` of the connection (or of the first byte of the next request on a
  kept-alive one); otherwise the connection is dropped. After the handshake the protocol's
  own ``hello`` timeout applies (server/edge/ws.py).
* **Connection caps** (:class:`ConnectionGate`), checked when a connection is accepted; a
  refused one is reset at once, costing no file descriptor beyond that moment. A connection
  is *pending* until it is a WebSocket that said a valid ``hello``; plain HTTP stays pending
  (it is short-lived). Pending connections are capped per address and in all, well below
  the total cap, so an unauthenticated flood — slowloris, silent sockets, handshakes that
  never say hello — can never take the room that seats, the clerk and displays need; the
  total per address is capped too, high enough for a room's worth of tablets behind one NAT.
* **Closing never waits for a reader.** A WebSocket close (4008 for a laggard, 4000 idle)
  is written at once, even while the transport is paused, and the connection is reset if
  the peer has not taken it within ``close_timeout``; a keep-alive ping timeout resets too.
  Without this, a client that never reads keeps its socket and its buffers for ever.

Proxy headers (``X-Forwarded-For``) are believed only from ``trusted_proxies`` (none by
default): a throttle keyed by address must not be bypassed by a header. A later deployment
issue adds ``--public-url`` and TLS; the trusted-proxy list and the Host policy
(server/edge/origins.py) are where they plug in.
"""

from __future__ import annotations

import asyncio
import logging
import re
import resource
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.utils import ClientDisconnected

from .frames import StampingWebSocketProtocol

log = logging.getLogger("hemicycle.serving")

#: the scope extension through which /ws tells the gate that a connection said a valid hello
AUTHENTICATED = "hemicycle.authenticated"


@dataclass(frozen=True)
class ConnectionLimits:
    """Timeouts and caps of connections (docs/protocol.md, "Limits")."""

    header_timeout: float = 10.0  # request line and headers, from the first byte (or the connection)
    close_timeout: float = 10.0  # a closing WebSocket whose peer does not take the close frame is reset
    max_connections: int | None = None  # None: the open-file limit less `reserved_files`, at most 20,000
    max_per_address: int = 4000  # a room of tablets behind one NAT'd access point still fits
    max_pending: int = 1024  # not yet authenticated, all addresses together
    max_pending_per_address: int = 256
    reserved_files: int = 256  # kept for the database, documents, render workers, logs

    def total(self) -> int:
        if self.max_connections is not None:
            return self.max_connections
        soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        return max(64, min(20_000, soft - self.reserved_files))


def raise_open_file_limit() -> int:
    """Raise this process's open-file limit to its hard limit (often 1,024 by default: the
    number that ran out); returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < want:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


Key = tuple[Any, ...]


class ConnectionGate:
    """Counts open connections (in all, per address, pending or not) and admits new ones."""

    def __init__(self, limits: ConnectionLimits | None = None, trusted_proxies: tuple[str, ...] = ()) -> None:
        self.limits = limits or ConnectionLimits()
        self.max_total = self.limits.total()
        # a proxy speaks for many clients: none of the address or pending caps apply to it
        self.trusted = frozenset(trusted_proxies)
        self._open: dict[Key, str] = {}  # connection -> its address
        self._pending: set[Key] = set()
        self.per_address: Counter[str] = Counter()
        self.pending_per_address: Counter[str] = Counter()
        self.refused = 0
        self._last_warning = 0.0

    @property
    def total(self) -> int:
        return len(self._open)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def admit(self, key: Key, address: str) -> bool:
        limits = self.limits
        why = None
        if len(self._open) >= self.max_total:
            why = f"{self.max_total} connections open"
        elif address in self.trusted:
            pass  # the proxy holds its own clients to account; refusing it refuses its checks too
        elif len(self._pending) >= limits.max_pending:
            why = f"{limits.max_pending} connections not yet authenticated"
        elif self.per_address[address] >= limits.max_per_address:
            why = f"{limits.max_per_address} connections from {address}"
        elif self.pending_per_address[address] >= limits.max_pending_per_address:
            why = f"{limits.max_pending_per_address} unauthenticated connections from {address}"
        if why is not None:
            self._refuse(why)
            return False
        self._open[key] = address
        self._pending.add(key)
        self.per_address[address] += 1
        self.pending_per_address[address] += 1
        return True

    def authenticated(self, key: Key) -> None:
        """A WebSocket said a valid hello: it no longer counts against the pending caps."""
        if key in self._pending:
            self._pending.discard(key)
            self._decrement(self.pending_per_address, self._open[key])

    def release(self, key: Key) -> None:
        address = self._open.pop(key, None)
        if address is None:
            return
        self._decrement(self.per_address, address)
        if key in self._pending:
            self._pending.discard(key)
            self._decrement(self.pending_per_address, address)

    @staticmethod
    def _decrement(counter: Counter[str], address: str) -> None:
        counter[address] -= 1
        if counter[address] <= 0:
            del counter[address]

    def _refuse(self, why: str) -> None:
        self.refused += 1
        now = asyncio.get_running_loop().time()
        if now - self._last_warning >= 10.0:  # a flood must not flood the log too
            self._last_warning = now
            log.warning("refusing connections: %s (%d refused so far)", why, self.refused)


def _key(transport: asyncio.BaseTransport) -> tuple[Key, str]:
    peer = transport.get_extra_info("peername")
    if isinstance(peer, (tuple, list)) and peer:
        return tuple(peer), str(peer[0])
    return ("?", id(transport)), "?"


def protocol_classes(gate: ConnectionGate) -> tuple[type[asyncio.Protocol], type[asyncio.Protocol]]:
    """uvicorn's HTTP (httptools) and WebSocket (websockets sans-I/O, with receive stamps:
    server/edge/frames.py) protocols, guarded by ``gate``: what ``uvicorn.Config(http=...,
    ws=...)`` is given."""
    limits = gate.limits

    class GuardedHttp(HttpToolsProtocol):
        _gate_key: Key | None = None
        _header_timer: asyncio.TimerHandle | None = None
        _upgraded = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            key, address = _key(transport)
            if not gate.admit(key, address):
                transport.abort()
                return
            self._gate_key = key
            self._arm()

        def _arm(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(limits.header_timeout, self._headers_too_slow)

        def _disarm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_too_slow(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.abort()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()  # the next request on a kept-alive connection: its headers are timed too

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def handle_websocket_upgrade(self) -> None:
            self._disarm()
            self._upgraded = True  # the WebSocket protocol now owns the connection and its gate entry
            super().handle_websocket_upgrade()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)
            if self._gate_key is not None and not self._upgraded:
                gate.release(self._gate_key)

    class GuardedWebSocket(StampingWebSocketProtocol):
        _gate_key: Key | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._gate_key = _key(transport)[0]
            self.close_timeout = limits.close_timeout

        def handle_connect(self, event: Any) -> None:
            super().handle_connect(event)
            scope = getattr(self, "scope", None)
            if scope is not None and self._gate_key is not None:
                scope["extensions"][AUTHENTICATED] = _Authenticate(gate, self._gate_key)

        def connection_lost(self, exc: Exception | None) -> None:
            super().connection_lost(exc)
            if self._gate_key is not None:
                gate.release(self._gate_key)

        async def send(self, message: Any) -> None:
            if message["type"] == "websocket.close" and self.handshake_complete and self.initial_response is None:
                self._close_now(message)  # never behind `writable`: the peer may never read
                return
            await super().send(message)

        def _close_now(self, message: Any) -> None:
            if self.disconnected:
                raise ClientDisconnected()
            if self.close_sent or self.transport.is_closing():
                return
            code, reason = message.get("code", 1000), message.get("reason", "") or ""
            self.queue.put_nowait({"type": "websocket.disconnect", "code": code, "reason": reason})
            self.conn.send_close(code, reason)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
            if self.read_paused:
                self.read_paused = False
                self.transport.resume_reading()
            self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

        def keepalive_timeout(self) -> None:
            super().keepalive_timeout()
            self.transport.abort()  # close() would wait for a buffer the peer never reads

        async def run_asgi(self) -> None:
            await super().run_asgi()
            if self.close_timer is None and not self.disconnected:  # close() may wait on an unread buffer
                self.close_timer = self.loop.call_later(self.close_timeout, self.transport.abort)

    return GuardedHttp, GuardedWebSocket


@dataclass(frozen=True)
class _Authenticate:
    gate: ConnectionGate
    key: Key

    def __call__(self) -> None:
        self.gate.authenticated(self.key)


class RedactSecrets(logging.Filter):
    """Belt and braces for the access log: tokens never travel in URLs, but a client may
    still send ``?token=`` (refused) or an old ``?pair=`` link; their values are not logged."""

    PATTERN = re.compile(r"([?&#](?:token|pair|code)=)[^&\s\"]*", re.IGNORECASE)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "=" in a for a in record.args):
            record.args = tuple(self.PATTERN.sub(r"\1[redacted]", a) if isinstance(a, str) else a for a in record.args)
        return True


def _install_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def uvicorn_config(app: Callable[..., Any], gate: ConnectionGate, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of `hemicycle serve` (and of the tests, which run it as is)."""
    raise_open_file_limit()
    http, ws = protocol_classes(gate)
    trusted = sorted(gate.trusted)
    settings: dict[str, Any] = {
        "http": http,
        "ws": ws,
        "ws_max_size": 1 << 20,
        "ws_per_message_deflate": False,
        "lifespan": "on",
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        "server_header": False,
        "backlog": 4096,
        **options,
    }
    config = uvicorn.Config(app, **settings)
    _install_redaction()
    return config
