"""Objects under ``incoming/`` whose keys the store interface refuses to address.

A key with a control character, a segment starting with a dot, a backslash or an empty segment
breaks the key rules (:mod:`aspa_contract.storage.keys`), so :class:`~aspa_contract.storage.Storage`
skips it in listings and refuses it in every call. No agent writes such a key, but whatever
lands in ``incoming/`` must end as a case or an exception record, so on an ``s3:`` store these
objects are listed, copied into quarantine and deleted here, by their raw key. On a ``file:``
store such names are the store's own temporary files (a leading dot) and are left alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from typing import Any
from weakref import WeakKeyDictionary

from botocore.exceptions import BotoCoreError, ClientError

from aspa_contract.storage import (
    ObjectInfo,
    S3Location,
    Storage,
    StorageError,
    StorageSettings,
    StorageUnavailable,
)
from aspa_contract.storage.keys import check_key, is_valid_key
from aspa_contract.storage.s3store import S3Storage, make_client

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}


class ForeignObjects:
    """Raw access to the objects of an S3 store that break the key rules. Keys are relative
    to the store's prefix, as everywhere. A failure is :class:`StorageUnavailable` when S3 is
    down or busy (wait), else :class:`StorageError` (the worker's redrive policy counts it)."""

    def __init__(self, location: S3Location, settings: StorageSettings,
                 client: Any | None = None) -> None:
        self.location = location
        self._client = client if client is not None else make_client(settings)

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` whose keys break the key rules."""
        paginator = self._client.get_paginator("list_objects_v2")
        with _errors("list"):
            for page in paginator.paginate(Bucket=self.location.bucket,
                                           Prefix=self.location.object_key(prefix)):
                for obj in page.get("Contents", []):
                    key = self.location.relative_key(self.location.bucket, obj["Key"])
                    if key is not None and not is_valid_key(key):
                        yield _info(key, obj["Size"], obj)

    def head(self, key: str) -> ObjectInfo | None:
        """Size, store time and ETag of the object at raw ``key``, or None."""
        try:
            with _errors("head"):
                response = self._client.head_object(Bucket=self.location.bucket,
                                                    Key=self.location.object_key(key))
        except _Gone:
            return None
        return _info(key, response["ContentLength"], response)

    def keep(self, key: str, target: str) -> bool:
        """Copy raw ``key`` to ``target`` (a valid key) unless ``target`` exists; False when
        ``key`` is gone."""
        destination = self.location.object_key(check_key(target))
        try:
            with _errors("copy"):
                self._client.copy_object(
                    Bucket=self.location.bucket, Key=destination, ChecksumAlgorithm="SHA256",
                    CopySource={"Bucket": self.location.bucket,
                                "Key": self.location.object_key(key)})
        except _Gone:
            return False
        return True

    def delete(self, key: str) -> None:
        """Remove the object at raw ``key`` (a missing one is fine)."""
        with _errors("delete"):
            self._client.delete_object(Bucket=self.location.bucket,
                                       Key=self.location.object_key(key))


_FOR_STORE: WeakKeyDictionary[S3Storage, ForeignObjects] = WeakKeyDictionary()


def foreign_objects(store: Storage) -> ForeignObjects | None:
    """The raw access for ``store`` if it is an S3 store (one per store), else None."""
    if not isinstance(store, S3Storage):
        return None
    if store not in _FOR_STORE:
        _FOR_STORE[store] = ForeignObjects(store.location, store.settings)
    return _FOR_STORE[store]


class _Gone(Exception):
    pass


@contextmanager
def _errors(doing: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if str(exc.response.get("Error", {}).get("Code", "")) in _NOT_FOUND:
            raise _Gone from exc
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) >= 500:
            raise StorageUnavailable(f"cannot {doing} an object with a foreign key: {exc}"
                                     ) from exc
        raise StorageError(f"cannot {doing} an object with a foreign key: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"cannot {doing} an object with a foreign key: {exc}") from exc


def _info(key: str, size: int, meta: Any) -> ObjectInfo:
    etag = meta.get("ETag")
    return ObjectInfo(key=key, size=size, last_modified=meta["LastModified"].astimezone(UTC),
                      etag=etag.strip('"') if etag else None)
