"""``hemicycle verify``, ``verify-certificate``, ``archive`` and ``export``: the commands that
read a sitting's record after the fact (server/paper), apart from those that run one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _archive(args: argparse.Namespace) -> int:
    from .paper.archive import ArchiveError, make_archive

    if args.data_dir is None and "://" in args.db:
        print("give --data-dir: the folder with the sitting's certificates and documents", file=sys.stderr)
        return 2
    data_dir = Path(args.data_dir) if args.data_dir else Path(args.db).parent
    try:
        manifest = make_archive(args.db, data_dir, Path(args.out))
    except ArchiveError as exc:
        print(f"no archive written: {exc}", file=sys.stderr)
        return 1
    head = manifest["head"]
    print(
        f"wrote {args.out}: {len(manifest['files'])} files, the record up to entry {head['seq']} ({head['hash'][:16]}…)"
    )
    return 0


def _verify_archive(path: str) -> int:
    from .paper.archive import ArchiveError, verify_archive

    try:
        found = verify_archive(Path(path))
    except ArchiveError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    if not found.problems:
        print(
            f"OK: {found.files} files match the manifest, {found.entries} log entries chained, "
            f"{found.ballots} ballot results recomputed and equal, {found.certificates} certificate PDFs match the record"
        )
        return 0
    print(f"FAILED: {found.problems[0]}", file=sys.stderr)
    for problem in found.problems[1:]:
        print(f"  also: {problem}", file=sys.stderr)
    return 1


def _verify(args: argparse.Namespace) -> int:
    """The record, and the heads and certificates it must account for.

    A head, or a data folder, is a verdict: the log must reach the head, and know every
    certificate there. An SQLite database in the folder where the server keeps its head file
    is checked against that folder without being asked: a cut tail must fail, not pass with a
    remark. (A backup is verified from a folder of its own: docs/operations.md.)
    """
    from .paper.head import HEAD_FILE, head_from, parse_head
    from .paper.verification import verify_store
    from .store.sql import SQLStore, normalize_url

    if args.archive:
        return _verify_archive(args.archive)
    url = normalize_url(args.db)
    beside = Path(url.split("///", 1)[-1]).parent if url.startswith("sqlite") else None
    data_dir = Path(args.data_dir) if args.data_dir else None
    if data_dir is None and beside is not None and (beside / HEAD_FILE).is_file():
        data_dir = beside  # the sitting's own folder: its head and certificates are the anchors
    key = Path(args.key).read_text() if args.key else None
    try:
        heads = [parse_head(text) for text in args.head or []]
        sources = list(args.head_from or [])
        if data_dir is not None and (data_dir / HEAD_FILE).is_file():
            sources.append(str(data_dir / HEAD_FILE))  # the head the server last wrote there
        heads += [head_from(source, key) for source in sources]
    except ValueError as exc:
        print(f"cannot use the head: {exc}", file=sys.stderr)
        return 2
    store = SQLStore(args.db, args.escrow_dir)
    try:
        found = verify_store(store, heads, data_dir)
    finally:
        store.close()
    report = found.report
    if found.ok:
        shown = dict.fromkeys(f"{h.seq}:{h.hash[:12]}…" for h in heads)
        reached = f", the log reaches {', '.join(shown)}" if heads else ""
        print(
            f"OK: {report.entries} log entries chained, {report.ballots_checked} ballot results recomputed and equal, "
            f"{found.certificates_checked} certificates match the record{reached}"
        )
        return 0
    problems = found.problems + report.problems
    print(f"FAILED: first problem at {problems[0]}", file=sys.stderr)
    for problem in problems[1:]:
        print(f"  also: {problem}", file=sys.stderr)
    return 1


def _verify_certificate(args: argparse.Namespace) -> int:
    from .paper.verification import verify_certificate
    from .store.sql import SQLStore

    key = Path(args.key).read_text() if args.key else None
    store = SQLStore(args.db)
    try:
        ok, message = verify_certificate(args.certificate, store, key)
    finally:
        store.close()
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def _export(args: argparse.Namespace) -> int:
    from .paper.export import export
    from .store.sql import SQLStore

    store = SQLStore(args.db)
    try:
        message = export(store, args.format, Path(args.out) if args.out else None)
    except ValueError as exc:
        print(f"cannot export: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if args.out:
        print(message)
    return 0


def add_record_commands(sub: argparse._SubParsersAction) -> None:
    verify = sub.add_parser("verify", help="check the log's chain and recompute every tally")
    source = verify.add_mutually_exclusive_group(required=True)
    source.add_argument("--db", help="the sitting's database (SQLite path or postgresql://...)")
    source.add_argument("--archive", help="an archive written by `hemicycle archive`: checked offline")
    verify.add_argument(
        "--head",
        action="append",
        metavar="SEQ:HASH",
        help="a log head copied down earlier (printed on the record, shown on the console): the log must still reach it",
    )
    verify.add_argument(
        "--head-from",
        action="append",
        metavar="FILE",
        help="take the head from a file: log-head.txt, a certificate PDF or the sitting record PDF",
    )
    verify.add_argument(
        "--data-dir",
        help="the sitting's data folder: the log must reach its log-head.txt and know its certificates "
        "(default: the SQLite file's folder when the server keeps its log-head.txt there)",
    )
    verify.add_argument("--key", help="the sitting's public key (PEM) to check signed heads against")
    verify.add_argument("--escrow-dir", help="the escrow folder, if a secret ballot is still open")
    verify.set_defaults(run=_verify)

    arc = sub.add_parser("archive", help="write the sitting's record, certificates and documents to one ZIP file")
    arc.add_argument("--db", required=True, help="the sitting's database (SQLite path or postgresql://...)")
    arc.add_argument("--data-dir", help="the sitting's data folder (default: the SQLite file's folder)")
    arc.add_argument("--out", required=True, help="the ZIP file to write (never overwritten)")
    arc.set_defaults(run=_archive)

    vc = sub.add_parser("verify-certificate", help="check a tally certificate against the record")
    vc.add_argument("certificate", help="the certificate PDF, or the payload text (HC1:...) read from its QR code")
    vc.add_argument("--db", required=True)
    vc.add_argument("--key", help="the public key PEM printed in the sitting record (default: the log's)")
    vc.set_defaults(run=_verify_certificate)

    exp = sub.add_parser("export", help="write attendance and results for archives")
    exp.add_argument("--db", required=True)
    exp.add_argument("--format", choices=["json", "csv", "xlsx"], default="json")
    exp.add_argument(
        "--out",
        help="JSON: a file (default: standard output); CSV: a folder; XLSX: a file (default: sitting.xlsx)",
    )
    exp.set_defaults(run=_export)
