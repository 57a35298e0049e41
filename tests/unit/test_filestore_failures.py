"""How the file backend reports disk and permission failures, and that it cleans up after them.
The OS failures are injected here; a real kernel-cut write runs in
tests/integration/test_storage_contract.py."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

from aspa_contract.durable import TEMP_PREFIX
from aspa_contract.storage import (
    StorageConfigError,
    StorageError,
    StorageUnavailable,
    open_storage,
)


def _store_root(tmp_path: Path) -> Path:
    root = tmp_path / "store"
    root.mkdir()
    return root


def _temp_files(root: Path) -> list[Path]:
    """Leftovers of interrupted writes anywhere in the store."""
    return [p for p in root.rglob(f"{TEMP_PREFIX}*")]


def _failing(err: int) -> Any:
    def fail(*_args: object, **_kwargs: object) -> None:
        raise OSError(err, os.strerror(err))
    return fail


@pytest.mark.parametrize(("err", "expected"), [
    (errno.ENOSPC, StorageUnavailable), (errno.EIO, StorageUnavailable),
    (errno.EDQUOT, StorageUnavailable), (errno.EACCES, StorageConfigError),
    (errno.EROFS, StorageConfigError),
])
@pytest.mark.parametrize("step", ["fsync", "link"])
def test_put_new_failure_is_classified_and_leaves_nothing_behind(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: int,
        expected: type[StorageError], step: str) -> None:
    """GIVEN the disk fails while writing (fsync) or publishing (link) WHEN put_new THEN the
    right storage error, no object and no temporary file."""
    root = _store_root(tmp_path)
    store = open_storage(root.as_uri())
    monkeypatch.setattr(os, step, _failing(err))
    with pytest.raises(expected, match=errno.errorcode[err] if expected is StorageUnavailable
                       else "fix the folder"):
        store.put_new("incoming/p/x.zip", b"bundle")
    monkeypatch.undo()
    assert store.head("incoming/p/x.zip") is None
    assert _temp_files(root) == []


def test_put_failure_in_replace_leaves_the_old_object_whole(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _store_root(tmp_path)
    store = open_storage(root.as_uri())
    store.put("q/x.json", b"old")
    monkeypatch.setattr(os, "replace", _failing(errno.EIO))
    with pytest.raises(StorageUnavailable):
        store.put("q/x.json", b"new")
    monkeypatch.undo()
    assert store.get("q/x.json") == b"old"
    assert _temp_files(root) == []


def test_a_key_that_is_also_a_folder_is_refused_not_reported_as_existing(
        tmp_path: Path) -> None:
    """S3 can hold both 'a' and 'a/b'; a folder cannot. put_new must not answer False
    ('already there') for 'a' when only 'a/b' exists."""
    store = open_storage(_store_root(tmp_path).as_uri())
    store.put_new("a/b", b"x")
    with pytest.raises(StorageError, match="folder"):
        store.put_new("a", b"y")
    with pytest.raises(StorageError, match="clashes"):
        store.put_new("a/b/c", b"z")
