#!/usr/bin/env python3
"""Document push: a 100-page PDF pushed to 200 tablets, each fetching every page image.

On loopback, with the server, the static baseline and the tablets in separate processes:

1. Writes an agenda with --tablets members (one item) to a temporary directory and starts
   `hemicycle serve` (the console script, --log-level warning, its own data dir and SQLite
   record) on an ephemeral port; reads the credentials file it writes.
2. Every tablet opens a WebSocket (raw `websockets`, compression off), says hello with its
   seat token, waits for the welcome, then for `document.added`.
3. The clerk uploads a generated --pages page A4 PDF of Chinese text (reportlab, the
   system CJK font). t0 = the first `document.added` reaching any tablet. Each tablet then
   fetches pages 1..N in order over HTTP/1.1 keep-alive (httpx.AsyncClient per tablet,
   --per-tablet requests in flight per tablet, --max-inflight in flight over all tablets)
   and sends a `doc_receipt` (delivered) when it has them all.
   Reported: all tablets have page 1 (max over tablets), all have every page, body bytes ÷
   (last page − t0).
   * cold: a new PDF. The server starts pre-rendering its pages at the upload (low-priority
     worker processes, page order) while the tablets already fetch; a page not rendered yet
     when asked is rendered at once, ahead of the queue, and only once. The time the clerk's
     render status reports every page ready is noted. Bounded by --cold-budget; a cold run that does not finish is reported as such
     and the remaining pages are then rendered once (one reader) before the warm run.
   * warm: the clerk uploads the same PDF again under another title: a new document, the
     same blob, so every page is already in the page cache — pure serving.
4. Static baseline: the very WebP files from the server's page cache (<data>/pages/...),
   copied to a directory served by Starlette `StaticFiles` on uvicorn with the settings
   `hemicycle serve` uses (uvicorn.run defaults: uvloop, httptools; log level warning).
   Same server stack minus the application, same client code, same 200 x 100 fetches;
   t0 = the moment all tablets are released. Ratio = warm bytes/s ÷ static bytes/s
   (target >= 0.7). With --rounds N, warm and static alternate N times; medians reported.

Server CPU seconds per run (utime+stime of the server process from /proc) are printed too:
on 2 cores the client competes for the CPU, so bytes/s alone can hide a server cost.

    .venv/bin/python bench/document_push.py                      # 200 tablets x 100 pages
    .venv/bin/python bench/document_push.py --tablets 20 --pages 10 --no-doc   # quick check
    .venv/bin/python bench/document_push.py --skip-cold           # pre-render, warm + static only
    .venv/bin/python bench/document_push.py --profile /tmp/prof   # py-spy the server (cold + warm)

Every wait is bounded; the whole run stays under --budget seconds (default 170).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import math
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TARGET_RATIO = 0.7
sys.path.insert(0, str(ROOT))
from bench.record import DOC, append_section, machine  # noqa: E402

INTRO = (
    "A PDF is uploaded by the clerk and pushed (`document.added` over the WebSocket) to every tablet; each "
    "tablet then fetches every page image (`GET /api/documents/{id}/pages/{n}`, lossless WebP) in order. "
    "Times are from the first push to reach a tablet. *Cold*: a new PDF: pre-rendering starts at the upload while "
    "tablets already fetch, and a page asked for before it is rendered is rendered at once (once); "
    "*warm*: the same PDF uploaded again (same blob), every page already in the page cache. Baseline: the "
    "same WebP files served by Starlette `StaticFiles` on uvicorn (same stack and settings as `hemicycle "
    "serve`, no application), same client, same run. MB/s = page bytes received ÷ (last page − t0). "
    "Server, static server and tablets are separate processes on loopback; server CPU is the serving "
    "process's user+system time during the run, with its page-rendering worker processes."
)
RENDER_VERSION = 1  # server/documents/render.py: cache files are p{page}-w{width}-v{RENDER_VERSION}.webp


# ---------------------------------------------------------------------------------------
# child process: the static baseline
# ---------------------------------------------------------------------------------------


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _free_port() -> int:
    with _listen() as sock:
        return sock.getsockname()[1]


def _raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard if hard != resource.RLIM_INFINITY else 65536, 65536)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def child_static(directory: str, port: int) -> None:
    """Starlette StaticFiles on uvicorn, started the way `hemicycle serve` starts uvicorn."""
    _raise_nofile()
    import uvicorn
    from starlette.applications import Starlette
    from starlette.routing import Mount
    from starlette.staticfiles import StaticFiles

    app = Starlette(routes=[Mount("/s", StaticFiles(directory=directory))])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")


# ---------------------------------------------------------------------------------------
# inputs: agenda and PDF
# ---------------------------------------------------------------------------------------


def write_agenda(path: Path, tablets: int) -> None:
    sys.path.insert(0, str(ROOT))
    from tests.support import agenda_data, write_agenda_toml

    data = agenda_data(tablets, ballots=[{"id": "b1", "title": "物业管理条例（草案）"}])
    write_agenda_toml(path, data)


BODY = (
    "为了规范物业管理活动，维护业主、物业使用人和物业服务企业的合法权益，改善人民群众的生活和工作环境，"
    "根据《中华人民共和国民法典》《物业管理条例》等法律、行政法规，结合本市实际，制定本条例。"
    "本市行政区域内的物业管理、服务、使用及其监督管理活动，适用本条例。市住房和城乡建设主管部门负责"
    "全市物业管理活动的监督管理工作，区住房和城乡建设主管部门负责本行政区域内物业管理活动的监督管理"
    "工作。街道办事处、乡镇人民政府组织、协调本辖区内业主大会成立和业主委员会选举工作，指导、监督业主"
    "大会和业主委员会的日常活动，调解处理物业管理纠纷。居民委员会、村民委员会协助做好物业管理相关工作。"
)


def make_pdf(pages: int) -> bytes:
    """A4 pages of 11 pt Chinese body text (about 40 lines of 40 characters), a heading and a
    folio: what a draft regulation looks like. Each page starts elsewhere in the text."""
    sys.path.insert(0, str(ROOT))
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    from server.documents import find_cjk_font

    path, index = find_cjk_font()
    kwargs = {"subfontIndex": index} if path.suffix.lower() == ".ttc" else {}
    pdfmetrics.registerFont(TTFont("BenchCJK", str(path), **kwargs))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    width, height = A4
    text = BODY * 4
    per_line = int((width - 120) / 11)
    for n in range(1, pages + 1):
        c.setFont("BenchCJK", 16)
        c.drawCentredString(width / 2, height - 60, f"某市物业管理条例（草案）审议稿 第{n}页")
        c.setFont("BenchCJK", 11)
        k, y = (n * 37) % len(BODY), height - 100
        while y > 70:
            c.drawString(60, y, text[k : k + per_line])
            k, y = (k + per_line) % len(BODY), y - 17
        c.setFont("BenchCJK", 9)
        c.drawCentredString(width / 2, 40, f"— {n} —")
        c.showPage()
    c.save()
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# tablets
# ---------------------------------------------------------------------------------------


class Tablet:
    """One seat: a WebSocket that waits for pushes (and pings), and an HTTP client per run."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url, token
        self.ws: Any = None
        self.pushes: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        self.tasks: list[asyncio.Task] = []
        self.closed: str | None = None

    async def connect(self, timeout: float) -> None:
        from websockets.asyncio.client import connect

        self.ws = await asyncio.wait_for(
            connect(self.url, compression=None, max_size=1 << 24, ping_interval=None, open_timeout=timeout), timeout
        )
        await self.ws.send(json.dumps({"type": "hello", "v": 1, "token": self.token}))
        welcome = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        if welcome.get("type") != "welcome":
            raise RuntimeError(f"no welcome: {str(welcome)[:200]}")
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._read()), loop.create_task(self._ping())]

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                if '"document.added"' in raw:  # nothing else is decoded
                    now = time.monotonic()
                    msg = json.loads(raw)
                    if msg.get("type") == "event" and msg["event"].get("name") == "document.added":
                        self.pushes.put_nowait((now, msg["event"]["document"]["id"]))
        except Exception as exc:
            self.closed = repr(exc)
        else:
            self.closed = f"closed {self.ws.close_code}"

    async def _ping(self) -> None:
        while True:  # the server drops a connection silent for idle_timeout (60 s)
            await asyncio.sleep(20)
            await self.ws.send('{"type":"ping"}')

    async def receipt(self, doc: str) -> None:
        try:
            await self.ws.send(json.dumps({"type": "doc_receipt", "id": "d", "document": doc, "state": "delivered"}))
        except Exception:
            pass

    async def close(self) -> None:
        for t in self.tasks:
            t.cancel()
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:
                pass


