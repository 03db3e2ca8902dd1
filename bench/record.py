"""Writing a benchmark's figures into docs/benchmarks.md, the same way for every bench.

Each run appends a dated section: the command, the machine (cores, CPU model, kernel,
Python, load average - the machine may be shared, so the load says how far to trust the
figures) and the versions of the libraries on the measured path.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu or platform.machine()}), {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, load average {load}"
    )


def versions(*packages: str) -> str:
    out = []
    for name in packages:
        try:
            out.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", ".join(out)


def append_section(
    title: str, body: str, *, packages: tuple[str, ...] = (), intro: str = "", machine_line: str | None = None
) -> None:
    """Append ``## title, date`` with the command line, ``intro``, the machine and ``body``.

    ``machine_line``: :func:`machine` taken when the run started, so the load average is
    the machine's and not the benchmark's own (default: taken now)."""
    script = Path(sys.argv[0]).resolve()
    try:
        script_name = str(script.relative_to(ROOT))
    except ValueError:
        script_name = script.name
    command = " ".join(["python", script_name, *sys.argv[1:]])
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine_line = (machine_line or machine()) + (f"; {versions(*packages)}" if packages else "")
    parts = [f"## {title}, {now}", "", f"`{command}`", ""]
    if intro:
        parts += [intro, ""]
    parts += [f"Machine: {machine_line}.", "", body.rstrip("\n"), ""]
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    DOC.write_text(text.rstrip("\n") + "\n\n" + "\n".join(parts), encoding="utf-8")
    print(f"\n(appended to {DOC.relative_to(ROOT)})")
