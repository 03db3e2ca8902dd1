"""Paperless sitting over a real server: upload, push to 41 seats, fetch, watermark, recall."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image, ImageChops

from server.documents import Limits
from terminal_client import Client
from tests.fixtures.documents import make_encrypted_pdf, make_pdf
from tests.support import LiveServer, bearer, make_agenda, serving

HANG_GUARD = 60  # seconds for an HTTP answer: only turns a hang into a failure (a loaded machine validates slowly)


@pytest.fixture
async def sitting(tmp_path: Path) -> Any:
    async with serving(tmp_path, make_agenda(41, observers=2), document_limits=Limits(max_pages=50)) as srv:
        yield srv


async def upload(srv: LiveServer, data: bytes, name: str = "draft.pdf", **fields: str) -> httpx.Response:
    form = {"title": "物业管理条例（草案）", "item": "item1", **fields}
    async with httpx.AsyncClient(base_url=srv.http, timeout=HANG_GUARD) as http:
        return await http.post(
            "/api/documents",
            files={"file": (name, data, "application/pdf")},
            data=form,
            headers=bearer(srv.creds["clerk"]["token"]),
        )


async def get(srv: LiveServer, path: str, token: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.http, timeout=HANG_GUARD) as http:
        return await http.get(path, headers={**bearer(token), **headers})


async def test_a_pushed_document_reaches_every_seat_which_fetches_its_pages(sitting: LiveServer) -> None:
    seats = [Client(sitting.url, sitting.seat_token(f"S{i:03d}")) for i in range(1, 42)]
    await asyncio.gather(*(s.connect() for s in seats))
    clerk = Client(sitting.url, sitting.creds["clerk"]["token"])
    await clerk.connect()
    response = await upload(sitting, make_pdf(4), audience="members")
    assert response.status_code == 201, response.text
    doc = response.json()
    assert doc["pages"] == 4
    events = await asyncio.gather(*(s.next_event("document.added") for s in seats))
    assert all(ev["document"]["id"] == doc["id"] and ev["document"]["pages"] == 4 for _, ev in events)

    async def fetch_all(seat: Client, token: str) -> list[bytes]:
        pages = []
        async with httpx.AsyncClient(base_url=sitting.http, timeout=HANG_GUARD) as http:
            for n in range(1, 5):
                r = await http.get(f"/api/documents/{doc['id']}/pages/{n}", headers=bearer(token))
                assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
                pages.append(r.content)
        await seat.request({"type": "doc_receipt", "document": doc["id"], "state": "delivered"})
        return pages

    fetched = await asyncio.gather(*(fetch_all(s, sitting.seat_token(f"S{i:03d}")) for i, s in enumerate(seats, 1)))
    assert all(pages == fetched[0] for pages in fetched)  # a public page is the same image for everyone
    assert Image.open(io.BytesIO(fetched[0][0])).width == 1600
    await seats[0].request({"type": "doc_receipt", "document": doc["id"], "state": "opened"})
    # the clerk sees, per seat, that the document was delivered (and one opened)
    again = Client(sitting.url, sitting.creds["clerk"]["token"])
    snap = (await again.connect())["snapshot"]
    (view,) = [d for d in snap["documents"] if d["id"] == doc["id"]]
    assert len(view["receipts"]) == 41 and view["receipts"]["m01"] == "opened"
    # a cached page answers 304 to a matching ETag
    first = await get(sitting, f"/api/documents/{doc['id']}/pages/1", sitting.seat_token("S001"))
    cached = await get(
        sitting,
        f"/api/documents/{doc['id']}/pages/1",
        sitting.seat_token("S001"),
        **{"If-None-Match": first.headers["etag"]},
    )
    assert cached.status_code == 304
    for c in [*seats, clerk, again]:
        await c.close()


async def test_the_audience_decides_who_may_list_and_fetch(sitting: LiveServer) -> None:
    doc = (await upload(sitting, make_pdf(2), audience="members")).json()
    observer = sitting.seat_token("O01")
    assert (await get(sitting, f"/api/documents/{doc['id']}/pages/1", observer)).status_code == 404
    listed = (await get(sitting, "/api/documents", observer)).json()["documents"]
    assert doc["id"] not in [d["id"] for d in listed]
    assert (
        await get(sitting, f"/api/documents/{doc['id']}/pages/1", sitting.creds["display"]["token"])
    ).status_code == 404
    assert (await get(sitting, f"/api/documents/{doc['id']}/pages/1", "forged")).status_code == 401
    member = sitting.seat_token("S005")
    assert (await get(sitting, f"/api/documents/{doc['id']}/original", member)).status_code == 200
    named = (await upload(sitting, make_pdf(1), readers="m07")).json()
    assert (await get(sitting, f"/api/documents/{named['id']}/pages/1", sitting.seat_token("S007"))).status_code == 200
    assert (await get(sitting, f"/api/documents/{named['id']}/pages/1", member)).status_code == 404


async def test_confidential_pages_are_watermarked_per_reader_and_recalled(sitting: LiveServer) -> None:
    doc = (await upload(sitting, make_pdf(2), classification="confidential")).json()
    path = f"/api/documents/{doc['id']}/pages/1"
    a = await get(sitting, path, sitting.seat_token("S001"))
    b = await get(sitting, path, sitting.seat_token("S002"))
    assert a.status_code == b.status_code == 200
    assert a.headers["cache-control"] == "private, no-store"
    pa, pb = (Image.open(io.BytesIO(r.content)).convert("RGB") for r in (a, b))
    diff = ImageChops.difference(pa, pb).getbbox()
    assert diff is not None  # the two readers' pages differ: each carries its reader's mark
    assert (await get(sitting, f"/api/documents/{doc['id']}/original", sitting.seat_token("S001"))).status_code == 403
    seat = Client(sitting.url, sitting.seat_token("S001"))
    await seat.connect()
    clerk = Client(sitting.url, sitting.creds["clerk"]["token"])
    await clerk.connect()
    await clerk.command("recall_documents")
    _, recalled = await seat.next_event("document.recalled")
    assert recalled["document"] == doc["id"]
    for token in (sitting.seat_token("S001"), sitting.seat_token("S002")):
        assert (await get(sitting, path, token)).status_code == 410
    await seat.close()
    await clerk.close()


async def test_a_reconnecting_seat_catches_up_on_pushes_it_missed(sitting: LiveServer) -> None:
    seat = Client(sitting.url, sitting.seat_token("S010"))
    await seat.connect()
    await seat.drop()
    doc = (await upload(sitting, make_pdf(1))).json()
    _, added = await seat.next_event("document.added", timeout=15)
    assert added["document"]["id"] == doc["id"] and seat.welcome["resumed"] is True
    await seat.close()


async def test_page_sync_reaches_followers(sitting: LiveServer) -> None:
    doc = (await upload(sitting, make_pdf(3))).json()
    display = Client(sitting.url, sitting.creds["display"]["token"])
    await display.connect()
    clerk = Client(sitting.url, sitting.creds["clerk"]["token"])
    await clerk.connect()
    await clerk.command("show_page", document=doc["id"], page=3)
    _, shown = await display.next_event("page.shown")
    assert (shown["document"], shown["page"]) == (doc["id"], 3)
    late = Client(sitting.url, sitting.seat_token("S003"))
    assert (await late.connect())["snapshot"]["page"] == {"document": doc["id"], "page": 3}
    for c in (display, clerk, late):
        await c.close()


@pytest.mark.parametrize(
    "data, name, code",
    [
        (make_pdf(3)[:-600], "cut.pdf", "malformed_pdf"),
        (b"PK\x03\x04 this is a zip, not a PDF" * 20, "fake.pdf", "not_a_pdf"),
        (make_encrypted_pdf(), "locked.pdf", "encrypted_pdf"),
        (make_pdf(60), "huge.pdf", "too_many_pages"),
    ],
)
async def test_bad_uploads_are_refused_with_their_code_and_store_nothing(
    sitting: LiveServer, data: bytes, name: str, code: str
) -> None:
    response = await upload(sitting, data, name)
    assert response.status_code == 422
    assert response.json()["error"] == code and response.json()["message"]
    assert sitting.assembly.sitting.meeting.documents.docs == {}
    blobs = Path(sitting.db).parent / "blobs"
    assert not [p for p in blobs.rglob("*") if p.is_file()]  # nothing stored


async def test_only_the_clerk_uploads(sitting: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=sitting.http, timeout=HANG_GUARD) as http:
        r = await http.post(
            "/api/documents",
            files={"file": ("a.pdf", make_pdf(1), "application/pdf")},
            data={"title": "x", "item": "item1"},
            headers=bearer(sitting.seat_token("S001")),
        )
    assert r.status_code == 403


async def test_hemicycle_docs_add_uploads_through_the_server(sitting: LiveServer, tmp_path: Path) -> None:
    pdf = tmp_path / "报告.pdf"
    pdf.write_bytes(make_pdf(2))
    args = [
        "docs",
        "add",
        str(pdf),
        "--item",
        "item1",
        "--classification",
        "internal",
        "--server",
        sitting.http,
        "--token-file",
        str(Path(sitting.db).parent / "credentials.json"),
    ]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hemicycle.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    assert "2 pages" in out.decode()
    (doc,) = sitting.assembly.sitting.meeting.documents.docs.values()
    assert doc.info["title"] == "报告" and doc.info["classification"] == "internal"
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hemicycle.cli",
        "docs",
        "add",
        str(bad),
        *args[3:],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parent.parent,
    )
    _, err = await proc.communicate()
    assert proc.returncode == 1 and "not_a_pdf" in err.decode()