@dataclass
class Progress:
    start: float = float("nan")  # when this tablet was told (push arrival / release)
    page1: float = float("nan")
    done: float = float("nan")
    pages: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class Run:
    name: str
    tablets: int
    pages: int
    t0: float = float("nan")
    progress: list[Progress] = field(default_factory=list)
    finished: bool = True
    server_cpu: float = float("nan")
    client_cpu: float = float("nan")
    note: str = ""
    elapsed: float = 0.0  # seconds from t0 to the end of the run (finished or cut)

    def _rel(self, attr: str) -> list[float]:
        return [getattr(p, attr) - self.t0 for p in self.progress if not math.isnan(getattr(p, attr))]

    def row(self) -> dict[str, Any]:
        page1, done = self._rel("page1"), self._rel("done")
        total = sum(p.bytes for p in self.progress)
        got = sum(p.pages for p in self.progress)
        last = max((p.done for p in self.progress if not math.isnan(p.done)), default=float("nan"))
        span = (last if self.finished else self.t0 + self.elapsed) - self.t0
        return {
            "name": self.name,
            "finished": self.finished,
            "pages_got": got,
            "pages_want": self.tablets * self.pages,
            "have_p1": len(page1),
            "p1_all": max(page1) if len(page1) == self.tablets else float("nan"),
            "p1_p50": statistics.median(page1) if page1 else float("nan"),
            "all_all": max(done) if len(done) == self.tablets else float("nan"),
            "all_p50": statistics.median(done) if done else float("nan"),
            "bytes": total,
            "rate": total / span if span > 0 else float("nan"),
            "errors": sum(len(p.errors) for p in self.progress),
            "first_error": next((p.errors[0] for p in self.progress if p.errors), ""),
            "server_cpu": self.server_cpu,
            "client_cpu": self.client_cpu,
            "note": self.note,
        }


