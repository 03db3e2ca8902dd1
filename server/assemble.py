"""The composition root: builds every part of a running server and wires them together.

Nothing else in ``server/`` builds another layer's objects or subscribes listeners to the
sitting: it happens here, once, where a newcomer can read the whole server on one page.
Each listener is subscribed to the event kinds it names (the hub alone hears every kind:
it routes events to connections), so a vote passes the hub and nothing else. Each HTTP and
WebSocket handler gets the few objects it uses, not this assembly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from .core import commands as c
from .core.agenda import Agenda
from .documents import BlobStore, DocumentError, Renderer, Watermarker, ingest
from .documents import Limits as DocumentLimits
from .documents.render_pool import RenderPool
from .documents.worker_processes import Opener, ProcessLimits
from .edge import credentials
from .edge.app import HemicycleApp, health_route
from .edge.auth import AuthState
from .edge.credentials import Identities
from .edge.documents_http import DocumentRoutes
from .edge.hub import Budget, Hub
from .edge.limits import Limits
from .edge.network import Reach
from .edge.origins import OriginPolicy
from .edge.readiness import ReadinessPort
from .edge.records_http import RecordRoutes
from .edge.serving import ConnectionGate, ConnectionLimits, uvicorn_config
from .edge.standby import ready_route, step_down_route
from .edge.web.routes import PageFolders, package_folder
from .edge.web.routes import routes as page_routes
from .edge.welcome import WelcomeCache
from .edge.ws import Endpoint
from .live import sittings
from .live.collector import CollectorPolicy
from .live.follower import Follower
from .live.issuing import RETRY, Issuer
from .live.oplog import OperationsLog
from .live.sitting import Sitting, Warm
from .live.writer import favour_writer_thread
from .paper import certificates as cert
from .paper.fonts import has_cjk, strings
from .store.leadership import Leadership
from .store.sql import SQLStore

log = logging.getLogger("hemicycle.assemble")


@dataclass
class ServerConfig:
    agenda: Agenda
    db_url: str
    credentials_path: Path
    data_dir: Path
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # names the server answers to besides its own (server/edge/origins.py)
    bind_host: str | None = None  # the address `serve` binds: a name it answers to
    public_url: str | None = None  # what tablets open (pairing codes, printed URLs); None: as the clerk's browser
    tls_ca: Path | None = None  # the room CA's certificate, offered to tablets at /ca.pem
    limits: Limits = field(default_factory=Limits)
    printer: str | None = None  # CUPS printer for tally certificates (needs `lp`)
    agenda_dir: Path | None = None  # where the agenda's document files are found
    document_limits: DocumentLimits = field(default_factory=DocumentLimits)
    render_workers: int | None = None  # page-rendering processes; None: cores - 1 (server/documents/render_pool.py)
    prerender_widths: tuple[int, ...] | None = None  # None: the default width only
    process_limits: ProcessLimits = field(default_factory=ProcessLimits)  # memory and time of PDF workers
    connection_limits: ConnectionLimits = field(default_factory=ConnectionLimits)  # timeouts and caps
    trusted_proxies: tuple[str, ...] = ()  # addresses whose X-Forwarded-For is believed (none by default)
    issue_retry: tuple[float, float] = RETRY  # first and longest pause between attempts at a certificate
    lease: float = 5.0  # PostgreSQL: a leader silent this long loses the lock (server/store/leadership.py)
    ready_port: int | None = None  # GET /ready also on this port, answered off the event loop (edge/readiness.py)
    resume: bool = False  # the record may hold another agenda than ``agenda``: continue it (server/live/sittings.py)
    escrow_dir: Path | None = (
        None  # urn keys of open secret ballots (server/store/urn_keys.py); None: <data_dir>/escrow
    )


def needs_cjk(agenda: Agenda) -> bool:
    """Whether this sitting prints Chinese (its language, or any name or title in its agenda):
    then a CJK font is required; otherwise the Latin face every install has will do."""
    return agenda.meeting.language == "zh-CN" or has_cjk(*strings(dict(agenda.source)))


class Assembly:
    """Everything one running server holds, built from a ServerConfig."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        data = config.data_dir
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
        data.chmod(0o700)  # the database, keys, certificates and documents are the service's alone
        self.key = cert.load_or_create_key(data / "server-key.pem")
        # documents: files, rendering, watermarks (built here, once, so a missing CJK font
        # stops the start rather than a reader's fetch; the render pool's workers, which do
        # the stamping, build theirs from its spec)
        self.blobs = BlobStore(data)
        self.renderer = Renderer(self.blobs)
        self.watermarker = Watermarker(
            secret=hashlib.sha256(self.key.private_bytes_raw()).digest(), require_cjk=needs_cjk(config.agenda)
        )
        self.pages = RenderPool(
            self.renderer,
            workers=config.render_workers,
            prerender_widths=config.prerender_widths,
            watermark=self.watermarker.spec,
            limits=config.process_limits,
        )
        self.opener = Opener(config.process_limits)  # uploads are opened in a limited process too
        # who is who: tokens, console login, pairing, browser origins
        self.creds = credentials.load_or_create(config.credentials_path, config.agenda)
        self.auth = AuthState(data)
        self.identities = Identities(credentials.token_table(self.creds), self.auth.devices)
        self.origins = OriginPolicy(
            config.allowed_origins,
            config.allowed_hosts,
            config.bind_host,
            (config.public_url,) if config.public_url else (),
        )
        self.reach = Reach(config.public_url, config.tls_ca)
        self.gate = ConnectionGate(config.connection_limits, config.trusted_proxies)
        # the sitting and what follows it
        self.store = SQLStore(config.db_url, config.escrow_dir or data / "escrow")
        self.sitting = Sitting(self.store, config.agenda)
        # on PostgreSQL several servers may share the sitting: one leads, the others stand by
        self.leadership = None if self.store.is_sqlite else Leadership(self.store.url, config.lease)
        if self.leadership is not None:
            self.store.fence = self.leadership.fence
        self.follower: Follower | None = None
        self.leading = False
        # bound now, so a port in use stops `serve` before it takes the lock
        self.readiness = (
            None
            if config.ready_port is None
            else ReadinessPort(config.bind_host or "127.0.0.1", config.ready_port, self.status)
        )
        # called on any thread when this server stops leading; `serve` exits (server/cli_standby.py)
        self.on_step_down: Callable[[str], None] = lambda why: None
        self._standby: asyncio.Task[None] | None = None
        limits = config.limits
        budget = Budget(limits.max_queued_messages, limits.max_queued_bytes, limits.max_queued_bytes_total)
        self.hub = Hub(self.sitting, limits.idle_timeout, budget)
        self.issuer = Issuer(self.sitting, data, self.key, config.printer, config.issue_retry)
        self.collector = CollectorPolicy()
        self.welcomes = WelcomeCache()

    def app(self) -> HemicycleApp:
        """The ASGI application; its lifespan starts and stops this assembly."""
        folders = PageFolders.installed(seat=package_folder("terminal_client", "static"))
        sitting, identities = self.sitting, self.identities
        documents = DocumentRoutes(
            sitting, identities, self.blobs, self.renderer, self.pages, self.config.document_limits, self.opener
        )
        records = RecordRoutes(sitting, identities, self.issuer, self.key)
        endpoint = Endpoint(sitting, self.hub, identities, self.config.limits, self.welcomes, self.origins)
        app = HemicycleApp(
            endpoint,
            self.origins,
            routes=[
                health_route(sitting),
                ready_route(self.status),
                step_down_route(identities, self.step_down),
                *documents.routes(),
                *records.routes(),
                *page_routes(
                    folders, self.auth, self.origins, sitting, identities, self.creds, self.hub.close_device, self.reach
                ),
            ],
            lifespan=self._lifespan,
        )
        app.leading = lambda: self.leading
        app.state.assembly = self  # for tests and the command line, never for handlers
        return app

    def uvicorn_config(self, app: HemicycleApp, **options: object) -> uvicorn.Config:
        """How uvicorn runs ``app`` (built by :meth:`app`): guarded protocols, caps, timeouts
        (server/edge/serving.py); ``options`` go to uvicorn (host, port, log_level, ...)."""
        return uvicorn_config(app, self.gate, **options)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def start(self) -> None:
        """Lead at once, or (PostgreSQL, another server leads) follow the log until the lock is ours."""
        favour_writer_thread()
        if self.readiness is not None:
            await self.readiness.start()
        if self.leadership is not None:
            loop = asyncio.get_running_loop()
            self.leadership.on_lost = self._lost
            if not await asyncio.to_thread(self.leadership.try_acquire):
                self.follower = Follower(self.store, self.leadership)
                self._standby = loop.create_task(self._stand_by())
                return
        await self._lead(None)

    async def _stand_by(self) -> None:
        assert self.follower is not None and self.leadership is not None
        try:
            warm = await asyncio.to_thread(self.follower.wait_to_lead)
            if warm is None:  # stopped while standing by
                return
            began = time.monotonic()
            await self._lead(warm)
            log.info("took over the sitting: serving %.2f s after taking the lock", time.monotonic() - began)
        except Exception as exc:
            log.exception("taking over failed")
            self.leadership.release()  # a lock held by a server that does not serve blocks the others
            self._lost(f"taking over failed: {exc}")

    def status(self) -> dict[str, object]:
        """What ``GET /ready`` says: whether this server leads, its log position and epoch."""
        lead = self.leadership
        seq = self.sitting.durable_seq if self.leading or self.follower is None else self.follower.seq
        return {"leading": self.leading, "seq": seq, "epoch": lead.epoch if lead else None}

    def _lost(self, why: str) -> None:
        """Another server leads now (this one was fenced or lost its lock): stop serving.

        Called on the thread that found out (the heartbeat, or the writer in a fenced commit),
        before that commit's failure is answered: `serve` exits there and then, so no client
        is told "unavailable" for a vote the new leader will take when it is re-sent."""
        self.leading = False
        self.on_step_down(why)

    async def step_down(self) -> None:
        """Planned switch-over: refuse new requests, commit what was decided, give up the lock."""
        if not self.leading or self.leadership is None:
            return
        self.leading = False
        await self.hub.stop()
        await self.sitting.stop()
        self.leadership.release()
        self.on_step_down("planned step-down")

    async def _lead(self, warm: Warm | None) -> None:
        sitting = self.sitting
        await sitting.start(warm)
        stored = sitting.meeting.agenda.source
        if not self.config.resume and sittings.identity(stored) != sittings.identity(self.config.agenda.source):
            await sitting.stop()
            raise sittings.OtherSitting(
                sittings.refusal(self.config.db_url, stored, "the agenda", self.config.agenda.source)
            )
        # every listener of the sitting, with the event kinds it follows
        sitting.subscribe(self.hub.publish)  # every kind: the hub decides who sees what
        sitting.subscribe(self.collector, CollectorPolicy.KINDS)
        sitting.subscribe(self.pages.on_event, RenderPool.KINDS)
        sitting.subscribe(self.issuer.on_event, Issuer.KINDS)
        self.issuer.catch_up()  # a closed ballot always gets its certificate, even across a stop
        sitting.subscribe(OperationsLog(), OperationsLog.KINDS)
        self._follow_documents()
        self.hub.start()
        public = self.key.public_key()
        await sitting.execute(c.RecordServerKey(cert.public_key_pem(public), cert.public_key_fingerprint(public)))
        await self._add_agenda_documents()
        self.leading = True

    def _follow_documents(self) -> None:
        """Pre-render pages of every document the record holds (after a restart); pause while
        a ballot is open (server/documents/render_pool.py)."""
        meeting = self.sitting.meeting
        run = meeting.open_run()
        if run is not None and run.status == "open":
            self.pages.pause()
        for doc in meeting.documents.docs.values():
            if not doc.recalled:
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
                limits=self.config.document_limits,
                opener=self.opener,
            )
            await self.sitting.execute(c.AddDocument(info.to_dict(), spec.id, True))

    async def stop(self) -> None:
        if self.readiness is not None:
            await self.readiness.stop()
        if self.follower is not None:
            self.follower.stop.set()
        if self._standby is not None:
            await asyncio.gather(self._standby, return_exceptions=True)
        await self.issuer.stop()
        self.issuer.close()
        await self.pages.close()
        await asyncio.to_thread(self.opener.close)
        self.auth.close()
        await self.hub.stop()
        await self.sitting.stop()
        if self.leadership is not None:
            self.leadership.release()
        self.store.close()
        self.collector.close()


def create_app(config: ServerConfig) -> HemicycleApp:
    """Build a server for ``config``: what `hemicycle serve` runs and the tests start."""
    return Assembly(config).app()
