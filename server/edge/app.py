"""The Starlette application: HTTP routes as usual, ``/ws`` straight to its raw ASGI endpoint."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from ..live.sitting import Sitting
from .ws import Endpoint


class HemicycleApp(Starlette):
    """Starlette, with ``/ws`` handed straight to its raw ASGI endpoint.

    Starlette's middleware (error handling, exceptions, the router) stays on the stack of
    a WebSocket for its whole life: each message resumes through those frames and each
    send passes the exception middleware's wrapper. None of it does anything for /ws, and
    at thousands of messages a second it shows; HTTP requests take the usual path.
    """

    def __init__(self, ws_endpoint: Endpoint, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ws_endpoint = ws_endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == scope.get("root_path", "") + "/ws":
            await self.ws_endpoint(dict(scope), receive, send)  # type: ignore[arg-type]
            return
        if scope["type"] == "http" and scope.get("scheme") == "https":
            send = _with_hsts(send)
        await super().__call__(scope, receive, send)


HSTS = (b"strict-transport-security", b"max-age=31536000")


def _with_hsts(send: Send) -> Send:
    """Over HTTPS, tell browsers to come back only over HTTPS (a tablet once paired over TLS
    is never talked into plain HTTP on the room network)."""

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), HSTS]}
        await send(message)

    return sending


def health_route(sitting: Sitting) -> Route:
    """``GET /health``: the server answers and its sitting's log position."""

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "seq": sitting.meeting.seq})

    return Route("/health", health)
