"""Decoding S3 event notifications as they arrive in SQS message bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from aspa_contract.storage import MalformedEvent, s3_event_keys

# As moto sends it: the key fully URL-encoded, '/' included, '+' for a space.
MOTO_RECORD: dict[str, Any] = {
    "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "eu-north-1",
    "eventTime": "2026-11-27T23:00:05.861Z", "eventName": "ObjectCreated:Put",
    "s3": {"bucket": {"name": "aspa-exchange", "arn": "arn:aws:s3:::aspa-exchange"},
           "object": {"key": "prod%2Fincoming%2Fa+b%2Bc%2Fx+%C3%A4.zip", "size": 2}},
}


def _body(*records: dict[str, Any]) -> str:
    return json.dumps({"Records": list(records)})


def test_keys_are_url_decoded_including_slashes_plus_and_utf8() -> None:
    assert s3_event_keys(_body(MOTO_RECORD)) == [("aspa-exchange", "prod/incoming/a b+c/x ä.zip")]


def test_aws_style_key_with_literal_slashes_decodes_the_same() -> None:
    record = json.loads(json.dumps(MOTO_RECORD))
    record["s3"]["object"]["key"] = "prod/incoming/a+b%2Bc/x+%C3%A4.zip"
    assert s3_event_keys(_body(record)) == [("aspa-exchange", "prod/incoming/a b+c/x ä.zip")]


def test_the_test_event_sent_when_notifications_are_configured_gives_nothing() -> None:
    body = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent",
                       "Time": "2026-11-27T23:00:05.857Z", "Bucket": "aspa-exchange"})
    assert s3_event_keys(body) == []


def test_removed_objects_and_other_sources_are_skipped() -> None:
    removed = {**MOTO_RECORD, "eventName": "ObjectRemoved:Delete"}
    other = {**MOTO_RECORD, "eventSource": "aws:sqs"}
    assert s3_event_keys(_body(removed, other, MOTO_RECORD)) == [
        ("aspa-exchange", "prod/incoming/a b+c/x ä.zip")]


def test_a_record_lacking_event_name_and_source_still_counts() -> None:
    bare: dict[str, Any] = {"s3": {"bucket": {"name": "b-1"}, "object": {"key": "k%2F1"}}}
    assert s3_event_keys(_body(bare)) == [("b-1", "k/1")]


def test_an_sns_envelope_is_opened() -> None:
    body = json.dumps({"Type": "Notification", "TopicArn": "arn:aws:sns:eu-north-1:1:t",
                       "Message": _body(MOTO_RECORD)})
    assert s3_event_keys(body) == [("aspa-exchange", "prod/incoming/a b+c/x ä.zip")]


@pytest.mark.parametrize("body", [
    "not json", "[1, 2]", json.dumps({"hello": "world"}), json.dumps({"Records": "x"}),
    _body({"eventName": "ObjectCreated:Put", "s3": {"bucket": {"name": "b"}}}),
    _body({"s3": {"bucket": {"name": "b"}, "object": {"key": 7}}}),
])
def test_a_message_that_is_not_an_s3_event_is_malformed(body: str) -> None:
    with pytest.raises(MalformedEvent) as caught:
        s3_event_keys(body)
    assert isinstance(caught.value, ValueError)