async def fetch_all(
    run: Run,
    base: str,
    path: Callable[[int], str],
    tokens: list[str],
    starts: list[Callable[[], Any]],
    per_tablet: int,
    max_inflight: int,
    expected: dict[int, int] | None,
    budget: float,
    on_done: Callable[[int], Any] | None = None,
) -> None:
    """Every tablet waits for its start, then fetches pages 1..N in order, per_tablet at a time."""
    import httpx

    gate = asyncio.Semaphore(max_inflight)
    run.progress = [Progress() for _ in tokens]
    clients = [
        httpx.AsyncClient(
            base_url=base,
            timeout=60,
            headers={"Authorization": f"Bearer {t}"},
            limits=httpx.Limits(max_connections=per_tablet, max_keepalive_connections=per_tablet),
        )
        for t in tokens
    ]

    async def tablet(i: int) -> None:
        prog, http = run.progress[i], clients[i]
        prog.start = await starts[i]()
        pending = iter(range(1, run.pages + 1))

        async def worker() -> None:
            for n in pending:  # shared iterator: pages are taken in order
                async with gate:
                    r = await http.get(path(n))
                body = r.content
                if r.status_code != 200 or (expected and len(body) != expected[n]):
                    prog.errors.append(f"page {n}: HTTP {r.status_code}, {len(body)} bytes: {body[:120]!r}")
                    continue
                prog.pages += 1
                prog.bytes += len(body)
                if n == 1:
                    prog.page1 = time.monotonic()

        await asyncio.gather(*(worker() for _ in range(per_tablet)))
        prog.done = time.monotonic() if prog.pages == run.pages else float("nan")
        if on_done is not None:
            await on_done(i)

    cpu0 = _self_cpu()
    started = time.monotonic()
    tasks = [asyncio.ensure_future(tablet(i)) for i in range(len(tokens))]
    try:
        done, pending_tasks = await asyncio.wait(tasks, timeout=budget)
        for t in pending_tasks:
            t.cancel()
        if pending_tasks:
            run.finished = False
            await asyncio.gather(*pending_tasks, return_exceptions=True)
        for t in done:
            if t.exception() is not None:
                run.note += f" tablet error: {t.exception()!r}"
    finally:
        run.elapsed = time.monotonic() - (started if math.isnan(run.t0) else run.t0)
        run.client_cpu = _self_cpu() - cpu0
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)


def _self_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def _stat(pid: int | str) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def proc_cpu(pid: int) -> float:
    """utime+stime of a process and of its live child processes (the server's page-rendering
    workers: their CPU is the server's cost too)."""
    try:
        total = sum(int(x) for x in _stat(pid)[11:13])
    except OSError:
        return float("nan")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _stat(entry.name)
        except OSError:
            continue
        if fields[1] == str(pid):  # ppid
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------
# the orchestrator
# ---------------------------------------------------------------------------------------


def wait_http(port: int, path: str, want: bytes, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
                if want in s.recv(4096):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"the server on port {port} did not answer {path} in time")


