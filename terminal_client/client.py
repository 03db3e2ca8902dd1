"""An asyncio client for the Hemicycle protocol (docs/protocol.md).

Connects and authenticates, keeps the newest snapshot and the sequence number of the
last event seen, and after a drop reconnects with backoff and resumes from that number,
so no event is missed. Given several server URLs (a leader and its standbys, docs/
operations.md "Hot standby"), it tries the next one at each reconnection. Casts carry an idempotency key and are re-sent after a
reconnection until acknowledged: the server counts a resent cast once and answers with
the original acknowledgement. Clerk commands are not re-sent (they are not idempotent);
a command cut off by a drop fails with ConnectionLost and the caller decides.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Origin

log = logging.getLogger("hemicycle.client")


class ServerError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConnectionLost(Exception):
    """The connection dropped before the server answered a request that is not re-sent."""


class Client:
    def __init__(
        self,
        url: str | Sequence[str],
        token: str,
        *,
        reconnect: bool = True,
        origin: str | None = None,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        backoff: tuple[float, float] = (0.05, 3.0),
        ping_interval: float = 20.0,
        max_events: int = 10_000,
    ) -> None:
        self.urls = [url] if isinstance(url, str) else list(url)
        if not self.urls:
            raise ValueError("give at least one server URL")
        self.url = self.urls[0]  # the one connected to, or tried next
        self.token, self.reconnect, self.origin = token, reconnect, origin
        self.on_message = on_message
        self.backoff = backoff
        self.ping_interval = ping_interval
        self.snapshot: dict[str, Any] | None = None
        self.welcome: dict[str, Any] | None = None
        self.last_seq = 0
        # events for next_event, the newest ``max_events``: a caller that never reads them (a
        # simulated seat that only votes, 3,000 in one process) must not keep them all for ever
        self.events: asyncio.Queue[tuple[int, dict[str, Any]]] = asyncio.Queue()
        self.max_events = max_events
        self.events_dropped = 0
        self.progress: dict[str, Any] | None = None
        self.connections = 0
        self._ids = itertools.count(1)
        self._pending: dict[str, tuple[dict[str, Any], asyncio.Future, bool]] = {}
        self._ws: Any = None
        self._ready = asyncio.Event()
        self._runner: asyncio.Task | None = None
        self._closing = False

    # -- connection -------------------------------------------------------------------
    async def connect(self, timeout: float = 10.0) -> dict[str, Any]:
        """Connect and wait for the welcome; later drops are healed in the background."""
        self._runner = asyncio.get_running_loop().create_task(self._run())
        waiter = asyncio.ensure_future(self._ready.wait())
        done, _ = await asyncio.wait({waiter, self._runner}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if self._runner in done:
            waiter.cancel()
            self._runner.result()  # raises what stopped it
        if waiter not in done:
            waiter.cancel()
            await self.close()
            raise ConnectionLost(f"no welcome from {self.url} within {timeout} s")
        assert self.welcome is not None
        return self.welcome

    async def connected(self, timeout: float = 30.0) -> None:
        """Wait until connected and welcomed (again, after a drop or a server's takeover)."""
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def close(self) -> None:
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
        for _, fut, _ in self._pending.values():
            if not fut.done():
                fut.set_exception(ConnectionLost("client closed"))

    async def drop(self) -> None:
        """Cut the connection as a network fault would (for tests and simulators)."""
        if self._ws is not None:
            self._ready.clear()
            self._ws.transport.abort()

    async def _run(self) -> None:
        delay = self.backoff[0]
        while not self._closing:
            try:
                async with websockets.connect(
                    self.url,
                    origin=Origin(self.origin) if self.origin else None,
                    max_size=1 << 22,
                    compression=None,
                    ping_interval=None,
                    open_timeout=10,
                ) as ws:
                    self._ws = ws
                    hello: dict[str, Any] = {"type": "hello", "v": 1, "token": self.token}
                    if self.welcome is not None:
                        hello["last_seq"] = self.last_seq
                    await ws.send(json.dumps(hello))
                    pinger = asyncio.get_running_loop().create_task(self._ping(ws))
                    try:
                        await self._read(ws)
                    finally:
                        pinger.cancel()
                delay = self.backoff[0]
            except ServerError:
                raise
            except (TimeoutError, OSError, ConnectionClosed) as exc:
                log.debug("connection to %s lost: %s", self.url, exc)
            except InvalidStatus as exc:
                # a proxy with no leader behind it yet (502, 503), a server taking over: retry
                if exc.response.status_code < 500:
                    raise
                log.debug("connection to %s refused: %s", self.url, exc)
            finally:
                self._ws = None
                self._ready.clear()
                self._fail_unsafe()
            if not self.reconnect or self._closing:
                return
            self.url = self.urls[(self.urls.index(self.url) + 1) % len(self.urls)]
            await asyncio.sleep(delay)
            delay = min(self.backoff[1], delay * 2)

    async def _ping(self, ws: Any) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            await ws.send('{"type":"ping"}')

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "welcome":
                self._on_welcome(msg)
                self.connections += 1
                self._ready.set()
                for req, _, resend in list(self._pending.values()):
                    if resend:
                        await ws.send(json.dumps(req))
            elif kind == "event":
                seq = msg["seq"]
                if seq > self.last_seq:
                    self.last_seq = seq
                    self._keep((seq, msg["event"]))
            elif kind == "progress":
                self.progress = msg
            elif kind in ("ack", "ok", "error", "pong") and msg.get("re") in self._pending:
                if kind != "error" and isinstance(msg.get("seq"), int):
                    # everything this connection may see up to that seq was sent before the reply
                    self.last_seq = max(self.last_seq, msg["seq"])
                _, fut, _ = self._pending.pop(msg["re"])
                if not fut.done():
                    if kind == "error":
                        fut.set_exception(ServerError(msg["code"], msg["message"]))
                    else:
                        fut.set_result(msg)
            elif kind == "error" and self.welcome is None:
                raise ServerError(msg["code"], msg["message"])
            if self.on_message is not None:
                self.on_message(msg)

    def _on_welcome(self, msg: dict[str, Any]) -> None:
        self.welcome = msg
        if not msg.get("resumed"):
            self.snapshot = msg["snapshot"]
            self.last_seq = msg["seq"]
            self._keep((msg["seq"], {"name": "snapshot", "snapshot": msg["snapshot"]}))

    def _keep(self, item: tuple[int, dict[str, Any]]) -> None:
        """Queue an event for next_event, dropping the oldest unread one beyond max_events
        (the snapshot and last_seq stay current: only the queue of unread events is cut)."""
        if self.events.qsize() >= self.max_events:
            self.events.get_nowait()
            if not self.events_dropped:
                log.warning("more than %d unread events: dropping the oldest", self.max_events)
            self.events_dropped += 1
        self.events.put_nowait(item)

    def _fail_unsafe(self) -> None:
        for rid, (_, fut, resend) in list(self._pending.items()):
            if not resend:
                self._pending.pop(rid)
                if not fut.done():
                    fut.set_exception(ConnectionLost("the connection dropped before the server answered"))

    # -- requests -----------------------------------------------------------------------
    async def request(self, msg: dict[str, Any], *, resend: bool = False, timeout: float = 30.0) -> dict[str, Any]:
        rid = f"r{next(self._ids)}"
        msg = {**msg, "id": rid}
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._pending[rid] = (msg, fut, resend)
        if self._ready.is_set() and self._ws is not None:
            try:
                await self._ws.send(json.dumps(msg))
            except ConnectionClosed:
                pass  # re-sent on reconnection if resendable; otherwise failed by _fail_unsafe
        elif not resend:
            self._pending.pop(rid)
            raise ConnectionLost("not connected")
        try:
            return await asyncio.wait_for(fut, timeout)
        finally:
            self._pending.pop(rid, None)

    async def cast(
        self, ballot: str, choice: Any, *, key: str | None = None, seat: str | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Vote; returns the server's ack once the vote is durable. Safe to call again with the same key."""
        msg: dict[str, Any] = {
            "type": "cast",
            "ballot": ballot,
            "choice": choice,
            "key": key or secrets.token_urlsafe(12),
        }
        if seat is not None:
            msg["seat"] = seat
        return await self.request(msg, resend=True, timeout=timeout)

    async def check_in(self, seat: str | None = None) -> dict[str, Any]:
        return await self.request({"type": "check_in", **({"seat": seat} if seat else {})}, resend=True)

    async def check_out(self, seat: str | None = None) -> dict[str, Any]:
        return await self.request({"type": "check_out", **({"seat": seat} if seat else {})}, resend=True)

    async def request_floor(self, kind: str = "normal", seat: str | None = None) -> dict[str, Any]:
        """Ask to speak on the current item (a second ask while queued is ``already_queued``)."""
        return await self.request({"type": "request_floor", "kind": kind, **({"seat": seat} if seat else {})})

    async def withdraw_floor(self, seat: str | None = None) -> dict[str, Any]:
        return await self.request({"type": "withdraw_floor", **({"seat": seat} if seat else {})})

    async def command(self, name: str, **args: Any) -> dict[str, Any]:
        """A clerk command (open_ballot, close_ballot, set_attendance, ...)."""
        return await self.request({"type": "command", "name": name, "args": args})

    async def next_event(self, name: str | None = None, timeout: float = 10.0) -> tuple[int, dict[str, Any]]:
        """The next event (optionally of one name), skipping others."""

        async def wait() -> tuple[int, dict[str, Any]]:
            while True:
                seq, event = await self.events.get()
                if name is None or event.get("name") == name:
                    return seq, event

        return await asyncio.wait_for(wait(), timeout)
