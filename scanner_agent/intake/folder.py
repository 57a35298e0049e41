"""Watch the scan inbox and hand over each scan once it is completely written.

A *job* is one top-level inbox entry: a loose file, or a sub-folder whose files are the pages of
one document. Junk (``.DS_Store``, ``Thumbs.db``, ``~$x``, ``*.part``, dotfiles, ``@eaDir``)
is ignored. Anything else is handed over, even a file with an unaccepted extension or one that
never decodes (after a grace period): the pipeline quarantines it with a reason, so nothing a
clerk put in the inbox disappears silently. When a job is ready is decided in
:mod:`scanner_agent.intake.readiness`; links, pipes and devices are never followed or opened
(:mod:`scanner_agent.intake.entries`) and their jobs are refused unread
(:mod:`scanner_agent.intake.refusal`). One entry that cannot even be looked at is logged and
skipped: it never stops the pass for the others.

Threads: a watchdog observer (inotify, or polling for network shares) only wakes a single
ready-check thread, which also rescans on its own every tick, so a missed event costs at most
one tick. Ready jobs go to a queue that :meth:`FolderWatcher.jobs` reads.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from aspa_contract.names import public_name
from scanner_agent.config import IntakeSettings
from scanner_agent.errors import InputRejected
from scanner_agent.intake.entries import EntrySnapshot, folder_snapshot, list_entries, snapshot
from scanner_agent.intake.readiness import Probe, ReadinessTracker
from scanner_agent.intake.refusal import refusal

log = logging.getLogger(__name__)

# Sub-folders already handed over are re-walked only on an event or this often (a deep folder
# on a network share is slow to walk); loose files are re-checked every tick.
_FULL_RESCAN_S = 30.0


@dataclass(frozen=True)
class IntakeJob:
    """One scan to process: a loose file, or a sub-folder of pages."""

    name: str  # the entry's name through public_name: safe for logs and output
    root: Path  # what moves to done/ or quarantine/ afterwards (file or folder)
    documents: tuple[Path, ...]  # loose file: (root,); folder: its accepted files in name order
    refused: InputRejected | None = None  # set: quarantine it unread (a link, a pipe, too big)


class FolderWatcher:
    """Turns files appearing in ``inbox`` into :class:`IntakeJob` s, each handed over once."""

    def __init__(self, inbox: Path, settings: IntakeSettings, *, probe: Probe,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._inbox = inbox.absolute()  # watchdog reports paths under the one it was given
        self._settings = settings
        self._tracker = ReadinessTracker(settings, probe, clock)
        self._queue: queue.Queue[IntakeJob] = queue.Queue()
        self._lock = threading.Lock()  # one readiness pass at a time
        # Its own lock: the observer thread must not wait for a pass that is probing files.
        self._dirty_lock = threading.Lock()
        self._dirty: set[str] = set()  # top-level names an event touched since the last pass
        self._failing: set[str] = set()  # entries whose snapshot failed: logged once, retried
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._observer: BaseObserver | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Rescan what is already in the inbox, then watch it until :meth:`stop`."""
        if self._thread is not None:
            raise RuntimeError("FolderWatcher already started")
        self._inbox.mkdir(parents=True, exist_ok=True)
        self._stopping.clear()
        self._observer = self._new_observer()
        self._observer.schedule(_Waker(self._inbox, self._touched), str(self._inbox),
                                recursive=True)
        self._observer.start()
        self._thread = threading.Thread(target=self._run, name="inbox-ready-check", daemon=True)
        self._thread.start()
        mode = "polling" if self._settings.polling else "inotify"
        log.info("watching %s (%s)", self._inbox, mode)

    def stop(self) -> None:
        """Stop watching and join both threads. Jobs already queued stay readable."""
        self._stopping.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def jobs(self, timeout: float | None = None) -> IntakeJob | None:
        """The next ready job; blocks up to ``timeout`` seconds (forever if None), then None."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def done_with(self, job: IntakeJob) -> None:
        """The pipeline moved ``job.root`` away: forget it, so a new entry of that name counts."""
        with self._lock:
            self._tracker.forget(job.root.name)

    def scan_once(self) -> list[IntakeJob]:
        """Rescan the whole inbox now and return the jobs that became ready (not queued)."""
        return self._pass(full=True)

    def _run(self) -> None:
        next_full = 0.0  # the first pass is the startup rescan
        while not self._stopping.is_set():
            full = time.monotonic() >= next_full
            if full:
                next_full = time.monotonic() + _FULL_RESCAN_S
            try:
                for job in self._pass(full=full):
                    self._queue.put(job)
            except Exception:  # a surprise on one pass must not end the watching
                log.exception("inbox readiness pass failed; retrying next tick")
            self._wake.wait(self._settings.poll_interval_s)
            self._wake.clear()

    def _pass(self, *, full: bool) -> list[IntakeJob]:
        with self._dirty_lock:
            touched, self._dirty = self._dirty, set()
        with self._lock:
            present = dict(list_entries(self._inbox))
            known = set(self._tracker.known())
            for name in known - set(present):
                self._tracker.forget(name)
            # Handed-over folders are only re-walked when an event touched them (or on a
            # full pass); everything else is cheap to re-check every tick.
            recheck = touched | set(self._tracker.waiting()) | (set(present) - known)
            check = [name for name, is_dir in present.items()
                     if full or not is_dir or name in recheck]
            self._failing &= set(present)
            return [_ready(snap) for snap in self._snapshots(check)
                    if self._tracker.observe(snap)]

    def _snapshots(self, names: list[str]) -> list[EntrySnapshot]:
        snaps = (self._snapshot(name) for name in names)
        return [snap for snap in snaps if snap is not None]

    def _snapshot(self, name: str) -> EntrySnapshot | None:
        # One entry that cannot be looked at (a folder without read permission, an I/O error
        # on a share) is skipped and tried again next pass; the others go on being handed over.
        try:
            snap = snapshot(self._inbox, name)
        except Exception as exc:
            if name not in self._failing:
                self._failing.add(name)
                log.warning("cannot look at inbox entry %s (%s); will try again",
                            public_name(name), type(exc).__name__)
            return None
        if name in self._failing:
            self._failing.discard(name)
            log.info("inbox entry %s can be looked at again", public_name(name))
        return snap

    def _touched(self, name: str) -> None:
        with self._dirty_lock:
            self._dirty.add(name)
        self._wake.set()

    def _new_observer(self) -> BaseObserver:
        if self._settings.polling:
            return PollingObserver(timeout=self._settings.poll_interval_s)
        return Observer()


def folder_documents(folder: Path) -> tuple[Path, ...]:
    """The pages of a job folder as the watcher would hand them over: its accepted files (in
    nested folders too), junk and the ``.done`` marker skipped, in natural name order.

    Raises :class:`InputRejected` for a folder the watcher would refuse unread (a link, a pipe,
    more documents than a bundle may hold)."""
    job = intake_job(folder_snapshot(folder))
    if job.refused is not None:
        raise job.refused
    return job.documents


def intake_job(snap: EntrySnapshot) -> IntakeJob:
    """The job an entry's snapshot stands for, refused when it must not be read."""
    return IntakeJob(name=public_name(snap.name), root=snap.path, documents=snap.documents,
                     refused=refusal(snap))


def _ready(snap: EntrySnapshot) -> IntakeJob:
    job = intake_job(snap)
    if snap.others:
        # Not pages, but not lost either: they move to done/ or quarantine/ with the folder.
        log.info("folder %s: %d file(s) with an unaccepted extension are not pages",
                 job.name, len(snap.others))
    if job.refused is not None:
        log.warning("inbox entry %s is refused unread: %s", job.name, job.refused)
    else:
        log.info("inbox entry %s is ready (%d document(s))", job.name, len(snap.documents))
    return job


class _Waker(FileSystemEventHandler):
    """Reports the top-level inbox name each file-system event is about."""

    def __init__(self, inbox: Path, touched: Callable[[str], None]) -> None:
        self._inbox = inbox
        self._touched = touched

    def on_any_event(self, event: FileSystemEvent) -> None:
        """Mark the entry (and a move's destination) for a recheck."""
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            name = self._top_name(raw)
            if name:
                self._touched(name)

    def _top_name(self, raw: str | bytes) -> str | None:
        if not raw:
            return None
        text = os.fsdecode(raw)  # a Latin-1 name from a share is not UTF-8
        try:
            parts = Path(text).relative_to(self._inbox).parts
        except ValueError:
            return None
        return parts[0] if parts else None
