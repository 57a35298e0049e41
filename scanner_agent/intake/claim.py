"""Claim a ready job before reading it: move it into the agent's own corner of the inbox.

Once claimed, a job can no longer be renamed, rewritten or swapped for a pipe by anyone working
in the inbox, so what is read is what is bundled and released: a file renamed while it is read
can no longer come back as a second job (two bundles, two cases). The claim is one rename on
the inbox's own file system, into ``inbox/.aspa-claimed/{token}/{name}`` (a dot folder: the
watcher ignores it). The outbox's sources note names the claimed path, so crash recovery stays
as it was: a durable bundle's scans are released from the claim; whatever is still claimed
after that never became a bundle and goes back to the inbox (:func:`return_unfinished`).
"""

from __future__ import annotations

import logging
import os
import uuid
from pathlib import Path

from aspa_contract.durable import fsync_dir
from aspa_contract.names import public_name
from scanner_agent.intake.entries import snapshot
from scanner_agent.intake.folder import IntakeJob, intake_job

log = logging.getLogger(__name__)

CLAIM_DIR = ".aspa-claimed"


def claim(job: IntakeJob, inbox: Path) -> IntakeJob | None:
    """Move ``job`` out of reach and look at it again there; None when it is already gone.

    The returned job is built from what was actually claimed (a page added or a file turned
    into a link since the job was ready is seen), so nothing unchecked is ever opened.
    """
    slot = inbox / CLAIM_DIR / uuid.uuid4().hex
    slot.mkdir(parents=True)
    try:
        os.rename(job.root, slot / job.root.name)
    except FileNotFoundError:  # renamed or taken away since it was ready: its new name counts
        _remove_empty(slot)
        return None
    except OSError:
        _remove_empty(slot)
        raise
    fsync_dir(job.root.parent)
    fsync_dir(slot)
    snap = snapshot(slot, job.root.name)
    if snap is None:  # gone again at once: nothing was claimed after all
        _remove_empty(slot)
        return None
    return intake_job(snap)


def is_claimed(job: IntakeJob) -> bool:
    """True for a job :func:`claim` returned (a retry works on the claimed copy)."""
    return job.root.parent.parent.name == CLAIM_DIR


def unclaim(job: IntakeJob) -> None:
    """Tidy after a finished job: its slot is empty once the job left for done/ or quarantine/."""
    if is_claimed(job):
        _remove_empty(job.root.parent)


def return_unfinished(inbox: Path) -> None:
    """At start, after durable bundles released their scans: put every claimed job that never
    became a bundle back into the inbox, so it is read again (never lost, never doubled)."""
    claims = inbox / CLAIM_DIR
    if not claims.is_dir():
        return
    for slot in claims.iterdir():
        for item in list(slot.iterdir()) if slot.is_dir() else []:
            _put_back(item, inbox, slot.name)
        fsync_dir(inbox)
        _remove_empty(slot)


def _put_back(item: Path, inbox: Path, token: str) -> None:
    target = _free_name(inbox, item.name, token)
    try:
        os.rename(item, target)
    except OSError as exc:  # it stays claimed, so not lost: the next start tries again
        log.error("cannot put unfinished job %s back into the inbox (%s)",
                  public_name(item), exc.strerror)
        return
    log.warning("unfinished job %s put back into the inbox", public_name(target))


def _free_name(inbox: Path, name: str, token: str) -> Path:
    # A scanner may have reused the name meanwhile: never overwrite its new scan.
    target = inbox / name
    return target if not os.path.lexists(target) else inbox / f"{token[:8]}-{name}"


def _remove_empty(slot: Path) -> None:
    for folder in (slot, slot.parent):  # the claim folder goes too once no job is in it
        try:
            folder.rmdir()
        except OSError:  # not empty (another job is claimed), or already gone
            return
