"""Errors of the object store, each with a stable code and a message that says what to do.

    StorageError              base: anything the store refused or could not do
    ├── StorageUnavailable    transient: network down, timeout, 5xx/throttling after retries,
    │                         disk full or I/O error; the caller backs off and tries again
    ├── StorageConfigError    will not heal by waiting: bad URL, no such bucket, access denied,
    │                         no credentials, root folder missing; the message says what to fix
    ├── ObjectNotFound        the key does not exist (get, copy source)
    ├── InvalidKey            the key breaks the key rules (``..``, absolute, backslash, …);
    │                         also a ValueError, since it is the caller's bug
    ├── ChecksumMismatch      the data does not match the SHA-256 the caller gave
    └── MalformedEvent        a queue message is not an S3 event notification; also a ValueError

``put_new`` finding the key already there is not an error: it returns False.
"""

from __future__ import annotations

from enum import StrEnum


class StorageErrorCode(StrEnum):
    """Stable codes: logs, ``doctor`` output and the CLI's exit mapping match on these."""

    ERROR = "storage_error"
    UNAVAILABLE = "storage_unavailable"
    CONFIG = "storage_config"
    NOT_FOUND = "object_not_found"
    INVALID_KEY = "invalid_key"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    MALFORMED_EVENT = "malformed_event"


class StorageError(Exception):
    """Base of every error the storage package raises on purpose."""

    code = StorageErrorCode.ERROR


class StorageUnavailable(StorageError):
    """The store cannot be reached or is failing now; retry later with back-off."""

    code = StorageErrorCode.UNAVAILABLE


class StorageConfigError(StorageError):
    """The storage settings or permissions are wrong; waiting will not help."""

    code = StorageErrorCode.CONFIG


class ObjectNotFound(StorageError):
    """No object under ``key``."""

    code = StorageErrorCode.NOT_FOUND

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no object under key {key!r}")


class InvalidKey(StorageError, ValueError):
    """``key`` breaks the key rules (see :mod:`aspa_contract.storage.keys`)."""

    code = StorageErrorCode.INVALID_KEY

    def __init__(self, key: str, why: str) -> None:
        self.key = key
        super().__init__(f"invalid object key {key!r}: {why}")


class ChecksumMismatch(StorageError):
    """The bytes to store do not hash to the SHA-256 the caller computed earlier."""

    code = StorageErrorCode.CHECKSUM_MISMATCH

    def __init__(self, key: str, expected: str, actual: str) -> None:
        self.key = key
        super().__init__(f"SHA-256 of {key!r} is {actual}, expected {expected}: "
                         "the local copy changed since it was hashed; rebuild it")


class MalformedEvent(StorageError, ValueError):
    """A queue message body is neither an S3 event notification nor an S3 test event."""

    code = StorageErrorCode.MALFORMED_EVENT
