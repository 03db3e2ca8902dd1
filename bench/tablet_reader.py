#!/usr/bin/env python3
"""Tablet reader: a 100-page document released to 200 tablets while real Chromium tablets read it.

On loopback, `hemicycle serve` in its own process (its own data dir and SQLite record):

* --tablets protocol clients (200) in this process, each a WebSocket seat that checks in and
  votes, and that fetches a released document as the seat page does (library.js): one page at
  a time, none while a ballot is open, then `doc_receipt delivered`. Page fetches are plain
  HTTP/1.1 keep-alive GETs with the seat's Bearer token.
* --browsers real Chromium seat pages (3; Playwright, the system's /usr/bin/chromium) with the
  CPU throttled --throttle times (4, DevTools `Emulation.setCPUThrottlingRate`), signed in with
  their seat's token. A script in each page taps the document's row the moment it appears.

Measured:

1. Release → first page visible: from the clerk's `release_document` (warm: a held document
   whose pages were pre-rendered) or from the start of the upload (cold: a new PDF released at
   upload, page 1 rendered when first asked) to the reader's page 1 decoded
   (`#reader[data-shown="1"]`), per Chromium tablet (clocks: the same machine's wall clock).
   Targets ≤ 1 s warm, ≤ 3 s cold.
2. Page turn on a fetched page: in each Chromium tablet, --turns turns by the → key, each
   after --think ms of reading, from the key to the next page decoded and one animation
   frame; p50/p95 (target p95 ≤ 150 ms). Floor, same tablets: a decoded page swapped in.
3. Vote acks while the pack is being fetched: --tablets seats cast the moment `ballot.opened`
   reaches them; ack latency (send → ack) p50/p95 for a burst with no document moving (before
   the release and again at the end) and for one opened while the 200 clients are fetching the
   100-page pack (≥ --during of its pages fetched, not finished). Ratio during ÷ quiet (mean of
   the two quiet bursts); target ≤ 1.2.

    .venv/bin/python bench/tablet_reader.py                     # 200 clients, 3 Chromium, 100 pages
    .venv/bin/python bench/tablet_reader.py --tablets 40 --pages 20 --no-doc   # quick check

Every wait is bounded; the run stays under --budget seconds (default 300).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.document_push import make_pdf, stop_child  # noqa: E402
from bench.record import append_section, machine  # noqa: E402

CHROMIUM = os.environ.get("HEMICYCLE_CHROMIUM", "/usr/bin/chromium")
BALLOTS = ("quiet1", "during", "quiet2")


def wait_http(port: int, deadline: float) -> None:
    """Until the server answers /health (with a Host it accepts: loopback and its port)."""
    import socket

    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
                if b'"ok":true' in s.recv(4096):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"the server on port {port} did not answer /health in time")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def write_agenda(path: Path, members: int) -> None:
    from tests.support import agenda_data, write_agenda_toml

    ballots = [{"id": b, "title": f"表决 {b}", "allow_change": False} for b in BALLOTS]
    write_agenda_toml(path, agenda_data(members, ballots=ballots))


# -- protocol seats ---------------------------------------------------------------------------
class Seat:
    """One seat tablet as the page behaves: votes at once, fetches pushed documents page by
    page, never while a ballot is open."""

    def __init__(self, bench: Bench, token: str) -> None:
        self.bench = bench
        self.token = token
        self.ws: Any = None
        self.pending: dict[str, float] = {}
        self.acks: dict[str, float] = {}  # ballot -> ack latency
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.docs: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.tasks: list[asyncio.Task[None]] = []
        self.busy = False  # a page request is on its way
        self.aborted = 0

    async def connect(self) -> None:
        import websockets

        self.ws = await websockets.connect(
            self.bench.ws_url, compression=None, max_size=None, open_timeout=60, ping_timeout=None
        )
        await self.ws.send(json.dumps({"type": "hello", "v": 1, "token": self.token}))
        while json.loads(await self.ws.recv())["type"] != "welcome":
            pass
        await self.ws.send(json.dumps({"type": "check_in", "id": "c"}))
        self.tasks = [asyncio.create_task(t) for t in (self.read(), self.fetcher(), self.ping())]

    async def ping(self) -> None:
        while True:  # as the page does: the server closes a connection idle for a minute
            await asyncio.sleep(15)
            await self.ws.send('{"type":"ping"}')

    async def read(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if msg["type"] == "ack" and msg.get("re") in self.pending:
                self.acks[msg["re"]] = time.perf_counter() - self.pending.pop(msg["re"])
            elif msg["type"] == "event":
                ev = msg["event"]
                if ev["name"] == "ballot.opened":
                    self.bench.open_ballot = ev["ballot"]
                    if self.busy and self.writer is not None:  # as the page: the prefetch in flight is aborted
                        self.writer.close()
                        self.reader = self.writer = None
                    self.pending[ev["ballot"]] = time.perf_counter()
                    await self.ws.send(
                        json.dumps(
                            {
                                "type": "cast",
                                "id": ev["ballot"],
                                "ballot": ev["ballot"],
                                "choice": "for",
                                "key": os.urandom(8).hex(),
                            }
                        )
                    )
                elif ev["name"] in ("ballot.closed", "ballot.voided"):
                    self.bench.open_ballot = None
                    self.bench.ballot_over.set()
                elif ev["name"] == "document.added":
                    self.docs.put_nowait(ev["document"])

    async def get(self, path: str) -> int:
        """One keep-alive GET; the body's length."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.bench.port)
        assert self.reader is not None
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.bench.port}\r\nAuthorization: Bearer {self.token}\r\nX-Hemicycle-Background: 1\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = next(
            int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
        )
        await self.reader.readexactly(length)
        if status != 200:
            raise RuntimeError(f"{path}: HTTP {status}")
        return length

    async def fetcher(self) -> None:
        while True:
            doc = await self.docs.get()
            n = 1
            while n <= doc["pages"]:
                while self.bench.open_ballot is not None:
                    await self.bench.ballot_gate()
                self.busy = True
                try:
                    await self.get(f"/api/documents/{doc['id']}/pages/{n}?width=1600")
                except (OSError, asyncio.IncompleteReadError, AttributeError):
                    self.aborted += 1  # aborted for a ballot: asked again after it
                    self.reader = self.writer = None
                    continue
                finally:
                    self.busy = False
                self.bench.fetched[doc["id"]] = self.bench.fetched.get(doc["id"], 0) + 1
                n += 1
            await self.ws.send(json.dumps({"type": "doc_receipt", "document": doc["id"], "state": "delivered"}))


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.port = 0
        self.ws_url = ""
        self.open_ballot: str | None = None
        self.ballot_over = asyncio.Event()
        self.fetched: dict[str, int] = {}
        self.clerk: Any = None
        self.creds: dict[str, Any] = {}

    async def ballot_gate(self) -> None:
        self.ballot_over.clear()
        if self.open_ballot is not None:
            await asyncio.wait_for(self.ballot_over.wait(), 60)

    async def command(self, name: str, **args: Any) -> dict[str, Any]:
        await self.clerk.send(json.dumps({"type": "command", "id": name, "name": name, "args": args}))
        while True:
            msg = json.loads(await asyncio.wait_for(self.clerk.recv(), 60))
            if msg.get("re") == name:
                if msg["type"] == "error":
                    raise RuntimeError(f"{name}: {msg}")
                return msg

    async def burst(self, seats: list[Seat], ballot: str) -> list[float]:
        await self.command("open_ballot", ballot=ballot, countdown=0)
        deadline = time.monotonic() + 60
        while sum(ballot in s.acks for s in seats) < len(seats) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await self.command("close_ballot", ballot=ballot)
        return [s.acks[ballot] * 1000 for s in seats if ballot in s.acks]

    async def upload(self, pdf: bytes, title: str, release: bool) -> str:
        import httpx

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}", timeout=120) as http:
            r = await http.post(
                "/api/documents",
                files={"file": ("pack.pdf", pdf, "application/pdf")},
                data={
                    "title": title,
                    "item": "item1",
                    "audience": "everyone",
                    "classification": "public",
                    "release": str(release).lower(),
                },
                headers={"Authorization": f"Bearer {self.creds['clerk']['token']}"},
            )
            if r.status_code != 201:
                raise SystemExit(f"upload refused: {r.status_code} {r.text[:300]}")
            doc = str(r.json()["id"])
            if not release:  # wait for pre-rendering, so the release is warm
                deadline = time.monotonic() + 180
                while time.monotonic() < deadline:
                    st = (
                        await http.get(
                            f"/api/documents/{doc}/render",
                            headers={"Authorization": f"Bearer {self.creds['clerk']['token']}"},
                        )
                    ).json()
                    if st["state"] == "ready":
                        break
                    await asyncio.sleep(0.5)
            return doc


