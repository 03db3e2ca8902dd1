"""Which names this server answers to (``Host``), and which browser origins may talk to it.

Why Host is checked: a page on ``evil.example`` whose DNS name is re-pointed at the meeting
server (DNS rebinding) sends ``Host: evil.example`` and ``Origin: http://evil.example`` —
the same origin as far as the browser knows. Comparing Origin with Host alone let it in. So
every request's Host must name this server: by default

* a loopback name or address (``localhost``, ``127.0.0.1``, ``::1``);
* the address the connection was accepted on (the machine's own address the client used —
  no list of interfaces to keep up to date), and the address ``serve`` was bound to;
* the machine's host name (and ``<name>.local`` for mDNS);
* any name given with ``--allow-host``, and the host of each public URL (a later deployment
  issue adds ``--public-url``: :meth:`OriginPolicy.add_public_url` is its hook).

A browser's ``Origin`` must then be the same origin as that Host, or on the allow-list
(``--allow-origin``). A client that sends no Origin is not a browser: its token decides.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def host_name(host: str | None) -> str | None:
    """The name or address in a Host header, lower-case, without port or trailing dot."""
    if not host:
        return None
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:8000
        end = host.find("]")
        return host[1:end] if end > 0 else None
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".") or None


def _is_loopback(name: str) -> bool:
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return name in LOOPBACK_NAMES


def machine_names() -> set[str]:
    """This machine's host name, with and without its domain, and its mDNS name."""
    names = set()
    hostname = socket.gethostname().lower().rstrip(".")
    if hostname:
        short = hostname.split(".", 1)[0]
        names |= {hostname, short, f"{short}.local"}
    return names


class OriginPolicy:
    """Host names this server answers to, and browser origins allowed besides its own."""

    def __init__(
        self,
        allowed_origins: tuple[str, ...] = (),
        allowed_hosts: tuple[str, ...] = (),
        bind_host: str | None = None,
        public_urls: tuple[str, ...] = (),
    ) -> None:
        self.allowed = set(allowed_origins)
        self.hosts = {h for h in (host_name(h) for h in allowed_hosts) if h} | machine_names()
        bound = host_name(bind_host)
        if bound and bound not in ("0.0.0.0", "::"):
            self.hosts.add(bound)
        for url in public_urls:
            self.add_public_url(url)

    def add_public_url(self, url: str) -> None:
        """The server is reached as ``url`` (e.g. through a reverse proxy): its host is one
        of ours and its origin may connect."""
        parts = urlsplit(url)
        if parts.hostname:
            self.hosts.add(parts.hostname.lower().rstrip("."))
            self.allowed.add(f"{parts.scheme}://{parts.netloc}")

    def host_allowed(self, host: str | None, local_address: str | None = None) -> bool:
        """Is ``host`` (a Host header) a name of this server? ``local_address``: the address
        the connection was accepted on (ASGI ``scope["server"][0]``)."""
        name = host_name(host)
        if name is None:
            return False
        if name in self.hosts or _is_loopback(name):
            return True
        return local_address is not None and name == host_name(local_address)

    def allows(self, origin: str | None, host: str | None, local_address: str | None = None) -> bool:
        """May a request with this ``Origin`` talk to us, reached as ``host``?"""
        if origin is None:
            return True
        if origin in self.allowed:
            return True
        return (
            host is not None
            and urlsplit(origin).netloc.lower() == host.lower()
            and self.host_allowed(host, local_address)
        )
