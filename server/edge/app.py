"""The Starlette application factory."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

from ..assemble import Runtime, ServerConfig
from . import documents_http, records_http, ws
from .web.routes import routes as web_routes


class HemicycleApp(Starlette):
    """Starlette, with ``/ws`` handed straight to its raw ASGI endpoint.

    Starlette's middleware (error handling, exceptions, the router) stays on the stack of
    a WebSocket for its whole life: each message resumes through those frames and each
    send passes the exception middleware's wrapper. None of it does anything for /ws, and
    at thousands of messages a second it shows; HTTP requests take the usual path.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == scope.get("root_path", "") + "/ws":
            scope["app"] = self
            await ws.endpoint(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


async def health(request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.runtime
    return JSONResponse({"ok": True, "seq": rt.sitting.meeting.seq})


def create_app(config: ServerConfig) -> HemicycleApp:
    runtime = Runtime(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = HemicycleApp(
        routes=[
            Route("/health", health),
            WebSocketRoute("/ws", ws.endpoint),
            *documents_http.routes(),
            *records_http.routes(),
            *web_routes(runtime),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
