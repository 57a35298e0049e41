"""When the inbox watcher hands a scan over: quiet periods, decodability, folders, junk.

Real files in a tmp inbox, a fake clock and a fake probe: no threads, no sleeping.
A fake-probed file "decodes" when its content ends with ``<eof>``, as a scanner's file does
once it has been written completely.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner_agent.config import IntakeSettings
from scanner_agent.intake.folder import FolderWatcher, IntakeJob, folder_documents

QUIET, FOLDER_QUIET, GRACE = 2.0, 10.0, 30.0
COMPLETE = b"scan data <eof>"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProbe:
    """Decodes files that end with ``<eof>``; records what it was asked; may be told to crash."""

    def __init__(self, crash: bool = False) -> None:
        self.calls: list[str] = []
        self.crash = crash

    def __call__(self, path: Path) -> bool:
        self.calls.append(path.name)
        if self.crash:
            raise ValueError("decoder blew up")
        return path.read_bytes().endswith(b"<eof>")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def probe() -> FakeProbe:
    return FakeProbe()


@pytest.fixture
def watcher(inbox: Path, clock: FakeClock, probe: FakeProbe) -> FolderWatcher:
    settings = IntakeSettings(quiet_s=QUIET, folder_quiet_s=FOLDER_QUIET,
                              undecodable_grace_s=GRACE)
    return FolderWatcher(inbox, settings, probe=probe, clock=clock)


def names(jobs: list[IntakeJob]) -> list[str]:
    return [job.root.name for job in jobs]


def write(path: Path, data: bytes = COMPLETE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_complete_file_is_handed_over_after_quiet_period_not_before(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN a complete scan WHEN it has been quiet for quiet_s THEN it is one job of itself."""
    scan = write(inbox / "scan.pdf")
    assert watcher.scan_once() == []
    clock.advance(QUIET - 0.1)
    assert watcher.scan_once() == []
    clock.advance(0.1)
    assert watcher.scan_once() == [IntakeJob(name="scan.pdf", root=scan.absolute(),
                                             documents=(scan.absolute(),))]


