"""`hemicycle simulate tablets`: N virtual seats over real WebSockets.

The seats check in and vote in every ballot the clerk opens, by a pattern or at random,
and keep their own record of what they cast. With ``--clerk`` the simulator also runs the
sitting: opens each ballot of the agenda in turn, lets the seats vote, closes and
announces it, prints the result, and compares it with a recount of its own record.
Exit status 1 on any mismatch, refused cast or lost acknowledgement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
from dataclasses import dataclass, field
from typing import Any

from server.core.agenda import ballot_from_dict
from server.core.kinds import KINDS
from server.core.kinds.common import Turnout
from terminal_client import Client, ServerError

from .choices import random_choice

_SPEC_KEYS = {
    "item",
    "run",
    "status",
    "opened_at",
    "closed_at",
    "deadline",
    "remaining",
    "voted",
    "result",
    "urn_digest",
    "choices",
    "voters",
    "mine",
    "previous_runs",
    "live",
    "keypad",
}


@dataclass
class Report:
    acks: int = 0
    errors: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    papers: dict[str, dict[str, Any]] = field(default_factory=dict)  # ballot id -> its view and acknowledged papers


@dataclass
class Seat:
    seat: str
    member: str
    client: Client
    cast: dict[str, Any] = field(default_factory=dict)  # ballot id -> final acknowledged choice


def _spec(ballot_view: dict[str, Any]) -> Any:
    raw = {k: v for k, v in ballot_view.items() if k not in _SPEC_KEYS and v is not None}
    return ballot_from_dict(raw, "ballot", ballot_view["item"])


def canonical(ballot_view: dict[str, Any], choice: Any) -> Any:
    """The one form the server records and echoes for ``choice`` (docs/ballot-kinds.md):
    a keypad-style plain ``"for"`` on a one-nominee appointment is ``{nominee: "for"}``."""
    spec = _spec(ballot_view)
    return KINDS[spec.kind].normalize_choice(spec, choice)


def recount(ballot_view: dict[str, Any], choices: list[Any], result: dict[str, Any]) -> dict[str, Any]:
    """What the result should be, from the simulator's own record of acknowledged casts."""
    spec = _spec(ballot_view)
    turnout = Turnout(result["seated"], result["present"], len(choices))
    kind = KINDS[spec.kind]
    return kind.tally(spec, [kind.normalize_choice(spec, ch) for ch in choices], turnout)


async def _vote(seat: Seat, ballot: dict[str, Any], rng: random.Random, pattern: str, report: Report) -> None:
    choice = random_choice(ballot, rng, pattern)
    try:
        ack = await seat.client.cast(ballot["id"], choice)
    except ServerError as exc:
        report.errors.append(f"{seat.seat}: {exc.code}: {exc.message}")
        return
    except TimeoutError:
        report.errors.append(f"{seat.seat}: no acknowledgement")
        return
    report.acks += 1
    seat.cast[ballot["id"]] = choice
    if "choice" in ack and ack["choice"] != canonical(ballot, choice):
        report.mismatches.append(f"{seat.seat}: cast {choice!r}, server recorded {ack['choice']!r}")


async def run(args: argparse.Namespace) -> Report:
    creds = json.loads(open(args.token_file, encoding="utf-8").read())
    chosen = sorted(creds["seats"].items())[: args.seats]
    rng = random.Random(args.seed)
    report = Report()
    seats = [Seat(s, e["member"], Client(args.url, e["token"])) for s, e in chosen]
    sem = asyncio.Semaphore(200)

    async def connect(seat: Seat) -> None:
        async with sem:
            await seat.client.connect()
            await seat.client.check_in()

    await asyncio.gather(*(connect(s) for s in seats))
    print(f"{len(seats)} seats connected and checked in", flush=True)
    try:
        if args.clerk:
            await _run_sitting(args, creds, seats, rng, report)
        else:
            await _follow(args, seats, rng, report)
    finally:
        await asyncio.gather(*(s.client.close() for s in seats))
    return report


