"""Read one top-level inbox entry (a loose file or a sub-folder) into a comparable snapshot.

Only ``lstat`` is used here, never ``stat`` or ``open``: a symbolic link (a loop, or one that
leads out of the inbox), a named pipe, a socket or a device is recorded as *strange* — never
followed, never opened, so a hostile entry can neither block the watcher nor make it fail —
and the job holding it is refused unread (see :mod:`scanner_agent.intake.refusal`).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from scanner_agent.intake.junk import (
    DONE_MARKER,
    is_accepted,
    is_ignored_entry,
    is_junk_dir,
    is_junk_file,
    natural_path_key,
)

# (path relative to the entry, size, mtime_ns) of every non-junk file: any write changes it.
Signature = tuple[tuple[str, int, int], ...]


@dataclass(frozen=True)
class Strange:
    """An entry that is not a regular file or folder, or a folder that cannot be listed."""

    path: Path
    kind: str  # "symbolic link", "named pipe", …: for the reason a clerk reads


@dataclass(frozen=True)
class EntrySnapshot:
    """What an inbox entry looked like at one moment."""

    name: str
    path: Path
    is_dir: bool
    signature: Signature
    documents: tuple[Path, ...]  # loose file: itself; folder: accepted files, natural order
    has_marker: bool = False  # folder holds a `.done` file
    others: tuple[Path, ...] = ()  # folder files with an unaccepted extension (travel with it)
    strange: tuple[Strange, ...] = ()  # never read: the job goes to quarantine as it is

    @property
    def empty(self) -> bool:
        """A zero-byte loose file, or a folder without a single accepted file."""
        if self.is_dir:
            return not self.documents
        return self.signature[0][1] == 0


def list_entries(inbox: Path) -> Iterator[tuple[str, bool]]:
    """The inbox's top-level (name, is_dir) pairs that may be jobs: junk and reserved skipped.

    A link to a folder is not a folder here: it is listed as an entry of its own, not walked.
    """
    try:
        with os.scandir(inbox) as it:
            found = [(e.name, _is_real_dir(e)) for e in it]
    except FileNotFoundError:
        return
    for name, is_dir in found:
        if not is_ignored_entry(name, is_dir):
            yield name, is_dir


def snapshot(inbox: Path, name: str) -> EntrySnapshot | None:
    """Snapshot ``inbox/name``; None when it is gone or is not a job (junk, reserved)."""
    path = inbox / name
    try:
        info = os.lstat(path)
    except FileNotFoundError:  # moved away between listing and lstat
        return None
    is_dir = stat.S_ISDIR(info.st_mode)
    if is_ignored_entry(name, is_dir):
        return None
    if is_dir:
        return folder_snapshot(path)
    signature = (("", info.st_size, info.st_mtime_ns),)
    if stat.S_ISREG(info.st_mode):
        return EntrySnapshot(name, path, False, signature, (path,))
    return EntrySnapshot(name, path, False, signature, (),
                         strange=(Strange(path, kind_of(info.st_mode)),))


def folder_snapshot(root: Path) -> EntrySnapshot:
    """Snapshot a job folder: its files at any depth (junk skipped), pages in natural order.

    Raises ``OSError`` when ``root`` itself cannot be listed.
    """
    found = sorted(_entries_below(root), key=lambda item: (
        natural_path_key(item[0].relative_to(root)), str(item[0])))
    signature = tuple((str(path.relative_to(root)), size, mtime) for path, size, mtime, _ in found)
    files = tuple(path for path, _, _, kind in found if kind is None)
    strange = tuple(Strange(path, kind) for path, _, _, kind in found if kind is not None)
    return EntrySnapshot(root.name, root, True, signature,
                         documents=tuple(f for f in files if is_accepted(f)),
                         has_marker=_has_marker(root),
                         others=tuple(f for f in files if not is_accepted(f)),
                         strange=strange)


def open_regular(path: Path) -> BinaryIO:
    """Open ``path`` for reading only if it is a regular file; never blocks, never follows a
    final link. A pipe or device put in its place since it was looked at raises ``OSError``."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    handle = open(fd, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        handle.close()
        raise OSError(errno.EINVAL, "not a regular file")
    return handle


def kind_of(mode: int) -> str:
    """What a non-regular entry is, in words for a reason text."""
    kinds = ((stat.S_ISLNK, "symbolic link"), (stat.S_ISFIFO, "named pipe"),
             (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"), (stat.S_ISBLK, "device"))
    return next((word for test, word in kinds if test(mode)), "special file")


# (path, size, mtime_ns, None for a regular file or the kind of a strange entry)
_Found = tuple[Path, int, int, str | None]


def _entries_below(root: Path) -> Iterator[_Found]:
    # Deeper folders (a scanner's per-batch sub-folders) belong to the top sub-folder: their
    # files are pages of the same job, ordered by their path inside it. Links to folders are
    # entries, not folders: the walk never leaves the job folder and cannot loop.
    pending = [root]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as it:
                children = list(it)
        except OSError as exc:
            if folder == root:
                raise
            if not isinstance(exc, FileNotFoundError):  # removed mid-walk is no problem
                yield folder, -1, -1, "folder that cannot be read"
            continue
        for child in children:
            try:
                info = child.stat(follow_symlinks=False)
            except FileNotFoundError:  # vanished mid-walk: the next pass sees the new state
                continue
            if stat.S_ISDIR(info.st_mode):
                if not is_junk_dir(child.name):
                    pending.append(Path(child.path))
            elif not is_junk_file(child.name):
                kind = None if stat.S_ISREG(info.st_mode) else kind_of(info.st_mode)
                yield Path(child.path), info.st_size, info.st_mtime_ns, kind


def _has_marker(root: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(root / DONE_MARKER).st_mode)
    except OSError:
        return False


def _is_real_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:  # cannot even lstat it: let snapshot() find out, entry by entry
        return False
