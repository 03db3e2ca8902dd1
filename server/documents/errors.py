"""The one exception type of the document library.

Every rejection carries a stable machine code (clients branch on it, translations key on it)
and a human message (shown to the clerk as is). The HTTP layer maps codes to status codes;
nothing here knows about HTTP.
"""

from __future__ import annotations

from typing import Final

#: Stable error codes. Add new ones; never rename or reuse one (clients switch on them).
CODES: Final[frozenset[str]] = frozenset(
    {
        "empty_file",  # zero bytes uploaded
        "too_large",  # over Limits.max_bytes
        "unsupported_type",  # neither PDF, PNG nor JPEG
        "not_a_pdf",  # named or declared .pdf / application/pdf but the bytes are not a PDF
        "malformed_pdf",  # starts like a PDF but is truncated or corrupt
        "encrypted_pdf",  # needs a password (or uses an unsupported security handler)
        "too_many_pages",  # over Limits.max_pages
        "malformed_image",  # PNG/JPEG that does not decode
        "image_too_large",  # pixel count over Limits.max_image_pixels (decompression bomb guard)
        "bad_metadata",  # DocumentInfo field out of its domain
        "bad_digest",  # a sha256 that is not 64 lowercase hex digits (never touches the disk)
        "not_found",  # no blob with that digest
        "page_out_of_range",  # page index < 0 or >= page count
        "bad_width",  # render width not in the configured set
        "no_cjk_font",  # no font able to draw Chinese names for watermarks
        "render_failed",  # a page could not be rendered (reported once, not retried for ever)
        "too_complex",  # opening or rendering needs more memory or time than a worker may use
    }
)


class DocumentError(Exception):
    """A document was refused or an operation on one cannot proceed.

    Raised before anything is written, so a caller that catches it knows nothing changed.
    """

    def __init__(self, code: str, message: str) -> None:
        if code not in CODES:  # a typo here would silently break clients
            raise ValueError(f"unknown document error code {code!r}")
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    def to_dict(self) -> dict[str, str]:
        """The wire shape used by the rest of the protocol: ``{"code", "message"}``."""
        return {"code": self.code, "message": self.message}
