"""The Starlette application factory."""
from __future__ import annotations

import contextlib
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute

from . import documents_http, records_http, ws
from .runtime import Runtime, ServerConfig
from .web.routes import routes as web_routes


async def health(request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.runtime
    return JSONResponse({"ok": True, "seq": rt.sitting.meeting.seq})


def create_app(config: ServerConfig) -> Starlette:
    runtime = Runtime(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = Starlette(
        routes=[Route("/health", health), WebSocketRoute("/ws", ws.endpoint), *documents_http.routes(),
                *records_http.routes(),
                *web_routes(runtime)],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    return app
