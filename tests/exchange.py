"""An exchange for ingest tests: a moto bucket whose incoming/ notifies an SQS queue, a fresh
PostgreSQL database, and the ingest running in a thread. Registered in tests/conftest.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from aspa_contract.storage import Storage, open_storage
from ingest.settings import IngestConfig, SqsSettings
from ingest.worker import run_workers
from tests.s3server import REGION, MotoServer, S3Bucket

# Only a guard against a hung test; nothing asserts how fast the worker is.
DEADLINE_S = 60.0


@dataclass
class Exchange:
    """A bucket whose incoming/ notifies an SQS queue, and the ingest config that uses both."""

    server: MotoServer
    bucket: S3Bucket
    queue_url: str
    config: IngestConfig

    @property
    def store(self) -> Storage:
        return open_storage(self.bucket.url, self.bucket.settings)

    def queued_messages(self) -> int:
        """Messages still in the queue, taken or not (0 = every one was acknowledged)."""
        attributes = self.server.client("sqs").get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=[
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        return sum(int(value) for value in attributes["Attributes"].values())


def notify_queue(server: MotoServer, bucket: S3Bucket, name: str) -> str:
    """A new queue that receives the bucket's ObjectCreated events under the store's incoming/."""
    sqs = server.client("sqs")
    queue_url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url,
                                   AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    server.client("s3").put_bucket_notification_configuration(
        Bucket=bucket.name, NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [
                {"Name": "prefix", "Value": f"{bucket.prefix}/incoming/"}]}}}]})
    return queue_url


@pytest.fixture
def exchange(moto_server: MotoServer, s3_bucket: S3Bucket, pg_url: str) -> Exchange:
    """S3 + SQS + a fresh PostgreSQL database; the listing runs only at start."""
    queue_url = notify_queue(moto_server, s3_bucket, f"{s3_bucket.name}-events")
    config = IngestConfig(
        storage_url=s3_bucket.url, storage=s3_bucket.settings, db_url=pg_url,
        queue_url=queue_url, reconcile_interval_s=3600,
        sqs=SqsSettings(endpoint_url=moto_server.endpoint_url, region=REGION, wait_time_s=1,
                        visibility_timeout_s=30))
    return Exchange(moto_server, s3_bucket, queue_url, config)


@contextmanager
def running_worker(config: IngestConfig) -> Iterator[None]:
    """``run_workers`` in a thread for the duration of the block; stopped and joined after."""
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            run_workers(config, stop)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name="test-ingest")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=DEADLINE_S)
        assert not thread.is_alive(), "the worker did not stop"
    assert not failure, f"run_workers failed: {failure[0]!r}"


