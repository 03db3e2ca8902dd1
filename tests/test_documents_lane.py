"""The background lane for tablets' prefetches (docs/documents.md, "HTTP endpoints").

While every slot of the lane is taken (200 tablets fetching a pack), a page a member opens
(no background header) is served at once, and a prefetch waits its turn; a prefetch given up
while it waited costs the server nothing.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from server.edge.documents_http import BACKGROUND_LANE, DocumentRoutes
from tests.fixtures.documents import make_pdf
from tests.support import bearer, make_agenda, serving


def document_routes(app: Any) -> DocumentRoutes:
    for route in app.router.routes:
        if getattr(route, "path", "") == "/api/documents/{doc}/pages/{page:int}":
            return route.endpoint.__self__  # type: ignore[no-any-return]
    raise AssertionError("no page route")


async def test_a_page_a_member_opens_never_waits_behind_prefetches(tmp_path: Path) -> None:
    async with serving(tmp_path, make_agenda(3)) as srv, httpx.AsyncClient(base_url=srv.http, timeout=30) as http:
        up = await http.post(
            "/api/documents",
            files={"file": ("a.pdf", make_pdf(2), "application/pdf")},
            data={"title": "材料", "item": "item1"},
            headers=bearer(srv.creds["clerk"]["token"]),
        )
        assert up.status_code == 201, up.text
        doc = up.json()["id"]
        lane = document_routes(srv.app).background
        for _ in range(BACKGROUND_LANE):  # every slot taken, as by 200 tablets' prefetches
            await lane.acquire()
        seat = bearer(srv.seat_token("S001"))
        prefetch = asyncio.create_task(
            http.get(f"/api/documents/{doc}/pages/1", headers={**seat, "X-Hemicycle-Background": "1"})
        )
        opened = await http.get(f"/api/documents/{doc}/pages/1", headers=seat)
        assert opened.status_code == 200 and opened.headers["content-type"] == "image/webp"
        assert not prefetch.done()  # still waiting its turn
        lane.release()
        fetched = await prefetch
        assert fetched.status_code == 200 and fetched.content == opened.content
        for _ in range(BACKGROUND_LANE - 1):
            lane.release()
