"""Operators' set-up mistakes on real services (moto's S3 + SQS server as a separate process,
SQLite): the ingest finds its queue from the store's settings alone, stops with exit 2 naming
the key when the queue is set up wrong, rides out a queue that is only down, and `doctor` and
the start say when the bucket's notifications cannot reach the queue."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aspa_contract.keys import create_identity
from aspa_contract.storage import open_storage
from ingest.db import upgrade_database
from ingest.settings import IngestConfig
from ingest.worker import open_queue
from tests.exchange import notify_queue
from tests.s3server import FAKE_ENV, MotoServer, S3Bucket
from tests.waiting import DEADLINE_S, wait_until

pytestmark = pytest.mark.integration

INGEST = Path(sys.executable).parent / "aspa-ingest"
BUNDLE_KEY = "incoming/hki-kallio/01JDQ7Z8Y9X0W1V2T3S4R5Q6P7.zip"


def ingest_env(moto_server: MotoServer, bucket: S3Bucket, queue_url: str, tmp_path: Path,
               **extra: str) -> dict[str, str]:
    """Only the store's endpoint, the queue URL and a database: nothing under [sqs], no
    region or addressing style (the moto fixture's AWS_DEFAULT_REGION is the only region)."""
    return {"ASPA_INGEST_STORAGE_URL": bucket.url,
            "ASPA_INGEST_STORAGE__ENDPOINT_URL": moto_server.endpoint_url,
            "ASPA_INGEST_QUEUE_URL": queue_url,
            "ASPA_INGEST_DB_URL": f"sqlite:///{tmp_path / 'ingest.db'}",
            "ASPA_INGEST_SQS__WAIT_TIME_S": "1",
            "COLUMNS": "400",  # doctor's table: one line per check
            **extra}


def with_kela_identity(cwd: Path) -> Path:
    """``cwd`` with a Kela identity where the ingest looks by default (once)."""
    if not list((cwd / "var" / "keys" / "ingest").glob("*.age")):
        create_identity(cwd / "var" / "keys" / "ingest")
    return cwd


def ingest(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    with_kela_identity(cwd)
    return subprocess.run([str(INGEST), *args], env=os.environ | env, cwd=cwd, text=True,
                          capture_output=True, timeout=DEADLINE_S, stdin=subprocess.DEVNULL)


@contextmanager
def ingest_running(env: dict[str, str], cwd: Path) -> Iterator[Path]:
    """``aspa-ingest run`` until the block ends; yields its log; it must stop with exit 0."""
    log = with_kela_identity(cwd) / "ingest.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([str(INGEST), "run"], env=os.environ | env, cwd=cwd,
                                   stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    try:
        wait_until("the ingest is running",
                   lambda: process.poll() is not None or "ingest running" in log.read_text())
        assert process.poll() is None, f"exited {process.returncode}:\n{log.read_text()}"
        yield log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=DEADLINE_S) == 0, log.read_text()


def test_the_queue_is_found_from_its_url_and_the_store_settings_alone(
        moto_server: MotoServer, s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """GIVEN a moto queue URL and the store's endpoint, but no [sqs] endpoint or region
    WHEN a bundle lands in incoming/ THEN the ingest's queue source checks fine and receives
    its key (it used to ask AWS's public endpoint for the moto queue, and wait for ever)."""
    queue_url = notify_queue(moto_server, s3_bucket, f"{s3_bucket.name}-events")
    config = IngestConfig(storage_url=s3_bucket.url, queue_url=queue_url,
                          storage={"endpoint_url": moto_server.endpoint_url},
                          sqs={"wait_time_s": 1}, db_url=f"sqlite:///{tmp_path / 'i.db'}")
    source = open_queue(config)
    assert source is not None
    open_storage(config.storage_url, config.storage).put_new(BUNDLE_KEY, b"zip")
    keys: list[str] = []
    wait_until("the event arrives", lambda: bool(
        keys.extend(k for m in source.receive() for k in m.keys) or keys))
    assert keys == [BUNDLE_KEY]


def test_a_queue_endpoint_whose_host_does_not_exist_stops_run_with_exit_2_naming_the_key(
        moto_server: MotoServer, s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """GIVEN sqs.endpoint_url on a host that does not exist THEN `aspa-ingest run` stops at
    once with exit 2 and a message naming sqs.endpoint_url and its variable (it used to log
    "starting anyway" and retry for ever)."""
    queue_url = notify_queue(moto_server, s3_bucket, f"{s3_bucket.name}-events")
    env = ingest_env(moto_server, s3_bucket, queue_url, tmp_path,
                     ASPA_INGEST_SQS__ENDPOINT_URL="http://sqs.invalid:4566")
    done = ingest(["run"], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "host sqs.invalid does not exist" in done.stderr
    assert "sqs.endpoint_url (ASPA_INGEST_SQS__ENDPOINT_URL)" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_queue_url_naming_no_queue_stops_run_with_exit_2_naming_queue_url(
        moto_server: MotoServer, s3_bucket: S3Bucket, tmp_path: Path) -> None:
    env = ingest_env(moto_server, s3_bucket,
                     f"{moto_server.endpoint_url}/123456789012/{s3_bucket.name}-none", tmp_path)
    done = ingest(["run"], env, tmp_path)
    assert done.returncode == 2, done.stderr
    assert "queue_url (ASPA_INGEST_QUEUE_URL)" in done.stderr


def test_a_queue_that_is_only_down_at_start_is_ridden_out(
        moto_server: MotoServer, s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """GIVEN a queue endpoint that refuses connections (an outage, not a mistake)
    THEN `aspa-ingest run` starts, keeps retrying, and stops cleanly on SIGTERM."""
    queue_url = notify_queue(moto_server, s3_bucket, f"{s3_bucket.name}-events")
    closed = f"http://127.0.0.1:{_closed_port()}"
    env = ingest_env(moto_server, s3_bucket, queue_url, tmp_path,
                     ASPA_INGEST_SQS__ENDPOINT_URL=closed)
    with ingest_running(env, tmp_path) as log:
        wait_until("a retry is logged", lambda: "retrying later" in log.read_text())


def test_doctor_passes_on_a_working_set_up(moto_server: MotoServer, s3_bucket: S3Bucket,
                                           tmp_path: Path) -> None:
    queue_url = notify_queue(moto_server, s3_bucket, f"{s3_bucket.name}-events")
    env = ingest_env(moto_server, s3_bucket, queue_url, tmp_path)
    upgrade_database(env["ASPA_INGEST_DB_URL"])
    done = ingest(["doctor"], env, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in ("storage", "queue", "notifications", "database", "identities"):
        assert f"{name}" in done.stdout
    assert "FAIL" not in done.stdout
    assert list(open_storage(s3_bucket.url, s3_bucket.settings).list()) == []  # probe removed


def test_a_notification_filter_without_the_store_prefix_fails_doctor_and_warns_at_start(
        moto_server: MotoServer, s3_bucket: S3Bucket, tmp_path: Path) -> None:
    """GIVEN the bucket notifies the queue for `incoming/` while the store lives under
    `exchange/` (so no bundle ever makes an event) THEN doctor fails naming the prefix filter
    to set, and `run` logs the same at start instead of silently living on the listing."""
    queue_url = notify_queue(moto_server, s3_bucket, f"{s3_bucket.name}-events")
    _set_prefix_filter(moto_server, s3_bucket, queue_url, "incoming/")
    env = ingest_env(moto_server, s3_bucket, queue_url, tmp_path)
    upgrade_database(env["ASPA_INGEST_DB_URL"])
    done = ingest(["doctor"], env, tmp_path)
    assert done.returncode == 3, done.stdout
    assert "prefix 'incoming/'" in done.stdout
    assert "prefix filter 'exchange/incoming/'" in done.stdout
    with ingest_running(env, tmp_path) as log:
        assert "prefix filter 'exchange/incoming/'" in log.read_text()


def test_doctor_fails_on_a_database_that_is_not_migrated(
        moto_server: MotoServer, s3_bucket: S3Bucket, tmp_path: Path) -> None:
    queue_url = notify_queue(moto_server, s3_bucket, f"{s3_bucket.name}-events")
    done = ingest(["doctor"], ingest_env(moto_server, s3_bucket, queue_url, tmp_path), tmp_path)
    assert done.returncode == 3
    assert "aspa-ingest db upgrade" in done.stdout


def _set_prefix_filter(server: MotoServer, bucket: S3Bucket, queue_url: str,
                       prefix: str) -> None:
    arn = server.client("sqs").get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    server.client("s3").put_bucket_notification_configuration(
        Bucket=bucket.name, NotificationConfiguration={"QueueConfigurations": [{
            "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}}]})


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_agent_doctor_says_which_setting_to_fix_for_a_store_host_that_does_not_exist(
        tmp_path: Path) -> None:
    """GIVEN the agent's store endpoint on a host that does not exist THEN doctor fails the
    storage check naming storage.endpoint_url (not "retry later", as for an outage)."""
    env = dict(os.environ, **FAKE_ENV, ASPA_PATHS__VAR_DIR=str(tmp_path / "var"),
               COLUMNS="400", AWS_CONFIG_FILE=str(tmp_path / "none"),
               ASPA_DELIVERY__STORAGE_URL="s3://aspa-exchange/prod",
               ASPA_DELIVERY__STORAGE__ENDPOINT_URL="http://s3.invalid:9000",
               ASPA_DELIVERY__STORAGE__MAX_ATTEMPTS="1")
    done = subprocess.run([str(INGEST.with_name("aspa-agent")), "doctor"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=DEADLINE_S)
    assert done.returncode == 3
    (line,) = [line for line in done.stdout.splitlines() if "storage" in line]
    assert "FAIL" in line and "does not exist; fix storage.endpoint_url" in line
