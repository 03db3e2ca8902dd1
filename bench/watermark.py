"""Confidential pages: what stamping a page for one reader costs, and in which process.

Every fetch of a confidential page is stamped for its reader (server/documents/watermark.py)
and never cached, so a 20-page report read by 50 members is 1,000 stampings. This measures:

* **encode settings**: one stamped page (dense Chinese text, 1600 px) encoded as lossless
  WebP at several ``method``/``quality`` efforts: CPU ms, size, and whether the decoded
  pixels are exactly the stamped ones (they must be: the fingerprint is 3 grey levels deep);
* **server-process CPU per stamped page**: ``--mode threads`` stamps on two threads of this
  process (how the server did it before the stamping moved to the render pool), ``--mode pool``
  through :class:`server.render_pool.RenderPool` (worker processes at nice 10). CPU is
  ``time.process_time()`` of this process (all its threads, not its children); the workers'
  CPU is read from ``RUSAGE_CHILDREN`` once the pool has stopped.

Clean pages are rendered before any measurement, in this process, so only stamping is timed.

    flock -x /tmp/hemicycle-cpu.lock .venv/bin/python bench/watermark.py --pages 10 --readers 4
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from bench.document_push import make_pdf  # noqa: E402
from bench.record import machine  # noqa: E402
from server.documents import BlobStore, Reader, Renderer, Watermarker  # noqa: E402

AT = datetime(2026, 11, 25, 14, 30)
EFFORTS = ((4, 80), (2, 80), (1, 80), (0, 80), (0, 100), (0, 50), (0, 0))


def readers(n: int) -> list[Reader]:
    return [Reader(f"m{i:03d}", f"王建国{i}", f"S{i:03d}") for i in range(1, n + 1)]


def encode_table(renderer: Renderer, marker: Watermarker, sha: str) -> None:
    stamped = marker.apply(renderer.raster(sha, 0), readers(1)[0], AT)
    print("| method | quality | encode ms (median of 5) | KiB | decoded == stamped |")
    print("|---:|---:|---:|---:|---|")
    for method, quality in EFFORTS:
        times = []
        for _ in range(5):
            buf = io.BytesIO()
            t0 = time.process_time()
            stamped.save(buf, "WEBP", lossless=True, quality=quality, method=method)
            times.append(time.process_time() - t0)
        data = buf.getvalue()
        exact = Image.open(io.BytesIO(data)).convert("RGB").tobytes() == stamped.tobytes()
        print(f"| {method} | {quality} | {sorted(times)[2] * 1000:.0f} | {len(data) / 1024:.0f} | {exact} |")


def in_threads(renderer: Renderer, marker: Watermarker, sha: str, pages: int, who: list[Reader]) -> int:
    with ThreadPoolExecutor(2) as pool:
        done = list(
            pool.map(
                lambda job: marker.watermark_page(renderer, sha, job[0], job[1], AT),
                [(p, r) for r in who for p in range(pages)],
            )
        )
    return sum(len(d.data) for d in done)


async def in_pool(renderer: Renderer, marker: Watermarker, sha: str, pages: int, who: list[Reader]) -> int:
    from server.documents.render_pool import RenderPool

    pool = RenderPool(renderer, workers=1, watermark=marker.spec)
    try:
        done = await asyncio.gather(*(pool.stamped_page("d1", sha, p, 1600, r, AT) for r in who for p in range(pages)))
        assert pool.stamps == len(done)
    finally:
        await pool.close()
    return sum(len(d.data) for d in done)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pages", type=int, default=10)
    p.add_argument("--readers", type=int, default=4)
    p.add_argument("--mode", choices=("threads", "pool", "both"), default="both")
    p.add_argument("--no-encode", dest="encode", action="store_false", help="skip the encode-settings table")
    args = p.parse_args()
    print(machine())
    store = BlobStore(Path(tempfile.mkdtemp(prefix="hemicycle-wm-")))
    renderer = Renderer(store)
    sha = store.put(make_pdf(args.pages))
    for n in range(args.pages):
        renderer.render_page(sha, n)
    marker = Watermarker(secret=b"bench-secret")
    if args.encode:
        encode_table(renderer, marker, sha)
    n = args.pages * args.readers
    for mode in ("threads", "pool") if args.mode == "both" else (args.mode,):
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu, wall = time.process_time(), time.perf_counter()
        if mode == "threads":
            size = in_threads(renderer, marker, sha, args.pages, readers(args.readers))
        else:
            size = asyncio.run(in_pool(renderer, marker, sha, args.pages, readers(args.readers)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers = after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime
        print(
            f"{mode}: {n} stamped pages ({args.pages} pages x {args.readers} readers), "
            f"server process {cpu / n * 1000:.1f} CPU-ms/page ({cpu:.2f} s), "
            f"workers {workers:.2f} CPU-s (incl. start-up), wall {wall:.1f} s, {size / n / 1024:.0f} KiB/page"
        )


if __name__ == "__main__":
    main()
