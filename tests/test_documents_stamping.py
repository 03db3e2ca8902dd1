"""Confidential pages are stamped per reader in the render pool's worker processes.

Why it matters: stamping costs ~0.2 CPU-s per page per reader, mostly holding the GIL; in the
server process it would compete with the WebSocket server during a sitting. These tests show
*where* it happens (the pool's counters, and a server-process watermarker that refuses to
work), never how fast: no timing here.
"""

from __future__ import annotations

import asyncio
import pickle
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from server.documents import BlobStore, DocumentError, Reader, Renderer, Watermarker
from server.documents.render_pool import RenderPool
from tests.fixtures.documents import make_pdf, stamp_or_crash
from tests.fixtures.watermarks import read_fingerprint
from tests.support import LiveServer, make_agenda, serving
from tests.test_documents_prerender import WAIT, cached_pages, clerk_of, get, render_status, upload

AT = datetime(2026, 11, 25, 14, 30)


@pytest.fixture
async def sitting(tmp_path: Path) -> Any:
    async with serving(tmp_path, make_agenda(5), render_workers=1) as srv:
        yield srv


async def test_two_readers_get_their_own_stamp_from_workers_while_a_ballot_is_open(
    sitting: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_here(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a page was stamped in the server process")

    # Workers are spawned processes with their own Watermarker: patching this process's
    # class only breaks stamping that happens here.
    monkeypatch.setattr(Watermarker, "apply", not_here)
    clerk = await clerk_of(sitting)
    await clerk.command("open_ballot", ballot="reg1")  # pre-rendering is paused
    doc = await upload(sitting, make_pdf(2), classification="confidential")
    path = f"/api/documents/{doc['id']}/pages/1"
    seats = ("S001", "S002")
    answers = await asyncio.wait_for(asyncio.gather(*(get(sitting, path, sitting.seat_token(s)) for s in seats)), WAIT)
    assert [r.status_code for r in answers] == [200, 200]
    assert {r.headers["cache-control"] for r in answers} == {"private, no-store"}
    assert answers[0].content != answers[1].content
    clean = await get(sitting, path, sitting.creds["clerk"]["token"])  # the clerk reads the clean page
    marker = sitting.assembly.watermarker
    for seat, answer in zip(seats, answers):
        member = sitting.assembly.sitting.meeting.agenda.member_at_seat(seat).id
        assert read_fingerprint(answer.content, clean.content) == marker.fingerprint(Reader(member, "", seat))
    pool = sitting.assembly.pages
    assert (pool.stamps, pool.renders) == (2, 1)  # two stampings, both by workers; one clean page
    status = await render_status(sitting, doc["id"])
    assert (status["state"], status["ready"], status["pending"]) == ("paused", 1, 1)  # page 2 still waits
    assert cached_pages(sitting, doc["sha256"]) == ["p0-w1600-v1.webp"]  # stamped pages are never cached
    await clerk.command("close_ballot", ballot="reg1")
    await clerk.close()


async def test_a_failed_stamping_answers_an_error_and_the_pool_carries_on(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put(make_pdf(1))
    marker = Watermarker(secret=b"test-secret")
    pool = RenderPool(Renderer(store), workers=1, watermark=marker.spec, stamp=stamp_or_crash)
    try:
        for who in ("fail", "crash"):  # a reported failure; a worker that dies (not retried)
            with pytest.raises(DocumentError) as info:
                await asyncio.wait_for(pool.stamped_page("d1", sha, 0, 1600, Reader(who, "王建国", "S001"), AT), WAIT)
            assert info.value.code == "render_failed" and info.value.message
        wang = Reader("m01", "王建国", "S001")
        image = await asyncio.wait_for(pool.stamped_page("d1", sha, 0, 1600, wang, AT), WAIT)
        clean = Renderer(store).render_page(sha, 0).data
        assert read_fingerprint(image.data, clean) == marker.fingerprint(wang)
        assert pool.stamps == 1
        await asyncio.wait_for(pool.idle(), WAIT)
    finally:
        await pool.close()


def test_workers_build_the_same_watermarker_from_a_spec_that_hides_the_secret() -> None:
    marker = Watermarker(secret=b"very-secret-key")
    spec = pickle.loads(pickle.dumps(marker.spec))
    wang = Reader("m01", "王建国", "S001")
    assert spec.build().fingerprint(wang) == marker.fingerprint(wang)
    assert "very-secret-key" not in repr(spec) and "very-secret-key" not in str(spec)
