"""The /ws endpoint: decode -> core -> store -> fan-out. No business logic lives here.

A connection authenticates with its first message (``hello`` with a token), receives a
snapshot (or, when resuming, the events it missed), then sends commands; each reply
carries the request's ``id`` as ``re``. See docs/protocol.md.

This is a raw ASGI application, not a Starlette ``WebSocket`` endpoint: every message
would otherwise pass through the wrapper's state checks and, for each send, the
exception middleware's wrapper — layers that cost more per vote than deciding the vote.
``HemicycleApp`` (server/edge/app.py) hands ``/ws`` straight to it.

The endpoint holds exactly what it needs — the sitting, the hub, the token table, the
limits, the welcome cache and the origin policy — handed in by the composition root.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..core import commands as c
from ..core.errors import CommandError
from ..live.sitting import Outcome, Sitting, Unavailable
from .credentials import Identities
from .frames import RECEIVED
from .hub import Hub, Subscriber
from .limits import Limits, TokenBucket
from .origins import OriginPolicy
from .protocol import Resolver, decode, encode
from .serving import AUTHENTICATED
from .welcome import WelcomeCache, welcome

log = logging.getLogger("hemicycle.ws")

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def _error(code: str, message: str, re: Any = None) -> str:
    msg: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if re is not None:
        msg["re"] = re
    return encode(msg)


WARNINGS = {"keypad_unsupported": "keypads cannot vote in this ballot; these seats must use a tablet"}


class Endpoint:
    """The ASGI application behind /ws."""

    def __init__(
        self,
        sitting: Sitting,
        hub: Hub,
        identities: Identities,
        limits: Limits,
        welcomes: WelcomeCache,
        origins: OriginPolicy,
    ) -> None:
        self.sitting = sitting
        self.hub = hub
        self.identities = identities
        self.limits = limits
        self.welcomes = welcomes
        self.origins = origins

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        origin = host = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"host":
                host = value.decode("latin-1")
        if (await receive())["type"] != "websocket.connect":
            return
        if not self.origins.allows(origin, host, (scope.get("server") or (None,))[0]):
            await send({"type": "websocket.close", "code": 4003})  # refused before the handshake: HTTP 403
            return
        await send({"type": "websocket.accept"})
        authenticated = (scope.get("extensions") or {}).get(AUTHENTICATED)
        try:
            await self._serve(receive, send, authenticated)
        except OSError:  # the client went away while we were writing to it
            pass

    async def _serve(self, receive: Receive, send: Send, authenticated: Callable[[], None] | None) -> None:
        limits = self.limits

        async def send_text(text: str) -> None:
            await send({"type": "websocket.send", "text": text})

        async def close(code: int, reason: str = "") -> None:
            await send({"type": "websocket.close", "code": code, "reason": reason})

        try:
            message = await asyncio.wait_for(receive(), limits.hello_timeout)
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise CommandError("bad_message", "send JSON text frames")
            hello = decode(text)
            if hello.get("type") != "hello" or not isinstance(hello.get("token"), str):
                raise CommandError("bad_message", "the first message must be a hello with a token")
        except (TimeoutError, CommandError) as exc:
            code = exc.code if isinstance(exc, CommandError) else "bad_message"
            await send_text(_error(code, "say hello with a token first"))
            await close(4001)
            return
        identity = self.identities.identify(hello["token"])
        if identity is None:
            await send_text(_error("bad_token", "unknown token"))
            await close(4001)
            return
        if authenticated is not None:
            authenticated()  # no longer counts against the caps on unauthenticated connections
        agenda = self.sitting.meeting.agenda
        resolver = Resolver(identity, agenda)
        device = identity.role == "device"
        if identity.member:
            members = frozenset({identity.member})
        else:
            members = frozenset(m.id for m in agenda.members) if device else frozenset()
        sub = Subscriber(identity.role, members, send_text, close, self.hub.budget, identity.device)
        welcome(self.sitting, self.welcomes, sub, identity, hello.get("last_seq"))
        self.hub.add(sub)
        bucket = TokenBucket(
            limits.device_rate_per_second if device else limits.rate_per_second,
            limits.device_burst if device else limits.burst,
        )
        inflight = [0]  # commands submitted and not yet answered
        loop = asyncio.get_running_loop()
        max_bytes = limits.max_message_bytes
        big = max_bytes // 4  # a str this short cannot exceed the byte limit in UTF-8
        push = sub.push
        try:
            while not sub.closed:
                message = await receive()  # idleness is watched by the hub's ticker, not per message
                text = message.get("text")
                if text is None:
                    if message["type"] != "websocket.receive":
                        break  # websocket.disconnect
                    push(_error("bad_message", "send JSON text frames"))
                    continue
                sub.last_seen = loop.time()
                if len(text) > big and len(text.encode()) > max_bytes:
                    push(_error("too_large", f"a message may be at most {max_bytes} bytes"))
                    continue
                if not bucket.take():
                    push(_error("rate_limited", "too many messages; slow down", _ref(text)))
                    continue
                try:
                    msg = decode(text)
                    if msg["type"] == "ping":
                        push(encode({"type": "pong", "re": msg.get("id")}))
                        continue
                    command = resolver.command(msg)
                except CommandError as exc:
                    push(_error(exc.code, exc.message, _ref(text)))
                    continue
                if inflight[0] >= limits.max_inflight:
                    push(_error("rate_limited", "too many requests in flight", msg.get("id")))
                    continue
                self._submit(sub, command, msg, inflight, self._received_at(message))
        finally:
            self.hub.remove(sub)
            if sub.closing is not None:  # a laggard: its 4008 goes out before the socket is let go
                await asyncio.gather(sub.closing, return_exceptions=True)

    def _received_at(self, message: dict[str, Any]) -> float | None:
        """When the frame was read off the socket, on the sitting's clock (None: not stamped).

        The transport stamps each message as it parses it (server/edge/frames.py); a stall of
        the event loop between then and now must not count against the sender: a vote read
        before a ballot's deadline is judged as of that moment.
        """
        stamp = message.get(RECEIVED)
        if stamp is None:
            return None
        return self.sitting.clock() - max(0.0, time.monotonic() - stamp)

    def _submit(
        self, sub: Subscriber, command: c.Command, msg: dict[str, Any], inflight: list[int], at: float | None
    ) -> None:
        """Decide now, as of ``at``; answer when durable (a plain callback from the commit:
        no task, no future)."""
        re = msg.get("id")

        def answer(outcome: Outcome | None, exc: BaseException | None) -> None:
            inflight[0] -= 1
            if exc is not None:
                code = "unavailable" if isinstance(exc, Unavailable) else "internal"
                sub.push(_error(code, str(exc) or "nothing was recorded", re))
                return
            assert outcome is not None
            sub.push(encode(_reply(outcome, re, msg.get("seat") if sub.role == "device" else None)))

        inflight[0] += 1
        try:
            self.sitting.request(command, sub, answer, at)
        except CommandError as exc:
            inflight[0] -= 1
            sub.push(_error(exc.code, exc.message, re))
        except Unavailable as exc:
            inflight[0] -= 1
            sub.push(_error("unavailable", str(exc), re))
        except Exception:
            inflight[0] -= 1
            log.exception("command %s failed", type(command).__name__)
            sub.push(_error("internal", "the server could not do this; nothing changed", re))


def _ref(text: str) -> Any:
    try:
        msg = decode(text)
        return msg.get("id")
    except CommandError:
        return None


def _reply(outcome: Outcome, re: Any, seat: Any) -> dict[str, Any]:
    """``ack`` for a vote (with its receipt), ``ok`` for anything else (with warnings)."""
    receipt = outcome.receipt
    if receipt is not None:
        ack: dict[str, Any] = {
            "type": "ack",
            "re": re,
            "key": receipt.key,
            "ballot": receipt.ballot,
            "run": receipt.run,
            "status": "recorded",
            "seq": receipt.seq,
        }
        if receipt.choice is not None:
            ack["choice"] = receipt.choice
        if seat is not None:
            ack["seat"] = seat
        return ack
    ok: dict[str, Any] = {"type": "ok", "re": re, "seq": outcome.seq}
    if outcome.warnings:
        ok["warnings"] = [
            {"code": w.code, "seats": list(w.seats), "message": WARNINGS.get(w.code, w.code)} for w in outcome.warnings
        ]
    return ok
