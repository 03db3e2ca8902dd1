"""The /ws endpoint: decode -> core -> store -> fan-out. No business logic lives here.

A connection authenticates with its first message (``hello`` with a token), receives a
snapshot (or, when resuming, the events it missed), then sends commands; each reply
carries the request's ``id`` as ``re``. See docs/protocol.md.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from .core import commands as c
from .core.errors import CommandError
from .core.views import attendance_summary, progress, snapshot, visible_event
from .hub import Subscriber
from .limits import TokenBucket
from .protocol import PROTOCOL_VERSION, Resolver, decode, encode
from .runtime import Runtime
from .sitting import Unavailable

log = logging.getLogger("hemicycle.ws")

RESUME_LIMIT = 5000  # a longer gap gets a fresh snapshot instead of the events


def _error(code: str, message: str, re: Any = None) -> str:
    msg: dict[str, Any] = {"type": "error", "code": code, "message": message}
    if re is not None:
        msg["re"] = re
    return encode(msg)


async def endpoint(websocket: WebSocket) -> None:
    rt: Runtime = websocket.app.state.runtime
    if not rt.origin_allowed(websocket.headers.get("origin"), websocket.headers.get("host")):
        await websocket.close(code=4003)
        return
    await websocket.accept()
    try:
        await _serve(rt, websocket)
    except WebSocketDisconnect:
        pass


async def _serve(rt: Runtime, ws: WebSocket) -> None:
    limits = rt.limits
    try:
        text = await asyncio.wait_for(ws.receive_text(), limits.hello_timeout)
        hello = decode(text)
        if hello.get("type") != "hello" or not isinstance(hello.get("token"), str):
            raise CommandError("bad_message", "the first message must be a hello with a token")
    except (asyncio.TimeoutError, CommandError, KeyError) as exc:
        code = exc.code if isinstance(exc, CommandError) else "bad_message"
        await ws.send_text(_error(code, "say hello with a token first"))
        await ws.close(code=4001)
        return
    identity = rt.tokens.get(hello["token"])
    if identity is None:
        await ws.send_text(_error("bad_token", "unknown token"))
        await ws.close(code=4001)
        return
    resolver = Resolver(identity, rt.seat_members)
    members = frozenset({identity.member} if identity.member else (rt.seat_members.values() if identity.role == "device" else ()))
    sub = Subscriber(identity.role, members, ws.send_text, lambda code, reason: ws.close(code=code, reason=reason))
    _welcome(rt, sub, identity, hello.get("last_seq"))
    rt.hub.add(sub)
    device = identity.role == "device"
    bucket = TokenBucket(limits.device_rate_per_second if device else limits.rate_per_second,
                         limits.device_burst if device else limits.burst)
    inflight = [0]  # commands submitted and not yet answered
    loop = asyncio.get_running_loop()
    big = limits.max_message_bytes // 4  # a str this short cannot exceed the byte limit in UTF-8
    try:
        while not sub.closed:
            message = await ws.receive()  # idleness is watched by the hub's ticker, not per message
            if message["type"] == "websocket.disconnect":
                break
            sub.last_seen = loop.time()
            text = message.get("text")
            if text is None:
                sub.push(_error("bad_message", "send JSON text frames"))
                continue
            if len(text) > big and len(text.encode()) > limits.max_message_bytes:
                sub.push(_error("too_large", f"a message may be at most {limits.max_message_bytes} bytes"))
                continue
            if not bucket.take():
                sub.push(_error("rate_limited", "too many messages; slow down", _ref(text)))
                continue
            try:
                msg = decode(text)
                if msg["type"] == "ping":
                    sub.push(encode({"type": "pong", "re": msg.get("id")}))
                    continue
                command = resolver.command(msg)
            except CommandError as exc:
                sub.push(_error(exc.code, exc.message, _ref(text)))
                continue
            if inflight[0] >= limits.max_inflight:
                sub.push(_error("rate_limited", "too many requests in flight", msg.get("id")))
                continue
            _submit(rt, sub, command, msg, inflight)
    finally:
        rt.hub.remove(sub)


def _ref(text: str) -> Any:
    try:
        msg = decode(text)
        return msg.get("id")
    except CommandError:
        return None


def _welcome(rt: Runtime, sub: Subscriber, identity: Any, last_seq: Any) -> None:
    """Snapshot or gap, queued synchronously so no event can slip in between."""
    meeting = rt.sitting.meeting
    history = rt.sitting.history
    head = {"type": "welcome", "v": PROTOCOL_VERSION, "role": identity.role,
            "member": identity.member, "seat": identity.seat}
    durable = history[-1][0] if history else 0
    if isinstance(last_seq, int) and not isinstance(last_seq, bool) and 0 <= last_seq <= durable \
            and durable - last_seq <= RESUME_LIMIT:
        sub.push(encode({**head, "resumed": True, "seq": durable}))
        for seq, event in history[last_seq:]:
            data = visible_event(event, sub.role, sub.members, meeting)
            if data is not None:
                sub.push(encode({"type": "event", "seq": seq, "event": data}))
        # coalesced state is not in the log: give the resumed client the current one
        run = meeting.open_run()
        if run is not None and identity.role in ("clerk", "display"):
            extra = {"voters": sorted(run.voters)} if identity.role == "clerk" else {}
            sub.push(encode({"type": "progress", **progress(meeting, run), **extra}))
        if identity.role in ("seat", "device"):
            sub.push(encode({"type": "summary", **attendance_summary(meeting)}))
        return
    sub.push(encode({**head, "resumed": False, "seq": meeting.seq,
                     "snapshot": snapshot(meeting, identity.role, sub.members)}))


def _submit(rt: Runtime, sub: Subscriber, command: c.Command, msg: dict[str, Any], inflight: list[int]) -> None:
    """Decide now; answer when durable (a callback, not a task per command)."""
    re = msg.get("id")
    try:
        pending = rt.sitting.submit(command, origin=sub)
    except CommandError as exc:
        sub.push(_error(exc.code, exc.message, re))
        return
    except Unavailable as exc:
        sub.push(_error("unavailable", str(exc), re))
        return
    except Exception:
        log.exception("command %s failed", type(command).__name__)
        sub.push(_error("internal", "the server could not do this; nothing changed", re))
        return
    inflight[0] += 1

    def answer(done: asyncio.Future) -> None:
        inflight[0] -= 1
        exc = done.exception()
        if exc is not None:
            code = "unavailable" if isinstance(exc, Unavailable) else "internal"
            sub.push(_error(code, str(exc) or "nothing was recorded", re))
            return
        sub.push(encode(_reply(rt, sub, command, msg, done.result())))

    pending.add_done_callback(answer)


def _reply(rt: Runtime, sub: Subscriber, command: c.Command, msg: dict[str, Any], outcome: Any) -> dict[str, Any]:
    re = msg.get("id")
    if isinstance(command, c.Cast):
        key = outcome.key
        ack: dict[str, Any] = {"type": "ack", "re": re, "key": command.key, "ballot": key.ballot,
                               "run": key.run, "status": "recorded", "seq": key.seq}
        if key.choice is not None:
            ack["choice"] = key.choice
        if sub.role == "device":
            ack["seat"] = msg.get("seat")
        return ack
    seqs = [s for s, _ in outcome.events if s is not None]
    ok: dict[str, Any] = {"type": "ok", "re": re, "seq": seqs[-1] if seqs else rt.sitting.meeting.seq}
    if isinstance(command, c.OpenBallot):
        refused = rt.sitting.meeting.keypad_refusals(command.ballot)
        if refused:
            ok["warnings"] = [{"code": "keypad_unsupported", "seats": refused,
                               "message": "keypads cannot vote in this ballot; these seats must use a tablet"}]
    return ok
