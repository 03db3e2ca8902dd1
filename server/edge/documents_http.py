"""HTTP endpoints for documents: upload (clerk), list, page images, originals.

Every request is authorised by the same tokens as the WebSocket, in ``Authorization: Bearer``
only: a token in a URL ends up in access logs, proxies and browser history (a page shows an
image by ``fetch`` with the header and a blob URL); the audience rules are the core's
(server/core/documents.py). Pages are numbered from 1 here. Confidential documents leave
only as page images watermarked for the reader; after a recall nothing leaves at all.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..core import commands as c
from ..core.documents import Doc, may_read
from ..core.errors import CommandError
from ..core.views import document_view
from ..documents import BlobStore, DocumentError, Limits, Reader, Renderer, ingest
from ..documents.render_pool import RenderPool
from ..documents.worker_processes import Opener
from ..live.sitting import Sitting
from .credentials import Identities, Identity


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _width(arg: str | None) -> int | None:
    """The ``width`` query argument: absent means the default; otherwise ASCII digits only.

    ``str.isdigit`` is true for "²" and "٣", which ``int`` then refuses or reads as another
    number; a width is a handful of ASCII digits or it is refused with ``bad_width``.
    """
    if arg is None or arg == "":
        return None
    if not (arg.isascii() and arg.isdigit() and len(arg) <= 5):
        raise DocumentError("bad_width", "width must be a whole number of pixels")
    return int(arg)


BACKGROUND_HEADER = "x-hemicycle-background"
BACKGROUND_LANE = 4  # background page fetches served at once, over every tablet


def bearer_token(request: Request) -> str | None:
    """The token a request presents in ``Authorization: Bearer`` (never in the URL)."""
    header = request.headers.get("authorization", "")
    return header[7:].strip() or None if header.lower().startswith("bearer ") else None


class DocumentRoutes:
    """The document endpoints, with what they need: the sitting (who may read what), the
    tokens, the blob store, the renderer and the render pool, and the upload limits."""

    def __init__(
        self,
        sitting: Sitting,
        identities: Identities,
        blobs: BlobStore,
        renderer: Renderer,
        pages: RenderPool,
        limits: Limits,
        opener: Opener,
    ) -> None:
        self.sitting = sitting
        self.identities = identities
        self.blobs = blobs
        self.renderer = renderer
        self.pages = pages
        self.limits = limits
        self.opener = opener  # uploaded PDFs are opened in a limited worker process
        # Tablets pre-fetch whole packs in the background (header X-Hemicycle-Background: 1):
        # 200 tablets x 100 pages must not queue ahead of a member opening a page, nor fill the
        # event loop while members vote. They take turns in a narrow lane; a page a reader is
        # waiting for (no header) never waits in it.
        self.background = asyncio.Semaphore(BACKGROUND_LANE)

    def identify(self, request: Request) -> Identity | None:
        return self.identities.identify(bearer_token(request))

    def routes(self) -> list[Route]:
        return [
            Route("/api/documents", self.upload, methods=["POST"]),
            Route("/api/documents", self.listing, methods=["GET"]),
            Route("/api/documents/{doc}/pages/{page:int}", self.page, methods=["GET"]),
            Route("/api/documents/{doc}/original", self.original, methods=["GET"]),
            Route("/api/documents/{doc}/render", self.render_status, methods=["GET"]),
        ]

    def _readable(self, request: Request) -> tuple[Identity, Doc] | JSONResponse:
        """The caller, and the document they asked for if they may read it; else the refusal."""
        who = self.identify(request)
        if who is None:
            return _error(401, "unauthorized", "a token is required")
        doc = self.sitting.meeting.documents.docs.get(request.path_params["doc"])
        member = self.sitting.meeting.agenda.member(who.member) if who.member else None
        if doc is None or not may_read(doc.info, who.role, member) or (not doc.released and who.role != "clerk"):
            return _error(404, "not_found", "no such document for you")
        if doc.recalled:
            return _error(410, "recalled", "this document has been recalled")
        return who, doc

    async def upload(self, request: Request) -> Response:
        who = self.identify(request)
        if who is None or who.role != "clerk":
            return _error(403, "forbidden", "only the clerk adds documents")
        limits: Limits = self.limits
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > limits.max_bytes + 64 * 1024:
            return _error(413, "too_large", f"a document may be at most {limits.max_bytes} bytes")
        try:
            async with request.form(max_files=1, max_fields=10, max_part_size=limits.max_bytes + 1) as form:
                upload_file = form.get("file")
                if upload_file is None or isinstance(upload_file, str):
                    return _error(400, "bad_request", 'send the document as the multipart field "file"')
                data = await upload_file.read(limits.max_bytes + 1)
                fields = {k: form.get(k) for k in ("title", "item", "audience", "classification", "readers", "release")}
                filename = upload_file.filename or ""
                declared = upload_file.content_type
        except Exception as exc:  # malformed multipart, oversized part
            return _error(400, "bad_request", f"the upload could not be read: {exc}")
        readers = [r.strip() for r in str(fields["readers"] or "").split(",") if r.strip()]
        audience = str(fields["audience"] or ("named" if readers else "everyone"))
        try:
            info = await asyncio.to_thread(
                ingest,
                self.blobs,
                data,
                title=str(fields["title"] or filename or "").strip(),
                item_id=str(fields["item"] or ""),
                audience=audience,
                classification=str(fields["classification"] or "public"),
                readers=readers,
                filename=filename,
                declared_type=declared,
                limits=limits,
                opener=self.opener,
            )
            await self.sitting.execute(c.AddDocument(info.to_dict(), None, str(fields["release"] or "true") != "false"))
        except DocumentError as exc:
            return _error(422, exc.code, exc.message)
        except CommandError as exc:
            return _error(422, exc.code, exc.message)
        return JSONResponse({"id": info.id, "pages": info.page_count, "sha256": info.sha256}, status_code=201)

    async def listing(self, request: Request) -> Response:
        who = self.identify(request)
        if who is None:
            return _error(401, "unauthorized", "a token is required")
        meeting = self.sitting.meeting
        member = meeting.agenda.member(who.member) if who.member else None
        docs = [
            document_view(d, who.role)
            for d in meeting.documents.docs.values()
            if may_read(d.info, who.role, member) and (d.released or who.role == "clerk")
        ]
        return JSONResponse({"documents": docs})

    @staticmethod
    def _not_modified(request: Request, etag: str, cache_control: str) -> Response | None:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})
        return None

    async def page(self, request: Request) -> Response:
        if request.headers.get(BACKGROUND_HEADER) == "1":
            async with self.background:
                if await request.is_disconnected():  # given up while waiting (a ballot opened): no work
                    return Response(status_code=499)
                return await self._page(request)
        return await self._page(request)

    async def _page(self, request: Request) -> Response:
        found = self._readable(request)
        if isinstance(found, Response):
            return found
        who, doc = found
        number = request.path_params["page"]
        if not 1 <= number <= doc.info["page_count"]:
            return _error(404, "page_out_of_range", f"pages run from 1 to {doc.info['page_count']}")
        width_arg = request.query_params.get("width")
        sha = doc.info["sha256"]
        try:
            width = self.renderer.width(_width(width_arg))
            # Rendering (if the page is not pre-rendered yet) happens once, in the render pool's
            # worker processes; cache reads never wait behind it (server/documents/render_pool.py).
            if doc.info["classification"] == "confidential" and who.role != "clerk":
                member = self.sitting.meeting.agenda.member(who.member) if who.member else None
                reader = Reader(member.id, member.name, member.seat) if member else Reader(who.role, who.role, "-")
                # stamped in a worker process, not here: it costs ~0.2 CPU-s per page per reader
                image = await self.pages.stamped_page(
                    doc.id, sha, number - 1, width, reader, datetime.fromtimestamp(time.time())
                )
            else:
                etag = self.renderer.etag(sha, number - 1, width)
                cached = self._not_modified(request, etag, "private, max-age=31536000, immutable")
                if cached:
                    return cached
                image = await self.pages.page(doc.id, sha, number - 1, width)
        except DocumentError as exc:
            return _error(500 if exc.code in ("render_failed", "too_complex") else 400, exc.code, exc.message)
        return Response(
            image.data, media_type=image.media_type, headers={"ETag": image.etag, "Cache-Control": image.cache_control}
        )

    async def render_status(self, request: Request) -> Response:
        """For the clerk: how far pre-rendering of a document's pages has got, and any page that
        failed with its reason (a failed page is not retried; fix the file and upload it again)."""
        who = self.identify(request)
        if who is None or who.role != "clerk":
            return _error(403, "forbidden", "only the clerk sees rendering status")
        doc = self.sitting.meeting.documents.docs.get(request.path_params["doc"])
        if doc is None:
            return _error(404, "not_found", "no such document")
        return JSONResponse(self.pages.status(doc.id))  # on the loop: it reads the pool's live state

    async def original(self, request: Request) -> Response:
        found = self._readable(request)
        if isinstance(found, Response):
            return found
        _, doc = found
        if doc.info["classification"] != "public":
            return _error(403, "not_public", "only public documents may be downloaded as the original file")
        etag = f'"{doc.info["sha256"]}"'
        cached = self._not_modified(request, etag, "private, max-age=31536000, immutable")
        if cached:
            return cached
        data = await asyncio.to_thread(self.blobs.get, doc.info["sha256"])
        filename = doc.info.get("filename") or f"{doc.id}.pdf"
        return Response(
            data,
            media_type=doc.info["mime"],
            headers={
                "ETag": etag,
                "Cache-Control": "private, max-age=31536000, immutable",
                "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            },
        )
