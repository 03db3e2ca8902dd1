"""HTTP endpoints for the paper of the sitting: tally certificates and the sitting record."""

from __future__ import annotations

import asyncio
import io
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..live.issuing import Issuer, certificate_file_name, render_record
from ..live.sitting import Sitting
from .credentials import Identities
from .documents_http import bearer_token


class RecordRoutes:
    """Certificates and the record, for the clerk: the sitting, the issuer that wrote the
    certificates, and the key that signs the record."""

    def __init__(self, sitting: Sitting, identities: Identities, issuer: Issuer, key: Ed25519PrivateKey) -> None:
        self.sitting = sitting
        self.identities = identities
        self.issuer = issuer
        self.key = key

    def routes(self) -> list[Route]:
        return [
            Route("/api/certificates", self.certificates),
            Route("/api/certificates/{ballot}/{run:int}-void.pdf", self.void_certificate),
            Route("/api/certificates/{ballot}/{run:int}.pdf", self.certificate),
            Route("/api/record.pdf", self.record),
        ]

    def _clerk_only(self, request: Request) -> JSONResponse | None:
        who = self.identities.identify(bearer_token(request))
        if who is None or who.role != "clerk":
            return JSONResponse({"error": "forbidden", "message": "for the clerk only"}, status_code=403)
        return None

    async def certificates(self, request: Request) -> Response:
        if refusal := self._clerk_only(request):
            return refusal
        meeting = self.sitting.meeting
        issued = [
            {
                "ballot": b,
                "run": r,
                "seq": ev.seq,
                "void": void,
                "url": f"/api/certificates/{b}/{r}{'-void' if void else ''}.pdf",
                "name": certificate_file_name(b, r, void),
            }
            for void, book in ((False, meeting.certificates), (True, meeting.void_certificates))
            for (b, r), ev in book.items()
        ]
        return JSONResponse({"certificates": issued})

    async def void_certificate(self, request: Request) -> Response:
        """A voided run's certificate, re-issued marked 作废 / VOID."""
        return await self.certificate(request, void=True)

    async def certificate(self, request: Request, void: bool = False) -> Response:
        if refusal := self._clerk_only(request):
            return refusal
        ballot, run = request.path_params["ballot"], request.path_params["run"]
        book = self.sitting.meeting.void_certificates if void else self.sitting.meeting.certificates
        if (ballot, run) not in book:
            return JSONResponse(
                {"error": "not_found", "message": "no certificate for this ballot run"}, status_code=404
            )
        try:
            data = await asyncio.to_thread(self.issuer.path_for(ballot, run, void).read_bytes)
        except FileNotFoundError:
            return JSONResponse(
                {"error": "file_missing", "message": "the record lists this certificate but its file is gone"},
                status_code=404,
            )
        # the name the browser saves under is derived too: an id never reaches a header
        name = certificate_file_name(ballot, run, void)
        return Response(
            data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'}
        )

    async def record(self, request: Request) -> Response:
        """The sitting record as it stands now (attendance and every result so far)."""
        if refusal := self._clerk_only(request):
            return refusal
        meeting, hashes = self.sitting.meeting, list(self.sitting.hashes)
        out = io.BytesIO()
        await asyncio.to_thread(render_record, meeting, self.key, hashes, out, time.time())
        return Response(
            out.getvalue(),
            media_type="application/pdf",
            headers={"Content-Disposition": 'inline; filename="sitting-record.pdf"'},
        )