# -- Chromium tablets -------------------------------------------------------------------------
TAP_WHEN_LISTED = """(title) => {
  const close = document.getElementById("reader-close");
  if (close) close.click();
  window.__firstPage = null;
  window.__tapped = false;
  if (window.__observer) window.__observer.disconnect(); // the previous run's
  window.__observer = new MutationObserver(() => {
    const row = [...document.querySelectorAll(".doc-row")].find((r) => r.querySelector(".doc-title").textContent === title);
    if (row && !window.__tapped) { window.__tapped = true; window.__listed = Date.now(); row.click(); }
    const reader = document.getElementById("reader");
    const shown = document.getElementById("reader-title");
    if (window.__tapped && window.__firstPage === null && reader.dataset.shown === "1" && shown && shown.textContent === title) {
      window.__firstPage = Date.now();
    }
  });
  window.__observer.observe(document.body, { subtree: true, childList: true, attributes: true });
}"""

TURNS = """async ([turns, think]) => {
  const reader = document.getElementById("reader");
  const out = [];
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  for (let i = 0; i < turns; i++) {
    await new Promise((r) => setTimeout(r, think)); // a member reads the page before turning
    const next = Number(reader.dataset.page) + 1;
    const t0 = performance.now();
    document.dispatchEvent(new KeyboardEvent("keydown", { key: "ArrowRight", bubbles: true }));
    while (reader.dataset.shown !== String(next)) await new Promise((r) => setTimeout(r, 1));
    await frame();
    out.push(performance.now() - t0);
  }
  return out;
}"""


