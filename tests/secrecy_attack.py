"""An attacker holding a secret ballot's files, and how well they pair members with choices.

The attacker knows who voted and in what order (the log's ``vote.cast`` entries, or on
PostgreSQL each voter's transaction id) and reads everything else the files hold: every
image of an urn row anywhere in the SQLite file and its WAL, with its byte offset; on
PostgreSQL the live rows' ``ctid`` and ``xmin``, every tuple ``pageinspect`` shows on the
urn's pages (dead ones included) and the raw bytes of those pages and of the WAL written
during the ballot. From each of these it makes its best pairing of members with choices;
the tests pass only if the best one does no better than chance.

Chance: pairing a random order of the choices with the members gets each member right with
probability ``p0 = sum over options of (share of that option)^2``; the threshold is ``p0``
plus 4.5 standard deviations of the share right out of ``n`` — a storage without order
fails it about once in 300,000 runs per strategy, a storage that keeps casting order
(the defect this guards against: 41 of 41) fails it every time.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

OPTIONS = ("for", "against", "abstain")
CHOICE = re.compile(rb'"(for|against|abstain)"')


@dataclass
class Verdict:
    """The attacker's best pairing: how many members it got right, against chance."""

    n: int
    chance: float
    threshold: float
    best: float = 0.0
    strategy: str = "none"
    correlation: float = 0.0
    links: int = 0  # members linked by transaction id (PostgreSQL), right or wrong
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.best <= self.threshold

    def consider(self, strategy: str, guessed: Sequence[str | None], truth: Sequence[str]) -> None:
        """One pairing: ``guessed[i]`` is the choice the attacker assigns to the i-th voter."""
        right = sum(1 for g, t in zip(guessed, truth, strict=False) if g is not None and g == t) / self.n
        if right >= self.best:
            self.best, self.strategy = right, strategy
            self.correlation = pearson(
                [OPTIONS.index(g) for g in guessed if g is not None],
                [OPTIONS.index(t) for g, t in zip(guessed, truth, strict=False) if g is not None],
            )

    def __str__(self) -> str:
        return (
            f"n={self.n}: best pairing ({self.strategy}) right for {self.best:.2f} of members, chance {self.chance:.2f}, "
            f"threshold {self.threshold:.2f}, correlation {self.correlation:+.2f}, transaction links {self.links}"
        )


def verdict_for(truth: Sequence[str]) -> Verdict:
    n = len(truth)
    p0 = sum((k / n) ** 2 for k in Counter(truth).values())
    return Verdict(n, p0, p0 + 4.5 * math.sqrt(p0 * (1 - p0) / n))


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float:
    if len(xs) < 2:
        return 0.0
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return 0.0 if sx == 0 or sy == 0 else sxy / (sx * sy)


# -- SQLite ---------------------------------------------------------------------------------------


def urn_images(blob: bytes, ballot: str) -> list[tuple[int, str]]:
    """Every image of a clear urn row of ``ballot`` in raw SQLite bytes: (offset, choice).

    A row of the urn (WITHOUT ROWID) is a record of its columns in order — the 32-hex id, the
    ballot, the run (often no bytes at all), the choice — so the id, the ballot id and a
    choice a byte or two apart is a row, live or stale, in a page, a free page or a WAL frame.
    """
    pattern = re.compile(rb"[0-9a-f]{32}" + re.escape(ballot.encode()) + rb'.{0,9}?"(for|against|abstain)"', re.S)
    return [(m.start(), m.group(1).decode()) for m in pattern.finditer(blob)]


def sqlite_files(db: Path) -> bytes:
    """The file and its WAL, as an attacker copying the folder gets them (WAL after the file)."""
    wal = db.with_name(db.name + "-wal")
    return db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def cast_order(db: Path, ballot: str) -> list[str]:
    """The members in the order of their first ``vote.cast`` in ``ballot``: the attacker knows it from the log."""
    import json

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT body FROM events WHERE name = 'vote.cast' ORDER BY seq").fetchall()
    finally:
        conn.close()
    seen: dict[str, None] = {}
    for (body,) in rows:
        data = json.loads(body)
        if data["ballot"] == ballot:
            seen.setdefault(data["member"], None)
    return list(seen)


