"""An exchange for ingest tests: a moto bucket whose incoming/ notifies an SQS queue, a fresh
PostgreSQL database, and the ingest running in a thread. Registered in tests/conftest.py.

Sealing is on, with the test keys of :mod:`tests.bundles`: the ingest holds the test Kela
identity and trusts the test signing key of every point in ``TEST_POINTS``; an agent gets its
point's key and Kela's public key from :func:`agent_sealing`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aspa_contract.keys import save_identity, save_signing_key
from aspa_contract.sealing import SealedBundle
from aspa_contract.storage import Storage, open_storage
from ingest.db import make_engine, upgrade_database
from ingest.keyring import add_point_key
from ingest.settings import IngestConfig, SealingSettings, SqsSettings
from ingest.worker import WorkerContext, run_workers
from scanner_agent.config import AgentConfig
from tests.bundles import kela_identity, point_signing_key, seal
from tests.s3server import REGION, MotoServer, S3Bucket

# Only a guard against a hung test; nothing asserts how fast the worker is.
DEADLINE_S = 60.0
# Points whose test signing keys the ingest trusts (demo-point: config/agent.toml's default).
TEST_POINTS = ("hki-kallio", "tku-keskusta", "oulu-keskusta", "demo-point")
# Test keys are valid from long before any test object arrives.
KEYS_VALID_FROM = datetime(2000, 1, 1, tzinfo=UTC)


def trust_test_keys(db_url: str, points: tuple[str, ...] = TEST_POINTS) -> None:
    """Migrate the database at ``db_url`` and register the test signing key of ``points``."""
    upgrade_database(db_url)
    engine = make_engine(db_url)
    try:
        for point in points:
            add_point_key(engine, point, point_signing_key(point).public_text,
                          valid_from=KEYS_VALID_FROM)
    finally:
        engine.dispose()


def ingest_sealing(folder: Path) -> SealingSettings:
    """Ingest sealing settings whose identities folder (made here) holds the test Kela key."""
    save_identity(kela_identity(), folder)
    return SealingSettings(identities_dir=folder)


def agent_sealing(var_dir: Path, point_id: str) -> dict[str, Any]:
    """``load_config`` overrides that make an agent under ``var_dir`` seal as ``point_id``
    with its test key (written to the default place) to the test Kela key."""
    save_signing_key(point_signing_key(point_id), var_dir / "keys" / "point-signing.pem")
    return {"sealing__kela_recipient": kela_identity().recipient}


class EachPointSealer:
    """A deliverer's sealer for a test outbox holding several points' bundles: each is sealed
    with the test key of the point its manifest names (a real agent has one point, one key)."""

    def seal(self, plain: bytes, point_id: str, bundle_id: str) -> SealedBundle:
        return seal(point_id, bundle_id, plain)


def sealed_agent(config: AgentConfig) -> AgentConfig:
    """``config`` sealing with its point's test key (written to its signing key path) to the
    test Kela key."""
    save_signing_key(point_signing_key(config.point.point_id), config.signing_key_path)
    sealing = config.sealing.model_copy(update={"kela_recipient": kela_identity().recipient})
    return config.model_copy(update={"sealing": sealing})


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
def exchange(moto_server: MotoServer, s3_bucket: S3Bucket, pg_url: str,
             tmp_path: Path) -> Exchange:
    """S3 + SQS + a fresh PostgreSQL database that trusts the test keys; the listing runs only
    at start."""
    queue_url = notify_queue(moto_server, s3_bucket, f"{s3_bucket.name}-events")
    trust_test_keys(pg_url)
    config = IngestConfig(
        storage_url=s3_bucket.url, storage=s3_bucket.settings, db_url=pg_url,
        sealing=ingest_sealing(tmp_path / "kela-keys"),
        queue_url=queue_url, reconcile_interval_s=3600,
        sqs=SqsSettings(endpoint_url=moto_server.endpoint_url, region=REGION, wait_time_s=1,
                        visibility_timeout_s=30))
    return Exchange(moto_server, s3_bucket, queue_url, config)


@pytest.fixture
def exchange_context(exchange: Exchange) -> Iterator[WorkerContext]:
    """A worker context on the exchange's store and (migrated) database, holding the test Kela
    identity: for tests that drive ``process_key`` / ``handle_all`` themselves."""
    engine = make_engine(exchange.config.db_url)
    yield WorkerContext(exchange.store, engine,
                        identities={kela_identity().key_id: kela_identity()})
    engine.dispose()


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


