"""GIVEN hostile entries in the inbox (link loops, links out, pipes, undecodable names, too many
documents) WHEN the watcher looks THEN it never blocks, never follows a link, never stops for one
entry, and hands each over once — refused unread, with a reason — beside the good files.

Real files, links and FIFOs in a tmp inbox; a fake clock and a probe that reads the file.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from scanner_agent.config import IntakeSettings
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.intake import folder as folder_module
from scanner_agent.intake.folder import FolderWatcher, IntakeJob, folder_documents
from scanner_agent.intake.refusal import MAX_DOCUMENTS
from scanner_agent.release import sha256_file
from tests.fifos import release_blocked_readers

QUIET = 2.0
PAGE = b"scan data <eof>"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ReadingProbe:
    """Opens and reads each file it is asked about, as the real decoder does."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    def __call__(self, path: Path) -> bool:
        self.calls.append(path)
        return path.read_bytes().endswith(b"<eof>")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def probe() -> ReadingProbe:
    return ReadingProbe()


@pytest.fixture
def watcher(inbox: Path, clock: Clock, probe: ReadingProbe) -> FolderWatcher:
    settings = IntakeSettings(quiet_s=QUIET, folder_quiet_s=QUIET, undecodable_grace_s=30.0)
    return FolderWatcher(inbox, settings, probe=probe, clock=clock)


def settle(watcher: FolderWatcher, clock: Clock, inbox: Path) -> dict[str, IntakeJob]:
    """Two passes a quiet period apart, as the running watcher makes them; jobs by root name.

    Each pass runs in a thread with a time limit, so a pass that blocks fails the test instead
    of hanging it."""
    jobs: dict[str, IntakeJob] = {}
    for _ in range(2):
        done: list[list[IntakeJob]] = []
        thread = threading.Thread(target=_pass_into, args=(watcher, done), daemon=True)
        thread.start()
        thread.join(timeout=10)
        if thread.is_alive():
            release_blocked_readers(inbox)
            pytest.fail("a readiness pass blocked")
        assert done, "the readiness pass raised"
        jobs.update((job.root.name, job) for job in done[0])
        clock.now += QUIET
    return jobs


def _pass_into(watcher: FolderWatcher, done: list[list[IntakeJob]]) -> None:
    done.append(watcher.scan_once())


def test_a_symlink_loop_neither_stops_the_pass_nor_hides_the_good_file(
        watcher: FolderWatcher, inbox: Path, clock: Clock) -> None:
    (inbox / "loop").symlink_to("loop")
    (inbox / "ping").symlink_to("pong")
    (inbox / "pong").symlink_to("ping")
    (inbox / "good.png").write_bytes(PAGE)
    jobs = settle(watcher, clock, inbox)
    assert jobs["good.png"].refused is None
    for name in ("loop", "ping", "pong"):
        refused = jobs[name].refused
        assert refused is not None and refused.code is RejectCode.NOT_A_REGULAR_FILE
        assert "symbolic link" in refused.detail


