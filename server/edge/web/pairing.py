"""Pairing tablets and display walls, and the clerk's list of paired devices.

A one-time code (printed on the pairing sheet as a QR code of ``/seat#pair=CODE`` or
``/display#pair=CODE``: a URL fragment, which browsers never send to a server, so no access
log holds it) is exchanged once for a token minted for that device alone
(server/edge/devices.py). The clerk sees every paired device — seat or display, when, from
where — and revokes any of them: its token stops working and its live connections close.
See docs/screens.md, "Pairing and devices".
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ...live.oplog import note
from ...live.sitting import Sitting
from ..auth import DISPLAY, AuthState, Session
from ..network import Reach, is_loopback_url

NO_STORE = {"Cache-Control": "no-store"}
Handler = Callable[[Request], Awaitable[Response]]

REFUSALS = {
    "code_used": (409, "this pairing code has already been used"),
    "code_replaced": (409, "a newer pairing code replaced this one"),
    "code_expired": (410, "this pairing code has expired"),
    "unknown_code": (404, "no such pairing code"),
}


def qr_svg(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    # border=4: the quiet zone ISO/IEC 18004 asks for, so the caption printed under a code
    # on the pairing sheet never touches it
    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    svg = img.to_string(encoding="unicode")
    # let CSS size it: drop the fixed millimetre width/height, keep the viewBox
    return svg.replace('width="', 'data-w="', 1).replace('height="', 'data-h="', 1)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=NO_STORE)


def pairing_routes(
    auth: AuthState,
    sitting: Sitting,
    creds: dict[str, Any],
    disconnect: Callable[[str], None],
    reach: Reach,
    *,
    guarded: Callable[[Callable[[Request, Session], Awaitable[Response]]], Handler],
    same_origin: Callable[[Request], bool],
    body: Callable[[Request], Awaitable[dict[str, Any] | None]],
    slow_down: Callable[[float, str], Response],
) -> list[Route]:
    """``/api/pair`` for devices; the sheet, the device list and revocation for the clerk
    (behind the console's cookie, CSRF token and origin checks: ``guarded``)."""

    def member_names() -> dict[str, str]:
        return {m.id: m.name for m in sitting.meeting.agenda.members}

    async def pairing_sheet(request: Request, session: Session) -> Response:
        data = await body(request) or {}
        agenda = sitting.meeting.agenda
        wanted = data.get("seats")
        members = [m for m in agenda.members if not isinstance(wanted, list) or m.seat in wanted]
        codes = auth.pairing.issue([m.seat for m in members], renew=data.get("renew") is True, display=True)
        base = reach.base(str(request.base_url))
        paired: dict[str, float] = {}
        for device in auth.devices.listing():
            if device["role"] == "seat" and device.get("seat"):
                paired[device["seat"]] = max(paired.get(device["seat"], 0.0), float(device["paired_at"]))
        seats = []
        for m in members:
            url = f"{base}/seat#pair={codes[m.seat]}"
            seats.append(
                {
                    "seat": m.seat,
                    "member": m.id,
                    "name": m.name,
                    "role": m.role,
                    "code": codes[m.seat],
                    "url": url,
                    "svg": qr_svg(url),
                    "paired_at": paired.get(m.seat),
                }
            )
        display_url = f"{base}/display#pair={codes[DISPLAY]}"
        display = {"url": display_url, "code": codes[DISPLAY], "svg": qr_svg(display_url)}
        answer: dict[str, Any] = {"seats": seats, "display": display, "base": base, "loopback": is_loopback_url(base)}
        fingerprint = reach.ca_fingerprint()
        if fingerprint is not None:  # tablets install the room CA first: its download, and what to check
            answer["ca"] = {"url": f"{base}/ca.pem", "svg": qr_svg(f"{base}/ca.pem"), "sha256": fingerprint}
        return JSONResponse(answer, headers=NO_STORE)

    async def pair(request: Request) -> Response:
        if not same_origin(request):
            return _error(403, "bad_origin", "pair from this server's own page")
        client = request.client.host if request.client else "?"
        wait = auth.throttle.wait("pairing", client)
        if wait > 0:
            return slow_down(wait, "pairing codes")
        data = await body(request)
        code = data.get("code") if data else None
        if not isinstance(code, str) or not 1 <= len(code) <= 64:
            return _error(400, "bad_request", 'send JSON {"code": …}')
        target, reason = auth.pairing.redeem(code)
        agent = request.headers.get("user-agent", "")
        if target == DISPLAY:
            device, token = auth.devices.pair(DISPLAY, None, None, client, agent)
            note("device.paired", device=device, role=DISPLAY, address=client)
            return JSONResponse({"role": DISPLAY, "device": device, "token": token}, headers=NO_STORE)
        entry = creds["seats"].get(target) if target else None
        if entry is None:
            auth.throttle.failed("pairing", client)
            note("device.pairing_refused", reason=reason, address=client)
            status, message = REFUSALS.get(reason, REFUSALS["unknown_code"])
            return _error(status, reason if reason in REFUSALS else "unknown_code", message)
        device, token = auth.devices.pair("seat", target, entry["member"], client, agent)
        note("device.paired", device=device, role="seat", seat=target, address=client)
        answer = {"role": "seat", "seat": target, "member": entry["member"], "name": entry["name"]}
        return JSONResponse({**answer, "device": device, "token": token}, headers=NO_STORE)

    async def devices(request: Request, session: Session) -> Response:
        names = member_names()
        listing = [{**d, "name": names.get(d.get("member") or "", "")} for d in auth.devices.listing()]
        return JSONResponse({"devices": listing}, headers=NO_STORE)

    async def revoke(request: Request, session: Session) -> Response:
        data = await body(request) or {}
        device = data.get("device")
        if not isinstance(device, str) or not auth.devices.revoke(device):
            return _error(404, "unknown_device", "no such paired device")
        disconnect(device)  # its token is dead; so are the connections it opened
        note("device.revoked", device=device, by=session.user)
        return JSONResponse({"ok": True}, headers=NO_STORE)

    return [
        Route("/api/pair", pair, methods=["POST"]),
        Route("/api/console/pairing", guarded(pairing_sheet), methods=["POST"]),
        Route("/api/console/devices", guarded(devices), methods=["POST"]),
        Route("/api/console/devices/revoke", guarded(revoke), methods=["POST"]),
    ]
