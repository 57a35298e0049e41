"""S3 event notifications from a real moto server through SQS, decoded back to store keys."""

from __future__ import annotations

from typing import Any

import pytest

from aspa_contract.storage import S3Location, open_storage, parse_storage_url, s3_event_keys
from tests.s3server import MotoServer, S3Bucket

pytestmark = pytest.mark.integration


def _queue_for_created_objects(server: MotoServer, bucket: str) -> str:
    sqs = server.client("sqs")
    queue_url: str = sqs.create_queue(QueueName=f"{bucket}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    server.client("s3").put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"]}]})
    return queue_url


def _drain(server: MotoServer, queue_url: str) -> list[dict[str, Any]]:
    sqs = server.client("sqs")
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=0).get("Messages", []):
        messages.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def test_created_objects_arrive_as_store_keys_once(moto_server: MotoServer,
                                                   s3_bucket: S3Bucket) -> None:
    """GIVEN bucket notifications to SQS WHEN put_new writes awkward keys, then retries one
    THEN the events decode to exactly those store keys (test event skipped), the retry adds none.
    """
    queue_url = _queue_for_created_objects(moto_server, s3_bucket.name)
    store = open_storage(s3_bucket.url, s3_bucket.settings)
    keys = ["incoming/hki-kallio/01J0000000000000000000000A.zip", "incoming/a b+c/x ä.zip"]
    for key in keys:
        assert store.put_new(key, b"bundle")
    assert store.put_new(keys[0], b"bundle") is False
    location = parse_storage_url(s3_bucket.url)
    assert isinstance(location, S3Location)
    found = [location.relative_key(bucket, object_key)
             for message in _drain(moto_server, queue_url)
             for bucket, object_key in s3_event_keys(message["Body"])]
    assert sorted(k for k in found if k is not None) == sorted(keys)
    assert None not in found
