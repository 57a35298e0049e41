"""One small object-store interface with two backends: ``file:`` folders and ``s3:`` buckets.

    store = open_storage("s3://aspa-exchange/prod", StorageSettings(region="eu-north-1"))
    if not store.put_new("incoming/hki-kallio/01J….zip", data, sha256_hex=digest):
        ...  # it was already there: an earlier attempt got through

Both backends pass the same contract tests (tests/integration/test_storage_contract.py).

Decisions:
- ``put_new`` (create-only, ``If-None-Match: *`` / ``os.link``) is for everything that must
  never be overwritten: bundles *and* receipts. ``put`` (replace) is for objects rewritten on
  purpose, such as a quarantine reason. ``copy`` replaces its target (archive moves are
  copy-then-delete, and a retried copy writes the same bytes).
- ``list`` is a plain string-prefix listing in UTF-8 byte order on both backends, and skips
  keys that break the key rules (S3 folder markers, hidden files on a share).
- Errors split by what the caller does next: back off (``StorageUnavailable``), fix the
  settings (``StorageConfigError``), or handle the object (``ObjectNotFound``, …); see
  :mod:`aspa_contract.storage.errors`.
"""

from __future__ import annotations

from aspa_contract.storage.base import ObjectInfo, Storage
from aspa_contract.storage.errors import (
    ChecksumMismatch,
    InvalidKey,
    MalformedEvent,
    ObjectNotFound,
    StorageConfigError,
    StorageError,
    StorageErrorCode,
    StorageUnavailable,
)
from aspa_contract.storage.events import s3_event_keys
from aspa_contract.storage.filestore import FileStorage
from aspa_contract.storage.settings import StorageSettings
from aspa_contract.storage.url import FileLocation, S3Location, parse_storage_url, redact_url

__all__ = [
    "ChecksumMismatch",
    "FileLocation",
    "FileStorage",
    "InvalidKey",
    "MalformedEvent",
    "ObjectInfo",
    "ObjectNotFound",
    "S3Location",
    "Storage",
    "StorageConfigError",
    "StorageError",
    "StorageErrorCode",
    "StorageSettings",
    "StorageUnavailable",
    "open_storage",
    "parse_storage_url",
    "redact_url",
    "s3_event_keys",
]


def open_storage(url: str, settings: StorageSettings | None = None) -> Storage:
    """The store at ``url`` (``file:///abs/dir``, ``file:rel/dir``, ``s3://bucket/prefix``).

    Opening does no I/O; call ``check()`` to prove the store is usable. ``settings`` apply to
    ``s3:`` only. Raises :class:`StorageConfigError` for a URL it cannot use.
    """
    location = parse_storage_url(url)
    if isinstance(location, FileLocation):
        return FileStorage(location)
    # Imported here so file-only users (and their tests) do not pay for importing boto3.
    from aspa_contract.storage.s3store import S3Storage

    return S3Storage(location, settings or StorageSettings())
