"""Crash: SIGKILL the server during a burst of votes; nothing acknowledged may be lost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import websockets

from tests.support import agenda_data, free_socket, write_agenda_toml

SEATS = 200
HEMICYCLE = [sys.executable, "-m", "hemicycle.cli"]


def start(tmp: Path, agenda: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            *HEMICYCLE,
            "serve",
            "--agenda",
            str(agenda),
            "--db",
            str(tmp / "crash.db"),
            "--port",
            str(port),
            "--credentials",
            str(tmp / "creds.json"),
            "--data-dir",
            str(tmp),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / "server.log", "ab"),
        cwd=Path(__file__).parent.parent,
    )
    deadline = time.monotonic() + 90  # a loaded machine starts a process slowly; only a hang fails
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError((tmp / "server.log").read_text()) from None
            time.sleep(0.05)
    proc.kill()  # never leave a server behind the test
    proc.wait()
    raise RuntimeError("server did not start")


async def connect(url: str, token: str) -> tuple[Any, dict[str, Any]]:
    ws = await websockets.connect(url, max_size=None, compression=None, close_timeout=1)
    await ws.send(json.dumps({"type": "hello", "token": token}))
    return ws, json.loads(await ws.recv())


async def until(ws: Any, kind: str, ref: str) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg["type"] in (kind, "error") and msg.get("re") == ref:
            return msg


async def test_sigkill_during_a_burst_loses_no_acknowledged_vote(tmp_path: Path) -> None:
    agenda = write_agenda_toml(tmp_path / "agenda.toml", agenda_data(SEATS, ballots=[{"id": "b1", "title": "Burst"}]))
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    url = f"ws://127.0.0.1:{port}/ws"
    proc = start(tmp_path, agenda, port)
    creds = json.loads((tmp_path / "creds.json").read_text())
    seats = sorted(creds["seats"].items())
    choice_of = {seat: ("for", "against", "abstain")[i % 3] for i, (seat, _) in enumerate(seats)}
    acked: dict[str, dict[str, Any]] = {}
    try:
        clerk, _ = await connect(url, creds["clerk"]["token"])
        conns = await asyncio.gather(*(connect(url, e["token"]) for _, e in seats))
        sockets = [ws for ws, _ in conns]
        for ws in sockets:
            await ws.send(json.dumps({"type": "check_in", "id": "c"}))
        await asyncio.gather(*(until(ws, "ok", "c") for ws in sockets))
        await clerk.send(json.dumps({"type": "command", "id": "o", "name": "open_ballot", "args": {"ballot": "b1"}}))
        assert (await until(clerk, "ok", "o"))["type"] == "ok"

        first_ack = asyncio.Event()

        async def vote(ws: Any, seat: str) -> None:
            await ws.send(
                json.dumps({"type": "cast", "id": "v", "ballot": "b1", "choice": choice_of[seat], "key": f"k-{seat}"})
            )
            try:
                msg = await until(ws, "ack", "v")
            except (TimeoutError, websockets.ConnectionClosed):
                return
            if msg["type"] == "ack":
                acked[seat] = msg
                first_ack.set()

        async def burst() -> None:
            for wave in range(4):  # four waves, so the kill lands while votes are still arriving
                chunk = seats[wave * 50 : (wave + 1) * 50]
                await asyncio.gather(*(vote(ws, seat) for ws, (seat, _) in zip(sockets[wave * 50 :], chunk)))

        burst_task = asyncio.create_task(burst())
        await first_ack.wait()
        await asyncio.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        await asyncio.gather(burst_task, return_exceptions=True)
        for ws in sockets + [clerk]:
            await ws.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert 0 < len(acked) < SEATS, f"the kill should land mid-burst ({len(acked)} acks)"

    proc = start(tmp_path, agenda, port)
    try:
        clerk, welcome = await connect(url, creds["clerk"]["token"])
        ballot = next(b for b in welcome["snapshot"]["ballots"] if b["id"] == "b1")
        lost = [seat for seat in acked if creds["seats"][seat]["member"] not in ballot["voters"]]
        assert lost == [], "acknowledged votes were lost"
        # every seat re-sends its cast with the same key: acknowledged ones get the same ack, the rest count now
        conns = await asyncio.gather(*(connect(url, e["token"]) for _, e in seats))
        for (ws, _), (seat, _) in zip(conns, seats):
            await ws.send(
                json.dumps({"type": "cast", "id": "r", "ballot": "b1", "choice": choice_of[seat], "key": f"k-{seat}"})
            )
        replies = await asyncio.gather(*(until(ws, "ack", "r") for ws, _ in conns))
        for (seat, _), rep in zip(seats, replies):
            assert rep["type"] == "ack", rep
            if seat in acked:
                assert rep["seq"] == acked[seat]["seq"]
        await clerk.send(json.dumps({"type": "command", "id": "x", "name": "close_ballot", "args": {"ballot": "b1"}}))
        result, ok = None, False
        while result is None or not ok:  # the event (published at commit) and the reply, in either order
            msg = json.loads(await asyncio.wait_for(clerk.recv(), 10))
            ok = ok or (msg["type"] == "ok" and msg.get("re") == "x")
            if msg["type"] == "event" and msg["event"]["name"] == "ballot.closed":
                result = msg["event"]["result"]
        assert result["voted"] == SEATS
        expected = {o: sum(1 for c in choice_of.values() if c == o) for o in ("for", "against", "abstain")}
        assert result["lines"][0]["counts"] == expected
        for ws, _ in conns:
            await ws.close()
        await clerk.close()
    finally:
        proc.terminate()
        proc.wait()
    verify = subprocess.run(
        [*HEMICYCLE, "verify", "--db", str(tmp_path / "crash.db")],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
    )
    assert verify.returncode == 0, verify.stderr
    assert "recomputed" in verify.stdout
