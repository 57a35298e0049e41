"""Objects under ``incoming/`` whose keys the store interface refuses to address.

A key with a control character, a segment starting with a dot, a backslash, an empty segment
or bytes that are not UTF-8 breaks the key rules (:mod:`aspa_contract.storage.keys`), so
:class:`~aspa_contract.storage.Storage` skips it in listings and refuses it in every call. No
agent writes such a key, but whatever lands in ``incoming/`` must end as a case or an exception
record, so these objects are listed, copied into quarantine and deleted here, by their raw key:
on an ``s3:`` store every one; on a ``file:`` store every regular file except dot names, which
are the store's own temporary files and sidecars (and OS junk) and are left alone.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from aspa_contract.storage import (
    FileStorage,
    ObjectInfo,
    ObjectNotFound,
    S3Location,
    Storage,
    StorageSettings,
    StorageUnavailable,
    parse_storage_url,
)
from aspa_contract.storage.keys import check_key, is_valid_key
from aspa_contract.storage.s3store import S3Storage, make_client, s3_errors
from aspa_contract.storage.url import FileLocation


class ForeignObjects(Protocol):
    """Raw access to the objects of a store whose keys break the key rules."""

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` whose keys break the key rules."""
        ...

    def head(self, key: str) -> ObjectInfo | None:
        """Size, store time and ETag of the object at raw ``key``, or None."""
        ...

    def keep(self, key: str, target: str) -> bool:
        """Copy raw ``key`` to ``target`` (a valid key) unless ``target`` exists; False when
        ``key`` is gone."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object at raw ``key`` (a missing one is fine)."""
        ...


class S3ForeignObjects:
    """Raw access to the objects of an S3 store that break the key rules. Keys are relative
    to the store's prefix, as everywhere. A failure is :class:`StorageUnavailable` when S3 is
    down or busy (wait), else :class:`StorageError` (the worker's redrive policy counts it)."""

    def __init__(self, location: S3Location, settings: StorageSettings,
                 client: Any | None = None) -> None:
        self.location = location
        self._client = client if client is not None else make_client(settings)

    def _errors(self) -> AbstractContextManager[None]:
        # The raw key is not named: it broke the key rules, and may hold anything.
        return s3_errors(f"s3://{self.location.bucket}", "")

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` whose keys break the key rules."""
        paginator = self._client.get_paginator("list_objects_v2")
        with self._errors():
            for page in paginator.paginate(Bucket=self.location.bucket,
                                           Prefix=self.location.object_key(prefix)):
                for obj in page.get("Contents", []):
                    key = self.location.relative_key(self.location.bucket, obj["Key"])
                    if key is not None and not is_valid_key(key):
                        yield _info(key, obj["Size"], obj)

    def head(self, key: str) -> ObjectInfo | None:
        """Size, store time and ETag of the object at raw ``key``, or None."""
        try:
            with self._errors():
                response = self._client.head_object(Bucket=self.location.bucket,
                                                    Key=self.location.object_key(key))
        except ObjectNotFound:
            return None
        return _info(key, response["ContentLength"], response)

    def keep(self, key: str, target: str) -> bool:
        """Copy raw ``key`` to ``target`` (a valid key) unless ``target`` exists; False when
        ``key`` is gone."""
        destination = self.location.object_key(check_key(target))
        try:
            with self._errors():
                self._client.copy_object(
                    Bucket=self.location.bucket, Key=destination, ChecksumAlgorithm="SHA256",
                    CopySource={"Bucket": self.location.bucket,
                                "Key": self.location.object_key(key)})
        except ObjectNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        """Remove the object at raw ``key`` (a missing one is fine)."""
        with self._errors():
            self._client.delete_object(Bucket=self.location.bucket,
                                       Key=self.location.object_key(key))


class FileForeignObjects:
    """Raw access to the files of a ``file:`` store whose names break the key rules (dot
    names excepted). Read and written through ``store`` where the key is valid."""

    def __init__(self, store: FileStorage) -> None:
        location = parse_storage_url(store.url)
        assert isinstance(location, FileLocation)
        self._root = location.root
        self._store = store

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        """Regular files under ``prefix`` (a folder) whose keys break the key rules."""
        with _file_errors():
            for folder, folders, files in os.walk(self._root / prefix):
                folders[:] = [name for name in folders if not name.startswith(".")]
                for name in files:
                    key = Path(folder, name).relative_to(self._root).as_posix()
                    if not name.startswith(".") and not is_valid_key(key):
                        info = self.head(key)
                        if info is not None:
                            yield info

    def head(self, key: str) -> ObjectInfo | None:
        """Size and mtime of the regular file at raw ``key``, or None."""
        with _file_errors():
            try:
                st = os.lstat(self._root / key)
            except FileNotFoundError:
                return None
        if not stat.S_ISREG(st.st_mode):
            return None
        return ObjectInfo(key=key, size=st.st_size,
                          last_modified=datetime.fromtimestamp(st.st_mtime, tz=UTC))

    def keep(self, key: str, target: str) -> bool:
        """Copy raw ``key`` to ``target`` through the store, create-only."""
        with _file_errors():
            try:
                data = (self._root / key).read_bytes()
            except FileNotFoundError:
                return False
        self._store.put_new(target, data)
        return True

    def delete(self, key: str) -> None:
        """Remove the file at raw ``key`` (a missing one is fine)."""
        with _file_errors(), suppress(FileNotFoundError):
            (self._root / key).unlink()


_FOR_STORE: WeakKeyDictionary[Storage, ForeignObjects] = WeakKeyDictionary()


def foreign_objects(store: Storage) -> ForeignObjects | None:
    """The raw access for ``store`` (one per store), or None for a store of another kind."""
    if store not in _FOR_STORE:
        if isinstance(store, S3Storage):
            _FOR_STORE[store] = S3ForeignObjects(store.location, store.settings)
        elif isinstance(store, FileStorage):
            _FOR_STORE[store] = FileForeignObjects(store)
        else:
            return None
    return _FOR_STORE[store]


@contextmanager
def _file_errors() -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise StorageUnavailable(f"file store failed on an object with a foreign key: "
                                 f"{exc.strerror}") from exc


def _info(key: str, size: int, meta: Any) -> ObjectInfo:
    etag = meta.get("ETag")
    return ObjectInfo(key=key, size=size, last_modified=meta["LastModified"].astimezone(UTC),
                      etag=etag.strip('"') if etag else None)
