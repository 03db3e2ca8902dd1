"""Pages are ready before the tablets ask: pre-rendering after upload, over a real server.

The render pool's worker processes are real (spawned), as in `hemicycle serve`. Tests wait
for the pool to go idle (`RenderPool.idle`) instead of sleeping, and observe the result the
way the clerk would (`GET /api/documents/{id}/render`) and in the page cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from server.documents import BlobStore, DocumentError, Renderer
from server.documents.render_pool import RenderPool
from terminal_client import Client
from tests.fixtures.documents import make_pdf, render_or_crash
from tests.support import LiveServer, bearer, make_agenda, serving, start_server

WAIT = 120  # only so that a hang fails the test instead of the suite; never a speed claim


@pytest.fixture
async def sitting(tmp_path: Path) -> Any:
    async with serving(tmp_path, make_agenda(5), render_workers=1) as srv:
        yield srv


async def upload(srv: LiveServer, data: bytes, **fields: str) -> dict[str, Any]:
    form = {"title": "物业管理条例（草案）", "item": "item1", **fields}
    async with httpx.AsyncClient(base_url=srv.http, timeout=WAIT) as http:
        r = await http.post(
            "/api/documents",
            files={"file": ("draft.pdf", data, "application/pdf")},
            data=form,
            headers=bearer(srv.creds["clerk"]["token"]),
        )
    assert r.status_code == 201, r.text
    return r.json()


async def get(srv: LiveServer, path: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.http, timeout=WAIT) as http:
        return await http.get(path, headers=bearer(token))


async def render_status(srv: LiveServer, doc: str) -> dict[str, Any]:
    r = await get(srv, f"/api/documents/{doc}/render", srv.creds["clerk"]["token"])
    assert r.status_code == 200, r.text
    return r.json()


def cached_pages(srv: LiveServer, sha: str) -> list[str]:
    folder = Path(srv.db).parent / "pages" / sha[:2] / sha
    return sorted(p.name for p in folder.glob("*.webp")) if folder.exists() else []


async def idle(srv: LiveServer) -> None:
    await asyncio.wait_for(srv.assembly.pages.idle(), WAIT)


async def clerk_of(srv: LiveServer) -> Client:
    clerk = Client(srv.url, srv.creds["clerk"]["token"])
    await clerk.connect()
    return clerk


def reference_page(tmp: Path, pdf: bytes, page: int) -> bytes:
    """The page as the document library renders it in this process, for comparison."""
    store = BlobStore(tmp / "reference")
    return Renderer(store).render_page(store.put(pdf), page).data


async def test_pages_are_ready_after_upload_without_anyone_fetching(sitting: LiveServer) -> None:
    doc = await upload(sitting, make_pdf(3), release="false")  # held: not even pushed yet
    await idle(sitting)
    status = await render_status(sitting, doc["id"])
    assert (status["state"], status["ready"], status["pending"], status["failed"]) == ("ready", 3, 0, [])
    assert cached_pages(sitting, doc["sha256"]) == [f"p{n}-w1600-v1.webp" for n in range(3)]
    renders = sitting.assembly.pages.renders
    assert renders == 3
    r = await get(sitting, f"/api/documents/{doc['id']}/pages/2", sitting.creds["clerk"]["token"])
    assert r.status_code == 200 and Image.open(io.BytesIO(r.content)).width == 1600
    assert sitting.assembly.pages.renders == renders  # served from the cache, not rendered again
    assert (await get(sitting, f"/api/documents/{doc['id']}/render", sitting.seat_token("S001"))).status_code == 403


async def test_a_fetch_during_prerendering_gets_its_page_rendered_once(sitting: LiveServer, tmp_path: Path) -> None:
    clerk = await clerk_of(sitting)
    await clerk.command("open_ballot", ballot="reg1")  # pre-rendering waits while members vote
    pdf = make_pdf(4)
    doc = await upload(sitting, pdf)
    status = await render_status(sitting, doc["id"])
    assert (status["state"], status["ready"], status["pending"]) == ("paused", 0, 4)
    # a reader's page does not wait for the ballot: rendered at once, once for many readers
    tokens = [sitting.seat_token(f"S{i:03d}") for i in range(1, 6)]
    answers = await asyncio.gather(*(get(sitting, f"/api/documents/{doc['id']}/pages/3", t) for t in tokens * 2))
    assert {r.status_code for r in answers} == {200}
    assert {r.content for r in answers} == {reference_page(tmp_path, pdf, 2)}  # the right page, exactly
    assert sitting.assembly.pages.renders == 1
    assert (await render_status(sitting, doc["id"]))["ready"] == 1
    await clerk.command("close_ballot", ballot="reg1")  # pre-rendering resumes
    await idle(sitting)
    status = await render_status(sitting, doc["id"])
    assert (status["state"], status["ready"]) == ("ready", 4)
    assert sitting.assembly.pages.renders == 4  # page 3 was not rendered a second time
    await clerk.close()


async def test_fetches_racing_the_prerenderer_render_each_page_once(sitting: LiveServer, tmp_path: Path) -> None:
    pdf = make_pdf(5)
    doc = await upload(sitting, pdf)
    tokens = [sitting.seat_token(f"S{i:03d}") for i in range(1, 6)]
    answers = await asyncio.gather(
        *(get(sitting, f"/api/documents/{doc['id']}/pages/{n}", t) for n in (5, 4, 3, 2, 1) for t in tokens)
    )
    assert [r.status_code for r in answers] == [200] * 25
    for i, n in enumerate((5, 4, 3, 2, 1)):
        assert {r.content for r in answers[5 * i : 5 * i + 5]} == {reference_page(tmp_path, pdf, n - 1)}
    await idle(sitting)
    assert sitting.assembly.pages.renders == 5


async def test_a_page_that_cannot_be_rendered_is_reported_and_blocks_no_other(sitting: LiveServer) -> None:
    pdf = make_pdf(3)
    sha = hashlib.sha256(pdf).hexdigest()
    # page 2's cache file cannot be written (a directory stands in its way): a real failure
    # on one page only, like a full or damaged disk area
    (Path(sitting.db).parent / "pages" / sha[:2] / sha / "p1-w1600-v1.webp").mkdir(parents=True)
    doc = await upload(sitting, pdf)
    await idle(sitting)
    status = await render_status(sitting, doc["id"])
    assert (status["state"], status["ready"], status["pending"]) == ("failed", 2, 0)
    (failed,) = status["failed"]
    assert failed["page"] == 2 and failed["error"] == "render_failed" and failed["message"]
    token = sitting.seat_token("S001")
    renders = sitting.assembly.pages.renders
    for n in (1, 3):
        assert (await get(sitting, f"/api/documents/{doc['id']}/pages/{n}", token)).status_code == 200
    broken = await get(sitting, f"/api/documents/{doc['id']}/pages/2", token)
    assert broken.status_code == 500 and broken.json()["error"] == "render_failed"
    assert sitting.assembly.pages.renders == renders  # the failure is remembered, not retried per fetch


async def test_recall_stops_prerendering(sitting: LiveServer) -> None:
    clerk = await clerk_of(sitting)
    await clerk.command("open_ballot", ballot="reg1")
    recalled = await upload(sitting, make_pdf(4), classification="confidential")
    await clerk.command("recall_documents", document=recalled["id"])
    await clerk.command("close_ballot", ballot="reg1")
    kept = await upload(sitting, make_pdf(2))  # queued after the recalled one: done means it was skipped
    await idle(sitting)
    assert (await render_status(sitting, kept["id"]))["state"] == "ready"
    status = await render_status(sitting, recalled["id"])
    assert (status["state"], status["ready"], status["pending"]) == ("recalled", 0, 0)
    assert cached_pages(sitting, recalled["sha256"]) == []
    assert sitting.assembly.pages.renders == 2
    assert (
        await get(sitting, f"/api/documents/{recalled['id']}/pages/1", sitting.seat_token("S001"))
    ).status_code == 410
    await clerk.close()


async def test_documents_in_the_record_are_prerendered_after_a_restart(tmp_path: Path) -> None:
    srv = await start_server(tmp_path, make_agenda(5), render_workers=1)
    try:
        clerk = await clerk_of(srv)
        await clerk.command("open_ballot", ballot="reg1")  # paused: nothing rendered before the stop
        doc = await upload(srv, make_pdf(2))
        await clerk.close()
    finally:
        await srv.stop()
    assert cached_pages(srv, doc["sha256"]) == []
    again = await start_server(tmp_path, make_agenda(5), render_workers=1)
    try:
        # the ballot is still open after the restart: pre-rendering stays paused until it closes
        assert (await render_status(again, doc["id"]))["state"] == "paused"
        clerk = await clerk_of(again)
        await clerk.command("close_ballot", ballot="reg1")
        await idle(again)
        assert cached_pages(again, doc["sha256"]) == ["p0-w1600-v1.webp", "p1-w1600-v1.webp"]
        await clerk.close()
    finally:
        await again.stop()


async def test_a_page_that_kills_its_worker_is_not_retried_and_gives_up_its_file_only(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    hostile, fine = store.put(make_pdf(4)), store.put(make_pdf(2))
    (tmp_path / f"crash-{hostile}").touch()
    pool = RenderPool(Renderer(store), workers=1, render=render_or_crash)
    try:
        pool.prerender("bad", hostile, 4)
        pool.prerender("good", fine, 2)
        await asyncio.wait_for(pool.idle(), WAIT)
        bad, good = pool.status("bad"), pool.status("good")
        # page 2 killed its worker: tried once, never again; pages 3-4 are not even tried
        attempts = (tmp_path / f"attempts-{hostile}").read_text().split()
        assert attempts.count("1") == 1 and "2" not in attempts and "3" not in attempts
        assert (bad["state"], bad["ready"], [f["page"] for f in bad["failed"]]) == ("failed", 1, [2, 3, 4])
        assert bad["error"]["code"] == "render_failed" and "page 2 crashed" in bad["error"]["message"]
        assert (good["state"], good["ready"]) == ("ready", 2)  # the other file renders as usual
        with pytest.raises(DocumentError, match="render_failed"):
            await pool.ensure("bad", hostile, 3, 1600)  # at once: nothing is rendered again
        assert (tmp_path / f"attempts-{hostile}").read_text().split() == attempts
    finally:
        await pool.close()
