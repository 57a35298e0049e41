"""Crash-safe file writes: temp file in the same folder, fsync, rename, fsync the folder.

A reader sees the old content or the new, never a torn file; after return the data survives a
power cut. Temp names start with ``.tmp-`` so recovery and watchers can recognise leftovers.
"""

from __future__ import annotations

import contextlib
import errno
import os
import uuid
from pathlib import Path

TEMP_PREFIX = ".tmp-"


def write_atomic(path: Path, data: bytes, *, exclusive: bool = False) -> bool:
    """Write ``data`` to ``path`` atomically. Returns False (and writes nothing) when
    ``exclusive`` and ``path`` already exists; raises OSError (ENOSPC, EIO …) otherwise."""
    with contextlib.suppress(FileExistsError):  # a file in the way fails below, by its name
        path.parent.mkdir(parents=True, exist_ok=True)
    # Unique per call: two threads writing the same name must never share a temp file.
    tmp = path.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{path.name}")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if exclusive:
            try:
                os.link(tmp, path)  # fails with EEXIST instead of replacing: create-only
            except FileExistsError:
                return False
            finally:
                tmp.unlink(missing_ok=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return True


def fsync_dir(folder: Path) -> None:
    """Make a rename or unlink in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    except OSError as exc:  # some network shares refuse fsync on a folder: nothing more to do
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def remove_temp_files(folder: Path) -> list[Path]:
    """Delete leftovers of interrupted writes in ``folder``; returns what was removed."""
    removed = []
    if folder.is_dir():
        for leftover in folder.glob(f"{TEMP_PREFIX}*"):
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed
