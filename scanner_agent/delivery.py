"""Delivery: upload the outbox to the store, read the receipts, then delete the local copies.

    outbox ─► seal ─► put_new(incoming/{point}/{id}.zip) ─► uploaded ─► poll receipts/…/{id}.json
                                                               ─► receipted: delete zip + done/
                                                               ─► no receipt in time: flagged

Every try is written to the :mod:`delivery log <scanner_agent.delivery_log>` first. The upload
is create-only, so a retry after a lost response or a crash finds the object there
(``put_new`` → False) and counts as delivered: nothing arrives twice. What is uploaded is the
zip sealed (:mod:`scanner_agent.sealing`): encrypted to Kela, signed by this point, key ids and
signature in the object's metadata. While the store is down
the deliverer backs off (capped exponential, full jitter) and resumes by itself; it runs in its
own thread and never holds up intake. Local copies go only when a valid receipt names the
bundle; a bundle that waits too long is flagged for a person, never deleted.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aspa_contract import MANIFEST_NAME
from aspa_contract.backoff import Backoff, Jitter, full_jitter
from aspa_contract.durable import fsync_dir
from aspa_contract.layout import BUNDLE_ID, incoming_key, receipt_key
from aspa_contract.receipt import SCHEMA as RECEIPT_SCHEMA
from aspa_contract.storage import (
    ObjectNotFound,
    Storage,
    StorageError,
    StorageUnavailable,
    open_storage,
)
from scanner_agent.config import AgentConfig
from scanner_agent.delivery_log import (
    DB_NAME,
    BundleRow,
    DeliveryLog,
    Outcome,
    Receipt,
    State,
)
from scanner_agent.outbox import Outbox
from scanner_agent.sealing import BundleSealer, load_sealer

log = logging.getLogger(__name__)

@dataclass
class StepReport:
    """What one pass of :meth:`Deliverer.step` did, bundle ids in the order handled."""

    queued: list[str] = field(default_factory=list)  # newly seen in the outbox
    uploaded: list[str] = field(default_factory=list)  # written to the store now
    already_there: list[str] = field(default_factory=list)  # an earlier try had got through
    receipted: list[str] = field(default_factory=list)  # receipt read, local copies deleted
    flagged: list[str] = field(default_factory=list)  # handed to a person
    error: str | None = None  # the store failure that ended the pass early
    delay_s: float = 0.0  # how long to wait before the next pass


class BundleUnusable(Exception):
    """The local zip cannot be delivered as it is (not a zip, no manifest, bad ids)."""


class Deliverer:
    """Drains the outbox into ``storage`` and turns receipts into local deletions."""

    def __init__(self, config: AgentConfig, storage: Storage, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] | None = None,
                 jitter: Jitter = full_jitter, sealer: BundleSealer | None = None) -> None:
        """``sleep`` None (the default) waits on the stop event, so :meth:`run` stops at once;
        ``clock`` is wall time (the log's timestamps and the receipt timeout); ``sealer`` None
        = the keys of ``config`` (:class:`~scanner_agent.errors.ConfigError` if missing)."""
        self.sealer = sealer or load_sealer(config)
        self.settings = config.delivery
        self.paths = config.paths
        self.storage = storage
        self.outbox = Outbox(config.paths.outbox)
        self.records = DeliveryLog.in_var(config.paths.var_dir)
        self.backoff = Backoff(self.settings.backoff_base_s, self.settings.backoff_cap_s, jitter)
        self._clock = clock
        self._sleep = sleep
        self._next_receipt_poll: float | None = None  # None: poll at the first pass
        self._tidied = False

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set; one pass at a time, never raises."""
        log.info("delivering the outbox to %s", self.storage.url)
        while not stop.is_set():
            try:
                delay = self.step().delay_s
            except Exception:  # the loop must outlive any one bug: log it and try again later
                log.exception("delivery pass failed")
                delay = self.backoff.failed()
            if self._sleep is None:
                stop.wait(delay)
            else:
                self._sleep(delay)

    def step(self) -> StepReport:
        """One pass: note new bundles, upload the queued oldest first, read due receipts,
        flag overdue ones. A store failure ends the pass and sets the back-off delay."""
        report = StepReport()
        if not self._tidied:  # after a crash between a receipt and its deletions
            self._tidy_receipted()
            self._tidied = True
        try:
            self._enqueue_new(report)
            self._upload_queued(report)
            if self._receipts_due():
                self._poll_receipts(report)
                self._next_receipt_poll = self._clock() + self.settings.receipt_poll_s
        except StorageError as exc:
            report.error = str(exc)
            report.delay_s = self.backoff.failed()
            log.warning("store %s failed (%s); next try in %.1f s",
                        self.storage.url, exc, report.delay_s)
        else:
            self.backoff.reset()
            report.delay_s = self._idle_delay()
        finally:
            self._flag_overdue(report)
        return report

    # -- outbox → log --------------------------------------------------------------------

    def _enqueue_new(self, report: StepReport) -> None:
        try:
            # Only finished bundles: a writer's `.tmp-…zip` also ends in .zip.
            items = [i for i in self.outbox.items() if BUNDLE_ID.fullmatch(i.bundle_id)]
        except FileNotFoundError:  # a temp file renamed while listed: look again next pass
            return
        tracked = self.records.tracked([i.bundle_id for i in items])
        for item in items:
            if item.bundle_id in tracked:
                continue
            try:
                point_id = bundle_point_id(item.path, item.bundle_id)
            except BundleUnusable as exc:
                self.records.add(item.bundle_id, None, self._clock())
                self._flag(item.bundle_id, Outcome.UNUSABLE, str(exc), report)
                continue
            self.records.add(item.bundle_id, point_id, self._clock())
            report.queued.append(item.bundle_id)

    # -- upload ---------------------------------------------------------------------------

    def _upload_queued(self, report: StepReport) -> None:
        for row in self.records.rows(State.QUEUED):
            if row.point_id is None:  # a crash between noting and flagging an unusable zip
                self._flag(row.bundle_id, Outcome.UNUSABLE, "manifest names no usable point",
                           report)
                continue
            path = self.outbox.bundle_path(row.bundle_id)
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                self._flag(row.bundle_id, Outcome.UNUSABLE, "zip missing from the outbox",
                           report)
                continue
            except OSError as exc:  # a disk error on one zip must not hold up the others
                self.records.record_upload(row.bundle_id, Outcome.FAILED, self._clock(),
                                       f"cannot read the zip: {exc}")
                log.error("cannot read bundle %s from the outbox: %s", row.bundle_id, exc)
                continue
            self._upload(row, row.point_id, data, report)

    def _upload(self, row: BundleRow, point_id: str, data: bytes, report: StepReport) -> None:
        key = incoming_key(point_id, row.bundle_id)
        sealed = self.sealer.seal(data, point_id, row.bundle_id)
        try:
            written = self.storage.put_new(key, sealed.data, sha256_hex=sealed.sha256,
                                           metadata=sealed.metadata)
        except StorageError as exc:
            outcome = Outcome.UNAVAILABLE if isinstance(exc, StorageUnavailable) \
                else Outcome.FAILED
            self.records.record_upload(row.bundle_id, outcome, self._clock(), str(exc))
            raise
        outcome = Outcome.UPLOADED if written else Outcome.ALREADY_THERE
        self.records.record_upload(row.bundle_id, outcome, self._clock())
        (report.uploaded if written else report.already_there).append(row.bundle_id)
        log.info("bundle %s %s %s", row.bundle_id,
                 "uploaded to" if written else "was already in", key)

    # -- receipts -------------------------------------------------------------------------

    def _receipts_due(self) -> bool:
        return self._next_receipt_poll is None or self._clock() >= self._next_receipt_poll

    def _poll_receipts(self, report: StepReport) -> None:
        # Flagged bundles are asked too: a late receipt still closes them.
        for row in self.records.rows(State.UPLOADED, State.FLAGGED):
            if row.uploaded_at is None or row.point_id is None:
                continue  # flagged before it ever reached the store
            try:
                raw = self.storage.get(receipt_key(row.point_id, row.bundle_id))
            except ObjectNotFound:
                continue
            self._take_receipt(row, raw, report)

    def _take_receipt(self, row: BundleRow, raw: bytes, report: StepReport) -> None:
        try:
            receipt = parse_receipt(raw, row.bundle_id, row.point_id)
        except ValueError as exc:
            error = f"receipt not valid: {exc}"
            if row.last_error != error:  # once, not at every poll
                self.records.record_bad_receipt(row.bundle_id, self._clock(), error)
                log.error("bundle %s: %s; keeping the local copy", row.bundle_id, error)
            return
        # Recorded before deleting: a crash in between is finished by _tidy_receipted.
        self.records.record_receipt(row.bundle_id, receipt, self._clock())
        self._delete_local(row.bundle_id)
        report.receipted.append(row.bundle_id)
        log.info("bundle %s received by Kela at %s as case %s; local copies deleted",
                 row.bundle_id, receipt.received_at, receipt.case_ref)

    def _delete_local(self, bundle_id: str) -> None:
        """Delete the scans in done/ and the zip: no copy outlives the confirmed receipt."""
        try:
            shutil.rmtree(self.paths.done / bundle_id, ignore_errors=False)
        except FileNotFoundError:
            pass
        except OSError as exc:  # tried again at the next start
            log.error("cannot delete the scans of bundle %s: %s", bundle_id, exc)
        else:
            fsync_dir(self.paths.done)
        try:
            self.outbox.bundle_path(bundle_id).unlink(missing_ok=True)
            fsync_dir(self.outbox.root)
        except OSError as exc:
            log.error("cannot delete bundle %s from the outbox: %s", bundle_id, exc)

    def _tidy_receipted(self) -> None:
        for row in self.records.rows(State.RECEIPTED):
            if (self.outbox.bundle_path(row.bundle_id).exists()
                    or (self.paths.done / row.bundle_id).exists()):
                self._delete_local(row.bundle_id)

    # -- flags ----------------------------------------------------------------------------

    def _flag_overdue(self, report: StepReport) -> None:
        now = self._clock()
        for row in self.records.rows(State.UPLOADED):
            assert row.uploaded_at is not None  # set with the state
            waited = now - row.uploaded_at
            if waited >= self.settings.receipt_timeout_s:
                self._flag(row.bundle_id, Outcome.TIMED_OUT,
                           f"no receipt {waited:.0f} s after upload", report)

    def _flag(self, bundle_id: str, outcome: Outcome, why: str, report: StepReport) -> None:
        self.records.flag(bundle_id, outcome, self._clock(), why)
        report.flagged.append(bundle_id)
        log.warning("bundle %s flagged for a person: %s; its files are kept", bundle_id, why)

    def _idle_delay(self) -> float:
        if self._next_receipt_poll is None:
            return 0.0
        until_receipts = max(0.0, self._next_receipt_poll - self._clock())
        return min(self.settings.outbox_poll_s, until_receipts)


def bundle_point_id(path: Path, bundle_id: str) -> str:
    """The point id in the manifest of the zip at ``path`` (it may differ from today's config).

    Raises :class:`BundleUnusable` when the zip, its manifest or its ids cannot be used.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST_NAME))
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise BundleUnusable(f"cannot read {MANIFEST_NAME} of {path.name}: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("bundle_id") != bundle_id:
        raise BundleUnusable(f"the manifest of {path.name} does not name bundle {bundle_id}")
    point_id = manifest.get("point_id")
    try:
        incoming_key(str(point_id), bundle_id)
    except ValueError as exc:
        raise BundleUnusable(f"{path.name}: {exc}") from exc
    return str(point_id)


def parse_receipt(raw: bytes, bundle_id: str, point_id: str | None = None) -> Receipt:
    """The receipt in ``raw`` for ``bundle_id`` (of ``point_id``, when the receipt names one);
    ValueError if it is not one to trust."""
    try:
        data: Any = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("schema", RECEIPT_SCHEMA) != RECEIPT_SCHEMA:
        raise ValueError(f"schema {data.get('schema')!r} is not {RECEIPT_SCHEMA}")
    if data.get("bundle_id") != bundle_id:
        raise ValueError(f"names bundle {data.get('bundle_id')!r}, not {bundle_id}")
    if point_id is not None and data.get("point_id", point_id) != point_id:
        raise ValueError(f"names point {data.get('point_id')!r}, not {point_id}")
    case_ref, received_at = data.get("case_ref"), data.get("received_at")
    if not isinstance(case_ref, str) or not case_ref.strip():
        raise ValueError("no case_ref")
    if not isinstance(received_at, str) or not _is_utc_instant(received_at):
        raise ValueError(f"received_at {received_at!r} is not a UTC time like "
                         "2026-11-27T08:15:00Z")
    arrival = data.get("arrival_date")
    return Receipt(case_ref, received_at, arrival if isinstance(arrival, str) else None)


def _is_utc_instant(text: str) -> bool:
    if not text.endswith("Z"):
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def open_delivery(config: AgentConfig) -> Deliverer | None:
    """A deliverer for the configured store, or None when ``delivery.storage_url`` is empty.

    Opening does no I/O on the store (``doctor`` checks reachability); raises
    :class:`~aspa_contract.storage.StorageConfigError` for a URL that cannot be used and
    :class:`~scanner_agent.errors.ConfigError` when the sealing keys are missing.
    """
    if not config.delivery.enabled:
        return None
    return Deliverer(config, open_storage(config.delivery.storage_url, config.delivery.storage))


def delivery_status(config: AgentConfig, now: float | None = None,
                    receipted_limit: int = 20) -> list[dict[str, Any]]:
    """Per bundle, oldest first: every bundle still in delivery, then the last
    ``receipted_limit`` receipted ones, for ``aspa-agent status``. Times are UTC ISO 8601."""
    path = config.paths.var_dir / DB_NAME
    if not path.exists():  # no delivery yet: do not create the file from a status call
        return []
    now = time.time() if now is None else now
    rows = DeliveryLog(path).rows()
    receipted = [r for r in rows if r.state == State.RECEIPTED]
    shown = [r for r in rows if r.state != State.RECEIPTED]
    shown += receipted[-receipted_limit:] if receipted_limit > 0 else []
    return [_status_entry(r, now) for r in sorted(shown, key=lambda r: r.bundle_id)]


def _status_entry(row: BundleRow, now: float) -> dict[str, Any]:
    return {"bundle_id": row.bundle_id, "point_id": row.point_id, "state": str(row.state),
            "attempts": row.attempts, "age_s": round(now - row.queued_at, 1),
            "uploaded_at": _iso(row.uploaded_at), "receipted_at": _iso(row.receipted_at),
            "case_ref": row.case_ref, "received_at": row.received_at,
            "last_error": row.last_error}


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds").replace(
        "+00:00", "Z")
