"""The ingest worker on real services: a moto server (S3 + SQS with bucket notifications) and
PostgreSQL. Bundles are uploaded as the agent uploads them; the worker finds them through the
queue's ObjectCreated events, registers them, writes receipts, archives or quarantines them.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from aspa_contract.layout import (
    archive_key,
    incoming_key,
    parse_incoming_key,
    receipt_key,
)
from aspa_contract.storage import S3Location, Storage, open_storage, parse_storage_url
from ingest.db import list_cases, list_exceptions, make_engine
from ingest.db.models import Case
from ingest.discover import SqsSource
from ingest.errors import RejectCode
from ingest.verify import Limits
from ingest.worker import Outcome, WorkerContext, process_key, queue_loop
from tests.bundles import (
    edit_manifest,
    kela_identity,
    manifest_of,
    open_sealed,
    seal,
    tiny_pdf,
    valid_bundle,
    with_bomb,
    with_document,
    with_entry,
)
from tests.exchange import Exchange, running_worker, trust_test_keys

pytestmark = pytest.mark.integration

HELSINKI = ZoneInfo("Europe/Helsinki")
# Only a guard against a hung test; nothing asserts how fast the worker is.
DEADLINE_S = 60.0


def wait_until(what: str, condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until true; fail naming ``what`` if it never becomes true."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.1)


def upload(store: Storage, key: str, data: bytes) -> datetime:
    """Upload as the agent does (sealed with the test key of the key's point, create-only);
    the store's LastModified of the new object. A key naming no bundle gets ``data`` as is."""
    parsed = parse_incoming_key(key)
    if parsed is None:
        assert store.put_new(key, data)
    else:
        sealed = seal(*parsed, data)
        assert store.put_new(key, sealed.data, metadata=sealed.metadata)
    info = store.head(key)
    assert info is not None
    return info.last_modified


def keys(store: Storage, prefix: str) -> list[str]:
    return [info.key for info in store.list(prefix)]


def kept_copy(store: Storage, point_id: str, bundle_id: str) -> str:
    """The key of the one quarantined copy of bundle ``bundle_id`` (``…/{id}~{tag}.zip``)."""
    [kept] = [key for key in keys(store, f"quarantine/{point_id}/{bundle_id}~")
              if key.endswith(".zip")]
    return kept


def opened(store: Storage, key: str) -> bytes:
    """The zip inside the sealed object at ``key``."""
    return open_sealed(store.get(key))


KELA = {kela_identity().key_id: kela_identity()}


# --- a valid bundle -----------------------------------------------------------------------


def test_a_valid_bundle_becomes_a_pending_case_with_a_receipt_and_is_archived(
        exchange: Exchange) -> None:
    """GIVEN a running worker WHEN the agent uploads a valid bundle
    THEN a pending case is registered with the store's arrival time, the receipt is written
    from it, the zip moves from incoming/ to archive/ and the queue message is acknowledged."""
    store = exchange.store
    bundle_id, data = valid_bundle("hki-kallio", documents=2)
    key = incoming_key("hki-kallio", bundle_id)
    with running_worker(exchange.config):
        received_at = upload(store, key, data)
        wait_until("the bundle is archived", lambda: store.head(
            archive_key("hki-kallio", bundle_id)) is not None and store.head(key) is None)
        wait_until("the queue is empty", lambda: exchange.queued_messages() == 0)

    engine = make_engine(exchange.config.db_url)
    [case] = list_cases(engine)
    assert (case.bundle_id, case.status, case.point_id) == (bundle_id, "pending", "hki-kallio")
    assert case.received_at == received_at
    assert case.hetu == "010594Y***2"
    receipt = json.loads(store.get(receipt_key("hki-kallio", bundle_id)))
    assert receipt == {
        "schema": "aspa-receipt/1",
        "bundle_id": bundle_id,
        "case_ref": case.case_ref,
        "point_id": "hki-kallio",
        "received_at": received_at.isoformat().replace("+00:00", "Z"),
        "arrival_date": received_at.astimezone(HELSINKI).date().isoformat(),
        "documents": [
            {"file": "001.pdf", "form_code": "TO 1", "kind": "form", "pages": 1},
            {"file": "002.pdf", "form_code": None, "kind": "attachment/bank_statement",
             "pages": 1},
        ],
    }
    assert "010594Y9032" not in json.dumps(receipt)
    assert opened(store, archive_key("hki-kallio", bundle_id)) == data
    assert list_exceptions(engine) == []
    engine.dispose()


# --- rejections ---------------------------------------------------------------------------


def _first_document(data: bytes) -> str:
    name: str = manifest_of(data)["documents"][0]["file"]
    return name


REJECTIONS: dict[str, tuple[Callable[[bytes], bytes], RejectCode]] = {
    "checksum_mismatch": (lambda d: with_entry(d, _first_document(d), tiny_pdf(2)),
                          RejectCode.CHECKSUM_MISMATCH),
    "manifest_breaks_schema": (lambda d: edit_manifest(d, lambda m: m.pop("clerk_id")),
                               RejectCode.SCHEMA_VIOLATION),
    "entry_climbs_out": (lambda d: with_entry(d, "../evil.pdf", b"%PDF-1.7\n"),
                         RejectCode.UNSAFE_ENTRY_NAME),
    "zip_bomb": (with_bomb, RejectCode.ZIP_BOMB),
    "pdf_does_not_parse": (lambda d: with_document(d, _first_document(d), b"%PDF-1.7\nnot a pdf"),
                           RejectCode.PDF_UNREADABLE),
}


def _assert_quarantined(exchange: Exchange, key: str, kept: str, data: bytes,
                        code: RejectCode) -> None:
    store = exchange.store
    assert opened(store, kept) == data
    reason = json.loads(store.get(kept.removesuffix(".zip") + ".reason.json"))
    assert (reason["code"], reason["object_key"]) == (code.value, key)
    engine = make_engine(exchange.config.db_url)
    [record] = list_exceptions(engine)
    assert (record.code, record.object_key, record.quarantine_key) == (code.value, key, kept)
    assert "010594Y9032" not in record.reason
    engine.dispose()


def _reject_then_register(exchange: Exchange, key: str, bad: bytes) -> str:
    """Upload ``bad`` at ``key`` then a valid bundle; return the quarantine key of the bad one
    once the worker has dealt with both (so it kept going after the rejection)."""
    store = exchange.store
    good_id, good = valid_bundle("hki-kallio", documents=1)
    with running_worker(exchange.config):
        upload(store, key, bad)
        upload(store, incoming_key("hki-kallio", good_id), good)
        wait_until("both bundles leave incoming/", lambda: keys(store, "incoming/") == [])
        wait_until("the queue is empty", lambda: exchange.queued_messages() == 0)
    assert store.head(archive_key("hki-kallio", good_id)) is not None
    engine = make_engine(exchange.config.db_url)
    assert [case.bundle_id for case in list_cases(engine)] == [good_id]
    engine.dispose()
    point_id, bundle_id = key.split("/")[1], key.split("/")[2].removesuffix(".zip")
    return kept_copy(store, point_id, bundle_id)


@pytest.mark.parametrize("broken", list(REJECTIONS), ids=list(REJECTIONS))
def test_a_broken_bundle_is_quarantined_with_its_reason_and_the_worker_keeps_going(
        exchange: Exchange, broken: str) -> None:
    """GIVEN a running worker WHEN a bundle breaking one rule arrives, then a valid one
    THEN the broken one is kept under quarantine/ with a reason file and an exception record
    (no case), and the valid one is still registered."""
    mutate, code = REJECTIONS[broken]
    bundle_id, data = valid_bundle("hki-kallio", documents=1)
    bad = mutate(data)
    key = incoming_key("hki-kallio", bundle_id)
    kept = _reject_then_register(exchange, key, bad)
    _assert_quarantined(exchange, key, kept, bad, code)


def test_a_bundle_under_another_points_prefix_is_quarantined(exchange: Exchange) -> None:
    """GIVEN a valid bundle of hki-kallio WHEN it is uploaded under incoming/tku-keskusta/
    THEN it is rejected as a point mismatch and quarantined under that prefix."""
    bundle_id, data = valid_bundle("hki-kallio", documents=1)
    key = incoming_key("tku-keskusta", bundle_id)
    kept = _reject_then_register(exchange, key, data)
    _assert_quarantined(exchange, key, kept, data, RejectCode.POINT_MISMATCH)


# --- repeated deliveries and outages ------------------------------------------------------


def test_a_repeated_delivery_of_a_handled_key_is_a_no_op(exchange_context: WorkerContext) -> None:
    """GIVEN a bundle that was registered and archived WHEN its key is delivered again
    THEN nothing changes: the key is gone, one case, the same receipt."""
    bundle_id, data = valid_bundle("hki-kallio", documents=1)
    key = incoming_key("hki-kallio", bundle_id)
    upload(exchange_context.store, key, data)
    first = process_key(key, exchange_context)
    receipt = exchange_context.store.get(receipt_key("hki-kallio", bundle_id))
    again = process_key(key, exchange_context)
    assert (first.outcome, again.outcome) == (Outcome.REGISTERED, Outcome.GONE)
    assert exchange_context.store.get(receipt_key("hki-kallio", bundle_id)) == receipt
    assert len(list_cases(exchange_context.engine)) == 1


def test_a_reupload_after_archiving_keeps_the_first_arrival_and_receipt(
        exchange_context: WorkerContext) -> None:
    """GIVEN a registered, archived bundle WHEN the agent uploads the same bytes again (it
    missed the receipt) THEN the case keeps its first arrival time, the receipt is unchanged,
    and incoming/ is cleared again."""
    bundle_id, data = valid_bundle("hki-kallio", documents=1)
    key = incoming_key("hki-kallio", bundle_id)
    first_arrival = upload(exchange_context.store, key, data)
    first = process_key(key, exchange_context)
    receipt = exchange_context.store.get(receipt_key("hki-kallio", bundle_id))
    upload(exchange_context.store, key, data)
    second = process_key(key, exchange_context)
    assert second.outcome == Outcome.ALREADY_REGISTERED
    assert second.case_ref == first.case_ref
    assert exchange_context.store.get(receipt_key("hki-kallio", bundle_id)) == receipt
    assert keys(exchange_context.store, "incoming/") == []
    with exchange_context.engine.connect() as connection:
        assert connection.execute(select(Case.received_at)).scalar_one() == first_arrival


def test_another_bundle_reusing_a_registered_id_is_quarantined_not_archived(
        exchange_context: WorkerContext) -> None:
    """GIVEN a registered bundle WHEN a different bundle with the same id arrives
    THEN it is quarantined as a bundle id conflict and the archived original is untouched."""
    bundle_id, data = valid_bundle("hki-kallio", documents=1)
    _, other = valid_bundle("hki-kallio", documents=2, bundle_id=bundle_id)
    key = incoming_key("hki-kallio", bundle_id)
    upload(exchange_context.store, key, data)
    process_key(key, exchange_context)
    upload(exchange_context.store, key, other)
    result = process_key(key, exchange_context)
    assert (result.outcome, result.code) == (Outcome.REJECTED, RejectCode.BUNDLE_ID_MISMATCH)
    assert opened(exchange_context.store, archive_key("hki-kallio", bundle_id)) == data
    kept = kept_copy(exchange_context.store, "hki-kallio", bundle_id)
    assert opened(exchange_context.store, kept) == other


def test_a_message_stays_queued_while_the_database_is_down(
        exchange: Exchange, exchange_context: WorkerContext,
        caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN the database unreachable WHEN the worker takes a bundle's event
    THEN the message is not deleted and the bundle stays in incoming/, so a later delivery
    registers it."""
    store = exchange.store
    bundle_id, data = valid_bundle("hki-kallio", documents=1)
    key = incoming_key("hki-kallio", bundle_id)
    upload(store, key, data)
    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    location = parse_storage_url(exchange.bucket.url)
    assert isinstance(location, S3Location)
    source = SqsSource(exchange.queue_url, exchange.config.sqs, location, exchange.bucket.settings)
    stop = threading.Event()
    thread = threading.Thread(target=queue_loop,
                              args=(WorkerContext(store, dead, identities=KELA), source, stop))
    thread.start()
    try:
        wait_until("the worker tried and failed", lambda: "will retry" in caplog.text)
    finally:
        stop.set()
        thread.join(timeout=DEADLINE_S)
    assert exchange.queued_messages() >= 1
    assert store.head(key) is not None
    assert process_key(key, exchange_context).outcome == Outcome.REGISTERED



# --- the file: backend --------------------------------------------------------------------


@pytest.fixture
def folder_context(tmp_path: Path) -> Iterator[WorkerContext]:
    """A worker exchange_context on a file: store and a migrated SQLite file."""
    root = tmp_path / "store"
    root.mkdir()
    db_url = f"sqlite:///{tmp_path / 'ingest.db'}"
    trust_test_keys(db_url)
    engine = make_engine(db_url)
    yield WorkerContext(open_storage(root.as_uri()), engine, identities=KELA)
    engine.dispose()


def test_an_object_whose_key_names_no_bundle_is_quarantined_apart(
        folder_context: WorkerContext) -> None:
    """GIVEN a stray file under incoming/ WHEN it is processed THEN it is rejected as a bad
    key and kept under quarantine/_bad_key/, where no service point's folder can be."""
    store = folder_context.store
    upload(store, "incoming/hki-kallio/notes.txt", b"hello")
    result = process_key("incoming/hki-kallio/notes.txt", folder_context)
    assert (result.outcome, result.code) == (Outcome.REJECTED, RejectCode.BAD_KEY)
    kept, reason_key = keys(store, "quarantine/_bad_key/")
    assert kept.startswith("quarantine/_bad_key/hki-kallio%2Fnotes.txt~")
    assert reason_key == kept + ".reason.json"
    assert store.get(kept) == b"hello"
    assert json.loads(store.get(reason_key))["code"] == "bad_key"
    [record] = list_exceptions(folder_context.engine)
    assert (record.bundle_id, record.object_key) == (None, "incoming/hki-kallio/notes.txt")
    assert keys(store, "incoming/") == []


def test_an_oversized_object_is_rejected_from_its_listed_size(
        folder_context: WorkerContext) -> None:
    """GIVEN a store limit smaller than a bundle WHEN the bundle is processed
    THEN it is rejected as too large and quarantined."""
    bundle_id, data = valid_bundle("hki-kallio", documents=1)
    key = incoming_key("hki-kallio", bundle_id)
    upload(folder_context.store, key, data)
    small = WorkerContext(folder_context.store, folder_context.engine,
                          Limits(max_bundle_bytes=len(data) - 1), KELA)
    result = process_key(key, small)
    assert (result.outcome, result.code) == (Outcome.REJECTED, RejectCode.TOO_LARGE)
    assert opened(folder_context.store, kept_copy(folder_context.store, "hki-kallio",
                                                  bundle_id)) == data