def orderings(images: Sequence[tuple[int, str]], page: int = 4096) -> Iterable[tuple[str, list[str]]]:
    """Every order of the urn images the files suggest, as (strategy, choices in that order)."""
    for name, key in (
        ("offset", lambda im: im[0]),
        ("offset, descending", lambda im: -im[0]),
        ("page, then from the page's end", lambda im: (im[0] // page, -im[0])),
    ):
        yield name, [choice for _, choice in sorted(images, key=key)]
    # a page fills from its end, so a row's rank from its page's end, as a share of the
    # page's rows, estimates when it was cast, whichever page its random id put it in
    pages: dict[int, list[tuple[int, str]]] = {}
    for image in images:
        pages.setdefault(image[0] // page, []).append(image)
    for direction, name in ((-1, "share of its page, from the end"), (1, "share of its page, from the start")):
        placed = []
        for rows in pages.values():
            rows.sort(key=lambda im: direction * im[0])
            placed += [((i + 0.5) / len(rows), choice) for i, (_, choice) in enumerate(rows)]
        yield name, [choice for _, choice in sorted(placed)]


def attack_sqlite(blob: bytes, ballot: str, order: Sequence[str], truth: dict[str, str]) -> Verdict:
    """Pair the urn images, sorted every way their place in the files allows, with the casting order."""
    want = [truth[m] for m in order]
    verdict = verdict_for(want)
    images = urn_images(blob, ballot)
    for name, ranked in orderings(images):
        verdict.consider(name, pad(ranked, len(want)), want)
    return verdict


# -- choices that name their voter (to the test, not to the attacker) --------------------------------


@dataclass
class RankVerdict:
    """When each member's choice is unique the test knows which row is whose: the rank
    correlation (Spearman) of a row's place in the files with its casting order, which
    chance keeps within 4/sqrt(n-1) of zero but for about one run in 15,000 per strategy."""

    n: int
    best: float = 0.0
    strategy: str = "none"

    @property
    def threshold(self) -> float:
        return 4 / math.sqrt(self.n - 1)

    @property
    def ok(self) -> bool:
        return abs(self.best) <= self.threshold

    def consider(self, strategy: str, places: Sequence[str], cast_rank: dict[str, int]) -> None:
        known = [cast_rank[p] for p in places if p in cast_rank]
        rho = pearson(list(range(len(known))), [float(r) for r in ranks(known)])
        if abs(rho) >= abs(self.best):
            self.best, self.strategy = rho, strategy

    def __str__(self) -> str:
        return f"n={self.n}: rank correlation of place with casting order {self.best:+.2f} ({self.strategy}), threshold ±{self.threshold:.2f}"


def ranks(values: Sequence[int]) -> list[int]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0] * len(values)
    for rank, i in enumerate(order):
        out[i] = rank
    return out


def score_images(blob: bytes, ballot: str) -> list[tuple[int, str]]:
    """Every image of a clear urn row of a score ballot: (offset, the score as text)."""
    pattern = re.compile(rb"[0-9a-f]{32}" + re.escape(ballot.encode()) + rb'.{0,9}?\{"duty":(\d+)\}', re.S)
    return [(m.start(), m.group(1).decode()) for m in pattern.finditer(blob)]


def pad(guesses: Iterable[str], n: int) -> list[str | None]:
    out: list[str | None] = list(guesses)[:n]
    return out + [None] * (n - len(out))


# -- PostgreSQL -----------------------------------------------------------------------------------


def xid_links(blob: bytes, xids: dict[int, str], reach: int = 400) -> dict[str, str]:
    """Members linked to a clear choice in raw bytes: a voter's transaction id, then a choice soon after.

    Both a WAL record (its header carries the transaction id) and a heap tuple (its header
    begins with ``t_xmin``) put the id a few dozen bytes before the row's data.
    """
    found: dict[str, str] = {}
    for xid, member in xids.items():
        needle = xid.to_bytes(4, "little")
        start = blob.find(needle)
        while start != -1 and member not in found:
            m = CHOICE.search(blob, start + 4, start + 4 + reach)
            if m:
                found[member] = m.group(1).decode()
            start = blob.find(needle, start + 1)
    return found
