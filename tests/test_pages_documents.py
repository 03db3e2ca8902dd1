"""A paperless sitting through the pages, in real headless Chromium (docs/screens.md, "Documents").

The clerk uploads from the console, the pages render, the clerk releases the document; three
paired tablets list it with a notice; one opens it and the console's receipts matrix says
`opened`; the presenter turns to page 5 and a following tablet and the wall follow; a member
turns pages themselves, leaves follow mode and comes back; a ballot takes the wall back.
The second test reads through a Wi-Fi drop, checks that a confidential document carries the
reader's watermark and lands in no browser storage, and recalls (one, then by closing the
sitting). Screenshots go to test-artifacts/screens/. No page may log a JavaScript error.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from PIL import Image
from playwright.async_api import async_playwright, expect

from server.edge.auth import set_password
from terminal_client import Client
from tests.fixtures.documents import make_pdf
from tests.pages_support import Errors, console_login, launch, needs_chromium, pairing_url, serve, shot
from tests.support import LiveServer, bearer
from tests.test_pages_sitting import agenda

PASSWORD = "correct horse battery"
TABLET = {"width": 1180, "height": 820}
SEATS = ("S001", "S002", "S003")


@dataclass
class Room:
    srv: LiveServer
    console: Any
    tablets: list[Any]
    wall: Any
    errors: Errors
    tmp: Path


@contextlib.asynccontextmanager
async def room(tmp: Path) -> AsyncIterator[Room]:
    """A running sitting: the console logged in, three paired tablets, the wall paired."""
    set_password(tmp, PASSWORD)
    srv = await serve(tmp, agenda())
    errors = Errors()
    try:
        async with async_playwright() as pw:
            browser = await launch(pw)
            clerk = await browser.new_context(viewport={"width": 1440, "height": 1000})
            console = errors.watch(await clerk.new_page(), "console")
            await console_login(console, srv.http, PASSWORD)
            wall_ctx = await browser.new_context(viewport={"width": 1920, "height": 1080})
            wall = errors.watch(await wall_ctx.new_page(), "wall")
            await wall.goto(pairing_url(srv))
            await expect(wall.locator("[data-layout=idle]")).to_be_visible()
            tablets = []
            for seat in SEATS:
                ctx = await browser.new_context(viewport=TABLET, has_touch=True)
                page = errors.watch(await ctx.new_page(), f"tablet-{seat}")
                await page.goto(pairing_url(srv, seat))
                await expect(page.locator("#library-card")).to_be_visible()
                tablets.append(page)
            yield Room(srv, console, tablets, wall, errors, tmp)
            await browser.close()
    finally:
        await srv.stop()
    assert errors.seen == [], errors.seen


async def upload_in_console(console: Any, tmp: Path, name: str, data: bytes, **fields: str) -> None:
    """Fill the upload form and pick the file with the file picker."""
    path = tmp / name
    path.write_bytes(data)
    await console.set_input_files("#doc-file", str(path))
    await console.fill("#doc-title-input", fields.get("title", name))
    await console.select_option("#doc-class", fields.get("classification", "public"))
    if fields.get("hold"):
        await console.check("#doc-hold")
    await console.click("#doc-upload-button")


async def doc_id(console: Any, title: str) -> str:
    row = console.locator("#doc-table tr[data-doc]", has_text=title)
    await expect(row).to_have_count(1)
    return str(await row.get_attribute("data-doc"))


@needs_chromium
async def test_upload_release_read_present_and_follow(tmp_path: Path) -> None:
    async with room(tmp_path) as r:
        console, wall, (t1, t2, t3) = r.console, r.wall, r.tablets
        # -- upload, held: the pages render, the tablets see nothing yet -------------------------
        await upload_in_console(console, tmp_path, "draft.pdf", make_pdf(8), title="物业管理条例（草案）", hold="1")
        doc = await doc_id(console, "物业管理条例（草案）")
        row = console.locator(f"#doc-table tr[data-doc='{doc}']")
        await expect(row.locator(".doc-state")).to_have_attribute("data-state", "held")
        await expect(row.locator("[data-render=ready]")).to_be_visible(timeout=60_000)
        for t in r.tablets:
            await expect(t.locator("#no-documents")).to_be_visible()
            await expect(t.locator(f".doc-row[data-doc='{doc}']")).to_have_count(0)

        # -- release: every tablet lists it, with a notice, fetches it, and says so ----------------
        await console.click(f"#release-{doc}")
        for t in r.tablets:
            await expect(t.locator(f".doc-row[data-doc='{doc}']")).to_be_visible()
            await expect(t.locator("#notice")).to_contain_text("物业管理条例（草案）")
        await expect(t1.locator(f".doc-row[data-doc='{doc}'] .doc-new")).to_be_visible()
        await expect(t1.locator(f".doc-row[data-doc='{doc}'] .doc-class")).to_have_text("公开")
        await expect(t1.locator(f".doc-row[data-doc='{doc}'] .doc-pages")).to_have_text("8 页")
        for m in ("m01", "m02", "m03"):
            cell = console.locator(f"#doc-matrix tr[data-member={m}] td[data-doc='{doc}']")
            await expect(cell).to_have_attribute("data-state", "delivered", timeout=30_000)
        await expect(console.locator(f"#doc-matrix tr[data-member=m04] td[data-doc='{doc}']")).to_have_attribute(
            "data-state", "not_delivered"
        )
        await t1.locator("#library-card").scroll_into_view_if_needed()
        await shot(t1, "tablet-library-zh")

        # -- a member opens it: the reader shows page 1, the console sees "opened" ------------------
        await t1.click(f".doc-row[data-doc='{doc}']")
        reader = t1.locator("#reader")
        await expect(reader).to_have_attribute("data-shown", "1", timeout=30_000)
        await expect(t1.locator("#reader-count")).to_have_text("第 1 页 / 共 8 页")
        await expect(console.locator(f"#doc-matrix tr[data-member=m01] td[data-doc='{doc}']")).to_have_attribute(
            "data-state", "opened"
        )
        await expect(row.locator(".doc-counts")).to_have_attribute("data-opened", "1")
        # turning: button, key, swipe, thumbnail, "go to page"
        await t1.click("#reader-next")
        await expect(reader).to_have_attribute("data-shown", "2")
        await t1.keyboard.press("ArrowRight")
        await expect(reader).to_have_attribute("data-shown", "3")
        await swipe(t1, -300)
        await expect(reader).to_have_attribute("data-shown", "4")
        await t1.click("#reader-thumbs [data-page='7']")
        await expect(reader).to_have_attribute("data-shown", "7")
        await t1.fill("#reader-goto", "2")
        await t1.press("#reader-goto", "Enter")
        await expect(reader).to_have_attribute("data-shown", "2")
        # zoom with the buttons and a double tap, and back
        await t1.click("#zoom-in")
        await expect(reader).to_have_attribute("data-zoom", "1.5")
        await t1.click("#zoom-reset")
        await expect(reader).to_have_attribute("data-zoom", "1")
        await double_tap(t1)
        await expect(reader).to_have_attribute("data-zoom", "2")
        await double_tap(t1)
        await expect(reader).to_have_attribute("data-zoom", "1")
        await shot(t1, "tablet-reader-zh")
        # the reading position is remembered: back to the library and in again
        await t1.click("#reader-close")
        await expect(reader).to_be_hidden()
        await t1.click(f".doc-row[data-doc='{doc}']")
        await expect(reader).to_have_attribute("data-shown", "2")

        # -- the presenter: page 1, then on to page 5; a following tablet and the wall follow ------
        await console.click(f"#present-{doc}")
        await expect(console.locator("#doc-presenting")).to_have_attribute("data-page", "1")
        for _ in range(4):
            before = await console.locator("#doc-presenting").get_attribute("data-page")
            await console.click("#present-next")
            await expect(console.locator("#doc-presenting")).not_to_have_attribute("data-page", str(before))
        await expect(console.locator("#doc-presenting")).to_have_attribute("data-page", "5")
        await expect(t2.locator("#reader")).to_have_attribute("data-shown", "5")  # opened by the presenter
        await expect(t2.locator("#following")).to_be_visible()
        await expect(wall.locator("[data-layout=document]")).to_have_attribute("data-page", "5")
        await expect(wall.locator("#d-doc-img")).to_have_attribute("data-shown", f"{doc}/5")
        await shot(wall, "wall-document-zh")
        await shot(console, "console-documents-zh")
        # t1 had left follow mode (it turned pages itself): it stays, with a way back
        await expect(t1.locator("#reader")).to_have_attribute("data-shown", "2")
        await t1.click("#follow-presenter")
        await expect(t1.locator("#reader")).to_have_attribute("data-shown", "5")
        await expect(t1.locator("#following")).to_be_visible()
        # a member turning a page leaves follow mode; "back to the presenter" returns
        await t2.click("#reader-next")
        await expect(t2.locator("#reader")).to_have_attribute("data-shown", "6")
        await expect(t2.locator("#follow-presenter")).to_contain_text("第 5 页")
        await console.click("#present-prev")
        await expect(t1.locator("#reader")).to_have_attribute("data-shown", "4")
        await expect(t2.locator("#reader")).to_have_attribute("data-shown", "6")
        await t2.click("#follow-presenter")
        await expect(t2.locator("#reader")).to_have_attribute("data-shown", "4")
        await expect(t3.locator("#reader")).to_have_attribute("data-shown", "4")

        # -- a ballot takes the wall back, and the tablets' readers close for the vote --------------
        await console.click("#ballot-reg1")
        await console.click("#open-ballot")
        await expect(wall.locator("[data-layout=ballot]")).to_be_visible()
        for t in r.tablets:
            await expect(t.locator("#reader")).to_be_hidden()
            await expect(t.locator("#ballot-title")).to_be_visible()


async def centre(page: Any) -> tuple[float, float]:
    box = await page.locator("#reader-stage").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


async def swipe(page: Any, dx: int) -> None:
    """A horizontal swipe over the page (the reader follows pointer events: touch, pen or mouse)."""
    x, y = await centre(page)
    await page.mouse.move(x, y)
    await page.mouse.down()
    await page.mouse.move(x + dx / 2, y, steps=3)
    await page.mouse.move(x + dx, y, steps=3)
    await page.mouse.up()


async def double_tap(page: Any) -> None:
    x, y = await centre(page)
    await page.mouse.dblclick(x, y)


STORAGE_DUMP = """async () => {
  const cached = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const req of await cache.keys()) cached.push(new URL(req.url).pathname);
  }
  const dbs = indexedDB.databases ? (await indexedDB.databases()).map((d) => d.name) : [];
  return { cached, dbs, local: JSON.stringify({ ...localStorage }), session: JSON.stringify({ ...sessionStorage }) };
}"""

SHOWN_DIGEST = """async () => {
  const img = document.getElementById("reader-page");
  const canvas = new OffscreenCanvas(img.naturalWidth, img.naturalHeight);
  const g = canvas.getContext("2d");
  g.drawImage(img, 0, 0);
  const d = await crypto.subtle.digest("SHA-256", g.getImageData(0, 0, canvas.width, canvas.height).data);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0")).join("");
}"""


@needs_chromium
async def test_offline_reading_confidential_watermark_and_recall(tmp_path: Path) -> None:
    async with room(tmp_path) as r:
        console, (t1, t2, t3) = r.console, r.tablets
        # -- a public document, fetched in the background, then the Wi-Fi drops ---------------------
        await upload_in_console(console, tmp_path, "report.pdf", make_pdf(6), title="工作报告")
        public = await doc_id(console, "工作报告")
        for m in ("m01", "m02", "m03"):
            cell = console.locator(f"#doc-matrix tr[data-member={m}] td[data-doc='{public}']")
            await expect(cell).to_have_attribute("data-state", "delivered", timeout=30_000)
        await expect(t1.locator(f".doc-row[data-doc='{public}'] .doc-fetch")).to_have_count(0)
        await t1.wait_for_function(  # its 6 pages are in Cache Storage (written in the background)
            """async (id) => {
              const cache = await caches.open("hemicycle-pages-v1");
              return (await cache.keys()).filter((r) => r.url.includes(`/api/documents/${id}/pages/`)).length === 6;
            }""",
            arg=public,
        )
        await t1.context.set_offline(True)
        await t1.click(f".doc-row[data-doc='{public}']")
        reader = t1.locator("#reader")
        for n in range(1, 7):
            await expect(reader).to_have_attribute("data-shown", str(n))
            if n < 6:
                await t1.click("#reader-next")
        await shot(t1, "tablet-reader-offline-zh")
        await t1.context.set_offline(False)
        await t1.click("#reader-close")

        # -- a refused upload says why, and changes nothing -------------------------------------------
        await upload_in_console(console, tmp_path, "notes.pdf", b"PK\x03\x04 not a pdf at all", title="错误文件")
        await expect(console.locator("#doc-upload-error")).to_have_attribute("data-code", "not_a_pdf")
        await expect(console.locator("#doc-table tr[data-doc]")).to_have_count(1)
        # Chromium logs the refused request itself; that line is expected, not a JavaScript error
        r.errors.seen[:] = [e for e in r.errors.seen if "status of 422" not in e]

        # -- a confidential document, dropped onto the console ----------------------------------------
        await drop_file(console, "secret.pdf", make_pdf(2))
        await console.fill("#doc-title-input", "人事任免材料")
        await console.select_option("#doc-class", "confidential")
        await console.click("#doc-upload-button")
        secret = await doc_id(console, "人事任免材料")
        await expect(console.locator(f"#doc-table tr[data-doc='{secret}'] .doc-class")).to_have_text("机密")
        for t in r.tablets:
            await expect(t.locator(f".doc-row[data-doc='{secret}'] .doc-class")).to_have_text("机密")
        await t1.click(f".doc-row[data-doc='{secret}']")
        await expect(t1.locator("#reader")).to_have_attribute("data-shown", "1", timeout=30_000)  # stamped per reader
        await t2.click(f".doc-row[data-doc='{secret}']")
        await expect(t2.locator("#reader")).to_have_attribute("data-shown", "1", timeout=30_000)  # stamped per reader
        await shot(t1, "tablet-reader-confidential-zh")
        # what each tablet shows is stamped for its reader: not the clean page, not another's
        async with httpx.AsyncClient(base_url=r.srv.http) as http:
            clean = await http.get(f"/api/documents/{secret}/pages/1", headers=bearer(r.srv.creds["clerk"]["token"]))
        clean_pixels = Image.open(io.BytesIO(clean.content)).convert("RGBA").tobytes()
        shown1, shown2 = await t1.evaluate(SHOWN_DIGEST), await t2.evaluate(SHOWN_DIGEST)
        assert len({shown1, shown2, hashlib.sha256(clean_pixels).hexdigest()}) == 3
        # ... and nothing of it is in Cache Storage, IndexedDB or localStorage
        await expect(t1.locator(f".doc-row[data-doc='{secret}'] .doc-fetch")).to_have_count(0)
        for t in (t1, t2):
            dump = await t.evaluate(STORAGE_DUMP)
            assert not [p for p in dump["cached"] if secret in p], dump["cached"]
            assert dump["dbs"] == []
            assert secret not in dump["local"] and "人事任免材料" not in dump["local"]
            assert secret not in dump["session"]

        for m in ("m01", "m02", "m03"):
            cell = console.locator(f"#doc-matrix tr[data-member={m}] td[data-doc='{secret}']")
            await expect(cell).not_to_have_attribute("data-state", "not_delivered", timeout=30_000)

        # -- presenting it: the console says why the wall does not show it ----------------------------
        await console.click(f"#present-{secret}")
        await expect(console.locator("#not-on-wall")).to_be_visible()
        await expect(r.wall.locator("[data-layout=document]")).to_have_count(0)

        # -- recall: gone from every tablet within 2 s, reader included, with a notice ----------------
        await console.click(f"#recall-{secret}")
        await console.click("#confirm-ok")
        for t in r.tablets:
            await expect(t.locator(f".doc-row[data-doc='{secret}']")).to_have_count(0, timeout=2000)
            await expect(t.locator("#notice")).to_contain_text("人事任免材料", timeout=2000)
        await expect(t1.locator("#reader")).to_be_hidden()
        await shot(t1, "tablet-library-recalled-zh")
        # nothing of it is left in the page's memory either: the page image answers 410 now
        async with httpx.AsyncClient(base_url=r.srv.http) as http:
            gone = await http.get(f"/api/documents/{secret}/pages/1", headers=bearer(r.srv.seat_token("S001")))
        assert gone.status_code == 410

        # -- closing the sitting recalls every confidential document ----------------------------------
        await upload_in_console(
            console, tmp_path, "minutes.pdf", make_pdf(1), title="会议纪要（机密）", classification="confidential"
        )
        closing = await doc_id(console, "会议纪要（机密）")
        for m in ("m01", "m02", "m03"):  # every tablet has fetched it (and a fetch never meets the recall)
            cell = console.locator(f"#doc-matrix tr[data-member={m}] td[data-doc='{closing}']")
            await expect(cell).to_have_attribute("data-state", "delivered", timeout=30_000)
        await t3.click(f".doc-row[data-doc='{closing}']")
        await expect(t3.locator("#reader")).to_have_attribute("data-shown", "1", timeout=30_000)  # stamped per reader
        clerk = Client(r.srv.url, r.srv.creds["clerk"]["token"])
        await clerk.connect()
        await clerk.command("close_sitting")
        await clerk.close()
        for t in r.tablets:
            await expect(t.locator(f".doc-row[data-doc='{closing}']")).to_have_count(0, timeout=2000)
            await expect(t.locator(f".doc-row[data-doc='{public}']")).to_be_visible()  # public stays
        await expect(t3.locator("#reader")).to_be_hidden()
        await expect(console.locator(f"#doc-table tr[data-doc='{closing}'] .doc-state")).to_have_attribute(
            "data-state", "recalled"
        )


async def drop_file(page: Any, name: str, data: bytes) -> None:
    """Drag a file from the desktop onto the console's drop zone."""
    encoded = base64.b64encode(data).decode()
    transfer = await page.evaluate_handle(
        """([name, b64]) => {
          const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
          const dt = new DataTransfer();
          dt.items.add(new File([bytes], name, { type: "application/pdf" }));
          return dt;
        }""",
        [name, encoded],
    )
    await page.dispatch_event("#doc-drop", "dragover", {"dataTransfer": transfer})
    await page.dispatch_event("#doc-drop", "drop", {"dataTransfer": transfer})
    await expect(page.locator("#doc-chosen")).to_contain_text(name)


@needs_chromium
async def test_the_console_says_offline_reading_is_off_when_tablets_use_plain_http(tmp_path: Path) -> None:
    set_password(tmp_path, PASSWORD)
    errors = Errors()
    for public_url, off in (("http://192.0.2.10:8000", True), ("https://room.example:8443", False)):
        srv = await serve(tmp_path, agenda(), public_url=public_url)
        try:
            async with async_playwright() as pw:
                browser = await launch(pw)
                console = errors.watch(await (await browser.new_context()).new_page(), "console")
                await console_login(console, srv.http, PASSWORD)
                await expect(console.locator("#doc-upload")).to_be_visible()
                await expect(console.locator("#documents")).to_have_attribute(
                    "data-offline-reading", "off" if off else "on"
                )
                if off:
                    await expect(console.locator("#offline-reading-off")).to_contain_text("HTTPS")
                else:
                    await expect(console.locator("#offline-reading-off")).to_have_count(0)
                await browser.close()
        finally:
            await srv.stop()
    assert errors.seen == [], errors.seen
