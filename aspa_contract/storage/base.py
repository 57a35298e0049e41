"""The one object-store interface both backends (``file:``, ``s3:``) implement.

Keys follow :mod:`aspa_contract.storage.keys`. Data is whole objects in memory: bundles are a
few megabytes, and one PUT of the whole object is what makes an upload atomic.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from aspa_contract.storage.errors import ChecksumMismatch


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


@runtime_checkable
class Storage(Protocol):
    """An object store. Every method may raise :class:`~.errors.StorageUnavailable` (retry
    later), :class:`~.errors.StorageConfigError` (fix settings) or :class:`~.errors.InvalidKey`.
    """

    @property
    def url(self) -> str:
        """The store's URL without credentials, for logs and ``doctor``."""
        ...

    def put_new(self, key: str, data: bytes, *, sha256_hex: str | None = None) -> bool:
        """Create ``key`` atomically unless it exists: True = written now, False = it was there
        already (a retry; not an error; the existing object is left alone). With ``sha256_hex``
        the data is checked against it first (:class:`~.errors.ChecksumMismatch`) and the store
        verifies what it receives. Use for bundles and receipts.
        """
        ...

    def put(self, key: str, data: bytes) -> None:
        """Write ``key`` atomically, replacing any object there. Only for objects that are
        rewritten on purpose (e.g. a quarantine reason); never for bundles or receipts."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; :class:`~.errors.ObjectNotFound` if there is none."""
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
        """Copy ``src`` to ``dst``, replacing ``dst``; :class:`~.errors.ObjectNotFound` if
        ``src`` is missing."""
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
