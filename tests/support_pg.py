"""PostgreSQL for tests: a throwaway database per test run on the local server.

The server is expected at 127.0.0.1:5432 with trust auth for user ``postgres``. If it is
down we try to start the local cluster once. If it stays unavailable the PostgreSQL tests
are skipped with the reason, except under CI (``CI=true``), where they fail instead: a CI
run that silently skipped PostgreSQL would prove nothing about it.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

HOST = "127.0.0.1:5432"
ADMIN_URL = f"postgresql://postgres@{HOST}/postgres"
TABLES = ("urn", "participation", "events", "leadership", "alembic_version")


def _connect(url: str | None = None):
    import psycopg

    return psycopg.connect(url or ADMIN_URL, autocommit=True, connect_timeout=3)


def _reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg  # noqa: F401
    except ImportError as exc:
        return f"psycopg is not installed ({exc})"
    try:
        with _connect() as conn:
            conn.execute("SELECT 1")
        return None
    except Exception as exc:
        return (
            f"PostgreSQL at {HOST} is not reachable: {str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}"
        )


def _try_to_start() -> None:
    conf = Path("/etc/postgresql")
    if not conf.is_dir():
        return
    for version in sorted(p.name for p in conf.iterdir()):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            capture_output=True,
            timeout=60,
            check=False,
        )


def postgres_problem() -> str | None:
    problem = _reachable()
    if problem is None:
        return None
    try:
        _try_to_start()
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{problem}; starting it failed: {exc}"
    for _ in range(40):
        if _reachable() is None:
            return None
        time.sleep(0.25)
    return f"{problem} (and pg_ctlcluster could not start it)"


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL is required under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database for this test run, dropped at the end."""
    problem = postgres_problem()
    if problem is not None:
        unavailable(problem)
    name = f"hemicycle_test_{secrets.token_hex(6)}"
    with _connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@{HOST}/{name}"
    finally:
        with _connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def reset(url: str) -> None:
    """Empty the test database so the next store starts (and migrates) from nothing."""
    with _connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS " + ", ".join(TABLES) + " CASCADE")
