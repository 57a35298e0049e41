"""Open an untrusted PDF strictly and refuse one that can do anything but show pages.

Policy: a bundle's PDF is what our agent writes, scanned page images with an invisible text
layer, and nothing a viewer could run or open. Any action (``/OpenAction``, ``/AA``, ``/A``,
including Launch, URI, JavaScript, SubmitForm, GoToR), script (``/JavaScript``, ``/JS``),
embedded or attached file, form (``/AcroForm``, ``/XFA``), multimedia or 3D content reachable
from the document's trailer makes it ``pdf_active_content``. The walk follows every reference
once, reads dictionaries only (no stream is decoded) and stops at a bound.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, PdfObject

from ingest.errors import BundleRejected, RejectCode

# Keys whose mere presence means an action, a script, a file inside the PDF, a form or media.
DENIED_KEYS = frozenset({
    "/OpenAction", "/AA", "/A", "/JavaScript", "/JS", "/Launch", "/URI", "/EmbeddedFiles",
    "/EmbeddedFile", "/RichMedia", "/RichMediaContent", "/AcroForm", "/XFA", "/3DD",
})
# Annotation subtypes that carry a file, media or 3D content (they need no action to play).
DENIED_SUBTYPES = frozenset({
    "/FileAttachment", "/RichMedia", "/Screen", "/Movie", "/Sound", "/3D", "/Widget",
})
# Far above what a 500-page scanned document holds (a few objects per page).
MAX_OBJECTS = 100_000


def check_pdf(pdf: bytes, name: str) -> int:
    """The page count of ``pdf``, parsed strictly; BundleRejected(PDF_UNREADABLE) when it does
    not parse or is encrypted, BundleRejected(PDF_ACTIVE_CONTENT) when it holds anything the
    policy above refuses."""
    if not pdf.startswith(b"%PDF-"):
        raise BundleRejected(RejectCode.PDF_UNREADABLE, f"{name} does not start with %PDF-")
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=True)
        encrypted = reader.is_encrypted
        pages = None if encrypted else _count_pages(reader)
        found = None if encrypted else _active_content(reader)
    # A hostile PDF can make pypdf raise nearly anything (KeyError, TypeError, RecursionError
    # besides its own errors); every one of them means this PDF is unreadable.
    except Exception as exc:
        raise BundleRejected(RejectCode.PDF_UNREADABLE,
                             f"{name} does not parse as a PDF: {type(exc).__name__}: {exc}"
                             ) from exc
    if pages is None:
        raise BundleRejected(RejectCode.PDF_UNREADABLE, f"{name} is encrypted")
    if found is not None:
        raise BundleRejected(RejectCode.PDF_ACTIVE_CONTENT,
                             f"{name} holds {found}; bundles carry scanned pages only")
    return pages


def _count_pages(reader: PdfReader) -> int:
    for page in reader.pages:
        _ = page.mediabox  # resolves each page object, not only the page tree's count
    return len(reader.pages)


def _active_content(reader: PdfReader) -> str | None:
    """The first refused key or subtype reachable from the trailer, or None."""
    for dictionary in _dictionaries(reader.trailer):
        for key in dictionary:
            if key in DENIED_KEYS:
                return str(key)
        subtype = dictionary.get("/Subtype")
        if isinstance(subtype, str) and subtype in DENIED_SUBTYPES:
            return f"a {subtype} annotation"
    return None


def _dictionaries(root: PdfObject) -> Iterator[DictionaryObject]:
    """Every dictionary (stream dictionaries included) reachable from ``root``, each once."""
    seen: set[tuple[int, int]] = set()
    stack: list[PdfObject | None] = [root]
    visited = 0
    while stack:
        item = stack.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > MAX_OBJECTS:
            raise ValueError(f"more than {MAX_OBJECTS} objects")
        if isinstance(item, DictionaryObject):
            yield item
            stack.extend(value for key, value in item.items() if key != "/Parent")
        elif isinstance(item, ArrayObject):
            stack.extend(item)