def stop_child(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


class Spy:
    """--profile: py-spy record a process for the length of one run (raw stacks + SVG)."""

    def __init__(self, out: Path | None, pid: int) -> None:
        self.out, self.pid, self.procs = out, pid, []  # type: ignore[var-annotated]
        if out:
            out.mkdir(parents=True, exist_ok=True)

    async def start(self, name: str) -> None:
        if not self.out:
            return
        spy = str(Path(PY).parent / "py-spy")
        for fmt, suffix in (("raw", "txt"), ("flamegraph", "svg")):
            self.procs.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(self.pid),
                        "--rate",
                        "250",
                        "--threads",
                        "--format",
                        fmt,
                        "-o",
                        str(self.out / f"{name}.{suffix}"),
                        "--duration",
                        "90",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        await asyncio.sleep(0.5)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.procs = []


# -- tablet processes --------------------------------------------------------------------


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def tablets_worker(spec_path: str) -> None:
    """A process holding a share of the tablets; runs the commands the orchestrator sends
    on stdin (one JSON line each) and answers on stdout."""
    _raise_nofile()
    spec = json.loads(Path(spec_path).read_text())
    tablets = [Tablet(spec["ws"], t) for t in spec["tokens"]]
    sem = asyncio.Semaphore(50)

    async def connect(tb: Tablet) -> None:
        async with sem:
            await tb.connect(30)

    try:
        await asyncio.gather(*(connect(tb) for tb in tablets))
        _emit({"ready": len(tablets)})
        loop = asyncio.get_running_loop()
        stdin = asyncio.StreamReader(limit=1 << 22)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
        while True:
            line = await stdin.readline()
            if not line:
                return
            cmd = json.loads(line)
            if cmd["cmd"] == "quit":
                return
            _emit(await run_command(tablets, cmd))
    finally:
        await asyncio.gather(*(tb.close() for tb in tablets), return_exceptions=True)


async def run_command(tablets: list[Tablet], cmd: dict[str, Any]) -> dict[str, Any]:
    """One run in a tablet process: "push" (wait for document.added) or "static" (wait for t0)."""
    run = Run(cmd["name"], len(tablets), cmd["pages"])
    expected = {int(k): v for k, v in cmd["expected"].items()} if cmd.get("expected") else None
    doc: dict[str, str] = {}
    on_done: Callable[[int], Any] | None = None
    if cmd["cmd"] == "push":
        for tb in tablets:  # nothing stale from an earlier push
            while not tb.pushes.empty():
                tb.pushes.get_nowait()

        def starter(tb: Tablet) -> Callable[[], Any]:
            async def start() -> float:
                at, doc_id = await asyncio.wait_for(tb.pushes.get(), 60)
                doc.setdefault("id", doc_id)
                return at

            return start

        starts = [starter(tb) for tb in tablets]

        def path(n: int) -> str:
            return f"/api/documents/{doc['id']}/pages/{n}{cmd['query']}"

        async def receipt(i: int) -> None:
            await tablets[i].receipt(doc["id"])

        on_done = receipt
    else:

        async def release() -> float:
            await asyncio.sleep(max(0.0, cmd["t0"] - time.monotonic()))
            return float(cmd["t0"])

        starts = [release] * len(tablets)

        def path(n: int) -> str:
            return f"/s/{n}.webp"

    _emit({"armed": True})
    await fetch_all(
        run,
        cmd["base"],
        path,
        [tb.token for tb in tablets],
        starts,
        cmd["per_tablet"],
        cmd["max_inflight"],
        expected,
        cmd["budget"],
        on_done,
    )
    return {
        "progress": [vars(p) for p in run.progress],
        "finished": run.finished,
        "client_cpu": run.client_cpu,
        "ended": time.monotonic(),
        "note": run.note,
        "closed": sorted({tb.closed for tb in tablets if tb.closed}),
    }


class Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def recv(self, key: str, timeout: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        if not line:
            raise SystemExit(f"a tablet process ended early (exit {await self.proc.wait()}); see its log")
        msg = json.loads(line)
        if key not in msg:
            raise SystemExit(f"tablet process: expected {key!r}, got {str(msg)[:200]}")
        return msg

    def send(self, obj: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(obj) + "\n").encode())

    async def stop(self) -> None:
        if self.proc.returncode is None:
            try:
                self.send({"cmd": "quit"})
                await asyncio.wait_for(self.proc.wait(), 15)
            except Exception:
                self.proc.kill()
                await self.proc.wait()


async def bench(args: argparse.Namespace, tmp: Path, deadline: float) -> dict[str, Any]:
    import httpx

    def left() -> float:
        return deadline - time.monotonic()

    agenda = tmp / "agenda.toml"
    write_agenda(agenda, args.tablets)
    pdf = make_pdf(args.pages)
    data_dir = tmp / "data"
    port = _free_port()
    hemicycle = str(Path(PY).parent / "hemicycle")
    cmd = [
        hemicycle,
        "serve",
        "--agenda",
        str(agenda),
        "--db",
        str(tmp / "sitting.db"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--credentials",
        str(tmp / "credentials.json"),
        "--data-dir",
        str(data_dir),
        "--log-level",
        "warning",
    ] + (["--render-workers", str(args.render_workers)] if args.render_workers else [])
    server_log = tmp / "server.log"
    server = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=open(server_log, "w"), cwd=ROOT, start_new_session=True
    )
    out: dict[str, Any] = {"pdf_bytes": len(pdf), "runs": [], "server_log": server_log, "closed": set()}
    static: subprocess.Popen | None = None
    workers: list[Worker] = []
    try:
        wait_http(port, "/health", b'"ok":true', time.monotonic() + 30)
        creds = json.loads((tmp / "credentials.json").read_text())
        tokens = [s["token"] for s in list(creds["seats"].values())[: args.tablets]]
        base = f"http://127.0.0.1:{port}"
        spy = Spy(Path(args.profile) if args.profile else None, server.pid)

        t = time.monotonic()
        k = max(1, min(args.client_procs, len(tokens)))
        for w in range(k):
            spec = tmp / f"tablets{w}.json"
            spec.write_text(json.dumps({"ws": f"ws://127.0.0.1:{port}/ws", "tokens": tokens[w::k]}))
            proc = await asyncio.create_subprocess_exec(
                PY,
                str(Path(__file__).resolve()),
                "_tablets",
                str(spec),
                "uvloop" if args.uvloop else "asyncio",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=open(tmp / f"tablets{w}.log", "w"),
                cwd=ROOT,
                start_new_session=True,
            )
            workers.append(Worker(proc))
        for w in workers:
            await w.recv("ready", 60)
        print(f"  {len(tokens)} tablets connected ({k} processes) in {time.monotonic() - t:.1f} s", flush=True)
        await asyncio.sleep(1.5)  # let the attendance summary go out before the push
        per_proc_inflight = -(-args.max_inflight // k)
        width_q = f"?width={args.width}" if args.width else ""

        async def upload(title: str) -> tuple[dict[str, Any], float]:
            async with httpx.AsyncClient(base_url=base, timeout=120) as http:
                t1 = time.monotonic()
                r = await http.post(
                    "/api/documents",
                    files={"file": ("draft.pdf", pdf, "application/pdf")},
                    data={"title": title, "item": "item1", "audience": "everyone", "classification": "public"},
                    headers={"Authorization": f"Bearer {creds['clerk']['token']}"},
                )
                took = time.monotonic() - t1
            if r.status_code != 201:
                raise SystemExit(f"upload refused: {r.status_code} {r.text[:300]}")
            return r.json(), took

        async def run_on_workers(run: Run, cmd: dict[str, Any], pid: int, title: str | None) -> Run:
            cmd = {
                **cmd,
                "name": run.name,
                "pages": args.pages,
                "per_tablet": args.per_tablet,
                "max_inflight": per_proc_inflight,
            }
            for w in workers:
                w.send(cmd)
            for w in workers:
                await w.recv("armed", 30)
            cpu0 = proc_cpu(pid)
            up = asyncio.ensure_future(upload(title)) if title else None
            watch = asyncio.ensure_future(watch_prerender(up)) if up and run.name == "cold" else None
            results = [await w.recv("progress", cmd["budget"] + 90) for w in workers]
            run.server_cpu = proc_cpu(pid) - cpu0
            run.progress = [Progress(**p) for r in results for p in r["progress"]]
            run.finished = all(r["finished"] for r in results)
            run.client_cpu = sum(r["client_cpu"] for r in results)
            run.note = "".join(r["note"] for r in results)
            out["closed"].update(c for r in results for c in r["closed"])
            if title:
                run.t0 = min(p.start for p in run.progress if not math.isnan(p.start))
                info, took = await up  # type: ignore[misc]
                out.setdefault("doc", info)
                run.note = (
                    f"upload (validate + store {args.pages} pages) took {took:.2f} s; push spread "
                    f"{max(p.start for p in run.progress) - run.t0:.3f} s" + run.note
                )
            run.elapsed = max(r["ended"] for r in results) - run.t0
            if watch is not None:
                ready = await asyncio.wait_for(watch, 60)
                run.note += f"; pre-rendering had every page {ready - run.t0:.1f} s after the push"
            return run

        async def watch_prerender(up: asyncio.Future) -> float:
            """When the server reports every page pre-rendered (the clerk's render status)."""
            info, _ = await up
            async with httpx.AsyncClient(
                base_url=base, timeout=30, headers={"Authorization": f"Bearer {creds['clerk']['token']}"}
            ) as http:
                while True:
                    r = await http.get(f"/api/documents/{info['id']}/render")
                    if r.status_code != 200 or r.json().get("pending", 0) == 0:
                        return time.monotonic() if r.status_code == 200 else float("nan")
                    await asyncio.sleep(0.25)

        async def pushed_run(name: str, title: str, expected: dict[int, int] | None, budget: float) -> Run:
            await spy.start(name)
            try:
                return await run_on_workers(
                    Run(name, len(tokens), args.pages),
                    {"cmd": "push", "base": base, "query": width_q, "expected": expected, "budget": budget},
                    server.pid,
                    title,
                )
            finally:
                spy.stop()

        # -- cold ---------------------------------------------------------------------
        if not args.skip_cold:
            print(
                f"cold: upload, push, {len(tokens)} tablets x {args.pages} pages (pre-rendered from the upload; "
                f"budget {args.cold_budget:.0f} s)",
                flush=True,
            )
            cold = await pushed_run("cold", "物业管理条例（草案）", None, min(args.cold_budget, left() - 70))
            out["runs"].append(cold)
            print_row(cold.row())

        # -- make sure every page is rendered, note the cost of one reader rendering all ---
        doc = out.get("doc")
        if doc is None:
            doc, _ = await upload("物业管理条例（草案）预渲染")
            out["doc"] = doc
        t = time.monotonic()
        cpu0 = proc_cpu(server.pid)
        async with httpx.AsyncClient(
            base_url=base, timeout=60, headers={"Authorization": f"Bearer {tokens[0]}"}
        ) as http:
            for n in range(1, args.pages + 1):
                if left() < 30:
                    raise SystemExit("out of budget while rendering the remaining pages")
                r = await http.get(f"/api/documents/{doc['id']}/pages/{n}{width_q}")
                if r.status_code != 200:
                    raise SystemExit(f"page {n}: {r.status_code} {r.text[:200]}")
        out["prerender"] = (
            time.monotonic() - t,
            proc_cpu(server.pid) - cpu0,
            bool(out["runs"]) and not out["runs"][0].finished,
            bool(out["runs"]),
        )
        sha = doc["sha256"]
        width = args.width or 1600
        cache = data_dir / "pages" / sha[:2] / sha
        files = {n: cache / f"p{n - 1}-w{width}-v{RENDER_VERSION}.webp" for n in range(1, args.pages + 1)}
        missing = [n for n, f in files.items() if not f.exists()]
        if missing:
            raise SystemExit(f"pages {missing[:5]}... are not in the page cache {cache}")
        static_dir = tmp / "static"
        static_dir.mkdir()
        expected = {}
        for n, f in files.items():
            shutil.copyfile(f, static_dir / f"{n}.webp")
            expected[n] = f.stat().st_size
        out["page_bytes"] = sum(expected.values())
        print(
            f"  page cache: {args.pages} pages, {out['page_bytes'] / 1e6:.1f} MB "
            f"({out['page_bytes'] / args.pages / 1e3:.0f} kB/page at {width} px)",
            flush=True,
        )

        # -- static server ----------------------------------------------------------------
        sport = _free_port()
        static = subprocess.Popen(
            [PY, str(Path(__file__).resolve()), "_static", str(static_dir), str(sport)],
            stdout=subprocess.DEVNULL,
            stderr=open(tmp / "static.log", "w"),
            cwd=ROOT,
            start_new_session=True,
        )
        wait_http(sport, "/s/1.webp", b"200 OK", time.monotonic() + 30)

        async def static_run(name: str) -> Run:
            run = Run(name, len(tokens), args.pages)
            run.t0 = time.monotonic() + 0.5  # every tablet is waiting, its client made, at the release
            return await run_on_workers(
                run,
                {
                    "cmd": "static",
                    "base": f"http://127.0.0.1:{sport}",
                    "t0": run.t0,
                    "expected": expected,
                    "budget": min(args.run_budget, left() - 10),
                },
                static.pid,
                None,
            )

        for r in range(args.rounds):
            if left() < 40:
                print(f"  (out of budget after {r} rounds)")
                break
            print(
                f"warm {r + 1}/{args.rounds}: same PDF uploaded again (same blob, pages cached), push, fetch",
                flush=True,
            )
            warm = await pushed_run(
                f"warm{r + 1}" if args.rounds > 1 else "warm",
                f"物业管理条例（草案）重发{r + 1}",
                expected,
                min(args.run_budget, left() - 25),
            )
            out["runs"].append(warm)
            print_row(warm.row())
            print(f"static {r + 1}/{args.rounds}: same bytes from StaticFiles on uvicorn", flush=True)
            st = await static_run(f"static{r + 1}" if args.rounds > 1 else "static")
            out["runs"].append(st)
            print_row(st.row())
        return out
    finally:
        await asyncio.gather(*(w.stop() for w in workers), return_exceptions=True)
        if static is not None:
            stop_child(static)
        stop_child(server)


# ---------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------


def _s(x: float) -> str:
    return "—" if math.isnan(x) else f"{x:.2f}"


def print_row(row: dict[str, Any]) -> None:
    state = "" if row["finished"] else f"  NOT FINISHED ({row['pages_got']:,}/{row['pages_want']:,} pages)"
    print(
        f"  {row['name']:8s} all have p1 {_s(row['p1_all'])} s (p50 {_s(row['p1_p50'])}), "
        f"all pages {_s(row['all_all'])} s (p50 {_s(row['all_p50'])}), {row['rate'] / 1e6:,.0f} MB/s, "
        f"server CPU {row['server_cpu']:.1f} s, client CPU {row['client_cpu']:.1f} s, "
        f"errors {row['errors']}{state}",
        flush=True,
    )
    if row["first_error"]:
        print(f"    first error: {row['first_error']}")


def render(args: argparse.Namespace, out: dict[str, Any], elapsed: float) -> tuple[str, float]:
    rows = [r.row() for r in out["runs"]]
    by = {r["name"]: r for r in rows}
    warm = [r for r in rows if r["name"].startswith("warm")]
    static = [r for r in rows if r["name"].startswith("static")]

    def med(rs: list, k: str) -> float:
        return statistics.median(r[k] for r in rs) if rs else float("nan")

    ratio = med(warm, "rate") / med(static, "rate") if warm and static else float("nan")
    n, p = args.tablets, args.pages
    lines = [
        (
            f"| {n} tablets × {p} pages ({out['page_bytes'] / 1e6:.1f} MB/tablet, "
            f"{n * out['page_bytes'] / 1e9:.2f} GB in all) | all have page 1 (p50) s | all have every page (p50) s "
            f"| MB/s | server CPU s | client CPU s | errors |"
        ),
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {
        "cold": "hemicycle, cold (new PDF: pre-rendering from the upload, tablets fetch at once)",
        "warm": "hemicycle, warm (pages cached)",
        "static": "Starlette StaticFiles on uvicorn, same bytes",
    }

    def line(label: str, r: dict[str, Any], many: bool = False) -> str:
        fin = (
            ""
            if r["finished"]
            else f" — not finished in {args.cold_budget:.0f} s: {r['pages_got']:,} of "
            f"{r['pages_want']:,} pages, {r['have_p1']} tablets had page 1"
        )
        return (
            f"| {label}{fin} | {_s(r['p1_all'])} ({_s(r['p1_p50'])}) | {_s(r['all_all'])} ({_s(r['all_p50'])}) "
            f"| {r['rate'] / 1e6:,.0f} | {r['server_cpu']:.1f} | {r['client_cpu']:.1f} | {r['errors']} |"
        )

    if "cold" in by:
        lines.append(line(labels["cold"], by["cold"]))
    for kind, rs in (("warm", warm), ("static", static)):
        if len(rs) == 1:
            lines.append(line(labels[kind], rs[0]))
        elif rs:
            mid = sorted(rs, key=lambda r: r["rate"])[len(rs) // 2]
            lines.append(line(labels[kind] + f", median of {len(rs)} by MB/s", mid))
    lines.append("")
    verdict = "met" if ratio >= TARGET_RATIO else "NOT met"
    lines.append(f"- warm bytes/s ÷ static bytes/s = **{ratio:.2f}** (target ≥ {TARGET_RATIO}) {verdict}")
    if "cold" in by and static:
        lines.append(f"- cold bytes/s ÷ static bytes/s = {by['cold']['rate'] / med(static, 'rate'):.2f}")
    for kind, rs in (("warm", warm), ("static", static)):
        if rs:
            r = rs[0] if len(rs) == 1 else sorted(rs, key=lambda r: r["rate"])[len(rs) // 2]
            span = r["bytes"] / r["rate"] if r["rate"] > 0 else float("nan")
            use = (r["server_cpu"] + r["client_cpu"]) / (span * (os.cpu_count() or 1))
            lines.append(
                f"- {kind}: server CPU {1e3 * r['server_cpu'] / (r['bytes'] / 1e6):.2f} ms per MB served; "
                f"server + tablets used {100 * use:.0f} % of the machine's {os.cpu_count()} cores"
            )
    if len(warm) > 1:
        lines.append(
            "- rounds: " + ", ".join(f"{r['name']} {r['rate'] / 1e6:,.0f} MB/s" for r in rows if r["name"] != "cold")
        )
    pt, pcpu, partial, had_cold = out["prerender"]
    what = (
        "rendering, for one reader, the pages the cold run left"
        if partial
        else "one reader fetching every (cached) page"
        if had_cold
        else "one reader rendering every page (no push)"
    )
    lines.append(f"- then {what}: {pt:.1f} s, server CPU {pcpu:.1f} s")
    for r in rows:
        if r["name"] != "static" and r["note"]:
            lines.append(f"- {r['name']}: {r['note'].strip()}")
    lines.append(
        f"- PDF {out['pdf_bytes'] / 1e3:.0f} kB, {p} A4 pages of 11 pt Chinese text; lossless WebP at "
        f"{args.width or 1600} px, {out['page_bytes'] / p / 1e3:.0f} kB/page"
    )
    lines.append(
        f"- tablets: {args.client_procs} processes, an httpx.AsyncClient per tablet (HTTP/1.1 keep-alive), "
        f"{args.per_tablet} requests in flight per tablet, at most {args.max_inflight} overall; event loop "
        f"{'uvloop' if args.uvloop else 'asyncio'}"
    )
    if out["closed"]:
        lines.append(f"- WebSockets closed during the runs: {', '.join(sorted(out['closed']))}")
    lines.append(f"- run took {elapsed:.0f} s")
    return "\n".join(lines), ratio


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["_static"]:
        child_static(argv[1], int(argv[2]))
        return 0
    if argv[:1] == ["_tablets"]:
        if argv[2] == "uvloop":
            import uvloop

            uvloop.run(tablets_worker(argv[1]))
        else:
            asyncio.run(tablets_worker(argv[1]))
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tablets", type=int, default=200)
    p.add_argument("--pages", type=int, default=100)
    p.add_argument("--width", type=int, help="ask for this page width (default: the server's, 1600)")
    p.add_argument("--per-tablet", type=int, default=2, help="requests in flight per tablet (its connections)")
    p.add_argument("--max-inflight", type=int, default=256, help="requests in flight over all tablets")
    p.add_argument("--client-procs", type=int, default=2, help="processes the tablets are spread over")
    p.add_argument("--rounds", type=int, default=1, help="warm/static alternations (medians reported)")
    p.add_argument("--render-workers", type=int, help="the server's page-rendering processes (default: its own)")
    p.add_argument("--skip-cold", action="store_true", help="render every page once before any push")
    p.add_argument("--cold-budget", type=float, default=60.0, help="seconds the cold run may take")
    p.add_argument("--run-budget", type=float, default=45.0, help="seconds a warm or static run may take")
    p.add_argument("--budget", type=float, default=170.0, help="seconds the whole bench may take")
    p.add_argument("--no-uvloop", dest="uvloop", action="store_false", help="client on the default asyncio loop")
    p.add_argument("--profile", metavar="DIR", help="py-spy record the server during the cold and warm runs")
    p.add_argument("--keep", action="store_true", help="keep the temporary directory (server log, cache)")
    p.add_argument("--no-doc", action="store_true", help=f"do not append to {DOC.relative_to(ROOT)}")
    args = p.parse_args(argv)

    _raise_nofile()
    machine_line = machine()
    print(f"document push: {args.tablets} tablets x {args.pages} pages; {machine_line}", flush=True)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="hemicycle-docpush-"))
    try:
        coro = bench(args, tmp, started + args.budget)
        if args.uvloop:
            import uvloop

            out = uvloop.run(asyncio.wait_for(coro, args.budget))
        else:
            out = asyncio.run(asyncio.wait_for(coro, args.budget))
        log = out["server_log"].read_text(errors="replace").strip()
        if log:
            print("server log (tail):\n" + log[-1500:])
    finally:
        if args.keep:
            print(f"(kept {tmp})")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report, _ = render(args, out, time.monotonic() - started)
    print("\n" + report)
    if not args.no_doc:
        append_section(
            "Document push",
            report,
            intro=INTRO,
            machine_line=machine_line,
            packages=("uvicorn", "starlette", "httptools", "uvloop", "httpx", "pypdfium2", "pillow"),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