def test_file_still_being_written_waits_until_it_stops_changing(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN a scanner appending chunks less than quiet_s apart THEN no job until it stops."""
    scan = inbox / "scan.jpg"
    chunks = [b"chunk 1 ", b"chunk 2 ", b"chunk 3 <eof>"]
    for chunk in chunks:
        with scan.open("ab") as handle:
            handle.write(chunk)
        assert watcher.scan_once() == []
        clock.advance(QUIET - 0.5)
    clock.advance(0.5)
    assert names(watcher.scan_once()) == ["scan.jpg"]


def test_stable_file_that_does_not_decode_waits_for_the_grace_then_is_handed_over(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN a stable file the probe rejects THEN it waits quiet_s + grace, then goes on (so
    the pipeline can quarantine it) rather than being stuck forever."""
    write(inbox / "broken.png", b"\x89PNG half a file")
    watcher.scan_once()
    clock.advance(QUIET + GRACE - 0.1)
    assert watcher.scan_once() == []
    clock.advance(0.1)
    assert names(watcher.scan_once()) == ["broken.png"]


def test_undecodable_file_that_is_then_completed_is_handed_over_after_quiet_period(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN a stalled half-written file WHEN the writer finishes it THEN quiet_s suffices."""
    scan = write(inbox / "slow.tif", b"first half ")
    watcher.scan_once()
    clock.advance(QUIET + 1)
    assert watcher.scan_once() == []
    write(scan, b"first half second half <eof>")
    watcher.scan_once()
    clock.advance(QUIET)
    assert names(watcher.scan_once()) == ["slow.tif"]


def test_zero_byte_file_waits_quiet_period_plus_grace(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN a scanner that creates its file first and fills it later THEN an empty file is not
    taken at quiet_s, only after quiet_s + grace."""
    write(inbox / "new.pdf", b"")
    watcher.scan_once()
    clock.advance(QUIET + GRACE - 0.1)
    assert watcher.scan_once() == []
    clock.advance(0.1)
    assert names(watcher.scan_once()) == ["new.pdf"]


def test_probe_that_crashes_counts_as_undecodable_and_does_not_stop_the_pass(
        inbox: Path, clock: FakeClock) -> None:
    """GIVEN a probe raising on a hostile file THEN the file waits the grace and is handed over,
    and the pass still returns the other jobs."""
    watcher = FolderWatcher(inbox, IntakeSettings(quiet_s=QUIET, undecodable_grace_s=GRACE),
                            probe=FakeProbe(crash=True), clock=clock)
    write(inbox / "hostile.png")
    watcher.scan_once()
    clock.advance(QUIET)
    assert watcher.scan_once() == []
    clock.advance(GRACE)
    assert names(watcher.scan_once()) == ["hostile.png"]


@pytest.mark.parametrize("junk", [
    ".DS_Store", "Thumbs.db", "thumbs.db", "desktop.ini", "~$hakemus.docx", "scan.tmp",
    "scan.pdf.part", "scan.pdf.crdownload", ".hidden.pdf", "@eaDir/scan.pdf",
    ".AppleDouble/scan.pdf", ".done",
])
def test_os_junk_and_temp_files_are_never_handed_over(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock, probe: FakeProbe,
        junk: str) -> None:
    """GIVEN OS junk or a temp file in the inbox THEN it is never a job, however long it sits."""
    write(inbox / junk)
    watcher.scan_once()
    clock.advance(FOLDER_QUIET + GRACE + 1)
    assert watcher.scan_once() == []
    assert probe.calls == []


@pytest.mark.parametrize("reserved", ["done", "quarantine", "outbox", "work", "inbox"])
def test_agent_folders_inside_the_inbox_are_not_jobs(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock, reserved: str) -> None:
    """GIVEN the agent's own working folder inside the inbox THEN it is never taken as a job."""
    write(inbox / reserved / "bundle.pdf")
    watcher.scan_once()
    clock.advance(FOLDER_QUIET + GRACE + 1)
    assert watcher.scan_once() == []


def test_file_with_unaccepted_extension_is_handed_over_after_grace_without_probing(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock, probe: FakeProbe) -> None:
    """GIVEN a .docx dropped by mistake THEN it is not silently ignored: it is handed over after
    quiet_s + grace (for quarantine) and never probed."""
    write(inbox / "hakemus.docx")
    watcher.scan_once()
    clock.advance(QUIET)
    assert watcher.scan_once() == []
    clock.advance(GRACE)
    assert names(watcher.scan_once()) == ["hakemus.docx"]
    assert probe.calls == []


def test_extension_is_matched_case_insensitively(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    write(inbox / "SCAN.JPEG")
    watcher.scan_once()
    clock.advance(QUIET)
    assert names(watcher.scan_once()) == ["SCAN.JPEG"]


def test_subfolder_with_done_marker_closes_at_once_with_pages_in_natural_order(
        watcher: FolderWatcher, inbox: Path) -> None:
    """GIVEN a sub-folder holding page1, page2, page10 and a `.done` marker THEN it is one job at
    the first look, its documents the pages in natural order, the marker excluded."""
    folder = inbox / "customer-visit"
    for name in ["page10.png", "page2.png", "page1.png"]:
        write(folder / name)
    write(folder / ".done", b"")
    jobs = watcher.scan_once()
    assert names(jobs) == ["customer-visit"]
    assert jobs[0].root == folder.absolute()
    assert [p.name for p in jobs[0].documents] == ["page1.png", "page2.png", "page10.png"]


def test_subfolder_without_marker_closes_after_folder_quiet_period(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN a sub-folder being filled page by page THEN each new page restarts the folder quiet
    period; the job comes folder_quiet_s after the last change."""
    folder = inbox / "batch"
    write(folder / "p1.jpg")
    watcher.scan_once()
    clock.advance(FOLDER_QUIET - 1)
    write(folder / "p2.jpg")
    assert watcher.scan_once() == []
    clock.advance(FOLDER_QUIET - 1)
    assert watcher.scan_once() == []
    clock.advance(1)
    jobs = watcher.scan_once()
    assert [p.name for p in jobs[0].documents] == ["p1.jpg", "p2.jpg"]


def test_subfolder_with_a_page_that_does_not_decode_waits_for_the_grace(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    folder = inbox / "batch"
    write(folder / "p1.png")
    write(folder / "p2.png", b"truncated")
    watcher.scan_once()
    clock.advance(FOLDER_QUIET)
    assert watcher.scan_once() == []
    clock.advance(GRACE)
    assert names(watcher.scan_once()) == ["batch"]


def test_empty_subfolder_is_handed_over_after_folder_quiet_plus_grace(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN an empty sub-folder THEN it waits folder_quiet_s + grace (someone may be about to
    fill it), then becomes a job with no documents (the pipeline quarantines it)."""
    (inbox / "empty").mkdir()
    watcher.scan_once()
    clock.advance(FOLDER_QUIET)
    assert watcher.scan_once() == []
    clock.advance(GRACE)
    jobs = watcher.scan_once()
    assert names(jobs) == ["empty"] and jobs[0].documents == ()


def test_nested_folders_belong_to_the_top_subfolder_and_junk_inside_is_skipped(
        watcher: FolderWatcher, inbox: Path) -> None:
    """GIVEN pages in deeper folders, junk and a stray .txt THEN all pages of any depth are the
    top sub-folder's documents ordered by path, junk and non-page files left out."""
    folder = inbox / "visit"
    for rel in ["b/p1.png", "a/p10.png", "a/p9.png", "cover.pdf", "Thumbs.db", "@eaDir/x.png",
                "notes.txt"]:
        write(folder / rel)
    write(folder / ".done", b"")
    (job,) = watcher.scan_once()
    assert [str(p.relative_to(folder.absolute())) for p in job.documents] == [
        "a/p9.png", "a/p10.png", "b/p1.png", "cover.pdf"]


def test_job_is_handed_over_once_until_it_changes(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN a job already handed over WHEN nothing changes THEN it is not handed over again;
    WHEN the file is rewritten THEN it is handed over again after the quiet period."""
    scan = write(inbox / "scan.pdf")
    watcher.scan_once()
    clock.advance(QUIET)
    assert len(watcher.scan_once()) == 1
    clock.advance(100)
    assert watcher.scan_once() == []
    write(scan, b"a new scan <eof>")
    watcher.scan_once()
    clock.advance(QUIET)
    assert names(watcher.scan_once()) == ["scan.pdf"]


def test_done_with_lets_a_new_entry_of_the_same_name_be_a_new_job(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    scan = write(inbox / "scan.pdf")
    watcher.scan_once()
    clock.advance(QUIET)
    (job,) = watcher.scan_once()
    watcher.done_with(job)
    watcher.scan_once()
    clock.advance(QUIET)
    assert [j.root for j in watcher.scan_once()] == [scan.absolute()]


def test_job_name_masks_a_hetu_in_the_file_name(
        watcher: FolderWatcher, inbox: Path, clock: FakeClock) -> None:
    """GIVEN a clerk named the file after the customer's hetu THEN job.name (for logs) masks it
    while job.root still points at the real file."""
    scan = write(inbox / "010594Y9032.pdf")
    watcher.scan_once()
    clock.advance(QUIET)
    (job,) = watcher.scan_once()
    assert "9032" not in job.name and job.name.startswith("010594Y")
    assert job.root == scan.absolute()


def test_startup_rescan_picks_up_everything_already_there(
        inbox: Path, clock: FakeClock, probe: FakeProbe) -> None:
    """GIVEN files and a closed folder present before the watcher exists THEN its first passes
    hand over all of them."""
    write(inbox / "a.pdf")
    write(inbox / "b.png")
    write(inbox / "folder" / "p1.png")
    write(inbox / "folder" / ".done", b"")
    watcher = FolderWatcher(inbox, IntakeSettings(quiet_s=QUIET), probe=probe, clock=clock)
    first = watcher.scan_once()
    clock.advance(QUIET)
    assert sorted(names(first + watcher.scan_once())) == ["a.pdf", "b.png", "folder"]


def test_folder_documents_lists_pages_as_the_watcher_would(inbox: Path) -> None:
    """`aspa-agent bundle DIR` takes the same pages, in the same order, as the watcher."""
    folder = inbox / "visit"
    for rel in ["p10.jpg", "p2.jpg", "sub/p1.jpg", ".done", "desktop.ini", "x.txt"]:
        write(folder / rel)
    assert [str(p.relative_to(folder)) for p in folder_documents(folder)] == [
        "p2.jpg", "p10.jpg", "sub/p1.jpg"]
