"""The durable outbox: finished bundles wait here, on disk, until delivery confirms them.

For each bundle two files, written in this order, each atomically (temp, fsync, rename):

1. ``{bundle_id}.sources.json`` — which inbox files the bundle was made from, with sha256;
2. ``{bundle_id}.zip`` — the bundle itself.

Only after both are durable are the source scans moved out of the inbox, and then the sources
file is removed. A crash at any instant leaves one of three states, all resolved by
:meth:`Outbox.recover`: a sources file without zip (the bundle never finished: drop the note,
the scans are still in the inbox and are processed again), zip plus sources file (finish
releasing the scans that still match their sha256), or a zip alone (done).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aspa_contract.durable import TEMP_PREFIX, fsync_dir, remove_temp_files, write_atomic
from scanner_agent.bundle import Bundle

log = logging.getLogger(__name__)

SOURCES_SUFFIX = ".sources.json"


@dataclass(frozen=True)
class SourceFile:
    """An inbox file a bundle was made from; ``path`` is relative to the inbox."""

    path: str
    sha256: str


@dataclass(frozen=True)
class PendingRelease:
    """A durable bundle whose source scans may still sit in the inbox."""

    bundle_id: str
    root: str  # relative to the inbox: the loose file or the sub-folder
    sources: tuple[SourceFile, ...]


@dataclass(frozen=True)
class OutboxItem:
    bundle_id: str
    path: Path
    size: int
    created_at: float  # epoch seconds (file mtime)


class Outbox:
    """A folder of durable bundles, oldest first by bundle id (ULIDs sort by time)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def commit(self, bundle: Bundle, release: PendingRelease | None = None) -> Path:
        """Make ``bundle`` durable. With ``release``, first note which scans it consumed."""
        if release is not None:
            note = {"bundle_id": bundle.bundle_id, "root": release.root,
                    "sources": [s.__dict__ for s in release.sources]}
            write_atomic(self._sources_path(bundle.bundle_id), json.dumps(note).encode())
        path = self.bundle_path(bundle.bundle_id)
        try:
            write_atomic(path, bundle.data)
        except OSError:
            # Disk full or I/O error: the scans stay in the inbox and are tried again later;
            # the note would only describe a bundle that never was.
            self._sources_path(bundle.bundle_id).unlink(missing_ok=True)
            raise
        return path

    def released(self, bundle_id: str) -> None:
        """The scans of ``bundle_id`` have left the inbox: forget the note."""
        self._sources_path(bundle_id).unlink(missing_ok=True)
        fsync_dir(self.root)

    def recover(self) -> list[PendingRelease]:
        """Tidy after a crash; return the durable bundles whose scans still need releasing."""
        for leftover in remove_temp_files(self.root):
            log.warning("removed unfinished write %s", leftover.name)
        pending = []
        for note_path in sorted(self.root.glob(f"*{SOURCES_SUFFIX}")):
            bundle_id = note_path.name[: -len(SOURCES_SUFFIX)]
            if not self.bundle_path(bundle_id).exists():
                log.warning("bundle %s was never finished; its scans will be read again",
                            bundle_id)
                note_path.unlink()
                continue
            note = json.loads(note_path.read_text())
            sources = tuple(SourceFile(**s) for s in note["sources"])
            pending.append(PendingRelease(bundle_id, note["root"], sources))
        return pending

    def items(self) -> list[OutboxItem]:
        """Bundles waiting in the outbox, oldest first."""
        found = []
        for path in sorted(self.root.glob("*.zip")):
            if path.name.startswith(TEMP_PREFIX):  # a write in progress, not a bundle yet
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:  # delivered and removed while we looked
                continue
            found.append(OutboxItem(path.stem, path, stat.st_size, stat.st_mtime))
        return found

    def oldest_age_s(self, now: Callable[[], float] = time.time) -> float | None:
        items = self.items()
        return now() - min(i.created_at for i in items) if items else None

    def bundle_path(self, bundle_id: str) -> Path:
        return self.root / f"{bundle_id}.zip"

    def _sources_path(self, bundle_id: str) -> Path:
        return self.root / f"{bundle_id}{SOURCES_SUFFIX}"
