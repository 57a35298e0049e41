"""The one object-store interface both backends (``file:``, ``s3:``) implement.

Keys follow :mod:`aspa_contract.storage.keys`. Data is whole objects in memory: bundles are a
few megabytes, and one PUT of the whole object is what makes an upload atomic. An object may
carry metadata (S3 user metadata: a few short ASCII name/value pairs, written with the object,
never changed afterwards); sealed bundles keep their key ids and signature there.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from aspa_contract.storage.errors import ChecksumMismatch

# S3's limit for all user metadata of one object, names and values together.
MAX_METADATA_BYTES = 2048
_METADATA_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


@dataclass(frozen=True)
class ObjectInfo:
    """What the store says about one object.

    ``last_modified`` is the store's clock (S3 ``LastModified``, a file's mtime), timezone-aware
    UTC: the arrival time of a bundle, never the workstation's clock. ``etag`` is S3's ETag
    (quotes removed) or None on the file backend.
    """

    key: str
    size: int
    last_modified: datetime
    etag: str | None = None


@dataclass(frozen=True)
class StoredObject:
    """An object's bytes and the metadata it was written with (empty if none)."""

    data: bytes
    metadata: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class Storage(Protocol):
    """An object store. Every method may raise :class:`~.errors.StorageUnavailable` (retry
    later), :class:`~.errors.StorageConfigError` (fix settings) or :class:`~.errors.InvalidKey`.
    """

    @property
    def url(self) -> str:
        """The store's URL without credentials, for logs and ``doctor``."""
        ...

    def put_new(self, key: str, data: bytes, *, sha256_hex: str | None = None,
                metadata: Mapping[str, str] | None = None) -> bool:
        """Create ``key`` atomically unless it exists: True = written now, False = it was there
        already (a retry; not an error; the existing object and its metadata are left alone).
        With ``sha256_hex`` the data is checked against it first
        (:class:`~.errors.ChecksumMismatch`) and the store verifies what it receives.
        ``metadata`` (see :func:`check_metadata`) is readable the moment the object is. Use
        for bundles and receipts.
        """
        ...

    def put(self, key: str, data: bytes, *, metadata: Mapping[str, str] | None = None) -> None:
        """Write ``key`` atomically, replacing any object there (and its metadata). Only for
        objects that are rewritten on purpose (e.g. a quarantine reason); never for bundles or
        receipts."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; :class:`~.errors.ObjectNotFound` if there is none."""
        ...

    def get_object(self, key: str) -> StoredObject:
        """The object's bytes and metadata; :class:`~.errors.ObjectNotFound` if there is
        none."""
        ...

    def head(self, key: str) -> ObjectInfo | None:
        """Size, store-side time and ETag of ``key``, or None if there is no such object."""
        ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (a plain string prefix, as in S3),
        in key order (UTF-8 bytes), fetched page by page. Objects whose keys break the key
        rules (folder markers, hidden files) are skipped."""
        ...

    def copy(self, src: str, dst: str) -> None:
        """Copy ``src`` with its metadata to ``dst``, replacing ``dst``;
        :class:`~.errors.ObjectNotFound` if ``src`` is missing."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key``; removing a missing key succeeds (deletes are retried)."""
        ...

    def check(self) -> None:
        """Prove the store is reachable and usable by this process (``doctor``, start-up):
        raise :class:`~.errors.StorageUnavailable` or :class:`~.errors.StorageConfigError`."""
        ...


def verify_sha256(key: str, data: bytes, sha256_hex: str | None) -> None:
    """Raise :class:`ChecksumMismatch` if ``data`` does not hash to ``sha256_hex`` (if given)."""
    if sha256_hex is None:
        return
    actual = hashlib.sha256(data).hexdigest()
    if actual != sha256_hex.lower():
        raise ChecksumMismatch(key, sha256_hex, actual)


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    """``metadata`` as a plain dict if both backends keep it as it is; else ValueError (the
    caller's bug, like an invalid key).

    Names are lower-case ASCII letters, digits and ``-`` (S3 lower-cases names on the way);
    values printable ASCII; all together at most 2 KiB, S3's limit.
    """
    checked = dict(metadata or {})
    size = 0
    for name, value in checked.items():
        if not isinstance(name, str) or not _METADATA_NAME.fullmatch(name):
            raise ValueError(f"metadata name {name!r} is not lower-case letters, digits, '-'")
        if not isinstance(value, str) or not all(" " <= ch <= "~" for ch in value):
            raise ValueError(f"metadata {name!r} is not printable ASCII")
        size += len(name) + len(value)
    if size > MAX_METADATA_BYTES:
        raise ValueError(f"metadata is {size} bytes; the limit is {MAX_METADATA_BYTES}")
    return checked
