"""The real inbox watcher (inotify and polling) with real files and the real decode probe."""

from __future__ import annotations

import io
import shutil
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from scanner_agent.config import IntakeSettings
from scanner_agent.decode import probe
from scanner_agent.intake.folder import FolderWatcher, IntakeJob

pytestmark = pytest.mark.integration

ARRIVAL_S = 15.0  # generous upper bound for a job to show up on a busy machine
ONCE_S = 0.8  # longer than quiet_s plus a tick: a job handed over twice would show by then
real_probe = partial(probe, max_pixels=60_000_000)


def png_bytes(seed: int = 0) -> bytes:
    """A noisy grey page (~200 kB) so it takes several chunks to write."""
    pixels = np.random.default_rng(seed).integers(0, 256, (500, 400), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, "L").save(out, "PNG")
    return out.getvalue()


@pytest.fixture(params=[False, True], ids=["inotify", "polling"])
def settings(request: pytest.FixtureRequest) -> IntakeSettings:
    # The grace is long so a half-written file on a stalled machine is still not handed over.
    return IntakeSettings(polling=request.param, poll_interval_s=0.1, quiet_s=0.5,
                          folder_quiet_s=1.0, undecodable_grace_s=5.0)


@pytest.fixture
def watch(inbox: Path, settings: IntakeSettings) -> Iterator[Callable[..., FolderWatcher]]:
    """Start watchers on ``inbox`` (settings overridable); fail if stop() leaves a thread."""
    before = threading.active_count()
    started: list[FolderWatcher] = []

    def start(**overrides: float) -> FolderWatcher:
        watcher = FolderWatcher(inbox, settings.model_copy(update=overrides), probe=real_probe)
        watcher.start()
        started.append(watcher)
        return watcher

    yield start
    for watcher in started:
        watcher.stop()
    assert threading.active_count() == before, threading.enumerate()


def hand_back(job: IntakeJob, watcher: FolderWatcher, done: Path) -> None:
    """Do what the pipeline does with a finished job: move it away, tell the watcher."""
    done.mkdir(exist_ok=True)
    shutil.move(job.root, done / job.root.name)
    watcher.done_with(job)


def test_file_written_slowly_in_chunks_is_handed_over_only_when_complete(
        watch: Callable[..., FolderWatcher], inbox: Path) -> None:
    """GIVEN a scanner writing a PNG in chunks WHEN the watcher runs THEN no job appears during
    the write; one job appears after it, for the whole file, and only once."""
    watching = watch()
    data = png_bytes()
    scan = inbox / "scan.png"
    chunk = len(data) // 6 + 1
    with scan.open("wb") as handle:
        for start in range(0, len(data), chunk):
            handle.write(data[start:start + chunk])
            handle.flush()
            assert watching.jobs(timeout=0.2) is None  # doubles as the scanner's pause
    job = watching.jobs(timeout=ARRIVAL_S)
    assert job is not None and job.root == scan
    assert job.documents == (scan,) and scan.read_bytes() == data
    assert watching.jobs(timeout=ONCE_S) is None


def test_watcher_keeps_running_after_a_broken_file(
        watch: Callable[..., FolderWatcher], inbox: Path, tmp_path: Path) -> None:
    """GIVEN a file that never decodes THEN it is handed over after the grace (for quarantine)
    and the watcher still hands over the good file that comes next."""
    watching = watch(undecodable_grace_s=1.0)
    (inbox / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really" * 100)
    job = watching.jobs(timeout=ARRIVAL_S)
    assert job is not None and job.root.name == "broken.png"
    hand_back(job, watching, tmp_path / "quarantine")
    (inbox / "good.png").write_bytes(png_bytes())
    job = watching.jobs(timeout=ARRIVAL_S)
    assert job is not None and job.root.name == "good.png"


def test_startup_rescan_and_folder_closed_by_done_marker(
        watch: Callable[..., FolderWatcher], inbox: Path) -> None:
    """GIVEN a file and a closed folder already in the inbox, junk beside them THEN starting
    the watcher hands both over; a folder written later with a `.done` marker becomes one job
    with its pages in natural order; junk never shows up."""
    (inbox / "waiting.png").write_bytes(png_bytes(1))
    (inbox / "old-visit").mkdir()
    (inbox / "old-visit" / "p1.png").write_bytes(png_bytes(2))
    (inbox / "old-visit" / ".done").touch()
    (inbox / ".DS_Store").write_bytes(b"junk")
    (inbox / "Thumbs.db").write_bytes(b"junk")
    watcher = watch()
    first = [watcher.jobs(timeout=ARRIVAL_S), watcher.jobs(timeout=ARRIVAL_S)]
    assert sorted(job.root.name for job in first if job) == ["old-visit", "waiting.png"]
    visit = inbox / "visit"
    visit.mkdir()
    for name in ["page10.png", "page2.png", "page1.png"]:
        (visit / name).write_bytes(png_bytes(3))
    (visit / ".done").touch()
    job = watcher.jobs(timeout=ARRIVAL_S)
    assert job is not None and job.root == visit
    assert [p.name for p in job.documents] == ["page1.png", "page2.png", "page10.png"]
    assert watcher.jobs(timeout=ONCE_S) is None
