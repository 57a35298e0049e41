"""The ingest worker: one bundle key in, a pending case with a receipt (or a quarantined bundle)
out; and the loops that feed it keys from the queue and the reconciling listing.

    discover (SQS, listing) ─► head ─► get ─► unseal ─► verify ─► register ─► receipt ─► archive
                                                └─ rejected ─► quarantine + reason + exception

Workers are stateless and may race on the same key in any number of processes: the database's
unique constraint decides which delivery registers the case, the receipt is built from the case
row (so every writer writes the same bytes), and each storage step is safe to repeat. A crash at
any point leaves the bundle under ``incoming/``, where the next delivery or listing finishes it.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.exc import OperationalError

from aspa_contract.backoff import Backoff
from aspa_contract.hetu import redact
from aspa_contract.instants import utc_text
from aspa_contract.keys import Identity
from aspa_contract.layout import archive_key, parse_incoming_key, quarantine_key
from aspa_contract.storage import (
    ObjectInfo,
    ObjectNotFound,
    S3Location,
    Storage,
    StorageConfigError,
    StorageUnavailable,
    open_storage,
    parse_storage_url,
)
from aspa_contract.storage.base import StoredObject
from ingest.db import (
    DatabaseUnavailable,
    make_engine,
    record_exception,
    register_case,
    upgrade_database,
)
from ingest.db.models import Case
from ingest.discover import INCOMING_PREFIX, QueueMessage, SqsSource, listed_keys
from ingest.errors import BundleRejected, RejectCode
from ingest.keyring import load_kela_identities
from ingest.receipt import load_receipt, write_receipt
from ingest.settings import IngestConfig, IngestConfigError
from ingest.unseal import unseal_bundle
from ingest.verify import DEFAULT_LIMITS, Limits, VerifiedBundle, verify_bundle

log = logging.getLogger(__name__)

# Failures that heal by waiting: leave the work where it is (the message unacknowledged, the
# object in incoming/) and back off. OperationalError covers a dropped connection or a busy
# SQLite file that the database layer did not translate.
TRANSIENT = (StorageUnavailable, DatabaseUnavailable, OperationalError)
# Folder under quarantine/ for objects whose key names no point and bundle: "_" is not allowed
# in point ids, so it cannot collide with a real point's folder.
BAD_KEY_FOLDER = "_bad_key"
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0


class Outcome(StrEnum):
    """What handling one key did. All four are successes: the key needs no more work."""

    REGISTERED = "registered"  # a new pending case
    ALREADY_REGISTERED = "already_registered"  # a repeated delivery: receipt confirmed
    REJECTED = "rejected"  # quarantined, with an exception record
    GONE = "gone"  # no longer in incoming/: another worker finished it


@dataclass(frozen=True)
class Result:
    """The outcome for one key, with the case reference or the reject code."""

    key: str
    outcome: Outcome
    case_ref: str | None = None
    code: RejectCode | None = None


@dataclass(frozen=True)
class WorkerContext:
    """What every step needs; shared by all threads of one process. ``identities`` are Kela's
    age identities by key id (:func:`ingest.keyring.load_kela_identities`)."""

    store: Storage
    engine: Engine
    limits: Limits = DEFAULT_LIMITS
    identities: Mapping[str, Identity] = field(default_factory=dict)


def process_key(key: str, ctx: WorkerContext) -> Result:
    """Take the object at ``key`` (under ``incoming/``) all the way; safe to repeat and to race.

    The case's arrival instant is the store's ``LastModified`` of the object. Raises one of
    :data:`TRANSIENT` when the store or database is unavailable (retry later); the bundle then
    stays in ``incoming/``.
    """
    info = ctx.store.head(key)
    if info is None:
        return Result(key, Outcome.GONE)
    try:
        data = unseal_bundle(key, _fetch(info, ctx), info.last_modified, ctx.engine,
                             ctx.identities)
        verified = verify_bundle(key, data, ctx.limits)
        _check_not_conflicting(verified, ctx.engine)
    except ObjectNotFound:
        return Result(key, Outcome.GONE)
    except BundleRejected as rejection:
        return _quarantine(key, info, rejection, ctx.store, ctx.engine)
    registration = register_case(ctx.engine, verified, object_key=key,
                                 received_at=info.last_modified)
    write_receipt(ctx.store, load_receipt(ctx.engine, verified.bundle_id))
    outcome = Outcome.REGISTERED if registration.created else Outcome.ALREADY_REGISTERED
    log.info("%s: %s as case %s, received %s", key, outcome, registration.case_ref,
             utc_text(registration.received_at))
    # False when a racing worker archived it first: the same bytes are there either way.
    _move(ctx.store, key, archive_key(verified.point_id, verified.bundle_id))
    return Result(key, outcome, registration.case_ref)


def _fetch(info: ObjectInfo, ctx: WorkerContext) -> StoredObject:
    # The store's size is checked before the download, so an oversized object is never
    # read into memory; verify_bundle checks the bytes themselves again.
    if info.size > ctx.limits.max_bundle_bytes:
        raise BundleRejected(RejectCode.TOO_LARGE, f"object is {info.size} bytes, limit "
                             f"{ctx.limits.max_bundle_bytes}")
    return ctx.store.get_object(info.key)


def _check_not_conflicting(verified: VerifiedBundle, engine: Engine) -> None:
    """Refuse a bundle whose id is already registered with another manifest, so it can
    neither overwrite the archived original nor be taken for the registered one."""
    with engine.connect() as connection:
        registered = connection.execute(
            select(Case.manifest, Case.case_ref).where(Case.bundle_id == verified.bundle_id)
        ).first()
    if registered is not None and registered.manifest != verified.manifest:
        raise BundleRejected(RejectCode.BUNDLE_ID_MISMATCH,
                             f"bundle id {verified.bundle_id} is already registered as case "
                             f"{registered.case_ref} with a different manifest")


def _quarantine(key: str, info: ObjectInfo, rejection: BundleRejected, store: Storage,
                engine: Engine) -> Result:
    """Keep the rejected object and its reason under quarantine/, record it, clear incoming/."""
    parsed = parse_incoming_key(key)
    target = (quarantine_key(*parsed) if parsed else
              f"quarantine/{BAD_KEY_FOLDER}/{key.removeprefix(INCOMING_PREFIX)}")
    if not _copy(store, key, target):
        return Result(key, Outcome.GONE)
    reason = {"code": rejection.code.value, "reason": rejection.reason, "object_key": key,
              "received_at": utc_text(info.last_modified)}
    store.put(target.removesuffix(".zip") + ".reason.json",
              (json.dumps(reason, ensure_ascii=False, indent=2) + "\n").encode())
    record_exception(engine, object_key=key, bundle_id=parsed[1] if parsed else None,
                     code=rejection.code, reason=rejection.reason, quarantine_key=target)
    store.delete(key)
    log.warning("%s: rejected (%s): %s; kept at %s", key, rejection.code, rejection.reason, target)
    return Result(key, Outcome.REJECTED, code=rejection.code)


def _move(store: Storage, src: str, dst: str) -> bool:
    """Copy then delete; False when ``src`` is already gone (another worker moved it)."""
    if not _copy(store, src, dst):
        return False
    store.delete(src)
    return True


def _copy(store: Storage, src: str, dst: str) -> bool:
    try:
        store.copy(src, dst)
    except ObjectNotFound:
        return False
    return True


# --- the loops ----------------------------------------------------------------------------


def run_workers(config: IngestConfig, stop: threading.Event) -> None:
    """Run the ingest until ``stop`` is set: ``config.workers`` queue threads (if a queue is
    configured) and one reconciling listing at start and every ``reconcile_interval_s``.

    Migrates the database first. Raises :class:`IngestConfigError` for a store or queue that
    cannot be used; an unavailable one is waited for.
    """
    ctx = open_context(config)
    source = open_queue(config)
    threads = [threading.Thread(target=reconcile_loop, name="ingest-reconcile",
                                args=(ctx, config.reconcile_interval_s, config.workers, stop))]
    if source is not None:
        threads += [threading.Thread(target=queue_loop, name=f"ingest-queue-{n}",
                                     args=(ctx, source, stop)) for n in range(config.workers)]
    log.info("ingest running: store %s, queue %s, %d worker(s)", ctx.store.url,
             config.queue_url or "(none: listing only)", config.workers)
    for thread in threads:
        thread.start()
    try:
        # Wake now and then so a signal handler in the main thread can set `stop`.
        while not stop.wait(1.0):
            pass
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        ctx.engine.dispose()
        log.info("ingest stopped")


def open_context(config: IngestConfig) -> WorkerContext:
    """The store (checked), the (migrated) database and Kela's identities of ``config``."""
    identities = load_kela_identities(config.sealing.identities_dir)
    if not identities:
        raise IngestConfigError(
            f"sealing.identities_dir: no identity (*.age) in {config.sealing.identities_dir}, so "
            "no bundle could be opened; create one with `aspa-ingest keys init` or fix the path")
    try:
        store = open_storage(config.storage_url, config.storage)
        store.check()
    except StorageConfigError as exc:
        raise IngestConfigError(f"storage_url: {exc}") from exc
    except StorageUnavailable as exc:
        log.warning("%s; starting anyway", exc)
    engine = make_engine(config.db_url)
    upgrade_database(engine)
    return WorkerContext(store, engine, identities=identities)


