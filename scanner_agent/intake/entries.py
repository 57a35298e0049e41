"""Read one top-level inbox entry (a loose file or a sub-folder) into a comparable snapshot."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
class EntrySnapshot:
    """What an inbox entry looked like at one moment."""

    name: str
    path: Path
    is_dir: bool
    signature: Signature
    documents: tuple[Path, ...]  # loose file: itself; folder: accepted files, natural order
    has_marker: bool = False  # folder holds a `.done` file
    others: tuple[Path, ...] = ()  # folder files with an unaccepted extension (travel with it)

    @property
    def empty(self) -> bool:
        """A zero-byte loose file, or a folder without a single accepted file."""
        if self.is_dir:
            return not self.documents
        return self.signature[0][1] == 0


def list_entries(inbox: Path) -> Iterator[tuple[str, bool]]:
    """The inbox's top-level (name, is_dir) pairs that may be jobs: junk and reserved skipped."""
    try:
        with os.scandir(inbox) as it:
            found = [(e.name, e.is_dir()) for e in it if e.is_dir() or e.is_file()]
    except FileNotFoundError:
        return
    for name, is_dir in found:
        if not is_ignored_entry(name, is_dir):
            yield name, is_dir


def snapshot(inbox: Path, name: str) -> EntrySnapshot | None:
    """Snapshot ``inbox/name``; None when it is gone or is not a job (junk, reserved)."""
    path = inbox / name
    try:
        if path.is_dir():
            return None if is_ignored_entry(name, True) else folder_snapshot(path)
        if path.is_file() and not is_ignored_entry(name, False):
            stat = path.stat()
            return EntrySnapshot(name, path, False, (("", stat.st_size, stat.st_mtime_ns),),
                                 (path,))
    except FileNotFoundError:  # moved away between listing and stat
        pass
    return None


def folder_snapshot(root: Path) -> EntrySnapshot:
    """Snapshot a job folder: its files at any depth (junk skipped), pages in natural order."""
    files = sorted(_files_below(root), key=lambda p: (natural_path_key(p.relative_to(root)),
                                                      str(p)))
    signature = tuple(_signed(root, f) for f in files)
    documents = tuple(f for f in files if is_accepted(f))
    others = tuple(f for f in files if not is_accepted(f))
    return EntrySnapshot(root.name, root, True, signature, documents,
                         has_marker=(root / DONE_MARKER).is_file(), others=others)


def _files_below(root: Path) -> Iterator[Path]:
    # Deeper folders (a scanner's per-batch sub-folders) belong to the top sub-folder: their
    # files are pages of the same job, ordered by their path inside it.
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not is_junk_dir(d)]
        for filename in filenames:
            if not is_junk_file(filename):
                yield Path(dirpath, filename)


def _signed(root: Path, file: Path) -> tuple[str, int, int]:
    try:
        stat = file.stat()
    except FileNotFoundError:  # vanished mid-walk: the next pass sees the new state
        return (str(file.relative_to(root)), -1, -1)
    return (str(file.relative_to(root)), stat.st_size, stat.st_mtime_ns)
