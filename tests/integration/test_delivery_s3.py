"""Delivery against a real S3 API (moto server over HTTP): bundles land under
incoming/{point}/{id}.zip byte for byte, a receipt deletes the local copies, and an outage
(the server stopped with bundles queued) is ridden out with nothing lost and nothing twice."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from aspa_contract.layout import incoming_key, receipt_key
from aspa_contract.storage import open_storage
from scanner_agent.config import AgentConfig, load_config
from scanner_agent.delivery import Deliverer
from scanner_agent.delivery_log import DeliveryLog, Outcome, State
from scanner_agent.outbox import Outbox
from tests.agent_runner import running_deliverer
from tests.bundles import open_sealed, point_signing_key, valid_bundle
from tests.exchange import agent_sealing
from tests.s3server import MotoServer, S3Bucket, create_bucket

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
POINT = "hki-kallio"
WAIT_S = 60.0  # a generous limit for waiting, never a measurement


@pytest.fixture
def config(tmp_path: Path, s3_bucket: S3Bucket) -> AgentConfig:
    return load_config(REPO / "config" / "agent.toml", paths__var_dir=tmp_path / "var",
                       delivery__storage_url=s3_bucket.url,
                       delivery__outbox_poll_s=0.05, delivery__receipt_poll_s=0.05,
                       delivery__backoff_base_s=0.05, delivery__backoff_cap_s=0.4,
                       **agent_sealing(tmp_path / "var", POINT))


def deliverer_for(config: AgentConfig, bucket: S3Bucket, **settings: object) -> Deliverer:
    """A deliverer on the bucket: one try per request and short timeouts, so an outage shows
    at once and the deliverer's own back-off does the waiting."""
    storage = open_storage(bucket.url, bucket.settings.model_copy(
        update={"max_attempts": 1, "connect_timeout": 1.0, "read_timeout": 5.0, **settings}))
    return Deliverer(config, storage)


def put_in_outbox(config: AgentConfig) -> tuple[str, bytes]:
    bundle_id, data = valid_bundle(point_id=POINT, documents=1)
    Outbox(config.paths.outbox).bundle_path(bundle_id).write_bytes(data)
    scans = config.paths.done / bundle_id / "job"
    scans.mkdir(parents=True)
    (scans / "scan-0001.png").write_bytes(b"page")
    return bundle_id, data


def objects(server: MotoServer, bucket: S3Bucket, under: str) -> dict[str, bytes]:
    """Every object under ``{prefix}/{under}`` (store keys) with its bytes, straight from S3."""
    s3 = server.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket.name, Prefix=f"{bucket.prefix}/{under}")
    found = {}
    for entry in listed.get("Contents", []):
        body = s3.get_object(Bucket=bucket.name, Key=entry["Key"])["Body"].read()
        found[entry["Key"][len(bucket.prefix) + 1:]] = body
    return found


def place_receipt(server: MotoServer, bucket: S3Bucket, bundle_id: str) -> None:
    """What the ingest writes after registering the case."""
    receipt = {"bundle_id": bundle_id, "case_ref": "K-2026-000777",
               "received_at": "2026-11-27T08:20:05Z", "arrival_date": "2026-11-27",
               "documents": [{"file": "01-TO1.pdf", "form_code": "TO 1"}]}
    server.client("s3").put_object(Bucket=bucket.name,
                                   Key=f"{bucket.prefix}/{receipt_key(POINT, bundle_id)}",
                                   Body=json.dumps(receipt).encode())


def wait_until(what: str, condition: Callable[[], bool], thread: threading.Thread) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert thread.is_alive(), "the deliverer's thread died"
        assert time.monotonic() < deadline, f"gave up waiting for: {what}"
        time.sleep(0.05)


def test_bundles_land_under_their_incoming_key_sealed_around_their_exact_bytes(
        config: AgentConfig, s3_bucket: S3Bucket, moto_server: MotoServer) -> None:
    """GIVEN two bundles in the outbox WHEN delivered THEN each object is ciphertext (no zip,
    no manifest readable) with the seal in its S3 metadata, and opens to the outbox's bytes."""
    made = dict(put_in_outbox(config) for _ in range(2))
    report = deliverer_for(config, s3_bucket).step()
    assert report.uploaded == sorted(made) and report.error is None
    stored = objects(moto_server, s3_bucket, "incoming/")
    assert {key: open_sealed(sealed) for key, sealed in stored.items()} == {
        incoming_key(POINT, i): data for i, data in made.items()}
    s3 = moto_server.client("s3")
    for key, sealed in stored.items():
        assert b"PK" not in sealed[:4] and b"manifest.json" not in sealed
        head = s3.head_object(Bucket=s3_bucket.name, Key=f"{s3_bucket.prefix}/{key}")
        assert head["Metadata"]["aspa-seal"] == "aspa-seal/1"
        assert head["Metadata"]["aspa-signer"] == point_signing_key(POINT).key_id