# The browser's own floor, in the same throttled tablet: a decoded page swapped in (one paint),
# and page 1 fetched with the token and decoded with no library or reader around it.
TURN_FLOOR = """async (turns) => {
  const a = document.getElementById("reader-page");
  const b = new Image();
  b.className = a.className;
  b.src = a.src;
  await b.decode();
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const out = [];
  let shown = a;
  for (let i = 0; i < turns; i++) {
    const next = shown === a ? b : a;
    const t0 = performance.now();
    shown.replaceWith(next);
    shown = next;
    await frame();
    out.push(performance.now() - t0);
  }
  if (shown !== a) shown.replaceWith(a);
  return out;
}"""

FETCH_FLOOR = """async (id) => {
  const token = JSON.parse(localStorage.getItem("hemicycle.seat")).token;
  const t0 = performance.now();
  const res = await fetch(`/api/documents/${id}/pages/1?width=1600`, { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  const img = new Image();
  img.src = URL.createObjectURL(await res.blob());
  await img.decode();
  return performance.now() - t0;
}"""


async def open_tablets(pw: Any, bench: Bench, seats: list[str]) -> tuple[Any, list[Any]]:
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
    pages = []
    for seat in seats:
        entry = bench.creds["seats"][seat]
        identity = {
            "role": "seat",
            "seat": seat,
            "member": entry["member"],
            "name": entry["name"],
            "token": entry["token"],
        }
        ctx = await browser.new_context(viewport={"width": 1180, "height": 820}, has_touch=True)
        await ctx.add_init_script(f"localStorage.setItem('hemicycle.seat', {json.dumps(json.dumps(identity))});")
        page = await ctx.new_page()
        page.on("pageerror", lambda exc: print("  page error:", exc, flush=True))
        cdp = await ctx.new_cdp_session(page)
        await cdp.send("Emulation.setCPUThrottlingRate", {"rate": bench.args.throttle})
        await page.goto(f"http://127.0.0.1:{bench.port}/seat")
        await page.wait_for_selector("#library-card:not(.hidden)", timeout=60_000)
        pages.append(page)
    return browser, pages


