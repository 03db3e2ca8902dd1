"""Everything one running server holds: configuration, the sitting, the hub, the tokens."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .core import commands as c
from .core.agenda import Agenda
from .documents import BlobStore, DocumentError, Renderer, Watermarker, ingest
from .documents import Limits as DocumentLimits
from .documents.render_pool import RenderPool
from .edge import credentials
from .edge.auth import AuthState
from .edge.credentials import Identity
from .edge.hub import Hub
from .edge.limits import Limits
from .edge.welcome import WelcomeCache
from .live.collector import CollectorPolicy
from .live.issuing import Issuer
from .live.sitting import Sitting
from .live.writer import favour_writer_thread
from .paper import certificates as cert
from .store.base import EventStore
from .store.sql import SQLStore


@dataclass
class ServerConfig:
    agenda: Agenda
    db_url: str
    credentials_path: Path
    data_dir: Path
    allowed_origins: tuple[str, ...] = ()
    limits: Limits = field(default_factory=Limits)
    printer: str | None = None  # CUPS printer for tally certificates (needs `lp`)
    agenda_dir: Path | None = None  # where the agenda's document files are found
    document_limits: DocumentLimits = field(default_factory=DocumentLimits)
    render_workers: int | None = None  # page-rendering processes; None: cores - 1 (server/documents/render_pool.py)
    prerender_widths: tuple[int, ...] | None = None  # None: the default width only


class Runtime:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.limits = config.limits
        self.store: EventStore | None = None
        self.sitting: Sitting = None  # type: ignore[assignment]  # set by start()
        self.hub: Hub = None  # type: ignore[assignment]
        self.issuer: Issuer | None = None
        self.key = cert.load_or_create_key(config.data_dir / "server-key.pem")
        self.document_limits = config.document_limits
        self.blobs = BlobStore(config.data_dir)
        self.renderer = Renderer(self.blobs)
        # built here, once, so a missing CJK font stops the start rather than a reader's fetch;
        # the render pool's workers, which do the stamping, build theirs from its spec
        self.watermarker = Watermarker(secret=hashlib.sha256(self.key.private_bytes_raw()).digest())
        self.pages = RenderPool(
            self.renderer,
            workers=config.render_workers,
            prerender_widths=config.prerender_widths,
            watermark=self.watermarker.spec,
        )
        self.creds = credentials.load_or_create(config.credentials_path, config.agenda)
        self.tokens: dict[str, Identity] = credentials.token_table(self.creds)
        self.seat_members = {m.seat: m.id for m in config.agenda.members}
        self.auth = AuthState(config.data_dir)  # console login and seat pairing (server/edge/auth.py)
        self.welcome = WelcomeCache()  # pre-encoded large parts of the snapshot (server/edge/welcome.py)
        self.collector = CollectorPolicy()  # no collections mid-burst (server/live/collector.py)

    async def start(self) -> None:
        favour_writer_thread()
        self.store = SQLStore(self.config.db_url)
        self.sitting = await Sitting.start(self.store, self.config.agenda)
        # the log's agenda wins over the file's after a restart: the record is the truth
        agenda = self.sitting.meeting.agenda
        self.seat_members = {m.seat: m.id for m in agenda.members}
        self.sitting.subscribe(self.collector, CollectorPolicy.KINDS)
        self._follow_documents()
        self.hub = Hub(self.sitting, self.limits.idle_timeout)
        self.hub.start()
        self.issuer = Issuer(self.sitting, self.config.data_dir, self.key, self.config.printer)
        public = self.key.public_key()
        await self.sitting.execute(c.RecordServerKey(cert.public_key_pem(public), cert.public_key_fingerprint(public)))
        await self._add_agenda_documents()

    def _follow_documents(self) -> None:
        """Pre-render pages of every document the record holds (after a restart) and of each
        one added from now on; pause while a ballot is open (server/documents/render_pool.py)."""
        meeting = self.sitting.meeting
        run = meeting.open_run()
        if run is not None and run.status == "open":
            self.pages.pause()
        self.sitting.subscribe(self.pages.on_event)
        for doc in meeting.documents.docs.values():
            if doc.recalled:
                continue
            self.pages.prerender(doc.id, doc.info["sha256"], int(doc.info["page_count"]))

    async def _add_agenda_documents(self) -> None:
        """Documents named in the agenda join the record once, at the first start."""
        meeting = self.sitting.meeting
        base = self.config.agenda_dir or Path(".")
        for spec in meeting.agenda.documents.values():
            if meeting.documents.by_agenda_id(spec.id) is not None:
                continue
            path = (base / spec.file).resolve()
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise DocumentError("not_found", f"document {spec.id!r}: cannot read {path}: {exc.strerror}") from None
            named = spec.audience not in (("everyone",), ("members",), ("observers",))
            info = await asyncio.to_thread(
                ingest,
                self.blobs,
                data,
                title=spec.title,
                item_id=spec.item,
                audience="named" if named else spec.audience[0],
                classification=spec.classification,
                readers=spec.audience if named else (),
                filename=path.name,
                limits=self.document_limits,
            )
            await self.sitting.execute(c.AddDocument(info.to_dict(), spec.id, True))

    async def stop(self) -> None:
        if self.issuer:
            await self.issuer.drain()
            self.issuer.close()
        await self.pages.close()
        if self.hub:
            await self.hub.stop()
        if self.sitting:
            await self.sitting.stop()
        if self.store:
            self.store.close()
        self.collector.close()

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """Browsers send Origin: allow the server's own pages and the configured list."""
        if origin is None:
            return True  # not a browser: authenticated by token alone
        if origin in self.config.allowed_origins:
            return True
        return host is not None and urlsplit(origin).netloc == host
