"""HTTP endpoints for the paper of the sitting: tally certificates and the sitting record."""

from __future__ import annotations

import asyncio
import io
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..assemble import Runtime
from ..live.issuing import render_record
from .documents_http import identify


def _clerk_only(request: Request) -> JSONResponse | None:
    who = identify(request)
    if who is None or who.role != "clerk":
        return JSONResponse({"error": "forbidden", "message": "for the clerk only"}, status_code=403)
    return None


async def certificates(request: Request) -> Response:
    if refusal := _clerk_only(request):
        return refusal
    rt: Runtime = request.app.state.runtime
    issued = [
        {"ballot": b, "run": r, "seq": ev.seq, "url": f"/api/certificates/{b}/{r}.pdf"}
        for (b, r), ev in rt.sitting.meeting.certificates.items()
    ]
    return JSONResponse({"certificates": issued})


async def certificate(request: Request) -> Response:
    if refusal := _clerk_only(request):
        return refusal
    rt: Runtime = request.app.state.runtime
    ballot, run = request.path_params["ballot"], request.path_params["run"]
    if (ballot, run) not in rt.sitting.meeting.certificates or rt.issuer is None:
        return JSONResponse({"error": "not_found", "message": "no certificate for this ballot run"}, status_code=404)
    data = await asyncio.to_thread(rt.issuer.path_for(ballot, run).read_bytes)
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": f'inline; filename="{ballot}-r{run}.pdf"'}
    )


async def record(request: Request) -> Response:
    """The sitting record as it stands now (attendance and every result so far)."""
    if refusal := _clerk_only(request):
        return refusal
    rt: Runtime = request.app.state.runtime
    meeting, hashes = rt.sitting.meeting, list(rt.sitting.hashes)
    out = io.BytesIO()
    await asyncio.to_thread(render_record, meeting, rt.key, hashes, out, time.time())
    return Response(
        out.getvalue(),
        media_type="application/pdf",
        headers={"Content-Disposition": 'inline; filename="sitting-record.pdf"'},
    )


def routes() -> list[Route]:
    return [
        Route("/api/certificates", certificates),
        Route("/api/certificates/{ballot}/{run:int}.pdf", certificate),
        Route("/api/record.pdf", record),
    ]