def test_a_bundle_uploaded_before_a_crash_is_not_written_again(
        config: AgentConfig, s3_bucket: S3Bucket, moto_server: MotoServer) -> None:
    """GIVEN a bundle that reached S3 but whose state was never written (crash)
    WHEN the restarted deliverer runs THEN S3 refuses the create-only PUT and it counts as
    delivered; the object is the first one, unchanged."""
    bundle_id, data = put_in_outbox(config)
    key = incoming_key(POINT, bundle_id)
    assert open_storage(s3_bucket.url, s3_bucket.settings).put_new(key, data)
    report = deliverer_for(config, s3_bucket).step()
    assert report.already_there == [bundle_id]
    row = DeliveryLog.in_var(config.paths.var_dir).get(bundle_id)
    assert row is not None and row.state == State.UPLOADED
    assert objects(moto_server, s3_bucket, "incoming/") == {key: data}


def test_a_receipt_from_the_ingest_deletes_the_local_copies(
        config: AgentConfig, s3_bucket: S3Bucket, moto_server: MotoServer) -> None:
    receipted_id, _ = put_in_outbox(config)
    waiting_id, _ = put_in_outbox(config)
    log = DeliveryLog.in_var(config.paths.var_dir)
    with running_deliverer(deliverer_for(config, s3_bucket)) as thread:
        wait_until("both uploaded", lambda: len(log.rows(State.UPLOADED)) == 2, thread)
        place_receipt(moto_server, s3_bucket, receipted_id)
        wait_until("the receipt read", lambda: bool(log.rows(State.RECEIPTED)), thread)
    outbox = Outbox(config.paths.outbox)
    assert not outbox.bundle_path(receipted_id).exists()
    assert not (config.paths.done / receipted_id).exists()
    assert outbox.bundle_path(waiting_id).exists() and (config.paths.done / waiting_id).exists()
    row = log.get(receipted_id)
    assert row is not None and row.case_ref == "K-2026-000777"
    assert row.received_at == "2026-11-27T08:20:05Z"


def test_an_outage_is_ridden_out_with_every_bundle_delivered_once(
        config: AgentConfig, s3_bucket: S3Bucket, moto_server: MotoServer) -> None:
    """GIVEN the S3 server down and three bundles queued, the deliverer running in its thread
    WHEN failed attempts pile up and the server comes back (empty: moto forgets; the bucket is
    made again) THEN every bundle lands under its key exactly once, with its bytes, and each
    bundle has exactly one successful upload in the log after its failed ones."""
    log = DeliveryLog.in_var(config.paths.var_dir)
    moto_server.stop()
    try:
        made = dict(put_in_outbox(config) for _ in range(3))
        with running_deliverer(deliverer_for(config, s3_bucket)) as thread:
            oldest = min(made)
            wait_until("failed attempts recorded",
                       lambda: len(log.attempts(oldest)) >= 3, thread)
            assert all(o == Outcome.UNAVAILABLE for _, o, _ in log.attempts(oldest))
            assert log.rows(State.QUEUED) and not log.rows(State.UPLOADED)
            moto_server.start()
            create_bucket(moto_server, s3_bucket.name)
            wait_until("all uploaded", lambda: len(log.rows(State.UPLOADED)) == 3, thread)
    finally:
        moto_server.start()  # for the tests that follow, whatever happened here
    assert {key: open_sealed(sealed) for key, sealed in objects(
        moto_server, s3_bucket, "incoming/").items()} == {
        incoming_key(POINT, i): data for i, data in made.items()}
    for bundle_id in made:
        outcomes = [o for _, o, _ in log.attempts(bundle_id)]
        delivered = [o for o in outcomes if o in (Outcome.UPLOADED, Outcome.ALREADY_THERE)]
        assert len(delivered) == 1 and outcomes[-1] in delivered
    assert all(Outbox(config.paths.outbox).bundle_path(i).exists() for i in made)  # no receipt