async def first_page(pages: list[Any], title: str, start: Any) -> list[float]:
    """Arm the tablets to tap `title` when it is listed, `start()` (release or upload), and
    return each tablet's milliseconds from the start to page 1 visible."""
    for p in pages:
        await p.evaluate(TAP_WHEN_LISTED, title)
    t0_ms = time.time() * 1000
    await start()
    out = []
    for p in pages:
        await p.wait_for_function("() => window.__firstPage !== null", timeout=60_000)
        shown, listed = await p.evaluate("() => [window.__firstPage, window.__listed]")
        out.append(shown - t0_ms)
        print(
            f"    listed after {listed - t0_ms:.0f} ms, page 1 shown {shown - listed:.0f} ms after the tap", flush=True
        )
    return out


# -- the run ----------------------------------------------------------------------------------
async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    import websockets
    from playwright.async_api import async_playwright

    bench = Bench(args, tmp)
    started = time.monotonic()
    members = args.tablets + args.browsers
    agenda = tmp / "agenda.toml"
    write_agenda(agenda, members)
    pdf, cold_pdf = make_pdf(args.pages), make_pdf(args.pages + 1)
    sock_probe = __import__("socket").socket()
    sock_probe.bind(("127.0.0.1", 0))
    bench.port = sock_probe.getsockname()[1]
    sock_probe.close()
    bench.ws_url = f"ws://127.0.0.1:{bench.port}/ws"
    hemicycle = str(Path(sys.executable).parent / "hemicycle")
    server = subprocess.Popen(
        [
            hemicycle,
            "serve",
            "--agenda",
            str(agenda),
            "--db",
            str(tmp / "sitting.db"),
            "--host",
            "127.0.0.1",
            "--port",
            str(bench.port),
            "--credentials",
            str(tmp / "credentials.json"),
            "--data-dir",
            str(tmp / "data"),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "w"),
        cwd=ROOT,
        start_new_session=True,
    )
    out: dict[str, Any] = {}
    try:
        wait_http(bench.port, time.monotonic() + 60)
        bench.creds = json.loads((tmp / "credentials.json").read_text())
        bench.clerk = await websockets.connect(
            bench.ws_url, compression=None, max_size=None, ping_timeout=None, max_queue=None
        )  # read only at bursts: buffer what comes between, never let a paused read miss the pong
        await bench.clerk.send(json.dumps({"type": "hello", "v": 1, "token": bench.creds["clerk"]["token"]}))
        while json.loads(await bench.clerk.recv())["type"] != "welcome":
            pass

        async def clerk_ping() -> None:
            while True:  # the server closes a connection idle for a minute (pre-rendering takes longer)
                await asyncio.sleep(15)
                await bench.clerk.send('{"type":"ping"}')

        pinger = asyncio.create_task(clerk_ping())
        seat_ids = sorted(bench.creds["seats"])
        seats = [Seat(bench, bench.creds["seats"][s]["token"]) for s in seat_ids[: args.tablets]]
        t = time.monotonic()
        for i in range(0, len(seats), 50):
            await asyncio.gather(*(s.connect() for s in seats[i : i + 50]))
        print(f"  {len(seats)} protocol tablets connected and checked in in {time.monotonic() - t:.1f} s", flush=True)
        async with async_playwright() as pw:
            browser, pages = await open_tablets(pw, bench, seat_ids[args.tablets : args.tablets + args.browsers])
            print(f"  {len(pages)} Chromium tablets at {args.throttle}x CPU throttling", flush=True)
            await asyncio.sleep(1)
            out["quiet1"] = await bench.burst(seats, "quiet1")
            print(f"  quiet burst: p50 {pct(out['quiet1'], 0.5):.1f} ms", flush=True)

            # warm: held upload, pre-rendered, then released
            doc = await bench.upload(pdf, "审议材料", release=False)
            t_release = time.monotonic()
            out["warm"] = await first_page(pages, "审议材料", lambda: bench.command("release_document", document=doc))
            print(f"  warm first page: {', '.join(f'{x:.0f}' for x in out['warm'])} ms", flush=True)

            # a vote while the pack is being fetched
            total = args.tablets * args.pages
            deadline = time.monotonic() + 120
            while bench.fetched.get(doc, 0) < args.during * total and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            before = bench.fetched.get(doc, 0)
            out["during"] = await bench.burst(seats, "during")
            out["during_at"] = (before, bench.fetched.get(doc, 0), total)
            out["aborted"] = sum(s.aborted for s in seats)
            print(
                f"  burst during the fetch ({before}/{total} pages fetched): p50 {pct(out['during'], 0.5):.1f} ms",
                flush=True,
            )
            turns: list[float] = []
            for p in pages:
                await p.click(f".doc-row[data-doc='{doc}']")  # the vote closed the reader
                await p.wait_for_selector("#reader[data-shown]", timeout=60_000)
                turns += await p.evaluate(TURNS, [args.turns, args.think])
            out["turns"] = turns
            floor: list[float] = []
            fetch_floor: list[float] = []
            for p in pages:
                floor += await p.evaluate(TURN_FLOOR, args.turns)
                fetch_floor.append(await p.evaluate(FETCH_FLOOR, doc))
            out["turn_floor"], out["fetch_floor"] = floor, fetch_floor
            print(
                f"  floor: swap p95 {pct(floor, 0.95):.1f} ms; fetch+decode page 1 {max(fetch_floor):.0f} ms",
                flush=True,
            )
            print(f"  page turn p50 {pct(turns, 0.5):.1f} ms, p95 {pct(turns, 0.95):.1f} ms", flush=True)

            # the pack's end, bounded: the second quiet burst needs every page fetched
            deadline = time.monotonic() + max(0.0, args.budget - (time.monotonic() - started) - 150)
            while bench.fetched.get(doc, 0) < total and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            out["fetch_all_s"] = time.monotonic() - t_release
            out["fetched"] = bench.fetched.get(doc, 0)
            if out["fetched"] >= total:
                out["quiet2"] = await bench.burst(seats, "quiet2")
                print(f"  quiet burst again: p50 {pct(out['quiet2'], 0.5):.1f} ms", flush=True)
            else:
                out["quiet2"] = []
                print(
                    f"  the pack was not fetched in time ({out['fetched']}/{total}): no second quiet burst", flush=True
                )

            # cold: a new PDF released at upload, page 1 rendered when first asked
            out["cold"] = await first_page(
                pages, "冷启动材料", lambda: bench.upload(cold_pdf, "冷启动材料", release=True)
            )
            print(f"  cold first page: {', '.join(f'{x:.0f}' for x in out['cold'])} ms", flush=True)
            await browser.close()
    finally:
        if "pinger" in locals():
            pinger.cancel()
        for seat in locals().get("seats", []):
            for task in seat.tasks:
                task.cancel()
        stop_child(server)
    return out


