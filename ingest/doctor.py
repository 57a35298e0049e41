"""``aspa-ingest doctor``: every check the ingest needs to do its job, each saying the fix.

Each ``check_*`` returns the problems it found (empty = fine). ``aspa-ingest run`` also logs
:func:`check_notifications` at start: a filter that never matches the store's ``incoming/``
would otherwise leave the ingest silently on the slow reconciling listing.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from aspa_contract.checks import Check
from aspa_contract.storage import (
    S3Location,
    StorageError,
    open_storage,
    parse_storage_url,
    redact_url,
)
from ingest.db import DatabaseUnavailable, SchemaNotCurrent, make_engine, require_current
from ingest.discover import INCOMING_PREFIX, SqsSource
from ingest.keyring import load_kela_identities
from ingest.settings import IngestConfig, IngestConfigError

log = logging.getLogger(__name__)

# Under receipts/ because writing receipts is what the ingest must be allowed to do; "_" is
# not allowed in point ids, so no agent ever asks for a key here.
PROBE_FOLDER = "receipts/_doctor"
_CREATED_EVENTS = {"s3:ObjectCreated:*", "s3:ObjectCreated:Put"}


def run_checks(config: IngestConfig) -> list[Check]:
    """Every check; config validity is implied (``config`` was loaded, or we never got here)."""
    with_queue = config.queue_url is not None
    return [
        Check("config", []),
        Check("storage", check_storage(config)),
        Check("queue", check_queue(config), required=with_queue),
        Check("notifications", check_notifications(config), required=with_queue),
        Check("database", check_database(config)),
        Check("identities", check_identities(config)),
    ]


def log_notification_problems(config: IngestConfig) -> None:
    """At start: say (as a warning: the listing still finds every bundle, only later) when the
    bucket's notifications cannot bring the queue the store's new bundles."""
    if config.queue_url is not None:
        for problem in check_notifications(config):
            log.warning("%s", problem)


def check_storage(config: IngestConfig) -> list[str]:
    """The store answers, and a probe object can be written, read back and deleted."""
    shown = redact_url(config.storage_url)
    key = f"{PROBE_FOLDER}/{uuid.uuid4().hex}.probe"
    data = b"aspa-ingest doctor\n"
    try:
        store = open_storage(config.storage_url, config.storage)
        store.check()
        store.put_new(key, data)
        read = store.get(key)
        store.delete(key)
    except StorageError as exc:
        return [f"{shown}: {exc}"]
    if read != data:
        return [f"{shown}: {key} read back different bytes than written; check the store"]
    return []


def check_queue(config: IngestConfig) -> list[str]:
    """The queue exists at its endpoint and this process may use it."""
    if config.queue_url is None:
        return [f"no queue_url: new bundles are found only by listing incoming/ every "
                f"{config.reconcile_interval_s:g} s"]
    location = parse_storage_url(config.storage_url)
    if not isinstance(location, S3Location):
        return ["queue_url is set but storage_url is not an s3: store; unset queue_url"]
    try:
        SqsSource(config.queue_url, config.sqs, location, config.storage).check()
    except StorageError as exc:
        return [str(exc)]
    return []


def check_notifications(config: IngestConfig) -> list[str]:
    """The bucket sends ``ObjectCreated`` events for the store's ``incoming/`` to the queue."""
    location = parse_storage_url(config.storage_url)
    if config.queue_url is None or not isinstance(location, S3Location):
        return ["no queue: nothing sends events; bundles are found by the listing only"]
    wanted = location.object_key(INCOMING_PREFIX.rstrip("/")) + "/"
    try:
        notifications = _notifications(config, location.bucket)
    except (ClientError, BotoCoreError, StorageError) as exc:
        return [f"cannot read the notification configuration of bucket {location.bucket}: "
                f"{exc}; allow s3:GetBucketNotification to check it"]
    return notification_problems(notifications, location.bucket, config.queue_url, wanted,
                                 config.reconcile_interval_s)


def notification_problems(notifications: dict[str, Any], bucket: str, queue_url: str,
                          wanted: str, listing_s: float) -> list[str]:
    """What keeps ``notifications`` (a bucket's configuration) from sending the queue an
    event for each new key under ``wanted`` (``prefix/incoming/``), each with its fix."""
    name = _queue_name(queue_url)
    ours = [c for c in notifications.get("QueueConfigurations", [])
            if _arn_queue_name(c.get("QueueArn", "")) == name]
    fix = (f"give bucket {bucket} a queue notification to {name.split(':')[-1]} for "
           f"s3:ObjectCreated:* with the prefix filter {wanted!r} (and no suffix, or '.zip'); "
           f"until then bundles are found only by the listing every {listing_s:g} s")
    if not ours:
        return [f"bucket {bucket} sends no events to this queue: {fix}"]
    if any(_delivers(config, wanted) for config in ours):
        return []
    filters = "; ".join(_describe(config) for config in ours)
    return [f"the bucket's notification to this queue ({filters}) never matches a new "
            f"bundle under {wanted!r}: {fix}"]


def check_database(config: IngestConfig) -> list[str]:
    """The database answers and is migrated to this version's schema."""
    engine = make_engine(config.db_url)
    try:
        require_current(engine)
    except (DatabaseUnavailable, SchemaNotCurrent) as exc:
        return [str(exc)]
    finally:
        engine.dispose()
    return []


def check_identities(config: IngestConfig) -> list[str]:
    """Kela's age identities are readable: without one no sealed bundle can be opened."""
    folder = config.sealing.identities_dir
    try:
        found = load_kela_identities(folder)
    except IngestConfigError as exc:
        return [str(exc)]
    return [] if found else [f"sealing.identities_dir: no identity (*.age) in {folder}; "
                             "create one with `aspa-ingest keys init` or fix the path"]


def _notifications(config: IngestConfig, bucket: str) -> dict[str, Any]:
    from aspa_contract.storage.s3store import make_client

    answer: dict[str, Any] = make_client(config.storage).get_bucket_notification_configuration(
        Bucket=bucket)
    return answer


def _delivers(config: dict[str, Any], wanted: str) -> bool:
    """True when ``config`` fires for a new ``wanted…/x.zip`` object."""
    events = set(config.get("Events", []))
    rules = _rules(config)
    return (bool(events & _CREATED_EVENTS) and wanted.startswith(rules.get("prefix", ""))
            and ".zip".endswith(rules.get("suffix", "")))


def _rules(config: dict[str, Any]) -> dict[str, str]:
    rules = config.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    return {rule["Name"].lower(): rule["Value"] for rule in rules}


def _describe(config: dict[str, Any]) -> str:
    rules = _rules(config)
    return (f"events {', '.join(config.get('Events', [])) or 'none'}, prefix "
            f"{rules.get('prefix', '')!r}, suffix {rules.get('suffix', '')!r}")


def _queue_name(queue_url: str) -> str:
    """``account:name`` of a queue URL (``…/123456789012/aspa-events``)."""
    account, _, name = urlsplit(queue_url).path.strip("/").rpartition("/")
    return f"{account}:{name}"


def _arn_queue_name(arn: str) -> str:
    """``account:name`` of a queue ARN (``arn:aws:sqs:eu-north-1:123456789012:aspa-events``)."""
    return ":".join(arn.split(":")[-2:])
