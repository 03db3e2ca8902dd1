"""Two `hemicycle serve` processes on one PostgreSQL database behind a real HAProxy.

Used by tests/test_standby.py and bench/failover.py. HAProxy (Debian's /usr/sbin/haproxy)
runs docs/deploy/haproxy.cfg as documented (only its addresses replaced): it checks
``GET /ready`` on both and routes every client to the one that answers 200.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.support import free_socket

ROOT = Path(__file__).resolve().parent.parent
HEMICYCLE = [sys.executable, "-m", "hemicycle.cli"]
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def free_port() -> int:
    sock = free_socket()
    port = int(sock.getsockname()[1])
    sock.close()
    return port


def ready(port: int) -> int | None:
    """The status of GET /ready (None: nothing answers)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_for(condition, what: str, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class Pair:
    """Two instances sharing one data folder and one database, and the proxy in front."""

    tmp: Path
    agenda: Path
    db: str
    lease: float = 3.0  # shorter than the default 5 s, long enough for a loaded test machine
    servers: dict[str, tuple[int, subprocess.Popen]] = field(default_factory=dict)
    ready_ports: dict[str, int] = field(default_factory=dict)
    proxy: subprocess.Popen | None = None
    front: int = 0

    @property
    def data(self) -> Path:
        return self.tmp / "data"

    @property
    def creds_path(self) -> Path:
        return self.data / "credentials.json"

    def creds(self) -> dict:
        return json.loads(self.creds_path.read_text())

    def serve(self, name: str, port: int | None = None) -> int:
        port = port or free_port()
        ready_port = self.ready_ports.setdefault(name, free_port())  # the same again after a restart
        log = open(self.tmp / f"{name}.log", "ab")
        proc = subprocess.Popen(
            [
                *HEMICYCLE,
                "serve",
                "--agenda",
                str(self.agenda),
                "--db",
                self.db,
                "--port",
                str(port),
                "--ready-port",  # what HAProxy checks (docs/deploy/haproxy.cfg)
                str(ready_port),
                "--credentials",
                str(self.creds_path),
                "--data-dir",
                str(self.data),
                "--render-workers",
                "1",
                "--lease",
                str(self.lease),
                "--trusted-proxy",  # HAProxy, as docs/deploy/haproxy.cfg says
                "127.0.0.1",
                "--log-level",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=ROOT,
            start_new_session=True,  # its worker processes with it, so ``stop`` ends them all
        )
        self.servers[name] = (port, proc)
        wait_for(lambda: ready(port) is not None or proc.poll() is not None, f"{name} to answer", 90)
        assert proc.poll() is None, (self.tmp / f"{name}.log").read_text()
        return port

    def start(self) -> None:
        """``a`` leads, ``b`` stands by, the proxy in front: where every standby test begins."""
        self.serve("a")
        wait_for(lambda: ready(self.port("a")) == 200, "a to lead")
        self.serve("b")
        assert ready(self.port("b")) == 503, "the second server stands by"
        self.start_proxy()

    def port(self, name: str) -> int:
        return self.servers[name][0]

    def proc(self, name: str) -> subprocess.Popen:
        return self.servers[name][1]

    def leader(self) -> str | None:
        leading = [n for n, (port, proc) in self.servers.items() if proc.poll() is None and ready(port) == 200]
        return leading[0] if len(leading) == 1 else None

    def leader_becomes(self, name: str, within: float = 30.0) -> str | None:
        """The leader once ``name`` leads (a readiness probe on a loaded machine can miss once)."""
        deadline = time.monotonic() + within
        while (found := self.leader()) != name and time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    def start_proxy(self) -> None:
        self.front = free_port()
        names = list(self.servers)
        assert len(names) == 2, "docs/deploy/haproxy.cfg names two servers"
        text = (ROOT / "docs" / "deploy" / "haproxy.cfg").read_text()
        first, second = (self.servers[n][0] for n in names)
        for old, new in (("8080", self.front), ("8001", first), ("8002", second)):
            assert f"127.0.0.1:{old}" in text
            text = text.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
        for old, new in (("8101", self.ready_ports[names[0]]), ("8102", self.ready_ports[names[1]])):
            assert f"check port {old}" in text
            text = text.replace(f"check port {old}", f"check port {new}")
        cfg = self.tmp / "haproxy.cfg"
        cfg.write_text(text)
        self.proxy = subprocess.Popen(
            [HAPROXY, "-f", str(cfg), "-db"], stdout=subprocess.DEVNULL, stderr=open(self.tmp / "haproxy.log", "ab")
        )
        wait_for(lambda: ready(self.front) == 200, "the proxy to route to the leader")

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.front}/ws"

    def stop(self) -> None:
        for _, proc in self.servers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # in case a test stopped it
                proc.kill()
            proc.wait()
            # a server SIGKILLed (by a test or just above) leaves its page-rendering and
            # certificate workers behind: they are in its process group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self.proxy is not None and self.proxy.poll() is None:
            self.proxy.kill()
            self.proxy.wait()

    def verify(self) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*HEMICYCLE, "verify", "--db", self.db], capture_output=True, text=True, cwd=ROOT, env=os.environ.copy()
        )
