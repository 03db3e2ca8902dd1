"""Content-addressed file store, page-image cache directory, and document metadata.

Files live under ``<data_dir>/blobs/ab/cdef…`` named by their SHA-256: the name proves the
content, identical uploads share one file, and nothing is ever overwritten with different
bytes, so a blob can be served with a strong ETag forever. Writes are atomic (temporary file
in the same directory, fsync, rename, fsync of the directory): after a crash a blob is either
whole or absent, never half-written under its final name.

Metadata is a plain frozen dataclass (:class:`DocumentInfo`) because the event log, not this
module, is the record of which documents exist; the store only holds bytes.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import DocumentError

Audience = Literal["everyone", "members", "observers", "named"]
Classification = Literal["public", "internal", "confidential"]
AUDIENCES: tuple[str, ...] = ("everyone", "members", "observers", "named")
CLASSIFICATIONS: tuple[str, ...] = ("public", "internal", "confidential")

_DIGEST = re.compile(r"[0-9a-f]{64}")


def mint_document_id() -> str:
    """A fresh, unguessable document id (128 random bits, URL-safe, of the one id grammar).

    Ids appear in URLs; being unguessable means knowing one document's URL reveals nothing
    about another's. Access control still has to be enforced by the HTTP layer.
    """
    return "d" + secrets.token_urlsafe(16)  # a letter first: the id grammar (server/core/bounds.py)


def check_digest(sha256: str) -> str:
    """Return ``sha256`` if it is 64 lowercase hex digits, else raise ``bad_digest``.

    Digests arrive from URLs; checking the shape first means no caller-supplied string can
    ever become a path component such as ``../``.
    """
    if not isinstance(sha256, str) or not _DIGEST.fullmatch(sha256):
        raise DocumentError("bad_digest", "a document digest is 64 lowercase hexadecimal characters")
    return sha256


@dataclass(frozen=True)
class DocumentInfo:
    """Everything the sitting needs to know about one document; goes into the event log.

    ``readers`` lists member/observer ids and is used only when ``audience == "named"``.
    ``page_count`` is 1 for images.
    """

    id: str
    title: str
    item_id: str
    audience: Audience
    classification: Classification
    page_count: int
    sha256: str
    size: int
    mime: str
    filename: str = ""
    readers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.audience not in AUDIENCES:
            raise DocumentError("bad_metadata", f"audience must be one of {', '.join(AUDIENCES)}")
        if self.classification not in CLASSIFICATIONS:
            raise DocumentError("bad_metadata", f"classification must be one of {', '.join(CLASSIFICATIONS)}")
        if self.audience == "named" and not self.readers:
            raise DocumentError("bad_metadata", "a document for named readers must list at least one reader")
        if self.audience != "named" and self.readers:
            raise DocumentError("bad_metadata", "readers may only be listed when audience is 'named'")
        if not self.title.strip():
            raise DocumentError("bad_metadata", "a document needs a title")
        if self.page_count < 1 or self.size < 1:
            raise DocumentError("bad_metadata", "page_count and size must be positive")
        check_digest(self.sha256)

    @property
    def watermarked(self) -> bool:
        """Confidential documents leave the server only as per-reader watermarked page images."""
        return self.classification == "confidential"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form for the event log (readers as a list)."""
        out = asdict(self)
        out["readers"] = list(self.readers)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DocumentInfo:
        """Inverse of :meth:`to_dict`; validates like the constructor."""
        fields = dict(data)
        fields["readers"] = tuple(fields.get("readers", ()))
        return cls(**fields)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either nothing or all of it.

    The temporary file is in the destination directory so the rename never crosses file
    systems; fsync before rename so the name cannot point at unwritten blocks after a power
    cut; fsync of the directory so the rename itself is durable.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms without directory handles (Windows): rename is the best we get
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class BlobStore:
    """Bytes by SHA-256 under ``data_dir/blobs``, plus ``data_dir/pages`` for rendered pages.

    Safe to use from several threads and processes at once: writers never share a temporary
    file, and two writers of the same blob rename identical bytes onto the same name.
    """

    def __init__(self, data_dir: Path | str) -> None:
        self.root = Path(data_dir)
        self.blob_dir = self.root / "blobs"
        self.page_dir = self.root / "pages"

    def path(self, sha256: str) -> Path:
        """Where the blob with this digest lives (whether or not it exists)."""
        check_digest(sha256)
        return self.blob_dir / sha256[:2] / sha256[2:]

    def put(self, data: bytes) -> str:
        """Store ``data`` (once) and return its SHA-256 hex digest."""
        sha = hashlib.sha256(data).hexdigest()
        target = self.path(sha)
        if not target.exists():
            atomic_write(target, data)
        return sha

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def get(self, sha256: str) -> bytes:
        """The blob's bytes; ``not_found`` if absent."""
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            raise DocumentError("not_found", f"no stored document with digest {sha256}") from None

    def require(self, sha256: str) -> Path:
        """The blob's path, or ``not_found``; for callers that open the file themselves."""
        p = self.path(sha256)
        if not p.is_file():
            raise DocumentError("not_found", f"no stored document with digest {sha256}")
        return p

    def page_cache_dir(self, sha256: str) -> Path:
        """Directory holding rendered pages of one blob (deletable at any time: it is a cache)."""
        check_digest(sha256)
        return self.page_dir / sha256[:2] / sha256
