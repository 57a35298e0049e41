"""Read S3 event notifications (as SQS message bodies) into ``(bucket, key)`` pairs.

Handles what real and emulated stores send: the ``s3:TestEvent`` a queue receives when a
notification is configured, keys URL-encoded in the event (moto encodes ``/`` too), and an
SNS envelope around the event when the bucket notifies a topic that feeds the queue.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aspa_contract.storage.errors import MalformedEvent


def s3_event_keys(message_body: str) -> list[tuple[str, str]]:
    """The ``(bucket, key)`` of each object-created record in one message, keys decoded.

    A test event gives ``[]``; records of other events (``ObjectRemoved:*``) are skipped.
    Raises :class:`MalformedEvent` for a body that is not an S3 notification, so the caller can
    log it and drop the message instead of retrying it forever.
    """
    doc = _json_object(message_body)
    if doc.get("Type") == "Notification" and isinstance(doc.get("Message"), str):
        return s3_event_keys(doc["Message"])
    if doc.get("Event") == "s3:TestEvent":
        return []
    records = doc.get("Records")
    if not isinstance(records, list):
        raise MalformedEvent("message has neither 'Records' nor an S3 test event")
    return [pair for record in records if (pair := _created(record)) is not None]


def _json_object(body: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise MalformedEvent(f"message is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedEvent("message is JSON but not an object")
    return doc


def _created(record: Any) -> tuple[str, str] | None:
    # Fields stores leave out (moto omits several) are not held against the record; only an
    # explicit other source or event name skips it.
    if not isinstance(record, dict) or record.get("eventSource", "aws:s3") != "aws:s3":
        return None
    if not str(record.get("eventName", "ObjectCreated:")).startswith("ObjectCreated:"):
        return None
    try:
        bucket = record["s3"]["bucket"]["name"]
        key = record["s3"]["object"]["key"]
    except (KeyError, TypeError):
        raise MalformedEvent("S3 record lacks s3.bucket.name or s3.object.key") from None
    if not isinstance(bucket, str) or not isinstance(key, str):
        raise MalformedEvent("S3 record's bucket name or object key is not a string")
    return bucket, unquote_plus(key)
