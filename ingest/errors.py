"""Errors of the ingest, each with a stable code and a reason the backoffice can act on.

    IngestError
    └── BundleRejected   a bundle breaks the contract: it goes to quarantine with code + reason

Reasons are English (backoffice and logs) and never carry a full identity code: every reason is
passed through :func:`aspa_contract.hetu.redact` on the way in, whatever the caller wrote.
"""

from __future__ import annotations

import re
from enum import StrEnum

from aspa_contract.hetu import redact

# A reason is read by a person next to a quarantined bundle; a manifest can make a validator
# echo megabytes of its own text back, so reasons are cut to a readable length.
MAX_REASON_CHARS = 500
# redact() only masks codes standing alone; a validator echoing a field such as "x010594Y9032"
# would leak one glued to other text, so reasons also get this unanchored pass.
_GLUED_HETU = re.compile(r"(\d{6}[-+A-FU-Ya-fu-y])\d{3}([0-9A-Ya-y])")


class RejectCode(StrEnum):
    """Why a bundle was rejected. Stable: quarantine records, reports and alerts match on these."""

    BAD_KEY = "bad_key"  # object key is not incoming/{point_id}/{bundle_id}.zip
    TOO_LARGE = "too_large"  # the zip, or everything in it together, is over the limit
    NOT_A_ZIP = "not_a_zip"  # not a zip, corrupt, encrypted, or a zip feature bundles never use
    UNSAFE_ENTRY_NAME = "unsafe_entry_name"  # absolute, '..', backslash, drive letter, duplicate
    LINK_ENTRY = "link_entry"  # a symlink or other special file inside the zip
    TOO_MANY_ENTRIES = "too_many_entries"
    ENTRY_TOO_LARGE = "entry_too_large"
    ZIP_BOMB = "zip_bomb"  # compression ratio over the limit, or overlapping entries
    MANIFEST_MISSING = "manifest_missing"
    MANIFEST_TOO_LARGE = "manifest_too_large"  # over Limits.max_manifest_bytes: not parsed
    MANIFEST_NOT_JSON = "manifest_not_json"
    SCHEMA_VIOLATION = "schema_violation"
    POINT_MISMATCH = "point_mismatch"  # manifest point_id != the key's prefix
    BUNDLE_ID_MISMATCH = "bundle_id_mismatch"  # manifest bundle_id != the key's name
    UNEXPECTED_ENTRY = "unexpected_entry"  # an entry the manifest does not list
    MISSING_DOCUMENT = "missing_document"  # the manifest lists a file the zip lacks
    CHECKSUM_MISMATCH = "checksum_mismatch"
    PDF_UNREADABLE = "pdf_unreadable"
    PAGE_COUNT_MISMATCH = "page_count_mismatch"
    PDF_ACTIVE_CONTENT = "pdf_active_content"  # an action, script, embedded file, form, media
    INVALID_HETU = "invalid_hetu"  # date or check character wrong (null is allowed)
    INTERNAL_ERROR = "internal_error"  # handling failed unexpectedly MAX_ATTEMPTS times (poison)
    # Sealing (aspa_contract.sealing), checked before anything else is read from the object:
    NOT_SEALED = "not_sealed"  # no seal metadata (a plain upload) or a malformed one
    UNKNOWN_KEY = "unknown_key"  # signer not registered for the point, or recipient not Kela's
    KEY_NOT_VALID = "key_not_valid"  # signer's key revoked, or the bundle arrived outside its
    #                                  validity window
    BAD_SIGNATURE = "bad_signature"  # the signature does not match the object, point and id
    CANNOT_DECRYPT = "cannot_decrypt"  # signed right, but Kela's identity does not open it


class IngestError(Exception):
    """Base of every error the ingest raises on purpose."""


class BundleRejected(IngestError):
    """A bundle cannot be registered. ``reason`` is English, short and hetu-free."""

    def __init__(self, code: RejectCode, reason: str) -> None:
        self.code = code
        self.reason = _clean(reason)
        super().__init__(f"{code.value}: {self.reason}")


def _clean(reason: str) -> str:
    text = _GLUED_HETU.sub(r"\1***\2", redact(reason))
    if len(text) > MAX_REASON_CHARS:
        text = text[: MAX_REASON_CHARS - 1] + "…"
    return text