def render(args: argparse.Namespace, out: dict[str, Any], elapsed: float) -> str:
    bursts = [b for b in (out["quiet1"], out["quiet2"]) if b]
    quiet = out["quiet1"] + out["quiet2"]
    q50 = statistics.mean([pct(b, 0.5) for b in bursts])
    q95 = statistics.mean([pct(b, 0.95) for b in bursts])
    d50, d95 = pct(out["during"], 0.5), pct(out["during"], 0.95)
    before, after, total = out["during_at"]
    t95 = pct(out["turns"], 0.95)

    def met(ok: bool) -> str:
        return "met" if ok else "**not met**"

    lines = [
        f"| measure ({args.tablets} protocol tablets, {args.browsers} Chromium tablets at {args.throttle}× CPU throttling, {args.pages}-page pack) | value | target | |",
        "|---|---:|---:|---|",
        f"| release → first page visible, warm (pre-rendered; max of the Chromium tablets) | {max(out['warm']):.0f} ms | ≤ 1000 ms | {met(max(out['warm']) <= 1000)} |",
        f"| upload → first page visible, cold (new PDF released at upload; max) | {max(out['cold']):.0f} ms | ≤ 3000 ms | {met(max(out['cold']) <= 3000)} |",
        f"| page turn on a fetched page, p50 / p95 ({len(out['turns'])} turns, {args.think} ms reading between) | {pct(out['turns'], 0.5):.0f} / {t95:.0f} ms | p95 ≤ 150 ms | {met(t95 <= 150)} |",
        f"| — floor: a decoded page swapped in, same tablets, p50 / p95 | {pct(out['turn_floor'], 0.5):.0f} / {pct(out['turn_floor'], 0.95):.0f} ms | | |",
        f"| — floor: page 1 fetched with the token and decoded, nothing else (max) | {max(out['fetch_floor']):.0f} ms | | |",
        f"| vote ack, no document moving ({len(bursts)} burst(s): before the release, after the pack), p50 / p95 | {q50:.1f} / {q95:.1f} ms | baseline | |",
        f"| vote ack while the pack is fetched, p50 / p95 | {d50:.1f} / {d95:.1f} ms | ≤ 1.2× baseline | {met(d50 <= 1.2 * q50)} (p50 {d50 / q50:.2f}×, p95 {d95 / q95:.2f}×) |",
        "",
        f"- warm, per Chromium tablet: {', '.join(f'{x:.0f}' for x in out['warm'])} ms; cold: {', '.join(f'{x:.0f}' for x in out['cold'])} ms",
        f"- the burst during the fetch was opened with {before} of {total} pages fetched ({100 * before / total:.0f} %); "
        f"{after - before} page fetches finished while it was open; {out['aborted']} in flight were aborted at `ballot.opened` "
        "(as the page does) and asked again after it",
        f"- the {args.tablets} protocol tablets had {out['fetched']} of {total} pages {out['fetch_all_s']:.0f} s after the release (the burst and the page turns included)",
        f"- acks received: quiet {len(quiet)} of {len(bursts) * args.tablets}, during {len(out['during'])} of {args.tablets}",
        f"- run took {elapsed:.0f} s",
    ]
    return "\n".join(lines)


