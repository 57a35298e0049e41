"""The ingest worker: one bundle key in, a pending case with a receipt (or a quarantined bundle)
out; and the loops that feed it keys from the queue and the reconciling listing.

    discover (SQS, listing) ─► head ─► get ─► unseal ─► verify ─► register ─► receipt ─► archive
                                                └─ rejected ─► quarantine + reason + exception

Nothing loops for ever: an object whose key the store refuses (a control character, a leading
dot) is quarantined as ``bad_key`` by its raw key; one that keeps failing with an unexpected
error is quarantined as ``internal_error`` after ``MAX_ATTEMPTS`` failures, counted in the
database (the redrive policy). Keys are logged and stored only as :func:`shown_key` shows them.

Workers are stateless and may race on the same key in any number of processes: the database's
unique constraint decides which delivery registers the case, the receipt is built from the case
row (so every writer writes the same bytes), and each storage step is safe to repeat. A crash at
any point leaves the bundle under ``incoming/``, where the next delivery or listing finishes it.
"""

from __future__ import annotations

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
from aspa_contract.layout import archive_key
from aspa_contract.storage import (
    InvalidKey,
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
from aspa_contract.storage.keys import check_key, is_valid_key
from ingest.db import (
    DatabaseUnavailable,
    make_engine,
    record_exception,
    register_case,
    upgrade_database,
)
from ingest.db.attempts import MAX_ATTEMPTS, count_failure
from ingest.db.models import Case
from ingest.discover import QueueMessage, SqsSource, listed_keys
from ingest.errors import BundleRejected, RejectCode
from ingest.foreign import ForeignObjects, foreign_objects
from ingest.keyring import load_kela_identities
from ingest.quarantine import (
    bundle_id_of,
    quarantine,
    rename_leaked_names,
    shown_key,
    version_tag,
)
from ingest.receipt import load_receipt, write_receipt
from ingest.settings import IngestConfig, IngestConfigError
from ingest.unseal import unseal_bundle
from ingest.verify import DEFAULT_LIMITS, Limits, VerifiedBundle, verify_bundle

log = logging.getLogger(__name__)

# Failures that heal by waiting: leave the work where it is (the message unacknowledged, the
# object in incoming/) and back off. OperationalError covers a dropped connection or a busy
# SQLite file that the database layer did not translate.
TRANSIENT = (StorageUnavailable, DatabaseUnavailable, OperationalError)
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
    if not is_valid_key(key):
        return _reject_foreign(key, ctx)
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
        return _reject(info, rejection, ctx)
    registration = register_case(ctx.engine, verified, object_key=key,
                                 received_at=info.last_modified)
    write_receipt(ctx.store, load_receipt(ctx.engine, verified.bundle_id))
    outcome = Outcome.REGISTERED if registration.created else Outcome.ALREADY_REGISTERED
    log.info("%s: %s as case %s, received %s", shown_key(key), outcome, registration.case_ref,
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


def _reject(info: ObjectInfo, rejection: BundleRejected, ctx: WorkerContext,
            foreign: ForeignObjects | None = None) -> Result:
    """Quarantine the rejected object (kept with its reason and a record), clear incoming/.
    ``foreign`` addresses an object whose key the store refuses."""
    kept = quarantine(info, rejection, ctx.store, ctx.engine, foreign.keep if foreign else None)
    if kept is None:
        return Result(info.key, Outcome.GONE)
    (foreign.delete if foreign else ctx.store.delete)(info.key)
    log.warning("%s: rejected (%s): %s; kept at %s", shown_key(info.key), rejection.code,
                rejection.reason, kept)
    return Result(info.key, Outcome.REJECTED, code=rejection.code)


def _reject_foreign(key: str, ctx: WorkerContext) -> Result:
    """Quarantine an object whose key the store refuses, by its raw key (S3 only: a file
    store never lists one)."""
    foreign = foreign_objects(ctx.store)
    info = foreign.head(key) if foreign else None
    if info is None:
        return Result(key, Outcome.GONE)
    try:
        check_key(key)
        why = "it breaks the key rules"
    except InvalidKey as exc:
        why = str(exc).rpartition(": ")[2]
    rejection = BundleRejected(RejectCode.BAD_KEY, f"key {shown_key(key)!r} is refused: {why}")
    return _reject(info, rejection, ctx, foreign)


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
    _rename_leaked_names(store, engine)
    return WorkerContext(store, engine, identities=identities)


def _rename_leaked_names(store: Storage, engine: Engine) -> None:
    try:
        renamed = rename_leaked_names(store, engine)
    except StorageUnavailable as exc:
        log.warning("cannot rename quarantined copies stored under unmasked names now (next "
                    "start will): %s", _one_line(exc))
        return
    if renamed:
        log.info("renamed %d exception record(s) and their quarantined copies stored under "
                 "unmasked names", renamed)


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
            except Exception as exc:  # a bug must not end the listing thread for good
                log.error("listing incoming/ failed: %s",
                          redact("".join(traceback.format_exception(exc))))
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
            log.warning("%s: not handled now, will retry: %s", shown_key(key), _one_line(exc))
            return False
        except Exception as exc:
            # A bug, or a store refusing one object for good: the redrive policy.
            if not _redrive(key, exc, ctx):
                return False
    return True


def _redrive(key: str, exc: Exception, ctx: WorkerContext) -> bool:
    """Count an unexpected failure of ``key``; at ``MAX_ATTEMPTS`` quarantine it as
    ``internal_error``. True when the key needs no more work (quarantined, or gone)."""
    # Exception texts can quote SQL parameters (a manifest with its identity code), and name
    # the key: the trace is redacted, the key shown.
    trace = redact("".join(traceback.format_exception(exc))).replace(key, shown_key(key))
    try:
        foreign = None if is_valid_key(key) else foreign_objects(ctx.store)
        info = foreign.head(key) if foreign else ctx.store.head(key)
        if info is None:
            return True
        failures = count_failure(ctx.engine, fingerprint=version_tag(info),
                                 object_key=shown_key(key), error=trace)
        log.error("%s: failed (%d of %d tries), %s: %s", shown_key(key), failures, MAX_ATTEMPTS,
                  "will retry" if failures < MAX_ATTEMPTS else "quarantining it", trace)
        if failures < MAX_ATTEMPTS:
            return False
        _poison(info, f"handling failed {failures} times; the last error: {_one_line(exc)}",
                ctx, foreign)
    except Exception as failure:  # the store or database failing too: try again later
        log.warning("%s: cannot count or quarantine the failure now: %s", shown_key(key),
                    _one_line(failure))
        return False
    return True


def _poison(info: ObjectInfo, reason: str, ctx: WorkerContext,
            foreign: ForeignObjects | None) -> None:
    """Quarantine ``info`` as ``internal_error``. Where even keeping it fails for good (a
    store refusing this one object), record it where it lies, once: it ends in a record all
    the same, and later passes only find that record there."""
    try:
        _reject(info, BundleRejected(RejectCode.INTERNAL_ERROR, reason), ctx, foreign)
    except TRANSIENT:
        raise
    except Exception as failure:
        shown = shown_key(info.key)
        left = BundleRejected(RejectCode.INTERNAL_ERROR, f"{reason}; it cannot be kept in "
                              f"quarantine ({_one_line(failure)}), so it stays where it is")
        record_exception(ctx.engine, object_key=shown, bundle_id=bundle_id_of(info.key),
                         code=left.code, reason=left.reason, quarantine_key=shown)
        log.error("%s: %s", shown, left.reason)


def _one_line(exc: BaseException) -> str:
    text = redact(str(exc)).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