def open_queue(config: IngestConfig) -> SqsSource | None:
    """The queue source of ``config``, checked; None when only the listing discovers bundles."""
    if config.queue_url is None:
        return None
    location = parse_storage_url(config.storage_url)
    if not isinstance(location, S3Location):
        raise IngestConfigError("queue_url is set but storage_url is not an s3: store; S3 event "
                                "queues need one. Unset queue_url to use the listing only")
    try:
        source = SqsSource(config.queue_url, config.sqs, location, config.storage)
        source.check()
    except StorageConfigError as exc:
        raise IngestConfigError(str(exc)) from exc
    except StorageUnavailable as exc:
        log.warning("%s; starting anyway", exc)
    return source


def queue_loop(ctx: WorkerContext, source: SqsSource, stop: threading.Event) -> None:
    """Take messages until ``stop``; acknowledge each only after all its keys were handled."""
    backoff = Backoff(BACKOFF_FIRST_S, BACKOFF_MAX_S)
    while not stop.is_set():
        try:
            messages = source.receive()
        except StorageUnavailable as exc:
            log.warning("%s", exc)
            stop.wait(backoff.failed())
            continue
        for message in messages:
            if stop.is_set() or not handle_all(message.keys, ctx):
                # Untouched and failed messages come back after the visibility timeout.
                stop.wait(backoff.failed())
                break
            _ack(source, message)
            backoff.reset()


