"""Serve a simulated line behind a real pseudo-terminal, as a USB-RS485 adapter would.

The master opens the slave side (``/dev/pts/N``) with pyserial exactly like a real port;
this class owns the master fd. One thread reads requests, asks the SimulatedLine what to
answer and when, and writes each reply at its computed arrival time.

Why it wakes early and spins: select() overshoots by the kernel's timer slack (~50-100 us),
which at 115200 Bd is a whole byte time per exchange; sleeping to just before the deadline
and spinning the rest keeps the simulated wire honest, so the benchmark measures the master
rather than the simulator's oversleeping.
"""

from __future__ import annotations

import ctypes
import errno
import heapq
import os
import select
import threading
import time
import tty

from simulators.keypads.line import SimulatedLine

_EARLY = 0.0001
"""Seconds before a reply is due at which the server stops sleeping and spins."""
_PR_SET_TIMERSLACK = 29


def _tighten_timer_slack() -> None:
    """Ask Linux for 1 us timer slack on this thread (default 50 us), so select() wakes
    close to the deadline and the spin stays short; harmless elsewhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_TIMERSLACK, 1000, 0, 0, 0)
    except (OSError, AttributeError):
        pass


class PtySimulator:
    """Owns a pty pair and serves every unit of ``line`` on it until :meth:`stop`."""

    def __init__(self, line: SimulatedLine) -> None:
        self.line = line
        self._master_fd = -1
        self._slave_fd = -1
        self._slave_path = ""
        self._wake_r, self._wake_w = -1, -1
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def slave_path(self) -> str:
        """Device path for ``serial_for_url`` (valid after :meth:`start`)."""
        return self._slave_path

    def start(self) -> str:
        self._master_fd, self._slave_fd = os.openpty()
        # Raw mode now, so nothing is echoed or translated before the master configures it.
        # We keep our slave fd open so the pty survives masters that close and reopen it.
        tty.setraw(self._slave_fd)
        self._slave_path = os.ttyname(self._slave_fd)
        os.set_blocking(self._master_fd, False)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name="keypad-pty-sim", daemon=True)
        self._thread.start()
        return self._slave_path

    def stop(self) -> None:
        self._stopping.set()
        if self._wake_w >= 0:
            os.write(self._wake_w, b"x")
        if self._thread is not None:
            self._thread.join(5)
        for fd in (self._master_fd, self._slave_fd, self._wake_r, self._wake_w):
            if fd >= 0:
                os.close(fd)
        self._master_fd = self._slave_fd = self._wake_r = self._wake_w = -1

    def __enter__(self) -> PtySimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self) -> None:
        _tighten_timer_slack()
        pending: list[tuple[float, int, bytes]] = []
        counter = 0
        fd = self._master_fd
        while not self._stopping.is_set():
            now = time.monotonic()
            if pending and pending[0][0] - now <= _EARLY:
                while time.monotonic() < pending[0][0]:
                    pass
                _, _, data = heapq.heappop(pending)
                self._write(fd, data)
                continue
            timeout = None if not pending else pending[0][0] - now - _EARLY
            ready, _, _ = select.select([fd, self._wake_r], [], [], timeout)
            if fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError as exc:
                    if exc.errno in (errno.EAGAIN, errno.EIO):
                        time.sleep(0.001)
                        continue
                    raise
                for due, reply in self.line.receive(data, time.monotonic()):
                    counter += 1
                    heapq.heappush(pending, (due, counter, reply))

    @staticmethod
    def _write(fd: int, data: bytes) -> None:
        try:
            os.write(fd, data)
        except BlockingIOError:
            pass  # nobody is reading the port: a real line would lose these bytes too
