"""Release consumed scans: move them from the inbox to ``done/`` once their bundle is durable.

Scans move only when their bytes still match what the bundle was made from, so a scanner that
reuses a file name (``scan0001.png``) never has a new page swept away by an old bundle. In
``done/{bundle_id}/`` the scan (file or folder) is stored under its public name: no identity
code in a file name, the files inside a folder included.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from aspa_contract.durable import fsync_dir
from aspa_contract.names import public_name
from scanner_agent.intake.entries import open_regular
from scanner_agent.outbox import Outbox, PendingRelease, SourceFile
from scanner_agent.stored_names import rename_inside

log = logging.getLogger(__name__)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_sources(bundle_id: str, inbox: Path, root: Path,
                     documents: tuple[Path, ...]) -> PendingRelease:
    """The note the outbox keeps: what in the inbox this bundle consumed."""
    sources = tuple(SourceFile(str(p.relative_to(inbox)), sha256_file(p)) for p in documents)
    return PendingRelease(bundle_id, str(root.relative_to(inbox)), sources)


def release(note: PendingRelease, inbox: Path, done: Path, outbox: Outbox) -> Path | None:
    """Move the scans of a durable bundle to ``done/{bundle_id}/``; returns where they went."""
    root = inbox / note.root
    moved: Path | None = None
    if root.exists() and _unchanged(note.sources, inbox):
        target_dir = done / note.bundle_id
        target_dir.mkdir(parents=True, exist_ok=True)
        moved = target_dir / public_name(root)
        os.replace(root, moved)
        rename_inside(moved)
        fsync_dir(root.parent)
        fsync_dir(target_dir)
        log.info("scans of bundle %s moved to done", note.bundle_id)
    elif root.exists():
        log.warning("inbox item %s changed since bundle %s was made; left in place",
                    public_name(note.root), note.bundle_id)
    outbox.released(note.bundle_id)
    return moved


def _unchanged(sources: tuple[SourceFile, ...], inbox: Path) -> bool:
    for source in sources:
        path = inbox / source.path
        if not path.is_file() or sha256_file(path) != source.sha256:
            return False
    return True
