"""The Starlette application: HTTP routes as usual, ``/ws`` straight to its raw ASGI endpoint,
and for both a first check that the request names this server (``Host``, server/edge/origins.py)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from ..live.sitting import Sitting
from . import standby
from .origins import OriginPolicy
from .ws import Endpoint

log = logging.getLogger("hemicycle.http")


class HemicycleApp(Starlette):
    """Starlette, with ``/ws`` handed straight to its raw ASGI endpoint.

    Starlette's middleware (error handling, exceptions, the router) stays on the stack of
    a WebSocket for its whole life: each message resumes through those frames and each
    send passes the exception middleware's wrapper. None of it does anything for /ws, and
    at thousands of messages a second it shows; HTTP requests take the usual path.
    """

    def __init__(self, ws_endpoint: Endpoint, origins: OriginPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ws_endpoint = ws_endpoint
        self.origins = origins
        self._last_warning = 0.0
        self.leading: Callable[[], bool] = lambda: True  # False on a standby (server/edge/standby.py)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and not self._host_allowed(scope):
            await self._misdirected(scope, receive, send)
            return
        if scope["type"] in ("http", "websocket") and not self.leading() and scope["path"] != standby.READY_PATH:
            await standby.refuse(scope, receive, send)
            return
        if scope["type"] == "websocket" and scope["path"] == scope.get("root_path", "") + "/ws":
            await self.ws_endpoint(dict(scope), receive, send)  # type: ignore[arg-type]
            return
        if scope["type"] == "http" and scope.get("scheme") == "https":
            send = _with_hsts(send)
        await super().__call__(scope, receive, send)

    def _host_allowed(self, scope: Scope) -> bool:
        host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
        local = (scope.get("server") or (None,))[0]
        if self.origins.host_allowed(host, local):
            return True
        now = time.monotonic()
        if now - self._last_warning >= 10.0:  # one line per burst, not one per request
            self._last_warning = now
            log.warning("refused a request for host %r: not a name of this server (see --allow-host)", host)
        return False

    @staticmethod
    async def _misdirected(scope: Scope, receive: Receive, send: Send) -> None:
        """421 for HTTP (the browser asked the wrong server: DNS rebinding, or a name the
        operator has not configured); a refused handshake (HTTP 403) for a WebSocket."""
        if scope["type"] == "websocket":
            if (await receive())["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 4003})
            return
        response = JSONResponse(
            {
                "error": "bad_host",
                "message": "this server does not answer to that name; see hemicycle serve --allow-host",
            },
            status_code=421,
        )
        await response(scope, receive, send)


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
