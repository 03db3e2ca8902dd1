"""HTTP routes of the three screens: pages, static ES modules, catalogues, login, pairing.

The pages are plain HTML + CSS + ES modules (no build step). They talk to the server over
the same WebSocket protocol as every other client (docs/protocol.md); HTTP is only for
what a WebSocket token cannot do yet: logging the clerk in, pairing a tablet or a display
with a one-time code (server/edge/web/pairing.py), and handing out static files. See
docs/screens.md.
"""

from __future__ import annotations

import hmac
import json
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ...live.oplog import note
from ...live.sitting import Sitting
from ..auth import SESSION_COOKIE, SESSION_SECONDS, AuthState, Session
from ..credentials import Identities
from ..network import Reach
from ..origins import OriginPolicy
from ..throttle import Busy
from .pairing import pairing_routes

LANGUAGES = ("zh-CN", "en")
MAX_BODY = 16 * 1024

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    # frame-src blob: the console prints a certificate's PDF (fetched as a blob) in a hidden frame
    "connect-src 'self'; font-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class NoCacheStatic(StaticFiles):
    """Static files revalidated on every load, so an upgraded server is picked up at once."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(
        {"error": code, "message": message, **extra},
        status_code=status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def package_folder(package: str, name: str) -> Path:
    """A folder of package data on disk (``importlib.resources``, so it works from a wheel as
    from the source tree; Hemicycle is never installed zipped)."""
    folder = resources.files(package) / name
    if not isinstance(folder, Path) or not folder.is_dir():
        raise RuntimeError(f"{package}/{name} is not on disk: install Hemicycle unzipped")
    return folder


@dataclass(frozen=True)
class PageFolders:
    """Where the screens' files are: the console, display and login pages with their
    catalogues (this package), the library all pages share, and the seat tablet's page."""

    web: Path
    lib: Path
    catalogues: Path
    seat: Path

    @classmethod
    def installed(cls, seat: Path) -> PageFolders:
        here = __package__ or "server.edge.web"
        return cls(package_folder(here, "static"), package_folder(here, "lib"), package_folder(here, "i18n"), seat)


