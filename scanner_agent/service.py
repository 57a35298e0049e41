"""``aspa-agent run``: recover after a crash, then watch the inbox and turn jobs into bundles.

Each ready job is first claimed (moved into the inbox's private ``.aspa-claimed`` corner, see
:mod:`scanner_agent.intake.claim`), so nobody can rename or swap it while it is read. Jobs the
intake refused unread (links, pipes, too many documents) go straight to quarantine.

The loop never dies on one bad input: rejected inputs go to quarantine; a full disk or an I/O
error leaves the input where it is and is retried with back-off; an unexpected error is retried
a few times and then quarantined with an internal-error reason, so nothing is stuck or lost.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from classifiers.base import Classifier
from scanner_agent import quarantine
from scanner_agent.config import AgentConfig
from scanner_agent.decode import probe
from scanner_agent.delivery import open_delivery
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.intake.claim import claim, is_claimed, return_unfinished, unclaim
from scanner_agent.intake.folder import FolderWatcher, IntakeJob
from scanner_agent.outbox import Outbox
from scanner_agent.pipeline import Agent, Outcome, process_job
from scanner_agent.release import release

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
MAX_BACKOFF_S = 60.0


@dataclass
class _Retry:
    job: IntakeJob
    errors: int  # unexpected errors so far: after MAX_ATTEMPTS the input is quarantined
    failures: int  # all failures so far, I/O included: sets the back-off
    not_before: float


@dataclass
class Service:
    """The long-running agent: one watcher, one pipeline, retries kept in memory."""

    config: AgentConfig
    classifier: Classifier
    on_outcome: Callable[[Outcome], None] = lambda outcome: None
    stop_event: threading.Event = field(default_factory=threading.Event)
    _retries: list[_Retry] = field(default_factory=list)

    def run(self) -> None:
        """Block until :meth:`stop` (or SIGINT/SIGTERM through the CLI)."""
        self.make_folders()
        recover(self.config)
        watcher = FolderWatcher(self.config.paths.inbox, self.config.intake,
                                probe=partial(probe, max_pixels=self.config.prepare.max_pixels,
                                              max_pages=self.config.prepare.max_pages_per_document))
        agent = Agent.start(self.config, self.classifier)
        deliverer = _start_delivery(self.config, self.stop_event)
        watcher.start()
        log.info("watching %s; classifier %s", self.config.paths.inbox, self.classifier.version)
        try:
            while not self.stop_event.is_set():
                retry = self._due_retry()
                job = retry.job if retry else watcher.jobs(timeout=0.5)
                if job is not None:
                    self._attempt(job, retry or _Retry(job, 0, 0, 0.0), agent, watcher)
        finally:
            self.stop_event.set()
            watcher.stop()
            agent.close()
            if deliverer is not None:
                deliverer.join()

    def stop(self) -> None:
        self.stop_event.set()

    def make_folders(self) -> None:
        paths = self.config.paths
        for folder in (paths.inbox, paths.outbox, paths.done, paths.quarantine):
            folder.mkdir(parents=True, exist_ok=True)

    def _attempt(self, job: IntakeJob, history: _Retry, agent: Agent,
                 watcher: FolderWatcher) -> None:
        try:
            claimed = job if is_claimed(job) else claim(job, self.config.paths.inbox)
            if claimed is None or not os.path.lexists(claimed.root):
                # Renamed or taken away meanwhile: under its new name it is a new job.
                watcher.done_with(job)
                return
            history = replace(history, job=claimed)
            outcome = self._process(claimed, agent)
        except OSError as exc:  # disk full, I/O error: the input stays, try again later
            log.error("cannot process %s now (%s); will retry", job.name, _why(exc))
            self._schedule(history, unexpected=False)
            return
        except Exception:
            log.exception("unexpected error processing %s", job.name)
            if history.errors + 1 < MAX_ATTEMPTS:
                self._schedule(history, unexpected=True)
                return
            try:
                outcome = _give_up(history.job, self.config)
            except OSError as exc:  # cannot even quarantine now (disk full): keep trying
                log.error("cannot quarantine %s now (%s); will retry", job.name, _why(exc))
                self._schedule(history, unexpected=False)
                return
        unclaim(history.job)
        watcher.done_with(job)
        self.on_outcome(outcome)

    def _process(self, job: IntakeJob, agent: Agent) -> Outcome:
        if job.refused is not None:  # a link, a pipe, too many documents: never read
            return _quarantined(job, job.refused, self.config)
        return process_job(job, agent)

    def _schedule(self, history: _Retry, unexpected: bool) -> None:
        failures = history.failures + 1
        delay = min(MAX_BACKOFF_S, 2.0**failures)
        self._retries.append(_Retry(history.job, history.errors + int(unexpected), failures,
                                    time.monotonic() + delay))

    def _due_retry(self) -> _Retry | None:
        now = time.monotonic()
        for retry in self._retries:
            if retry.not_before <= now:
                self._retries.remove(retry)
                return retry
        return None


def recover(config: AgentConfig) -> None:
    """Finish what a crash interrupted: temp files, unreleased scans, orphan reasons."""
    paths = config.paths
    outbox = Outbox(paths.outbox)
    for note in outbox.recover():
        release(note, paths.inbox, paths.done, outbox)
    return_unfinished(paths.inbox)  # only after the release: those scans are bundled already
    quarantine.items(paths.quarantine)


def _start_delivery(config: AgentConfig, stop: threading.Event) -> threading.Thread | None:
    """Delivery runs beside intake in its own thread: an outage never holds up scanning."""
    deliverer = open_delivery(config)
    if deliverer is None:
        log.info("no delivery.storage_url: bundles stay in the outbox")
        return None
    thread = threading.Thread(target=deliverer.run, args=(stop,), name="deliverer")
    thread.start()
    return thread


def _give_up(job: IntakeJob, config: AgentConfig) -> Outcome:
    rejected = InputRejected(RejectCode.INTERNAL_ERROR, f"failed {MAX_ATTEMPTS} times")
    return _quarantined(job, rejected, config)


def _quarantined(job: IntakeJob, rejected: InputRejected, config: AgentConfig) -> Outcome:
    where = quarantine.quarantine(job.root, rejected, config.paths.quarantine)
    log.warning("quarantined %s: %s", job.name, rejected)
    return Outcome(job.name, path=where, rejected=rejected)


def _why(exc: OSError) -> str:
    # Only the error's kind: its text would name the file, hetu and undecodable bytes included.
    return exc.strerror or type(exc).__name__
