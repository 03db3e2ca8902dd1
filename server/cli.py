"""The server's commands of `hemicycle`: serve a sitting, verify a record, certificates, export,
documents, the clerk's password. The command itself (hemicycle/cli.py) adds the keypad bridge
and the simulators, which the server package knows nothing of."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from . import cli_standby as standby_cli
from .cli_record import add_record_commands
from .core.errors import AgendaError


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .assemble import Assembly, ServerConfig
    from .core.agenda import agenda_from_dict
    from .documents import DocumentError
    from .edge.serving import ConnectionLimits
    from .live import sittings
    from .live.agenda_file import explain as explain_agenda
    from .live.agenda_file import load_agenda
    from .store.sql import SQLStore

    # uvicorn shuts down gracefully on SIGTERM/SIGINT and then raises the signal again for
    # the handler that was there before it: that one must let the process end with status 0,
    # so a service manager's stop (systemd sends SIGTERM) or Ctrl-C is not "killed by signal".
    # Before uvicorn serves, the same signal simply ends the start.
    serving = [False]

    def stop(signum: int, frame: object) -> None:
        if not serving[0]:
            raise SystemExit(0)

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, stop)
    try:
        agenda = load_agenda(args.agenda)
    except AgendaError as exc:
        print(explain_agenda(args.agenda, exc), file=sys.stderr)
        return 2
    os.umask(0o077)  # everything serve creates (database, WAL, certificates, keys) is the owner's alone
    store = SQLStore(args.db, args.escrow_dir or Path(args.data_dir) / "escrow")
    try:
        stored = sittings.stored_agenda(store)
    finally:
        store.close()
    if stored is not None and sittings.identity(stored) != sittings.identity(agenda.source):
        if not args.resume:
            print(sittings.refusal(args.db, stored, args.agenda, agenda.source), file=sys.stderr)
            return 2
        agenda = agenda_from_dict(stored, "log")  # the record's own agenda: the file is not used
    from .edge.network import check_public_url

    try:
        public_url = check_public_url(args.public_url) if args.public_url else None
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    tls_ca = Path(args.tls_ca) if args.tls_ca else None
    if tls_ca is None and args.tls_cert and (Path(args.tls_cert).parent / "ca.pem").is_file():
        tls_ca = Path(args.tls_cert).parent / "ca.pem"  # `hemicycle tls init` writes them side by side
    limits = ConnectionLimits(
        max_connections=args.max_connections,
        max_per_address=args.max_connections_per_address,
    )
    config = ServerConfig(
        agenda=agenda,
        db_url=args.db,
        credentials_path=Path(args.credentials),
        data_dir=Path(args.data_dir),
        allowed_origins=tuple(args.allow_origin or ()),
        allowed_hosts=tuple(args.allow_host or ()),
        bind_host=args.host,
        trusted_proxies=tuple(args.trusted_proxy or ()),
        connection_limits=limits,
        printer=args.printer,
        agenda_dir=Path(args.agenda).resolve().parent,
        render_workers=args.render_workers,
        resume=args.resume,
        escrow_dir=Path(args.escrow_dir) if args.escrow_dir else None,
        public_url=public_url,
        tls_ca=tls_ca,
        lease=args.lease,
        ready_port=args.ready_port,
    )
    try:
        assembly = Assembly(config)
    except sittings.OtherSitting as exc:
        print(exc, file=sys.stderr)
        return 2
    except DocumentError as exc:  # e.g. no_cjk_font: one line naming what to install, never a traceback
        print(f"Cannot serve this sitting: {exc.message}", file=sys.stderr)
        return 2
    app = assembly.app()
    assembly.on_step_down = standby_cli.exit_on_step_down
    if bool(args.tls_cert) != bool(args.tls_key):
        print("give both --tls-cert and --tls-key (see: hemicycle tls init)", file=sys.stderr)
        return 2
    print(banner(assembly, args), flush=True)
    from .live import oplog

    oplog.attach_file(Path(args.ops_log) if args.ops_log else Path(args.data_dir) / "operations.log")
    oplog.note("server.started", sitting=agenda.meeting.title, host=args.host, port=args.port, tls=bool(args.tls_cert))
    serving[0] = True
    served = assembly.uvicorn_config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        ssl_certfile=args.tls_cert,
        ssl_keyfile=args.tls_key,
    )
    uvicorn.Server(served).run()
    oplog.note("server.stopped")
    return 0


def banner(assembly: object, args: argparse.Namespace) -> str:
    """What `serve` prints: where to go and where the secrets are — never a secret itself (a
    terminal ends up in logs, screenshots and over-the-shoulder photos) — and, loudly, when
    tablets on the room network could not reach the addresses it prints."""
    from .assemble import Assembly
    from .edge.auth import first_run_notice
    from .edge.network import is_loopback_url, lan_addresses

    assert isinstance(assembly, Assembly)
    scheme = "https" if getattr(args, "tls_cert", None) else "http"
    everywhere = args.host in ("0.0.0.0", "::")
    lan = lan_addresses() if everywhere else []
    local = f"{scheme}://{'127.0.0.1' if everywhere else args.host}:{args.port}"
    base = assembly.config.public_url or (f"{scheme}://{lan[0]}:{args.port}" if lan else local)
    ws = base.replace("http", "ws", 1)
    seats = len(assembly.creds["seats"])
    notice = first_run_notice(assembly.auth) or "  clerk login  as set before (reset with: hemicycle console-password)"
    lines = [
        "",
        f"Hemicycle — {assembly.config.agenda.meeting.title}",
        f"  console      {base}/console",
        f"  pairing      {base}/console/pairing   (QR codes that pair each tablet and display wall; paired devices, revoke)",
        f"  websocket    {ws}/ws",
    ]
    if lan:
        lines.append(
            f"  room network {', '.join(f'{scheme}://{a}:{args.port}' for a in lan)}   (this machine's addresses)"
        )
    if assembly.reach.ca_cert is not None:
        lines.append(
            f"  room CA      {base}/ca.pem   (install on every tablet once; on the pairing sheet as a QR code)"
        )
    lines += [
        f"  credentials  {args.credentials}   (tokens for the keypad bridge and the simulators; mode 0600, never printed)",
        f"  record       {args.db}",
        notice,
    ]
    if is_loopback_url(base):
        lines += [
            "",
            "  !! Tablets on the room network cannot reach " + base + ": it is this machine only.",
            "  !! Serve on the network (make run HOST=0.0.0.0, or hemicycle serve --host 0.0.0.0) and give the",
            "  !! address tablets use: --public-url https://room.example:8443 (see docs/operations.md).",
        ]
    lines += [
        "",
        "Drive a whole sitting from another terminal:",
        f"  .venv/bin/hemicycle simulate tablets --url {local.replace('http', 'ws', 1)}/ws --token-file {args.credentials} "
        f"--seats {seats} --clerk",
        "",
    ]
    return "\n".join(lines)


def _sittings(args: argparse.Namespace) -> int:
    import datetime as dt

    from .live import sittings
    from .store.sql import SQLStore

    root = Path(args.data_root)
    found = 0
    for folder in sittings.folders(root):
        store = SQLStore(str(folder / sittings.DB_NAME))
        try:
            summary = sittings.summarize(folder, store)
        finally:
            store.close()
        if summary is None:
            continue
        found += 1
        last = dt.datetime.fromtimestamp(summary.last_at).strftime("%Y-%m-%d %H:%M") if summary.last_at else "-"
        print(
            f"{summary.folder}\t{summary.title} ({summary.date}, {summary.language})\t{summary.state}\t"
            f"{summary.ballots_closed}/{summary.ballots} ballots closed\t{summary.entries} log entries\tlast {last}"
        )
    if not found:
        print(f"no sittings under {root} (a sitting's folder holds {sittings.DB_NAME})", file=sys.stderr)
        return 1
    return 0


def _tls_init(args: argparse.Namespace) -> int:
    from .edge import tls

    try:
        files = tls.init(Path(args.out), list(args.name or []), list(args.ip or []))
    except ValueError as exc:
        print(f"cannot make the certificate: {exc}", file=sys.stderr)
        return 2
    print(tls.describe(files))
    print(f"serve with: hemicycle serve ... --tls-cert {files.cert} --tls-key {files.key}")
    return 0


def _console_password(args: argparse.Namespace) -> int:
    import getpass

    from .edge.auth import set_password

    password = args.password or getpass.getpass("new clerk password: ")
    if len(password) < 8:
        print("a clerk password needs at least 8 characters", file=sys.stderr)
        return 2
    set_password(Path(args.data_dir), password)
    print("the clerk password is set; restart `hemicycle serve` if it is running")
    return 0


def _docs_add(args: argparse.Namespace) -> int:
    """Upload through the running server: only the server appends to its log."""
    import json

    import httpx

    token = json.loads(Path(args.token_file).read_text())["clerk"]["token"]
    path = Path(args.file)
    form = {
        "title": args.title or path.stem,
        "item": args.item,
        "audience": args.audience,
        "classification": args.classification,
        "readers": ",".join(args.reader or []),
        "release": "false" if args.hold else "true",
    }
    try:
        with path.open("rb") as fh:
            response = httpx.post(
                f"{args.server.rstrip('/')}/api/documents",
                data=form,
                timeout=120,
                files={"file": (path.name, fh)},
                headers={"Authorization": f"Bearer {token}"},
            )
    except OSError as exc:
        print(f"cannot upload {path}: {exc}", file=sys.stderr)
        return 1
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code != 201:
        print(
            f"refused ({body.get('error', response.status_code)}): {body.get('message', response.text)}",
            file=sys.stderr,
        )
        return 1
    print(f"added {path.name}: document {body['id']}, {body['pages']} pages")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add the server's commands to the `hemicycle` command's subparsers."""

    serve = sub.add_parser("serve", help="run a sitting on an agenda file")
    serve.add_argument("--agenda", required=True, help="agenda TOML file")
    serve.add_argument("--db", default="var/hemicycle.db", help="SQLite path or database URL (postgresql://...)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--credentials", default="var/credentials.json", help="where tokens are written (JSON, 0600)")
    serve.add_argument("--data-dir", default="var", help="documents, certificates, keys")
    serve.add_argument("--allow-origin", action="append", help="extra browser origin allowed to connect")
    serve.add_argument(
        "--allow-host",
        action="append",
        metavar="NAME",
        help="a name clients reach this server by (besides loopback, its own addresses and host name)",
    )
    serve.add_argument(
        "--trusted-proxy",
        action="append",
        metavar="ADDRESS",
        help="a reverse proxy whose X-Forwarded-For is believed (none by default)",
    )
    serve.add_argument(
        "--max-connections", type=int, metavar="N", help="connections in all (default: from the open-file limit)"
    )
    serve.add_argument(
        "--max-connections-per-address",
        type=int,
        default=4000,
        metavar="N",
        help="connections from one address (tablets behind one NAT share one; default 4000)",
    )
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--printer", help="CUPS printer name: tally certificates are sent to it with lp")
    serve.add_argument(
        "--render-workers",
        type=int,
        metavar="N",
        help="processes rendering document pages (default: one fewer than the cores, at least 1)",
    )
    serve.add_argument(
        "--resume",
        action="store_true",
        help="the database holds another agenda than --agenda: continue that stored sitting with its own agenda",
    )
    serve.add_argument(
        "--ops-log", help="operational log, one JSON object per line (default: <data-dir>/operations.log)"
    )
    serve.add_argument(
        "--public-url",
        help="the URL tablets and walls open, e.g. https://room.example:8443 (pairing codes, printed URLs, Host/Origin)",
    )
    serve.add_argument(
        "--tls-ca", help="the room CA certificate offered to tablets at /ca.pem (default: ca.pem beside --tls-cert)"
    )
    serve.add_argument("--tls-cert", help="server certificate (PEM, with its chain): serve HTTPS and WSS on the port")
    serve.add_argument("--tls-key", help="the certificate's private key (PEM)")
    standby_cli.add_serve_options(serve)
    serve.add_argument(
        "--escrow-dir",
        help="where the keys of open secret ballots are kept until their close (default <data-dir>/escrow; "
        "put it apart from the database, e.g. on a tmpfs or another disk)",
    )
    serve.set_defaults(run=_serve)
    standby_cli.add_commands(sub)

    st = sub.add_parser("sittings", help="list the sittings under a data root, with their state")
    st.add_argument("--data-root", default="var", help="a folder of sitting folders (default var)")
    st.set_defaults(run=_sittings)

    tls = sub.add_parser("tls", help="certificates for HTTPS on the room network")
    tls_sub = tls.add_subparsers(dest="tls_command", required=True)
    tls_init = tls_sub.add_parser(
        "init", help="make the room's certificate authority (once) and a server certificate for these names/addresses"
    )
    tls_init.add_argument("--name", action="append", help="a host name tablets use, e.g. room.example (repeatable)")
    tls_init.add_argument("--ip", action="append", help="an IP address tablets use, e.g. 192.0.2.10 (repeatable)")
    tls_init.add_argument("--out", default="var/tls", help="folder for the CA and the certificate (default var/tls)")
    tls_init.set_defaults(run=_tls_init)

    add_record_commands(sub)

    docs = sub.add_parser("docs", help="documents of the running sitting")
    docs_sub = docs.add_subparsers(dest="docs_command", required=True)
    add = docs_sub.add_parser("add", help="add a document (PDF or image) and push it to its audience")
    add.add_argument("file")
    add.add_argument("--item", required=True, help="agenda item id")
    add.add_argument("--title")
    add.add_argument("--audience", default="everyone", choices=["everyone", "members", "observers", "named"])
    add.add_argument("--reader", action="append", help="with --audience named: a member id (repeatable)")
    add.add_argument("--classification", default="public", choices=["public", "internal", "confidential"])
    add.add_argument("--hold", action="store_true", help="add without pushing; release it later from the console")
    add.add_argument("--server", default="http://127.0.0.1:8000")
    add.add_argument("--token-file", default="var/credentials.json")
    add.set_defaults(run=_docs_add)

    pw = sub.add_parser("console-password", help="set the clerk's console password")
    pw.add_argument("--data-dir", default="var")
    pw.add_argument("--password", help="(default: ask)")
    pw.set_defaults(run=_console_password)
