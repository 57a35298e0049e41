"""doctor's reading of a bucket's notification configuration: does every new bundle under the
store's incoming/ reach the ingest's queue, and if not, what to set."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.doctor import notification_problems

QUEUE_URL = "http://127.0.0.1:5000/123456789012/aspa-events"
ARN = "arn:aws:sqs:eu-north-1:123456789012:aspa-events"
WANTED = "exchange/incoming/"


def config(prefix: str | None = None, suffix: str | None = None, arn: str = ARN,
           events: tuple[str, ...] = ("s3:ObjectCreated:*",)) -> dict[str, Any]:
    rules = [{"Name": name, "Value": value}
             for name, value in (("Prefix", prefix), ("Suffix", suffix)) if value is not None]
    entry: dict[str, Any] = {"QueueArn": arn, "Events": list(events)}
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return {"QueueConfigurations": [entry]}


def problems(notifications: dict[str, Any]) -> list[str]:
    return notification_problems(notifications, "aspa-bucket", QUEUE_URL, WANTED, 300)


@pytest.mark.parametrize("notifications", [
    config(prefix="exchange/incoming/"),
    config(prefix="exchange/incoming/", suffix=".zip"),
    config(prefix="exchange/"),                 # wider than needed: still every bundle
    config(),                                   # no filter at all
    config(prefix="exchange/incoming/", events=("s3:ObjectCreated:Put",)),
])
def test_a_filter_that_lets_every_new_bundle_through_is_fine(
        notifications: dict[str, Any]) -> None:
    assert problems(notifications) == []


@pytest.mark.parametrize("notifications", [
    config(prefix="incoming/"),                 # without the store's prefix: never matches
    config(prefix="exchange/incoming/", suffix=".json"),
    config(prefix="exchange/incoming/", events=("s3:ObjectRemoved:*",)),
])
def test_a_filter_that_never_matches_a_new_bundle_says_the_prefix_to_set(
        notifications: dict[str, Any]) -> None:
    (problem,) = problems(notifications)
    assert "never matches" in problem
    assert "prefix filter 'exchange/incoming/'" in problem and "every 300 s" in problem


def test_notifications_to_another_queue_only_say_none_reach_this_one() -> None:
    (problem,) = problems(config(prefix=WANTED, arn=ARN.replace("aspa-events", "other")))
    assert "sends no events to this queue" in problem
    assert problems({}) == [problem]