def routes(
    folders: PageFolders,
    auth: AuthState,
    origins: OriginPolicy,
    sitting: Sitting,
    identities: Identities,
    creds: dict[str, Any],
    disconnect: Callable[[str], None],
    reach: Reach | None = None,
) -> list[Route | Mount]:
    """The screens' routes: pages, the clerk's login and pairing (``auth``), the catalogues.
    ``disconnect(device)`` closes the live connections of a device the clerk revoked;
    ``reach`` says how tablets reach the server (public URL, room CA)."""
    reach = reach or Reach()

    def page(name: str, directory: Path | None = None) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            return FileResponse((directory or folders.web) / name, headers=PAGE_HEADERS, media_type="text/html")

        return serve

    def session_of(request: Request) -> Session | None:
        return auth.console.session_from_cookie(request.cookies.get(SESSION_COOKIE))

    def same_origin(request: Request) -> bool:
        """Browsers send Origin (and Sec-Fetch-Site) on POST: refuse other sites."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        local = (request.scope.get("server") or (None,))[0]
        return origins.allows(request.headers.get("origin"), request.headers.get("host"), local)

    async def body(request: Request) -> dict[str, Any] | None:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return None
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def guarded(handler: Callable[[Request, Session], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        """A state-changing console request: cookie, CSRF header and same origin, all three."""

        async def check(request: Request) -> Response:
            if not same_origin(request):
                return _error(403, "bad_origin", "requests must come from this server's own pages")
            session = session_of(request)
            if session is None:
                return _error(401, "not_logged_in", "log in first")
            sent = request.headers.get("x-csrf-token", "")
            if not sent or not hmac.compare_digest(sent, session.csrf):
                return _error(403, "csrf", "missing or wrong X-CSRF-Token header")
            return await handler(request, session)

        return check

    # -- pages -----------------------------------------------------------------------------
    seat_page = page("seat.html", folders.seat)

    async def seat_worker(request: Request) -> Response:
        """The tablet's service worker, from the root so that its scope may cover /seat
        (a worker's scope cannot reach above its own path; /static/seat/ would not do)."""
        return FileResponse(
            folders.seat / "sw.js",
            media_type="text/javascript",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    display_page = page("display.html")
    login_page = page("login.html")
    start_page = page("start.html")  # "/": where the console, the pairing sheet and the wall are

    def console_page(name: str) -> Callable[[Request], Awaitable[Response]]:
        inner = page(name)

        async def serve(request: Request) -> Response:
            if session_of(request) is None:
                return RedirectResponse("/console/login", status_code=303, headers={"Cache-Control": "no-store"})
            return await inner(request)

        return serve

    async def catalogue(request: Request) -> Response:
        lang = request.path_params["lang"]
        if lang not in LANGUAGES:
            return _error(404, "unknown_language", f"languages: {', '.join(LANGUAGES)}")
        return FileResponse(
            folders.catalogues / f"{lang}.json", media_type="application/json", headers={"Cache-Control": "no-cache"}
        )

    async def info(request: Request) -> Response:
        """What a page needs before it has a token: the language, and the server's clock."""
        meeting = sitting.meeting.agenda.meeting
        answer = {"language": meeting.language, "now": time.time(), "public_url": reach.public_url}
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    async def ca_certificate(request: Request) -> Response:
        """The room CA's certificate (public): what a tablet installs to trust the server."""
        if reach.ca_cert is None or not reach.ca_cert.is_file():
            return _error(404, "not_found", "this server has no room CA (see hemicycle tls init)")
        return FileResponse(
            reach.ca_cert,
            media_type="application/x-x509-ca-cert",
            filename="hemicycle-room-ca.pem",
            headers={"Cache-Control": "no-cache"},
        )

    def slow_down(seconds: float, what: str) -> Response:
        retry = max(1, math.ceil(seconds))
        message = f"too many failed {what}; try again in {retry} s"
        return _error(429, "too_many_attempts", message, {"Retry-After": str(retry)}, retry_after=retry)

    # -- clerk login -----------------------------------------------------------------------
    async def login(request: Request) -> Response:
        if not same_origin(request):
            return _error(403, "bad_origin", "log in from this server's own login page")
        client = request.client.host if request.client else "?"
        data = await body(request)
        if data is None or not isinstance(data.get("username"), str) or not isinstance(data.get("password"), str):
            return _error(400, "bad_request", 'send JSON {"username": …, "password": …}')
        account = data["username"].strip().lower()[:64]
        wait = auth.throttle.wait(account, client)
        if wait > 0:
            return slow_down(wait, "logins")
        try:
            ok = await auth.checks.run(auth.console.check, data["username"], data["password"])
        except Busy:
            return slow_down(1, "logins (the server is checking others)")
        if not ok:
            auth.throttle.failed(account, client)
            # not the name typed: someone may have typed the password into the name field
            note("console.login_refused", address=client)
            return _error(401, "wrong_password", "wrong username or password")
        auth.throttle.succeeded(account, client)
        session = auth.console.new_session()
        note("console.login", address=client, user=session.user)
        response = JSONResponse({"ok": True, "user": session.user}, headers={"Cache-Control": "no-store"})
        response.set_cookie(
            SESSION_COOKIE,
            auth.console.cookie_value(session),
            max_age=SESSION_SECONDS,
            path="/",
            secure=request.url.scheme == "https",
            httponly=True,
            samesite="strict",
        )
        return response

    async def session_info(request: Request) -> Response:
        session = session_of(request)
        if session is None:
            return _error(401, "not_logged_in", "log in first")
        return JSONResponse({"user": session.user, "csrf": session.csrf}, headers={"Cache-Control": "no-store"})

    async def logout(request: Request, session: Session) -> Response:
        auth.console.revoke(session, identities)
        note("console.logout", user=session.user)
        response = JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})
        response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def console_token(request: Request, session: Session) -> Response:
        return JSONResponse(
            {"token": auth.console.mint_token(session, identities)}, headers={"Cache-Control": "no-store"}
        )

    async def log_head(request: Request, session: Session) -> Response:
        """The log's head now, for the clerk to copy down: `hemicycle verify --head` checks the
        record still reaches it (server/paper/head.py)."""
        hashes = sitting.hashes
        seq = len(hashes)
        return JSONResponse(
            {"seq": seq, "hash": hashes[-1] if hashes else None, "head": f"{seq}:{hashes[-1]}" if hashes else None},
            headers={"Cache-Control": "no-store"},
        )

    return [
        Route("/", start_page),
        Route("/seat", seat_page),
        Route("/seat-sw.js", seat_worker),
        Route("/display", display_page),
        Route("/console", console_page("console.html")),
        Route("/console/pairing", console_page("pairing.html")),
        Route("/console/login", login_page),
        Route("/i18n/{lang}.json", catalogue),
        Route("/api/info", info),
        Route("/ca.pem", ca_certificate),
        *pairing_routes(
            auth,
            sitting,
            creds,
            disconnect,
            reach,
            guarded=guarded,
            same_origin=same_origin,
            body=body,
            slow_down=slow_down,
        ),
        Route("/api/console/login", login, methods=["POST"]),
        Route("/api/console/session", session_info),
        Route("/api/console/logout", guarded(logout), methods=["POST"]),
        Route("/api/console/token", guarded(console_token), methods=["POST"]),
        Route("/api/console/head", guarded(log_head), methods=["POST"]),
        Mount("/static/lib", app=NoCacheStatic(directory=folders.lib), name="lib-static"),
        Mount("/static/seat", app=NoCacheStatic(directory=folders.seat), name="seat-static"),
        Mount("/static/web", app=NoCacheStatic(directory=folders.web), name="web-static"),
    ]
