"""What a server that does not lead answers, its readiness, and the planned step-down.

A standby (server/live/follower.py) serves nothing but ``GET /ready``: a reverse proxy
checks it to route every client to the one instance that answers 200. Any other request
gets 503 ``standby`` (with Retry-After), and a WebSocket is accepted and closed at once
with 1013 "try again later", which clients treat as any other drop: they reconnect,
through the proxy, to the leader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .credentials import Identities
from .documents_http import bearer_token

READY_PATH = "/ready"
TRY_AGAIN_LATER = 1013


async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
    """The answer of a server that does not lead (yet, or any more)."""
    if scope["type"] == "websocket":
        if (await receive())["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.close", "code": TRY_AGAIN_LATER, "reason": "standby"})
        return
    response = JSONResponse(
        {"error": "standby", "message": "this server is a standby; another server leads the sitting"},
        status_code=503,
        headers={"Retry-After": "1"},
    )
    await response(scope, receive, send)


def ready_route(status: Callable[[], dict[str, Any]]) -> Route:
    """``GET /ready``: 200 and ``{"leading": true, ...}`` on the leader, 503 on a standby."""

    async def ready(request: Request) -> Response:
        body = status()
        return JSONResponse(body, status_code=200 if body["leading"] else 503)

    return Route(READY_PATH, ready)


def step_down_route(identities: Identities, step_down: Callable[[], Awaitable[None]]) -> Route:
    """``POST /api/step-down`` (the clerk's token): stop leading so a standby takes over.

    Answered first; then the server stops taking commands, commits everything already
    decided, releases the lock and ends (`hemicycle serve` exits with status 75, and its
    supervisor starts it again as a standby)."""
    tasks: set[asyncio.Task[None]] = set()

    async def handler(request: Request) -> Response:
        who = identities.identify(bearer_token(request))
        if who is None or who.role != "clerk":
            return JSONResponse({"error": "forbidden", "message": "for the clerk only"}, status_code=403)
        task = asyncio.get_running_loop().create_task(_after_answer(step_down))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return JSONResponse({"stepping_down": True}, status_code=202)

    return Route("/api/step-down", handler, methods=["POST"])


async def _after_answer(step_down: Callable[[], Awaitable[None]]) -> None:
    await asyncio.sleep(0.05)  # let the 202 reach the caller before the connections close
    await step_down()