async def _run_sitting(
    args: argparse.Namespace, creds: dict[str, Any], seats: list[Seat], rng: random.Random, report: Report
) -> None:
    clerk = Client(args.url, creds["clerk"]["token"])
    welcome = await clerk.connect()
    try:
        voting = [s for s in seats if _can_vote(welcome["snapshot"], s.member)]
        clerk_item = welcome["snapshot"]["current_item"]
        for ballot in welcome["snapshot"]["ballots"]:
            if ballot["status"] != "draft":
                continue
            if args.only and ballot["id"] not in args.only:
                continue
            if clerk_item != ballot["item"]:
                await clerk.command("select_item", item=ballot["item"])
                clerk_item = ballot["item"]
            await clerk.command("open_ballot", ballot=ballot["id"])
            await asyncio.gather(*(_vote(s, ballot, rng, args.pattern, report) for s in voting))
            await clerk.command("close_ballot", ballot=ballot["id"])
            _, closed = await clerk.next_event("ballot.closed", timeout=30)
            result = closed["result"]
            await clerk.command("announce_ballot", ballot=ballot["id"])
            mine = [s.cast[ballot["id"]] for s in voting if ballot["id"] in s.cast]
            expected = recount(ballot, mine, result)
            if expected != result:
                report.mismatches.append(f"{ballot['id']}: server result {result} != recount {expected}")
            report.results.append({"ballot": ballot["id"], "result": result})
            report.papers[ballot["id"]] = {"ballot": ballot, "papers": mine, "result": result}
            _print_result(ballot, result)
    finally:
        await clerk.close()


def _can_vote(snapshot: dict[str, Any], member: str) -> bool:
    return any(m["id"] == member and m["votes"] for m in snapshot["members"])


async def _follow(args: argparse.Namespace, seats: list[Seat], rng: random.Random, report: Report) -> None:
    """Without --clerk: vote in each ballot as it opens, until the sitting closes or time runs out."""
    watcher = seats[0].client
    deadline = asyncio.get_running_loop().time() + args.duration
    while asyncio.get_running_loop().time() < deadline:
        try:
            _, event = await watcher.next_event(timeout=max(0.1, deadline - asyncio.get_running_loop().time()))
        except TimeoutError:
            break
        if event["name"] == "sitting.closed":
            break
        if event["name"] == "ballot.opened":
            view = next(b for b in (watcher.snapshot or {}).get("ballots", []) if b["id"] == event["ballot"])
            await asyncio.gather(*(_vote(s, view, rng, args.pattern, report) for s in seats))
            print(f"- voted in {event['ballot']}: {report.acks} acknowledgements so far", flush=True)


def _print_result(ballot: dict[str, Any], result: dict[str, Any]) -> None:
    lines = "; ".join(
        f"{line['label']}: "
        + ", ".join(f"{k} {v}" for k, v in line.get("counts", {}).items())
        + (f" -> {line['verdict']}" if "verdict" in line else "")
        for line in result.get("lines", [])
    )
    print(
        f"- {ballot['id']} ({ballot['title']}): seated {result['seated']}, present {result['present']}, "
        f"voted {result['voted']}, invalid {result['invalid']} | {lines} | verdict: {result.get('verdict', '-')}",
        flush=True,
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hemicycle simulate tablets")
    p.add_argument("--url", required=True, help="ws://host:port/ws")
    p.add_argument("--token-file", required=True, help="the credentials JSON written by `hemicycle serve`")
    p.add_argument("--seats", type=int, default=41)
    p.add_argument("--pattern", default="random", help="random | for | against | abstain | for=3,against=1,...")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--clerk", action="store_true", help="also play the clerk and run every ballot")
    p.add_argument("--only", action="append", help="with --clerk: run only this ballot id (repeatable)")
    p.add_argument("--duration", type=float, default=600.0, help="without --clerk: stop after this many seconds")
    p.add_argument(
        "--papers", help="with --clerk: write each ballot's acknowledged papers and result to this JSON file"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report = asyncio.run(run(args))
    if args.papers:  # for an independent recount (tests/oracle.py)
        with open(args.papers, "w", encoding="utf-8") as out:
            json.dump(report.papers, out, ensure_ascii=False)
    print(f"acknowledged casts: {report.acks}; refused: {len(report.errors)}; mismatches: {len(report.mismatches)}")
    for line in report.errors[:20] + report.mismatches[:20]:
        print(f"  {line}")
    return 1 if report.mismatches or report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
