"""Where tablets find the server on the room network: the public URL and the machine's addresses.

Pairing QR codes, printed URLs and the Host/Origin allow-list must name what a tablet on the
room's Wi-Fi can reach. A code that points at 127.0.0.1 pairs nothing (the tablet would ask
itself), so the operator is told loudly, on the terminal, the console and the pairing sheet.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization


@dataclass(frozen=True)
class Reach:
    """How devices on the room network reach this server: the URL printed on pairing codes
    (None: the address the clerk's browser used), and the room CA's certificate to install
    on tablets (None without `hemicycle tls init`)."""

    public_url: str | None = None
    ca_cert: Path | None = None

    def base(self, request_base: str) -> str:
        return self.public_url or request_base.rstrip("/")

    def ca_fingerprint(self) -> str | None:
        """SHA-256 of the CA certificate (DER), for checking on a tablet what was installed."""
        if self.ca_cert is None or not self.ca_cert.is_file():
            return None
        cert = x509.load_pem_x509_certificate(self.ca_cert.read_bytes())
        return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper()


def is_loopback_url(url: str) -> bool:
    """Whether ``url`` points at this machine only (127.0.0.0/8, ::1, localhost)."""
    host = (urlsplit(url).hostname or "").lower()
    if host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_public_url(url: str) -> str:
    """``url`` as the base of every link (no trailing slash); ValueError if a tablet could not use it."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"--public-url {url!r}: give the URL tablets open, e.g. https://room.example:8443")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"--public-url {url!r}: only scheme, host and port (no path, query or fragment)")
    return f"{parts.scheme}://{parts.netloc}"


def lan_addresses() -> list[str]:
    """This machine's non-loopback IPv4 addresses, best guess first. Sends no packet: a UDP
    socket "connected" to a documentation address only asks the kernel which source address
    its routing table would use."""
    found: list[str] = []
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed to anyone, and UDP sends nothing here
            found.append(probe.getsockname()[0])
        finally:
            probe.close()
    except OSError:
        pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(str(info[4][0]))
    except OSError:
        pass
    out: list[str] = []
    for address in found:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_unspecified or ip.is_link_local) and address not in out:
            out.append(address)
    return out