def _ack(source: SqsSource, message: QueueMessage) -> None:
    try:
        source.ack(message)
    except StorageUnavailable as exc:
        # The message comes back; handling its keys again is a no-op.
        log.warning("%s", exc)


def reconcile_loop(ctx: WorkerContext, interval_s: float, threads: int,
                   stop: threading.Event) -> None:
    """List ``incoming/`` now and every ``interval_s`` until ``stop``; handle what is there."""
    with ThreadPoolExecutor(threads, thread_name_prefix="ingest-listing") as pool:
        while not stop.is_set():
            try:
                keys = list(listed_keys(ctx.store))
            except StorageUnavailable as exc:
                log.warning("cannot list incoming/: %s", exc)
                keys = []
            if keys:
                log.info("listing found %d bundle(s) in incoming/", len(keys))
            list(pool.map(lambda key: stop.is_set() or handle_all([key], ctx), keys))
            stop.wait(interval_s)


def handle_all(keys: Iterable[str], ctx: WorkerContext) -> bool:
    """Process each key; False at the first one that failed (it is logged, and stays in
    ``incoming/`` for a later delivery or listing)."""
    for key in keys:
        try:
            process_key(key, ctx)
        except TRANSIENT as exc:
            log.warning("%s: not handled now, will retry: %s", key, _one_line(exc))
            return False
        except Exception as exc:
            # A bug, or a store or database refusing for good. Exception texts can quote SQL
            # parameters (a manifest with its identity code), so the trace is redacted.
            log.error("%s: failed, will retry: %s", key,
                      redact("".join(traceback.format_exception(exc))))
            return False
    return True


def _one_line(exc: BaseException) -> str:
    text = redact(str(exc)).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
