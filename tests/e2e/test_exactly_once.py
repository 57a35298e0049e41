"""Exactly once: several `aspa-ingest run` processes, at-least-once deliveries, one case each.

Three worker processes share one store and one database. Every bundle reaches them more than
once: its S3 event, the same event sent to the queue a second time, and each process's
reconciling listing. However the races fall, each bundle becomes exactly one case with one
receipt, and nothing is rejected.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from aspa_contract.layout import incoming_key
from aspa_contract.storage import Storage, open_storage
from ingest.db import make_engine
from ingest.db.models import BundleException, Case
from tests.bundles import TEST_HETU, seal, valid_bundle
from tests.exchange import ingest_sealing, trust_test_keys
from tests.s3server import REGION, MotoServer, S3Bucket

pytestmark = pytest.mark.integration

BUNDLES = 50
PROCESSES = 3
POINTS = ("hki-kallio", "tku-keskusta", "oulu-keskusta")
# Only a guard against a hung test; nothing asserts how fast the ingest is.
DEADLINE_S = 120.0
INGEST = Path(sys.executable).parent / "aspa-ingest"


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until true; fail naming ``what`` if it never becomes true."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.2)


@contextmanager
def ingest_processes(env: dict[str, str], workdir: Path) -> Iterator[list[Path]]:
    """``PROCESSES`` × ``aspa-ingest run`` configured by ``env``; yields their log files.
    On leaving, each gets SIGTERM and must exit 0."""
    logs = [workdir / f"ingest-{n}.log" for n in range(PROCESSES)]
    processes = []
    for log in logs:
        with open(log, "wb") as out:
            processes.append(subprocess.Popen([str(INGEST), "run"], env=os.environ | env,
                                              cwd=workdir, stdout=out, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL))
    try:
        # Bundles then arrive while the workers poll and list, not only before they start.
        wait_until("every worker is running", lambda: all(
            _running(process, log) for process, log in zip(processes, logs, strict=True)))
        yield logs
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=60) for process in processes]
        shown = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
        assert codes == [0] * PROCESSES, f"exit codes {codes}; logs:\n{shown}"


def _running(process: subprocess.Popen[bytes], log: Path) -> bool:
    text = log.read_text(errors="replace")
    if process.poll() is not None:
        pytest.fail(f"aspa-ingest run exited {process.returncode} at start:\n{text[-3000:]}")
    return "ingest running" in text


def upload_bundles(store: Storage) -> set[str]:
    """Upload ``BUNDLES`` valid bundles, sealed, from a few threads at once, as several agents
    would."""
    def upload(n: int) -> str:
        point = POINTS[n % len(POINTS)]
        bundle_id, data = valid_bundle(point, documents=1)
        sealed = seal(point, bundle_id, data)
        assert store.put_new(incoming_key(point, bundle_id), sealed.data,
                             metadata=sealed.metadata)
        return bundle_id

    with ThreadPoolExecutor(4) as pool:
        return set(pool.map(upload, range(BUNDLES)))


def count(db_url: str, model: type[Case] | type[BundleException]) -> int:
    """Rows of ``model``; -1 while the workers have not created the tables yet."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(model)).scalar_one())
    except SQLAlchemyError:
        return -1
    finally:
        engine.dispose()


def assert_registered_exactly_once(store: Storage, db_url: str, bundle_ids: set[str],
                                   logs: list[Path]) -> None:
    """One case per bundle, one receipt naming that case, everything archived, no rejects,
    and no full identity code in any worker's log."""
    engine = make_engine(db_url)
    with engine.connect() as connection:
        cases = {row.bundle_id: row.case_ref for row in connection.execute(
            select(Case.bundle_id, Case.case_ref))}
        rejects = connection.execute(select(func.count()).select_from(BundleException))
        assert rejects.scalar_one() == 0
    engine.dispose()
    assert set(cases) == bundle_ids
    assert len(set(cases.values())) == BUNDLES
    receipts = [json.loads(store.get(info.key)) for info in store.list("receipts/")]
    assert {r["bundle_id"]: r["case_ref"] for r in receipts} == cases
    assert len(receipts) == BUNDLES
    assert len(list(store.list("archive/"))) == BUNDLES
    assert list(store.list("incoming/")) == []
    assert list(store.list("quarantine/")) == []
    for log in logs:
        assert TEST_HETU not in log.read_text(errors="replace")


# --- S3 + SQS + PostgreSQL ----------------------------------------------------------------


def _queue(server: MotoServer, name: str) -> tuple[str, str]:
    sqs = server.client("sqs")
    url: str = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url,
                                        AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def queues_for_incoming(server: MotoServer, bucket: S3Bucket) -> tuple[str, str]:
    """``(worker queue, tap queue)``: both get every ObjectCreated event under incoming/; the
    test reads the tap to send each event to the workers a second time."""
    worker_url, worker_arn = _queue(server, f"{bucket.name}-events")
    tap_url, tap_arn = _queue(server, f"{bucket.name}-tap")
    prefix = {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{bucket.prefix}/incoming/"}]}}
    server.client("s3").put_bucket_notification_configuration(
        Bucket=bucket.name, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": arn, "Events": ["s3:ObjectCreated:*"], "Filter": prefix}
            for arn in (worker_arn, tap_arn)]})
    return worker_url, tap_url


