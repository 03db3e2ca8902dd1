"""A network serial server (an NPort-style box) in front of a serial port: RFC 2217 or raw TCP.

Real rooms put their RS-485 keypad lines on serial device servers and the bridge in a rack;
the master then opens ``rfc2217://box:4001`` or ``socket://box:4001`` instead of
``/dev/ttyUSB0``. This module puts such a box in front of the simulator's pty, so tests and
benches drive the master's network paths against a real RFC 2217 implementation: pyserial's
own :class:`serial.rfc2217.PortManager`, wired to a socket and a port the way pyserial's
``examples/rfc2217_server.py`` does it.

The faults of a real box, for tests:

* :meth:`SerialServer.stop` / :meth:`SerialServer.start` - the box loses power or its
  network and comes back on the same TCP port (connections drop, connecting is refused
  meanwhile); the units behind it keep their state, as the pty stays open;
* ``max_baud`` - the box refuses rates above its maximum: it answers with the rate it keeps,
  which pyserial's client reports as ``ValueError: remote rejected value for option
  'baudrate'`` (change the attribute at any time: the next connection sees it);
* :meth:`SerialServer.stall` / :meth:`SerialServer.resume` - the network stalls: bytes are
  held in both directions, as TCP holds them, and delivered late when it resumes.

:class:`BoxStats` counts what the clients asked of the box (connections, RFC 2217 option
requests, purges), so a test can see that a master does not talk to the box per exchange.

``python -m simulators.keypads.serial_server /dev/pts/N [--protocol rfc2217|raw]`` serves a
port from its own process (as the bench does) and prints its URL on the first line.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import struct
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field

import serial
from serial.rfc2217 import COM_PORT_OPTION, PURGE_DATA, SERVER_SET_BAUDRATE, SET_BAUDRATE, PortManager

log = logging.getLogger(__name__)

PROTOCOLS = ("rfc2217", "raw")
_IDLE_READ = 0.1
"""Serial read timeout of the forwarding thread, so it notices a dropped connection."""


@dataclass
class BoxStats:
    connections: int = 0
    options: Counter[int] = field(default_factory=Counter)
    """RFC 2217 COM-PORT-OPTION requests received, by option code (1 = SET-BAUDRATE, 12 = PURGE-DATA)."""
    refused: int = 0
    """Baud rates refused for being above ``max_baud``."""

    @property
    def purges(self) -> int:
        return self.options[PURGE_DATA[0]]

    @property
    def baud_requests(self) -> int:
        return self.options[SET_BAUDRATE[0]]


class _LinelessPort(serial.Serial):
    """The box's own port. RS-485 has no modem lines and neither has the pty standing in for
    one (their ioctls fail with ENOTTY), so DTR/RTS requests are accepted and do nothing,
    and CTS, DSR and CD read as up - what a box in RS-485 mode reports."""

    def _update_dtr_state(self) -> None:
        with contextlib.suppress(OSError):
            super()._update_dtr_state()

    def _update_rts_state(self) -> None:
        with contextlib.suppress(OSError):
            super()._update_rts_state()

    def _line(self, name: str, default: bool) -> bool:
        try:
            return bool(getattr(serial.Serial, name).fget(self))
        except OSError:
            return default

    @property
    def cts(self) -> bool:
        return self._line("cts", True)

    @property
    def dsr(self) -> bool:
        return self._line("dsr", True)

    @property
    def ri(self) -> bool:
        return self._line("ri", False)

    @property
    def cd(self) -> bool:
        return self._line("cd", True)


class _BoxPortManager(PortManager):
    """pyserial's RFC 2217 server side, plus the box's limits and counters."""

    def __init__(self, serial_port: serial.SerialBase, connection: _Connection, box: SerialServer) -> None:
        self._box = box
        super().__init__(serial_port, connection)

    def _telnet_process_subnegotiation(self, suboption: bytes) -> None:
        if suboption[:1] == COM_PORT_OPTION and len(suboption) >= 2:
            option = suboption[1:2]
            self._box.stats.options[option[0]] += 1
            limit = self._box.max_baud
            if option == SET_BAUDRATE and len(suboption) >= 6 and limit is not None:
                (rate,) = struct.unpack("!I", suboption[2:6])
                if rate > limit:
                    # What a box with a maximum does: keep its rate and say so.
                    self._box.stats.refused += 1
                    self.rfc2217_send_subnegotiation(SERVER_SET_BAUDRATE, struct.pack("!I", self.serial.baudrate))
                    return
        super()._telnet_process_subnegotiation(suboption)


class _Connection:
    """One client: a thread each way between its socket and the serial port."""

    def __init__(self, box: SerialServer, sock: socket.socket) -> None:
        self.box = box
        self.sock = sock
        self.alive = True
        self._write_lock = threading.Lock()
        self.manager: PortManager | None = None
        if box.protocol == "rfc2217":
            self.manager = _BoxPortManager(box.port, self, box)
        self._threads = [
            threading.Thread(target=self._to_serial, name="box-net->serial", daemon=True),
            threading.Thread(target=self._to_network, name="box-serial->net", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def write(self, data: bytes) -> None:
        """Socket write (PortManager sends its Telnet answers through this)."""
        with self._write_lock:
            self.sock.sendall(data)

    def _to_serial(self) -> None:
        try:
            while self.alive:
                data = self.sock.recv(1024)
                if not data:
                    break
                if self.manager is not None:
                    data = b"".join(self.manager.filter(data))
                if data and self.box.flowing():
                    self.box.port.write(data)
        except (OSError, serial.SerialException):
            pass
        self.alive = False

    def _to_network(self) -> None:
        port = self.box.port
        try:
            while self.alive:
                data = port.read(port.in_waiting or 1)
                if data and self.box.flowing():
                    if self.manager is not None:
                        data = b"".join(self.manager.escape(data))
                    self.write(data)
        except (OSError, serial.SerialException):
            pass
        self.alive = False

    def close(self) -> None:
        self.alive = False
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(5)


class SerialServer:
    """Serves one serial port on one TCP port, one client at a time (a newer client wins)."""

    def __init__(
        self,
        port_path: str,
        *,
        protocol: str = "rfc2217",
        host: str = "127.0.0.1",
        tcp_port: int = 0,
        baudrate: int = 115200,
        max_baud: int | None = None,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}")
        self.port_path = port_path
        self.protocol = protocol
        self.host = host
        self.tcp_port = tcp_port
        """0 picks a free port at the first start; later starts reuse it."""
        self.baudrate = baudrate
        self.max_baud = max_baud
        self.stats = BoxStats()
        self.port: serial.SerialBase
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._client: _Connection | None = None
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self._running = False

    @property
    def url(self) -> str:
        """What a master opens: ``rfc2217://host:port`` or ``socket://host:port``."""
        scheme = "rfc2217" if self.protocol == "rfc2217" else "socket"
        return f"{scheme}://{self.host}:{self.tcp_port}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> str:
        """Open the serial port and listen (again, on the same TCP port); returns :attr:`url`."""
        self.port = _LinelessPort(self.port_path, baudrate=self.baudrate, timeout=_IDLE_READ)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.tcp_port))
        listener.listen(1)
        self.tcp_port = listener.getsockname()[1]
        self._listener = listener
        self._running = True
        self._accepting = threading.Thread(target=self._accept, name="box-accept", daemon=True)
        self._accepting.start()
        return self.url

    def stop(self) -> None:
        """The box goes away: the client's connection drops, connecting is refused."""
        self._running = False
        if self._listener is not None:
            try:
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
        if self._accepting is not None:
            self._accepting.join(5)
            self._accepting = None
        with self._lock:
            client, self._client = self._client, None
        self._flowing.set()  # wake forwarding threads held by a stall, so they can end
        if client is not None:
            client.close()
        self.port.close()

    def __enter__(self) -> SerialServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ faults

    def stall(self) -> None:
        """The network stops carrying bytes (both ways); they are delivered on :meth:`resume`."""
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def flowing(self) -> bool:
        """Wait out a stall; False if the box stopped meanwhile (drop the bytes)."""
        while not self._flowing.wait(_IDLE_READ):
            if not self._running:
                return False
        return self._running

    # ------------------------------------------------------------------ serving

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while self._running:
            try:
                sock, _ = listener.accept()
            except OSError:
                break
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                old, self._client = self._client, None
            if old is not None:
                old.close()
            self.port.reset_input_buffer()
            # a new client starts from the box's own settings, which never exceed its maximum
            self.port.baudrate = min(self.baudrate, self.max_baud or self.baudrate)
            self.stats.connections += 1
            with self._lock:
                if self._running:
                    self._client = _Connection(self, sock)
                else:
                    sock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m simulators.keypads.serial_server",
        description="A network serial server (RFC 2217 or raw TCP) in front of a serial port or pty.",
    )
    parser.add_argument("port", help="the serial device to serve, e.g. the simulator's /dev/pts/N")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="rfc2217")
    parser.add_argument("--tcp-port", type=int, default=0, help="TCP port to listen on (default: any free one)")
    parser.add_argument("--baud", type=int, default=115200)
    parser.add_argument("--max-baud", type=int, default=None, help="refuse higher rates, as a real box does")
    args = parser.parse_args(argv)
    box = SerialServer(
        args.port, protocol=args.protocol, tcp_port=args.tcp_port, baudrate=args.baud, max_baud=args.max_baud
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with box:
        print(box.url, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
