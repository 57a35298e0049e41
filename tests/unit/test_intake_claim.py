"""GIVEN a ready job WHEN the agent claims it before reading THEN nobody can rename or swap it
while it is read, and after a crash every claimed job ends in exactly one place: released to
done/ when its bundle is durable, back in the inbox when it is not."""

from __future__ import annotations

import os
from pathlib import Path

from scanner_agent.bundle import Bundle
from scanner_agent.config import AgentConfig
from scanner_agent.errors import RejectCode
from scanner_agent.intake.claim import CLAIM_DIR, claim, unclaim
from scanner_agent.intake.entries import snapshot
from scanner_agent.intake.folder import IntakeJob, intake_job
from scanner_agent.outbox import Outbox
from scanner_agent.release import describe_sources
from scanner_agent.service import recover

PAGE = b"scan data <eof>"


def ready_job(inbox: Path, name: str) -> IntakeJob:
    snap = snapshot(inbox, name)
    assert snap is not None
    return intake_job(snap)


def test_a_claimed_file_can_no_longer_be_renamed_in_the_inbox(inbox: Path) -> None:
    (inbox / "scan.png").write_bytes(PAGE)
    claimed = claim(ready_job(inbox, "scan.png"), inbox)
    assert claimed is not None and claimed.root.read_bytes() == PAGE
    assert claimed.root.name == "scan.png" and claimed.root.parent.parent == inbox / CLAIM_DIR
    assert claimed.documents == (claimed.root,)
    assert [p.name for p in inbox.iterdir()] == [CLAIM_DIR]  # hidden: the watcher ignores it


def test_a_job_renamed_before_its_claim_is_left_to_its_new_name(inbox: Path) -> None:
    (inbox / "scan.png").write_bytes(PAGE)
    job = ready_job(inbox, "scan.png")
    os.rename(inbox / "scan.png", inbox / "renamed.png")
    assert claim(job, inbox) is None
    assert [p.name for p in inbox.iterdir()] == ["renamed.png"]


def test_a_file_swapped_for_a_pipe_before_its_claim_is_refused_not_opened(inbox: Path) -> None:
    (inbox / "scan.png").write_bytes(PAGE)
    job = ready_job(inbox, "scan.png")
    (inbox / "scan.png").unlink()
    os.mkfifo(inbox / "scan.png")
    claimed = claim(job, inbox)
    assert claimed is not None and claimed.documents == ()
    assert claimed.refused is not None
    assert claimed.refused.code is RejectCode.NOT_A_REGULAR_FILE


def test_unclaim_tidies_the_claim_folder_once_the_job_has_left(inbox: Path) -> None:
    (inbox / "scan.png").write_bytes(PAGE)
    claimed = claim(ready_job(inbox, "scan.png"), inbox)
    assert claimed is not None
    claimed.root.rename(inbox.parent / "elsewhere.png")  # as release() or quarantine() does
    unclaim(claimed)
    assert list(inbox.iterdir()) == []


def test_after_a_crash_a_bundled_claim_goes_to_done_and_an_unbundled_one_back_to_the_inbox(
        agent_config: AgentConfig) -> None:
    paths = agent_config.paths
    paths.inbox.mkdir(parents=True)
    for name in ("bundled.png", "unbundled.png"):
        (paths.inbox / name).write_bytes(PAGE + name.encode())
    bundled = claim(ready_job(paths.inbox, "bundled.png"), paths.inbox)
    unbundled = claim(ready_job(paths.inbox, "unbundled.png"), paths.inbox)
    assert bundled is not None and unbundled is not None
    # The crash: bundled.png's bundle became durable but its scans were not yet released.
    note = describe_sources("01KBUNDLED0000000000000000", paths.inbox, bundled.root,
                            bundled.documents)
    Outbox(paths.outbox).commit(Bundle(note.bundle_id, {}, b"zip"), note)

    recover(agent_config)

    assert sorted(p.name for p in paths.inbox.iterdir()) == ["unbundled.png"]
    assert (paths.done / note.bundle_id / "bundled.png").read_bytes().endswith(b"bundled.png")


def test_a_put_back_job_never_overwrites_a_new_scan_of_the_same_name(
        agent_config: AgentConfig) -> None:
    inbox = agent_config.paths.inbox
    inbox.mkdir(parents=True)
    (inbox / "scan.png").write_bytes(b"old")
    assert claim(ready_job(inbox, "scan.png"), inbox) is not None
    (inbox / "scan.png").write_bytes(b"new")  # the scanner reused the name

    recover(agent_config)

    contents = sorted(p.read_bytes() for p in inbox.iterdir())
    assert contents == [b"new", b"old"]
