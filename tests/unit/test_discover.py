"""The SQS source turns event messages into store keys of incoming bundles, and nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError

from aspa_contract.storage import S3Location, StorageUnavailable
from ingest.discover import SqsSource
from ingest.settings import SqsSettings

LOCATION = S3Location("aspa-exchange", "prod")


def event(bucket: str, key: str) -> str:
    """An S3 ObjectCreated notification as moto sends it (key fully URL-encoded)."""
    encoded = key.replace("/", "%2F")
    return json.dumps({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
                                    "s3": {"bucket": {"name": bucket},
                                           "object": {"key": encoded}}}]})


class FakeSqs:
    """Records calls; answers receive_message with the given bodies."""

    def __init__(self, *bodies: str, fail: bool = False) -> None:
        self.bodies = bodies
        self.fail = fail
        self.deleted: list[str] = []

    def receive_message(self, **_: Any) -> dict[str, Any]:
        if self.fail:
            raise EndpointConnectionError(endpoint_url="http://sqs.invalid")
        return {"Messages": [{"MessageId": f"m{n}", "ReceiptHandle": f"h{n}", "Body": body}
                             for n, body in enumerate(self.bodies)]}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)


def source(client: FakeSqs) -> SqsSource:
    return SqsSource("https://sqs.invalid/q", SqsSettings(), LOCATION, client=client)


def test_events_become_store_keys_of_incoming_objects_only() -> None:
    """GIVEN events for this store's incoming/, its archive/, another bucket, a test event and
    a body that is no event WHEN received THEN only the incoming key comes out, without the
    store's prefix, and every message can still be acknowledged."""
    wanted = "incoming/hki-kallio/01J0000000000000000000000A.zip"
    client = FakeSqs(event("aspa-exchange", f"prod/{wanted}"),
                     event("aspa-exchange", "prod/archive/hki-kallio/x.zip"),
                     event("someone-else", f"prod/{wanted}"),
                     json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
                     "not json")
    messages = source(client).receive()
    assert [m.keys for m in messages] == [(wanted,), (), (), (), ()]
    for message in messages:
        source(client).ack(message)
    assert client.deleted == ["h0", "h1", "h2", "h3", "h4"]


def test_an_unreachable_queue_is_reported_as_unavailable() -> None:
    """GIVEN SQS cannot be reached WHEN receiving THEN StorageUnavailable (back off, retry)."""
    with pytest.raises(StorageUnavailable):
        source(FakeSqs(fail=True)).receive()
