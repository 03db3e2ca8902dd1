"""Hostile PDFs cost a limited worker one job, never the server (issue 11, defect 2).

Real bombs, written byte by byte in tests/fixtures/documents.py: a 3 KB file of nested form
XObjects (fan**depth form instances when opened: tens of gigabytes), and a 1.3 KB page of
20,000 full-page fills (opens in milliseconds, draws for minutes). The server opens uploads
and renders pages in worker processes with a memory limit and a watchdog
(server/documents/worker_processes.py); these tests run a real server and watch what the
clerk would see.
"""

from __future__ import annotations

import asyncio
import io
import resource
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from server.documents import BlobStore, DocumentError, Renderer, validate
from server.documents.worker_processes import MiB, Opener, ProcessLimits
from terminal_client import Client
from tests.fixtures.documents import make_fill_bomb, make_pdf, make_xobject_bomb, one_page_pdf
from tests.support import LiveServer, bearer, make_agenda, serving

WAIT = 180  # only so that a hang fails the test instead of the suite; never a speed claim
#: small enough that a bomb is stopped quickly on a shared test machine, large enough for real pages
LIMITS = ProcessLimits(memory_bytes=768 * MiB, page_seconds=10, open_seconds=30)


async def post_document(srv: LiveServer, data: bytes, title: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=srv.http, timeout=WAIT) as http:
        return await http.post(
            "/api/documents",
            files={"file": (f"{title}.pdf", data, "application/pdf")},
            data={"title": title, "item": "item1"},
            headers=bearer(srv.creds["clerk"]["token"]),
        )


async def render_status(srv: LiveServer, doc: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=srv.http, timeout=WAIT) as http:
        r = await http.get(f"/api/documents/{doc}/render", headers=bearer(srv.creds["clerk"]["token"]))
    assert r.status_code == 200, r.text
    return r.json()


async def until(check: Any) -> Any:
    """Wait for a condition (polled), bounded so a hang fails rather than blocks."""
    async with asyncio.timeout(WAIT):
        while not (found := await check()):
            await asyncio.sleep(0.1)
    return found


def server_peak_rss_mib() -> float:
    """The test process is the server process (uvicorn runs in it): its own peak RSS."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def test_a_nested_xobject_bomb_is_refused_at_upload_and_the_server_carries_on(tmp_path: Path) -> None:
    bomb = make_xobject_bomb()
    assert len(bomb) < 4096  # a few kilobytes...
    before = server_peak_rss_mib()
    async with serving(tmp_path, make_agenda(5), render_workers=1, process_limits=LIMITS) as srv:
        refused = await post_document(srv, bomb, "bomb")
        assert refused.status_code == 422
        body = refused.json()
        assert body["error"] == "too_complex" and "768 MiB" in body["message"], body
        # ...that cost a limited worker, not the server: still healthy, its memory as it was
        assert server_peak_rss_mib() < before + 200
        async with httpx.AsyncClient(base_url=srv.http, timeout=WAIT) as http:
            assert (await http.get("/health")).json()["ok"] is True
        fine = await post_document(srv, make_pdf(2), "fine")
        assert fine.status_code == 201, fine.text
        doc = fine.json()["id"]
        await asyncio.wait_for(srv.assembly.pages.idle(), WAIT)
        assert (await render_status(srv, doc))["state"] == "ready"


async def test_a_page_that_draws_for_minutes_is_killed_and_its_document_marked_failed(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(5), render_workers=1, process_limits=LIMITS) as srv:
        slow = await post_document(srv, make_fill_bomb(), "slow")  # opens fast: accepted
        assert slow.status_code == 201, slow.text
        slow_id = slow.json()["id"]
        fine = await post_document(srv, make_pdf(2), "fine")
        fine_id = fine.json()["id"]

        async def failed() -> dict[str, Any] | None:
            status = await render_status(srv, slow_id)
            return status if status["state"] == "failed" else None

        status = await until(failed)
        assert status["error"]["code"] == "too_complex"
        assert "page 1 needs more than 10 s" in status["error"]["message"]
        # a reader's fetch is answered at once with the reason, never rendered again
        seat = srv.seat_token("S001")
        async with httpx.AsyncClient(base_url=srv.http, timeout=WAIT) as http:
            page = await http.get(f"/api/documents/{slow_id}/pages/1", headers=bearer(seat))
            assert page.status_code == 500 and page.json()["error"] == "too_complex"
            # the other document renders, and a member reads it
            await asyncio.wait_for(srv.assembly.pages.idle(), WAIT)
            assert (await render_status(srv, fine_id))["state"] == "ready"
            assert (await http.get(f"/api/documents/{fine_id}/pages/2", headers=bearer(seat))).status_code == 200
        # and the sitting goes on
        member = Client(srv.url, seat)
        await member.connect()
        await member.check_in()
        await member.close()


def test_an_empty_mediabox_is_refused_and_a_strip_page_is_scaled(tmp_path: Path) -> None:
    opener = Opener(LIMITS)
    try:
        for box in (b"[0 0 0 0]", b"[0 0 612 0]"):
            with pytest.raises(DocumentError) as info:
                validate(one_page_pdf(box), opener=opener)
            assert info.value.code == "malformed_pdf" and "invalid size" in info.value.message
        strip = one_page_pdf(b"[0 0 3 14400]", content=b"0 0 1 rg 0 0 3 14400 re f")
        assert validate(strip, opener=opener).page_count == 1
    finally:
        opener.close()
    store = BlobStore(tmp_path)
    image = Renderer(store).render_page(store.put(strip), 0)  # 277,000 px tall at 1600: too tall for WebP
    with Image.open(io.BytesIO(image.data)) as im:
        assert im.height <= 16_383 and im.width >= 1
        assert im.height > 1000 * im.width  # still the whole strip (1 : 4800), scaled down
