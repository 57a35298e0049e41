"""The ``file:`` backend: objects are files under a root folder (local disk or a mounted share).

Every write goes through :func:`aspa_contract.durable.write_atomic`: a hidden temporary file
beside the key, fsynced, then in one step ``os.link`` for create-only writes (it fails if the
key exists, so two writers cannot both win) or ``os.replace`` for overwrites. The root itself
is never created: a missing root is a configuration error (an unmounted share must not
silently become a local folder).

An object's metadata lives in a hidden sidecar beside it, ``.{name}.meta.json`` (a dot name is
never a key, so listings skip it), holding the metadata and the SHA-256 of the object it
belongs to. The sidecar is written (atomically) before the object, so metadata is there the
moment the object is; a sidecar whose hash does not match the object (left by a crashed or
losing writer) is ignored.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from aspa_contract.durable import fsync_dir, write_atomic
from aspa_contract.storage.base import ObjectInfo, StoredObject, check_metadata, verify_sha256
from aspa_contract.storage.errors import (
    InvalidKey,
    ObjectNotFound,
    StorageConfigError,
    StorageError,
    StorageUnavailable,
)
from aspa_contract.storage.keys import check_key, check_prefix, is_valid_key
from aspa_contract.storage.url import FileLocation

# Errors that waiting will not heal. Every other OSError (disk full, I/O error, a share that
# went away) is reported as StorageUnavailable: shares fail in many transient ways.
_CONFIG_ERRNOS = {errno.EROFS, errno.EXDEV, errno.EPERM, errno.EACCES}
SIDECAR_SUFFIX = ".meta.json"


class FileStorage:
    """An object store in a folder. See :class:`aspa_contract.storage.base.Storage`."""

    def __init__(self, location: FileLocation) -> None:
        self._root = location.root
        self.url = location.url

    def put_new(self, key: str, data: bytes, *, sha256_hex: str | None = None,
                metadata: Mapping[str, str] | None = None) -> bool:
        """Create ``key`` unless it exists (True = written now); see ``Storage.put_new``."""
        target = self._path(key)
        verify_sha256(key, data, sha256_hex)
        meta = check_metadata(metadata)
        with _os_errors(key):
            self._require_root()
            self._make_parents(target)
            # The sidecar of an object that is already there is never touched.
            if meta and not target.exists():
                write_atomic(_sidecar(target), _sidecar_bytes(data, meta))
            if write_atomic(target, data, exclusive=True):
                return True
            self._refuse_folder(key, target)
            return False

    def put(self, key: str, data: bytes, *, metadata: Mapping[str, str] | None = None) -> None:
        """Write ``key`` atomically, replacing it; see ``Storage.put``."""
        target = self._path(key)
        meta = check_metadata(metadata)
        with _os_errors(key):
            self._require_root()
            self._make_parents(target)
            self._refuse_folder(key, target)
            if meta:
                write_atomic(_sidecar(target), _sidecar_bytes(data, meta))
            write_atomic(target, data)
            if not meta:
                _sidecar(target).unlink(missing_ok=True)

    def get(self, key: str) -> bytes:
        """The bytes of ``key``; ObjectNotFound if absent."""
        path = self._path(key)
        with _os_errors(key):
            self._require_root()
            try:
                return path.read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                raise ObjectNotFound(key) from None

    def get_object(self, key: str) -> StoredObject:
        """The bytes and metadata of ``key``; ObjectNotFound if absent."""
        data = self.get(key)
        with _os_errors(key):
            return StoredObject(data, _read_sidecar(_sidecar(self._path(key)), data))

    def head(self, key: str) -> ObjectInfo | None:
        """Size and mtime of ``key``, or None."""
        path = self._path(key)
        with _os_errors(key):
            self._require_root()
            try:
                st = path.stat()
            except (FileNotFoundError, NotADirectoryError):
                return None
        return _info(key, st) if stat.S_ISREG(st.st_mode) else None

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order."""
        return self._list(check_prefix(prefix))

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        with _os_errors(prefix):
            self._require_root()
            # Only the folder named by the prefix's complete segments can hold matches.
            base = prefix.rpartition("/")[0]
            found = [info for info in self._walk(base) if info.key.startswith(prefix)]
        # Code-point order of str equals byte order of UTF-8, which is S3's listing order.
        yield from sorted(found, key=lambda info: info.key)

    def copy(self, src: str, dst: str) -> None:
        """Copy ``src`` over ``dst``."""
        check_key(dst)  # a bad destination fails before the source is read
        source = self.get_object(src)
        self.put(dst, source.data, metadata=source.metadata)

    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is fine. Empty folders are left (a racing writer may
        be about to use them)."""
        path = self._path(key)
        with _os_errors(key):
            self._require_root()
            with suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                path.unlink()
            with suppress(FileNotFoundError, NotADirectoryError, IsADirectoryError):
                _sidecar(path).unlink()

    def check(self) -> None:
        """The root exists and a file can be written, fsynced and removed in it."""
        with _os_errors(""):
            self._require_root()
            probe = self._root / f".aspa-check-{uuid.uuid4().hex}"  # a dot name: never a key
            write_atomic(probe, b"")
            probe.unlink()

    def _path(self, key: str) -> Path:
        path = self._root.joinpath(*check_key(key).split("/"))
        # Valid keys cannot climb out, but a symlink planted inside the root could.
        real_root = os.path.realpath(self._root)
        if os.path.commonpath([real_root, os.path.realpath(path)]) != real_root:
            raise InvalidKey(key, "it resolves outside the store's folder (a symlink?)")
        return path

    def _require_root(self) -> None:
        if not self._root.is_dir():
            raise StorageConfigError(f"storage folder {self._root} does not exist or is not a "
                                     "folder; create it (or mount the share) or fix the URL")

    def _make_parents(self, target: Path) -> None:
        missing: list[Path] = []
        folder = target.parent
        while folder != self._root and not folder.is_dir():
            missing.append(folder)
            folder = folder.parent
        for folder in reversed(missing):
            # Another writer may have made it; a file in the way makes link/replace fail.
            with suppress(FileExistsError):
                folder.mkdir()
            fsync_dir(folder.parent)

    def _refuse_folder(self, key: str, target: Path) -> None:
        if target.is_dir():
            raise StorageError(f"key {key!r} is a folder of other keys on the file backend; "
                               "a key cannot also be a prefix of other keys there")

    def _walk(self, relative: str) -> Iterator[ObjectInfo]:
        folder = self._root.joinpath(*relative.split("/")) if relative else self._root
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            key = f"{relative}/{entry.name}" if relative else entry.name
            if entry.name.startswith(".") or entry.is_symlink():
                continue  # temp files of writes in progress, OS junk, links out of the root
            if entry.is_dir():
                yield from self._walk(key)
            elif entry.is_file() and is_valid_key(key):
                yield _info(key, entry.stat())


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}{SIDECAR_SUFFIX}")


def _sidecar_bytes(data: bytes, metadata: dict[str, str]) -> bytes:
    return json.dumps({"sha256": hashlib.sha256(data).hexdigest(),
                       "metadata": metadata}).encode("ascii")


def _read_sidecar(path: Path, data: bytes) -> dict[str, str]:
    """The metadata in the sidecar at ``path`` if it belongs to ``data``, else none."""
    try:
        note = json.loads(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return {}
    if not isinstance(note, dict) or note.get("sha256") != hashlib.sha256(data).hexdigest():
        return {}
    metadata = note.get("metadata")
    if not isinstance(metadata, dict):
        return {}
    return {str(name): str(value) for name, value in metadata.items()}


def _info(key: str, st: os.stat_result) -> ObjectInfo:
    return ObjectInfo(key=key, size=st.st_size,
                      last_modified=datetime.fromtimestamp(st.st_mtime, tz=UTC), etag=None)


@contextmanager
def _os_errors(key: str) -> Iterator[None]:
    """Turn OSError into the storage hierarchy, naming the key and what to do."""
    try:
        yield
    except (NotADirectoryError, IsADirectoryError) as exc:
        raise StorageError(f"key {key!r} clashes with an existing object on the file backend "
                           f"(a key cannot also be a folder of other keys): {exc}") from exc
    except OSError as exc:
        if exc.errno in _CONFIG_ERRNOS:
            raise StorageConfigError(f"file store refused {key!r}: {exc.strerror} "
                                     f"({exc.filename}); fix the folder's permissions or mount "
                                     "(read-write, one file system with hard links)") from exc
        raise StorageUnavailable(f"file store failed on {key!r}: "
                                 f"{errno.errorcode.get(exc.errno or 0, '?')} {exc.strerror} "
                                 f"({exc.filename}); retry later") from exc