def duplicate_events(server: MotoServer, tap_url: str, worker_url: str,
                     stop: threading.Event) -> int:
    """Send every event body from the tap to the worker queue again until ``stop``; return how
    many object events were sent twice."""
    sqs = server.client("sqs")
    sent = 0
    while not stop.is_set():
        for message in sqs.receive_message(QueueUrl=tap_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", []):
            sqs.send_message(QueueUrl=worker_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=tap_url, ReceiptHandle=message["ReceiptHandle"])
            sent += "Records" in json.loads(message["Body"])
    return sent


def queued(server: MotoServer, queue_url: str) -> int:
    """Messages in the queue, visible or taken (0 = every one acknowledged)."""
    attributes = server.client("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
    return sum(int(value) for value in attributes.values())


def test_three_worker_processes_register_each_bundle_once_from_duplicated_events(
        moto_server: MotoServer, s3_bucket: S3Bucket, pg_url: str, tmp_path: Path) -> None:
    """GIVEN three `aspa-ingest run` processes on one SQS queue and one PostgreSQL database
    WHEN 50 bundles are uploaded, each event is delivered twice and every process also lists
    incoming/ each second THEN there are exactly 50 cases, 50 receipts and no exceptions, and
    every queue message was acknowledged."""
    worker_url, tap_url = queues_for_incoming(moto_server, s3_bucket)
    settings = s3_bucket.settings
    env = {
        "ASPA_INGEST_STORAGE_URL": s3_bucket.url,
        "ASPA_INGEST_STORAGE__ENDPOINT_URL": moto_server.endpoint_url,
        "ASPA_INGEST_STORAGE__REGION": REGION,
        "ASPA_INGEST_STORAGE__ADDRESSING_STYLE": settings.addressing_style,
        "ASPA_INGEST_DB_URL": pg_url,
        "ASPA_INGEST_QUEUE_URL": worker_url,
        "ASPA_INGEST_SQS__ENDPOINT_URL": moto_server.endpoint_url,
        "ASPA_INGEST_SQS__REGION": REGION,
        "ASPA_INGEST_SQS__WAIT_TIME_S": "1",
        "ASPA_INGEST_SQS__VISIBILITY_TIMEOUT_S": "30",
        "ASPA_INGEST_RECONCILE_INTERVAL_S": "1",
        "ASPA_INGEST_WORKERS": "2",
        "ASPA_INGEST_SEALING__IDENTITIES_DIR": str(
            ingest_sealing(tmp_path / "kela-keys").identities_dir),
    }
    trust_test_keys(pg_url)
    store = open_storage(s3_bucket.url, settings)
    stop = threading.Event()
    with ingest_processes(env, tmp_path) as logs, ThreadPoolExecutor(1) as tap:
        duplicated = tap.submit(duplicate_events, moto_server, tap_url, worker_url, stop)
        bundle_ids = upload_bundles(store)
        wait_until("every event is sent twice", lambda: queued(moto_server, tap_url) == 0)
        wait_until("50 receipts", lambda: len(list(store.list("receipts/"))) == BUNDLES)
        wait_until("incoming/ is empty", lambda: list(store.list("incoming/")) == [])
        stop.set()
        assert duplicated.result() == BUNDLES
        wait_until("every message is acknowledged", lambda: queued(moto_server, worker_url) == 0)
    assert count(pg_url, Case) == BUNDLES
    assert_registered_exactly_once(store, pg_url, bundle_ids, logs)


# --- file: store + SQLite, listing only ----------------------------------------------------


def test_three_listing_workers_on_a_folder_and_sqlite_register_each_bundle_once(
        tmp_path: Path) -> None:
    """GIVEN three `aspa-ingest run` processes on a file: store and one SQLite file, no queue
    WHEN 50 bundles are uploaded while each process lists incoming/ twice a second
    THEN there are exactly 50 cases, 50 receipts and no exceptions."""
    root = tmp_path / "store"
    root.mkdir()
    db_url = f"sqlite:///{tmp_path / 'ingest.db'}"
    env = {"ASPA_INGEST_STORAGE_URL": root.as_uri(), "ASPA_INGEST_DB_URL": db_url,
           "ASPA_INGEST_RECONCILE_INTERVAL_S": "0.5", "ASPA_INGEST_WORKERS": "2",
           "ASPA_INGEST_SEALING__IDENTITIES_DIR": str(
               ingest_sealing(tmp_path / "kela-keys").identities_dir)}
    # Migrated (and the test keys registered) first, as deployment does: SQLite cannot
    # serialise concurrent migrations the way PostgreSQL's advisory lock does, so racing `run`s
    # could hit "database is locked".
    trust_test_keys(db_url)
    store = open_storage(root.as_uri())
    with ingest_processes(env, tmp_path) as logs:
        bundle_ids = upload_bundles(store)
        wait_until("50 receipts", lambda: len(list(store.list("receipts/"))) == BUNDLES)
        wait_until("incoming/ is empty", lambda: list(store.list("incoming/")) == [])
    assert count(db_url, Case) == BUNDLES
    assert_registered_exactly_once(store, db_url, bundle_ids, logs)
