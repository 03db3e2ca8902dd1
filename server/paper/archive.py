"""The sitting's archive: one ZIP file that proves itself on another machine, offline.

``hemicycle archive --db URL --out FILE.zip`` writes the record as a fresh SQLite file
(``record.db``: every table copied in one read transaction, the urn in the order of its
random ids — whatever the source database was, SQLite or PostgreSQL), the tally
certificates, the sitting record, the documents as uploaded, the public key that signs the
certificates, and ``manifest.json`` with the SHA-256 of every file. Nothing secret goes in:
no token, no password, no private key, no escrowed ballot key.

``hemicycle verify --archive FILE.zip`` checks, without the server or its database: every
file against the manifest (and no file beside it), the record's chain and every recount,
and every certificate PDF against the record under the archived public key.

A ZIP from elsewhere is hostile input: member names are checked against a fixed grammar
(no paths, no links), sizes are bounded before anything is extracted.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, insert, select

from ..core import events as e
from ..store.sql import SQLStore
from ..store.urn_keys import SEALED, MissingKey
from .head import HEAD_FILE, head_from
from .verification import verify_certificate, verify_store

MANIFEST = "manifest.json"
RECORD_DB = "record.db"
PUBLIC_KEY = "public-key.pem"
SITTING_RECORD = "sitting-record.pdf"
MAX_MEMBER_BYTES = 2 << 30  # no single file of a sitting comes near this
MAX_MEMBERS = 100_000
# what may be inside: fixed top-level names, certificates and documents by derived names
MEMBER_NAME = re.compile(
    r"(manifest\.json|record\.db|public-key\.pem|sitting-record\.pdf|operations\.log|log-head\.txt"
    r"|certificates/[A-Za-z0-9._-]{1,200}\.pdf|documents/[A-Za-z0-9._-]{1,200})"
)
EXTENSIONS = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}


class ArchiveError(Exception):
    """The archive cannot be written, or is not a sound Hemicycle archive (the message says why)."""


@dataclass
class Checked:
    """What ``verify_archive`` found: ``problems`` empty means the archive holds."""

    files: int = 0
    entries: int = 0
    ballots: int = 0
    certificates: int = 0
    problems: list[str] = field(default_factory=list)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def copy_record(db_url: str, target: Path) -> None:
    """Every table of the record into a fresh SQLite file, read in one transaction.

    Rows are written ordered by their keys: the urn by its random entry ids, so the copy
    carries no trace of the order in which choices were cast."""
    source = create_engine(db_url if "://" in db_url else f"sqlite:///{db_url}")
    dest = create_engine(f"sqlite:///{target}")
    try:
        tables = MetaData()
        tables.reflect(source)
        tables.create_all(dest)
        with source.connect() as read, dest.begin() as write:
            if source.dialect.name == "postgresql":
                read.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            for table in tables.sorted_tables:
                keys = list(table.primary_key.columns) or list(table.columns)
                rows = [dict(row._mapping) for row in read.execute(select(table).order_by(*keys))]
                if rows:
                    write.execute(insert(table), rows)
    finally:
        source.dispose()
        dest.dispose()


def _open_runs(store: SQLStore) -> list[str]:
    """Ballot runs still open or held: their urn is not sealed yet."""
    state: dict[tuple[str, int], str] = {}
    for entry in store.load().entries:
        name = entry.name
        if name in ("ballot.opened", "ballot.held", "ballot.resumed", "ballot.closed", "ballot.voided"):
            body = json.loads(entry.body)
            state[(body["ballot"], body["run"])] = name
    return [f"{b} (run {r})" for (b, r), s in state.items() if s in ("ballot.opened", "ballot.held", "ballot.resumed")]


def make_archive(db_url: str, data_dir: Path, out: Path) -> dict[str, Any]:
    """Write the archive of the sitting in ``db_url`` (files from ``data_dir``) to ``out``."""
    if out.exists():
        raise ArchiveError(f"{out} exists already: an archive is never overwritten")
    store = SQLStore(db_url)
    try:
        try:
            stored = store.load()
        except MissingKey as exc:  # encrypted choices whose key is elsewhere (or gone)
            raise ArchiveError(
                f"a secret ballot's urn is still encrypted ({exc}); start the server once with its escrow "
                "folder — it seals closed ballots before it serves — then archive"
            ) from None
        if not stored.entries:
            raise ArchiveError("the database holds no sitting")
        still_open = _open_runs(store)
        if still_open:
            raise ArchiveError(f"close these ballots first (their urns are sealed at close): {', '.join(still_open)}")
        if any(u.choice.startswith(SEALED) for u in stored.urn):
            raise ArchiveError(
                "a closed secret ballot's urn is still encrypted (the server stopped before sealing it): "
                "start the server once with its escrow folder — it seals closed ballots before it serves — "
                "then archive"
            )
        events = [e.from_data(json.loads(entry.body)) for entry in stored.entries]
    finally:
        store.close()
    keys = [ev.public_key for ev in events if isinstance(ev, e.ServerKeyRecorded)]
    documents = [ev.info for ev in events if isinstance(ev, e.DocumentAdded)]
    with tempfile.TemporaryDirectory(prefix="hemicycle-archive-") as tmp:
        work = Path(tmp)
        files: dict[str, Path] = {}
        copy_record(db_url, work / RECORD_DB)
        files[RECORD_DB] = work / RECORD_DB
        if keys:
            (work / PUBLIC_KEY).write_text(keys[-1])
            files[PUBLIC_KEY] = work / PUBLIC_KEY
        for name in (SITTING_RECORD, "operations.log", HEAD_FILE):
            if (data_dir / name).is_file():
                files[name] = data_dir / name
        for pdf in sorted((data_dir / "certificates").glob("*.pdf")):
            files[f"certificates/{pdf.name}"] = pdf
        listed = []
        for info in documents:
            blob = data_dir / "blobs" / info["sha256"][:2] / info["sha256"][2:]
            name = f"documents/{info['id']}{EXTENSIONS.get(info.get('mime', ''), '')}"
            if blob.is_file():
                files[name] = blob
            listed.append({"file": name, "title": info.get("title"), "present": blob.is_file()})
        head = stored.entries[-1]
        manifest = {
            "format": "hemicycle-archive/1",
            "created_at": round(time.time(), 3),
            "head": {"seq": head.seq, "hash": head.hash},
            "documents": listed,
            "files": {name: {"sha256": _sha256(path), "bytes": path.stat().st_size} for name, path in files.items()},
        }
        tmp_out = out.with_name(out.name + ".partial")
        with zipfile.ZipFile(tmp_out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            for name, path in files.items():
                zf.write(path, name)
        tmp_out.chmod(0o600)
        tmp_out.replace(out)
    return manifest


def _extract(zf: zipfile.ZipFile, into: Path) -> None:
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise ArchiveError(f"{len(infos)} files: not a Hemicycle archive")
    for info in infos:
        if not MEMBER_NAME.fullmatch(info.filename) or info.is_dir():
            raise ArchiveError(f"unexpected file in the archive: {info.filename!r}")
        if info.file_size > MAX_MEMBER_BYTES:
            raise ArchiveError(f"{info.filename}: {info.file_size} bytes, more than any sitting's file")
    for info in infos:
        target = into / info.filename
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, target.open("wb") as dst:
            copied = 0
            for block in iter(lambda: src.read(1 << 20), b""):
                copied += len(block)
                if copied > info.file_size:  # the header lied about the size
                    raise ArchiveError(f"{info.filename}: larger than its header says")
                dst.write(block)


def verify_archive(path: Path) -> Checked:
    """Check an archive offline; every problem found is listed, none means it holds."""
    found = Checked()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise ArchiveError(f"{path} is not a readable ZIP file: {exc}") from None
    with zf, tempfile.TemporaryDirectory(prefix="hemicycle-verify-") as tmp:
        work = Path(tmp)
        _extract(zf, work)
        try:
            manifest = json.loads((work / MANIFEST).read_text())
            listed: dict[str, Any] = manifest["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArchiveError(f"the manifest cannot be read: {exc}") from None
        present = {p.relative_to(work).as_posix() for p in work.rglob("*") if p.is_file()} - {MANIFEST}
        for name in sorted(present - set(listed)):
            found.problems.append(f"{name} is in the archive but not in its manifest")
        for name, meta in sorted(listed.items()):
            if name not in present:
                found.problems.append(f"{name} is in the manifest but missing")
            elif _sha256(work / name) != meta.get("sha256"):
                found.problems.append(f"{name} does not match its checksum in the manifest")
        found.files = len(present)
        if RECORD_DB not in present:
            found.problems.append("the archive holds no record")
            return found
        key = (work / PUBLIC_KEY).read_text() if (work / PUBLIC_KEY).is_file() else None
        try:
            heads = [head_from(str(work / HEAD_FILE), key)] if (work / HEAD_FILE).is_file() else []
        except ValueError as exc:
            found.problems.append(f"{HEAD_FILE}: {exc}")
            heads = []
        store = SQLStore(str(work / RECORD_DB), work / "escrow")
        try:
            findings = verify_store(store, heads, work)
            found.entries, found.ballots = findings.report.entries, findings.report.ballots_checked
            found.problems += [str(p) for p in [*findings.report.problems, *findings.problems]]
            head = manifest.get("head") or {}
            entries = store.load().entries
            if len(entries) != head.get("seq") or (entries and entries[-1].hash != head.get("hash")):
                found.problems.append(f"the record does not end at the head the manifest names ({head})")
            for pdf in sorted((work / "certificates").glob("*.pdf")):
                ok, message = verify_certificate(str(pdf), store, key)
                found.certificates += 1
                if not ok:
                    found.problems.append(f"certificates/{pdf.name}: {message}")
        finally:
            store.close()
    return found
