"""Upload → validated, stored document: the single entry point for new documents.

Validation runs completely before the first byte is written, so a refused upload leaves the
store exactly as it was (the guarantee "bad input changes nothing").
"""

from __future__ import annotations

from collections.abc import Iterable

from .blobs import BlobStore, DocumentInfo, mint_document_id
from .validate import Limits, validate
from .worker_processes import Opener


def ingest(
    store: BlobStore,
    data: bytes,
    *,
    title: str,
    item_id: str,
    audience: str = "everyone",
    classification: str = "public",
    readers: Iterable[str] = (),
    filename: str = "",
    declared_type: str | None = None,
    limits: Limits = Limits(),
    opener: Opener | None = None,
) -> DocumentInfo:
    """Validate ``data``, store it, and return its metadata with a freshly minted id.

    Metadata is checked (by building the DocumentInfo with a placeholder digest) before the
    file is stored, so a bad audience is refused without leaving an orphan blob behind.
    Raises DocumentError on any refusal. ``opener``: where PDFs are opened (validate).
    """
    checked = validate(data, filename=filename or None, declared_type=declared_type, limits=limits, opener=opener)
    fields = dict(
        id=mint_document_id(),
        title=title,
        item_id=item_id,
        audience=audience,
        classification=classification,
        page_count=checked.page_count,
        size=checked.size,
        mime=checked.mime,
        filename=filename,
        readers=tuple(readers),
    )
    DocumentInfo(sha256="0" * 64, **fields)  # type: ignore[arg-type]  # raises bad_metadata early
    sha = store.put(data)
    return DocumentInfo(sha256=sha, **fields)  # type: ignore[arg-type]
