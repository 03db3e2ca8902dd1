"""Where bench/vote_burst.py's server keeps the sitting: an SQLite file, or PostgreSQL with a
hot standby following the log (issue 14).

The burst is the same on each; what differs is the store under the writer thread and, on
PostgreSQL, a second `hemicycle serve` standing by on the same database, reading every
entry the leader commits (LISTEN/NOTIFY plus the new rows, server/live/follower.py). The
question the bench answers is what that costs the voters: the same burst on SQLite in the
same run is the baseline.
"""

from __future__ import annotations

import json
import secrets
import socket
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support_pg import ADMIN_URL, HOST, _connect, postgres_problem

# a server child of bench/vote_burst.py: (argv, log file) -> (process, port)
StartChild = Callable[[list[str], Path], tuple[subprocess.Popen, int]]


def get(port: int, path: str) -> tuple[int, bytes]:
    """A bare GET on loopback: (status, body); (0, b"") when nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    except OSError:
        return 0, b""
    head, _, body = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), body


def wait_ready(port: int, want: int, deadline: float) -> dict[str, Any]:
    """Wait until GET /ready answers ``want`` (200: leads, 503: stands by); its JSON."""
    while time.monotonic() < deadline:
        status, body = get(port, "/ready")
        if status == want:
            return dict(json.loads(body or b"{}"))
        time.sleep(0.05)
    raise SystemExit(f"the server on port {port} did not answer /ready {want} in time")


class Backend:
    """One sitting's store for a run: ``start`` the server(s), then ``counts`` and ``verify``."""

    name = "sqlite"
    label = "SQLite file (WAL, synchronous=FULL)"

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp / self.name
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen] = []

    @property
    def db(self) -> str:
        return str(self.tmp / "sitting.db")

    @property
    def creds_path(self) -> Path:
        return self.tmp / "credentials.json"

    def serve_args(self, agenda: Path) -> list[str]:
        return ["--agenda", str(agenda), "--db", self.db, "--credentials", str(self.creds_path)] + [
            "--data-dir",
            str(self.tmp),
        ]

    def start(self, start_child: StartChild, agenda: Path, extra: list[str], deadline: float) -> int:
        """Start the leading server; its port."""
        proc, port = start_child(["_serve", *self.serve_args(agenda), *extra], self.tmp / "server.log")
        self.procs.append(proc)
        wait_ready(port, 200, deadline)
        return port

    def counts(self, rounds: int) -> dict[str, int]:
        """Votes in the database per ballot (the `participation` rows)."""
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            query = "SELECT count(*) FROM participation WHERE ballot = ?"
            return {f"b{r}": con.execute(query, (f"b{r}",)).fetchone()[0] for r in range(1, rounds + 1)}
        finally:
            con.close()

    def note(self) -> str:
        return ""

    def drop(self) -> None:
        """Forget the database (the temporary folder is removed by the caller)."""


class PostgresWithStandby(Backend):
    """A fresh database on the local PostgreSQL, a leader and a standby following it."""

    name = "postgres"
    label = "PostgreSQL, a standby following"
    standby = True

    def __init__(self, tmp: Path) -> None:
        problem = postgres_problem()
        if problem:
            raise SystemExit(f"--backends postgres needs PostgreSQL: {problem}")
        super().__init__(tmp)
        self.database = f"hemicycle_burst_{secrets.token_hex(4)}"
        with _connect(ADMIN_URL) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.standby_port = 0
        self.leader_port = 0

    @property
    def db(self) -> str:
        return f"postgresql://postgres@{HOST}/{self.database}"

    def start(self, start_child: StartChild, agenda: Path, extra: list[str], deadline: float) -> int:
        self.leader_port = super().start(start_child, agenda, extra, deadline)
        if not self.standby:
            return self.leader_port
        proc, self.standby_port = start_child(["_serve", *self.serve_args(agenda), *extra], self.tmp / "standby.log")
        self.procs.append(proc)
        wait_ready(self.standby_port, 503, deadline)
        return self.leader_port

    def counts(self, rounds: int) -> dict[str, int]:
        with _connect(self.db) as conn:
            query = "SELECT count(*) FROM participation WHERE ballot = %s"
            return {f"b{r}": conn.execute(query, (f"b{r}",)).fetchone()[0] for r in range(1, rounds + 1)}

    def note(self) -> str:
        """How far the standby is behind the leader once the bursts are over (it should not be)."""
        if not self.standby:
            return ""
        deadline = time.monotonic() + 10
        while True:
            lead = json.loads(get(self.leader_port, "/ready")[1] or b"{}")
            standby = json.loads(get(self.standby_port, "/ready")[1] or b"{}")
            if standby.get("seq") == lead.get("seq") or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return f"standby at entry {standby.get('seq')} of the leader's {lead.get('seq')} after the bursts"

    def drop(self) -> None:
        with _connect(ADMIN_URL) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


class PostgresAlone(PostgresWithStandby):
    """The same database with no standby: what following the log costs the leader's box."""

    name = "postgres-alone"
    label = "PostgreSQL, no standby"
    standby = False


BACKENDS: dict[str, type[Backend]] = {
    "sqlite": Backend,
    "postgres": PostgresWithStandby,
    "postgres-alone": PostgresAlone,
}