INTRO = (
    "A pack is released to the room while members vote: protocol tablets fetch it as the seat page does "
    "(one page at a time, none while a ballot is open, then `delivered`), and real Chromium seat pages "
    "(CPU throttled) open it at once, then turn pages. Release → first page visible is measured in the "
    "Chromium tablets (wall clock, same machine); a page turn from the → key to the next page decoded plus "
    "one frame; vote acks from the cast (sent the moment `ballot.opened` arrives) to its ack, for the "
    "same burst with no document moving (before and after) and while the pack is being fetched."
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tablets", type=int, default=200, help="protocol tablets (default 200)")
    ap.add_argument("--browsers", type=int, default=3, help="Chromium tablets (default 3)")
    ap.add_argument("--throttle", type=float, default=4, help="Chromium CPU throttling rate (default 4)")
    ap.add_argument("--pages", type=int, default=100)
    ap.add_argument("--think", type=int, default=1000, help="ms a member reads a page before turning (default 1000)")
    ap.add_argument("--turns", type=int, default=30, help="page turns per Chromium tablet")
    ap.add_argument(
        "--during", type=float, default=0.1, help="share of the pack fetched before the burst during the fetch"
    )
    ap.add_argument("--budget", type=float, default=300)
    ap.add_argument("--no-doc", action="store_true", help="do not append to docs/benchmarks.md")
    args = ap.parse_args(argv)
    machine_line = machine()
    t = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hemicycle-reader-") as tmp:
        out = asyncio.run(asyncio.wait_for(run(args, Path(tmp)), args.budget))
    body = render(args, out, time.monotonic() - t)
    print()
    print(body)
    if not args.no_doc:
        append_section(
            "Tablet reader: first page, page turns, votes while a pack is fetched",
            body,
            intro=INTRO,
            machine_line=machine_line,
            packages=("uvicorn", "starlette", "websockets", "playwright", "pillow"),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
