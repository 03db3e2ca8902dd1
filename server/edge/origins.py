"""Which browser origins may talk to this server (WebSocket handshakes and console POSTs)."""

from __future__ import annotations

from urllib.parse import urlsplit


class OriginPolicy:
    """Browsers send ``Origin``: allow the server's own pages and the configured list.

    A client that sends no Origin is not a browser: it is authenticated by its token alone.
    """

    def __init__(self, allowed: tuple[str, ...] = ()) -> None:
        self.allowed = allowed

    def allows(self, origin: str | None, host: str | None) -> bool:
        if origin is None:
            return True
        if origin in self.allowed:
            return True
        return host is not None and urlsplit(origin).netloc == host