def test_a_link_to_a_folder_outside_the_inbox_is_refused_and_never_walked(
        watcher: FolderWatcher, inbox: Path, clock: Clock, probe: ReadingProbe,
        tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.png").write_bytes(PAGE)
    (inbox / "visit").symlink_to(outside, target_is_directory=True)
    (inbox / "job").mkdir()
    (inbox / "job" / "p1.png").write_bytes(PAGE)
    (inbox / "job" / "p2.png").symlink_to(outside / "secret.png")
    (inbox / "job" / ".done").touch()
    jobs = settle(watcher, clock, inbox)
    for name in ("visit", "job"):
        refused = jobs[name].refused
        assert refused is not None and refused.code is RejectCode.NOT_A_REGULAR_FILE
    assert jobs["visit"].documents == ()
    assert [p.name for p in jobs["job"].documents] == ["p1.png"]
    assert not any(outside in p.parents or p.name == "p2.png" for p in probe.calls)


def test_a_fifo_in_a_job_folder_or_the_inbox_is_never_opened(
        watcher: FolderWatcher, inbox: Path, clock: Clock) -> None:
    (inbox / "job").mkdir()
    (inbox / "job" / "p1.png").write_bytes(PAGE)
    os.mkfifo(inbox / "job" / "p2.png")
    (inbox / "job" / ".done").touch()
    os.mkfifo(inbox / "pipe.png")
    (inbox / "good.png").write_bytes(PAGE)
    jobs = settle(watcher, clock, inbox)
    for name in ("job", "pipe.png"):
        refused = jobs[name].refused
        assert refused is not None and refused.code is RejectCode.NOT_A_REGULAR_FILE
        assert "named pipe" in refused.detail
    assert jobs["good.png"].refused is None


def test_a_folder_with_more_documents_than_a_bundle_holds_is_refused_before_any_probe(
        watcher: FolderWatcher, inbox: Path, clock: Clock, probe: ReadingProbe) -> None:
    big = inbox / "big"
    big.mkdir()
    for number in range(MAX_DOCUMENTS + 1):
        (big / f"p{number}.png").write_bytes(PAGE)
    jobs = settle(watcher, clock, inbox)
    refused = jobs["big"].refused
    assert refused is not None and refused.code is RejectCode.TOO_MANY_DOCUMENTS
    assert f"{MAX_DOCUMENTS + 1} documents" in refused.detail
    assert probe.calls == []


def test_a_non_utf8_name_is_handed_over_under_its_public_name(
        watcher: FolderWatcher, inbox: Path, clock: Clock) -> None:
    raw = os.path.join(os.fsencode(inbox), b"bad_\xff\xfe_name.png")
    with open(raw, "wb") as handle:
        handle.write(PAGE)
    [job] = settle(watcher, clock, inbox).values()
    assert job.name == "bad_\\xff\\xfe_name.png" and os.fsencode(job.root) == raw
    job.name.encode("utf-8")


def test_names_inside_a_refused_folder_are_public_in_its_reason(
        watcher: FolderWatcher, inbox: Path, clock: Clock) -> None:
    (inbox / "job").mkdir()
    (inbox / "job" / "scan010594Y9032b.png").symlink_to("nowhere")
    (inbox / "job" / ".done").touch()
    refused = settle(watcher, clock, inbox)["job"].refused
    assert refused is not None and "9032" not in refused.reason_text()
    assert "scan010594Y***2b.png (symbolic link)" in refused.detail


def test_aspa_agent_bundle_refuses_a_folder_the_watcher_would_refuse(inbox: Path) -> None:
    """`aspa-agent bundle FOLDER` lists the folder's pages the watcher's way: a pipe in it is
    refused before anything is opened."""
    (inbox / "job").mkdir()
    (inbox / "job" / "p1.png").write_bytes(PAGE)
    os.mkfifo(inbox / "job" / "p2.png")
    with pytest.raises(InputRejected) as refused:
        folder_documents(inbox / "job")
    assert refused.value.code is RejectCode.NOT_A_REGULAR_FILE


def test_an_entry_that_cannot_be_looked_at_is_logged_once_and_does_not_hold_up_the_others(
        watcher: FolderWatcher, inbox: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    """An I/O error on one entry (a share failing on one folder) costs that entry only."""
    real_snapshot = folder_module.snapshot

    def failing_for_one(where: Path, name: str) -> object:
        if name == "broken_010594Y9032":
            raise OSError(5, "Input/output error")
        return real_snapshot(where, name)

    monkeypatch.setattr(folder_module, "snapshot", failing_for_one)
    (inbox / "broken_010594Y9032").mkdir()
    (inbox / "good.png").write_bytes(PAGE)
    jobs = settle(watcher, clock, inbox)
    assert list(jobs) == ["good.png"]
    warnings = [r.getMessage() for r in caplog.records if "cannot look at" in r.getMessage()]
    assert warnings == ["cannot look at inbox entry broken_010594Y***2 (OSError); will try again"]


def test_a_page_swapped_for_a_pipe_after_the_snapshot_is_never_opened_for_reading(
        watcher: FolderWatcher, inbox: Path, clock: Clock, probe: ReadingProbe,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a quiet page seen as a regular file WHEN it is replaced by a pipe right after the
    look that makes it ready (the race) THEN neither the probe nor the hash of the sources
    opens it: nothing blocks."""
    page = inbox / "scan.png"
    real_snapshot = folder_module.snapshot
    looks: list[str] = []

    def swapped_after_the_second_look(where: Path, name: str) -> object:
        snap = real_snapshot(where, name)
        looks.append(name)
        if looks.count("scan.png") == 2:  # the pass after quiet_s, the one that probes
            page.unlink()
            os.mkfifo(page)
        return snap

    monkeypatch.setattr(folder_module, "snapshot", swapped_after_the_second_look)
    page.write_bytes(PAGE)
    settle(watcher, clock, inbox)
    assert page.is_fifo() and probe.calls == []
    hashed: list[object] = []
    thread = threading.Thread(target=_hash_into, args=(page, hashed), daemon=True)
    thread.start()
    thread.join(timeout=10)
    if thread.is_alive():
        release_blocked_readers(inbox)
        pytest.fail("hashing a pipe blocked")
    assert isinstance(hashed[0], OSError)


def _hash_into(path: Path, out: list[object]) -> None:
    try:
        out.append(sha256_file(path))
    except OSError as exc:
        out.append(exc)
