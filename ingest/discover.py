"""Discover stage of the ingest: where candidate bundle keys come from.

Two sources, both at-least-once, so one key may come many times and from both:

- :class:`SqsSource` long-polls the queue the store's ``ObjectCreated`` events go to. A message
  is acknowledged (deleted) by the caller only after every key in it was handled; otherwise it
  reappears after the visibility timeout and another worker takes it.
- :func:`listed_keys` lists ``incoming/``: run at start and every ``reconcile_interval_s``, it
  catches bundles whose event was lost (and is the only source on a ``file:`` store). It lists
  every object, also those whose keys the store refuses (:mod:`ingest.foreign`), so each one
  ends as a case or an exception record.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from aspa_contract.storage import (
    MalformedEvent,
    S3Location,
    Storage,
    StorageConfigError,
    StorageSettings,
    StorageUnavailable,
    s3_event_keys,
)
from aspa_contract.storage.queue import queue_failure
from ingest.foreign import foreign_objects
from ingest.quarantine import INCOMING_PREFIX, shown_key
from ingest.settings import SqsSettings

log = logging.getLogger(__name__)

__all__ = ["INCOMING_PREFIX", "QueueMessage", "SqsSource", "listed_keys"]


@dataclass(frozen=True)
class QueueMessage:
    """One SQS message: the store keys of the new bundles it announces (often one, or none for
    a test event) and the handle that acknowledges it."""

    message_id: str
    receipt_handle: str
    keys: tuple[str, ...]


class SqsSource:
    """The queue of the store's ``ObjectCreated`` events, turned into store keys.

    Events for other buckets, other prefixes, or outside ``incoming/`` give no keys; a message
    that is not an S3 event at all gives none either (it is logged: acknowledging it drops it,
    as retrying cannot make it readable). Every SQS failure is :class:`StorageUnavailable`.
    """

    def __init__(self, queue_url: str, settings: SqsSettings, location: S3Location,
                 storage: StorageSettings | None = None, client: Any | None = None) -> None:
        self.queue_url = queue_url
        self.settings = settings
        self.location = location
        self._client = client if client is not None else _sqs_client(settings, storage)

    def check(self) -> None:
        """Prove the queue exists and this process may use it (at start): raise
        :class:`StorageConfigError` naming the fix, or :class:`StorageUnavailable`."""
        try:
            self._client.get_queue_attributes(QueueUrl=self.queue_url,
                                              AttributeNames=["VisibilityTimeout"])
        except (ClientError, BotoCoreError) as exc:
            raise queue_failure(self.queue_url, self._client.meta.endpoint_url, exc) from exc

    def receive(self) -> list[QueueMessage]:
        """One long poll: up to ``max_messages`` messages, hidden from other workers for
        ``visibility_timeout_s`` while this worker handles them."""
        with _sqs_errors(self.queue_url, "receive from"):
            response = self._client.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=self.settings.max_messages,
                WaitTimeSeconds=self.settings.wait_time_s,
                VisibilityTimeout=self.settings.visibility_timeout_s,
            )
        return [self._message(raw) for raw in response.get("Messages", [])]

    def ack(self, message: QueueMessage) -> None:
        """Delete ``message``: call only once every key in it has been handled."""
        with _sqs_errors(self.queue_url, "delete a message from"):
            self._client.delete_message(QueueUrl=self.queue_url,
                                        ReceiptHandle=message.receipt_handle)

    def _message(self, raw: dict[str, Any]) -> QueueMessage:
        return QueueMessage(raw["MessageId"], raw["ReceiptHandle"],
                            tuple(self._keys(raw["MessageId"], raw.get("Body", ""))))

    def _keys(self, message_id: str, body: str) -> Iterator[str]:
        try:
            pairs = s3_event_keys(body)
        except MalformedEvent as exc:
            log.warning("dropping queue message %s: %s", message_id, exc)
            return
        for bucket, object_key in pairs:
            key = self.location.relative_key(bucket, object_key)
            if key is not None and key.startswith(INCOMING_PREFIX):
                yield key
            else:
                log.info("queue message %s names %s/%s outside %s%s; ignored", message_id,
                         bucket, shown_key(object_key), self.location.url,
                         "/" + INCOMING_PREFIX)


def listed_keys(store: Storage) -> Iterator[str]:
    """Every key under ``incoming/`` now, foreign ones included: the reconciling listing."""
    for info in store.list(INCOMING_PREFIX):
        yield info.key
    foreign = foreign_objects(store)
    if foreign is not None:
        for info in foreign.list(INCOMING_PREFIX):
            yield info.key


def _sqs_client(settings: SqsSettings, storage: StorageSettings | None) -> Any:
    # Same credentials source as the store (the profile), and the store's region unless the
    # queue names its own.
    profile = storage.profile if storage else None
    region = settings.region or (storage.region if storage else None)
    config = Config(region_name=region, retries={"mode": "standard", "max_attempts": 3},
                    # A long poll holds the connection open for wait_time_s.
                    read_timeout=settings.wait_time_s + 10)
    try:
        return boto3.session.Session(profile_name=profile).client(
            "sqs", endpoint_url=settings.endpoint_url, config=config)
    except (BotoCoreError, ValueError) as exc:
        raise StorageConfigError(f"cannot set up the SQS client: {exc}; fix storage.profile, "
                                 "sqs.region or sqs.endpoint_url") from exc


@contextmanager
def _sqs_errors(queue_url: str, doing: str) -> Iterator[None]:
    """Map every boto failure of one SQS call onto :class:`StorageUnavailable` (back off)."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise StorageUnavailable(f"cannot {doing} queue {queue_url}: {exc}; retrying later"
                                 ) from exc
