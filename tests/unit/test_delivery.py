"""Delivery on the agent side, against a folder store that can be switched off: upload oldest
first, back off while the store is down, read receipts, delete local copies only after one,
flag (never delete) what waits too long."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from aspa_contract.backoff import Backoff
from aspa_contract.layout import incoming_key, receipt_key
from aspa_contract.receipt import Receipt as IngestReceipt
from aspa_contract.receipt import ReceiptDocument
from aspa_contract.storage import FileLocation, FileStorage, StorageUnavailable
from scanner_agent.config import AgentConfig, load_config
from scanner_agent.delivery import Deliverer, delivery_status, parse_receipt
from scanner_agent.delivery_log import DeliveryLog, Outcome, Receipt, State
from scanner_agent.outbox import Outbox
from tests.bundles import open_sealed, valid_bundle
from tests.exchange import agent_sealing

REPO = Path(__file__).resolve().parents[2]
POLL_S = 10.0
TIMEOUT_S = 100.0
T0 = 1_800_000_000.0


class Clock:
    """Wall time the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class SwitchableStore(FileStorage):
    """A real folder store that raises StorageUnavailable while ``down`` and counts writes."""

    def __init__(self, root: Path) -> None:
        root.mkdir()
        super().__init__(FileLocation(root))
        self.down = False
        self.puts: list[str] = []  # keys, in the order put_new was called while up

    def put_new(self, key: str, data: bytes, *, sha256_hex: str | None = None,
                metadata: Mapping[str, str] | None = None) -> bool:
        self._fail_if_down()
        self.puts.append(key)
        return super().put_new(key, data, sha256_hex=sha256_hex, metadata=metadata)

    def get(self, key: str) -> bytes:
        self._fail_if_down()
        return super().get(key)

    def _fail_if_down(self) -> None:
        if self.down:
            raise StorageUnavailable("connection refused; retry later")


@pytest.fixture
def config(tmp_path: Path) -> AgentConfig:
    settings = {"receipt_poll_s": POLL_S, "receipt_timeout_s": TIMEOUT_S,
                "backoff_base_s": 1.0, "backoff_cap_s": 8.0}
    return load_config(REPO / "config" / "agent.toml", paths__var_dir=tmp_path / "var",
                       **{f"delivery__{k}": v for k, v in settings.items()},
                       **agent_sealing(tmp_path / "var", "hki-kallio"))


@pytest.fixture
def store(tmp_path: Path) -> SwitchableStore:
    return SwitchableStore(tmp_path / "store")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_deliverer(config: AgentConfig, store: SwitchableStore, clock: Clock,
                   ceilings: list[float] | None = None) -> Deliverer:
    def jitter(ceiling: float) -> float:
        if ceilings is not None:
            ceilings.append(ceiling)
        return ceiling / 2

    return Deliverer(config, store, clock=clock, jitter=jitter)


def put_in_outbox(config: AgentConfig, point_id: str = "hki-kallio") -> tuple[str, bytes]:
    """A valid bundle in the outbox and its scans in done/, as the pipeline leaves them."""
    bundle_id, data = valid_bundle(point_id=point_id, documents=1)
    Outbox(config.paths.outbox).bundle_path(bundle_id).write_bytes(data)
    scans = config.paths.done / bundle_id / "job-1"
    scans.mkdir(parents=True)
    (scans / "scan-0001.png").write_bytes(b"page")
    return bundle_id, data


def place_receipt(store: SwitchableStore, bundle_id: str, point_id: str = "hki-kallio",
                  changes: dict[str, object] | None = None) -> None:
    receipt = {"bundle_id": bundle_id, "case_ref": "K-2026-000123",
               "received_at": "2026-11-27T08:20:05Z", "arrival_date": "2026-11-27",
               "documents": [{"file": "01-TO1.pdf", "form_code": "TO 1"}]} | (changes or {})
    # As the ingest writes it: past the switch and the count.
    FileStorage.put_new(store, receipt_key(point_id, bundle_id), json.dumps(receipt).encode())


def local_copies(config: AgentConfig, bundle_id: str) -> tuple[bool, bool]:
    """(zip in outbox, scans in done/)."""
    return (Outbox(config.paths.outbox).bundle_path(bundle_id).exists(),
            (config.paths.done / bundle_id).exists())


# --- back-off ----------------------------------------------------------------------------

def test_backoff_doubles_from_base_up_to_cap_and_restarts_after_success() -> None:
    backoff = Backoff(1.0, 60.0, jitter=lambda ceiling: ceiling)
    assert [backoff.failed() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    backoff.reset()
    assert backoff.failed() == 1


def test_backoff_with_full_jitter_waits_a_random_time_up_to_the_ceiling() -> None:
    backoff = Backoff(1.0, 4.0)
    waits = [backoff.failed() for _ in range(200)]
    assert waits[0] <= 1.0 and waits[1] <= 2.0
    assert all(0 <= w <= 4.0 for w in waits)
    assert len(set(waits)) > 100  # random, not one fixed value


def test_backoff_survives_a_very_long_outage() -> None:
    backoff = Backoff(1.0, 60.0, jitter=lambda ceiling: ceiling)
    assert [backoff.failed() for _ in range(2000)][-1] == 60


def test_while_the_store_is_down_each_pass_backs_off_further_until_the_cap(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    """GIVEN a queued bundle and a store that is down WHEN passes keep failing
    THEN the jitter ceilings go 1, 2, 4, 8, 8 and the jittered value is the delay;
    after the store is back the bundle goes and the delay is the normal one."""
    bundle_id, _ = put_in_outbox(config)
    ceilings: list[float] = []
    deliverer = make_deliverer(config, store, clock, ceilings)
    store.down = True
    delays = [deliverer.step().delay_s for _ in range(5)]
    assert ceilings == [1, 2, 4, 8, 8]
    assert delays == [0.5, 1, 2, 4, 4]
    store.down = False
    report = deliverer.step()
    assert report.uploaded == [bundle_id] and report.error is None
    assert report.delay_s == config.delivery.outbox_poll_s


# --- upload ------------------------------------------------------------------------------

def test_bundles_go_oldest_first_to_their_points_incoming_key(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    """GIVEN three bundles (one of another point: the manifest, not config, decides)
    WHEN one pass runs THEN each is put once, in bundle-id order, sealed around its exact
    bytes."""
    made = [put_in_outbox(config), put_in_outbox(config, "tku-keskusta"), put_in_outbox(config)]
    points = {made[0][0]: "hki-kallio", made[1][0]: "tku-keskusta", made[2][0]: "hki-kallio"}
    report = make_deliverer(config, store, clock).step()
    ids = sorted(points)
    assert report.queued == ids and report.uploaded == ids
    assert store.puts == [incoming_key(points[i], i) for i in ids]
    for bundle_id, data in made:
        assert open_sealed(store.get(incoming_key(points[bundle_id], bundle_id))) == data
    assert all(local_copies(config, i) == (True, True) for i in ids)  # kept until receipts


def test_every_attempt_is_recorded_with_outcome_and_error(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    bundle_id, _ = put_in_outbox(config)
    deliverer = make_deliverer(config, store, clock)
    store.down = True
    report = deliverer.step()
    assert report.error and "connection refused" in report.error
    clock.now += 5
    store.down = False
    deliverer.step()
    attempts = DeliveryLog.in_var(config.paths.var_dir).attempts(bundle_id)
    assert [(at, outcome) for at, outcome, _ in attempts] == [
        (T0, Outcome.UNAVAILABLE), (T0 + 5, Outcome.UPLOADED)]
    assert "connection refused" in (attempts[0][2] or "")
    [row] = delivery_status(config, now=T0 + 10)
    assert row["state"] == "uploaded" and row["attempts"] == 2 and row["age_s"] == 10.0
    assert row["uploaded_at"] == "2027-01-15T08:00:05Z" and row["last_error"] is None


def test_an_outage_ends_the_pass_without_trying_every_bundle(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    first, _ = put_in_outbox(config)
    second, _ = put_in_outbox(config)
    store.down = True
    make_deliverer(config, store, clock).step()
    log = DeliveryLog.in_var(config.paths.var_dir)
    assert len(log.attempts(min(first, second))) == 1
    assert log.attempts(max(first, second)) == []


def test_a_bundle_already_in_the_store_counts_as_delivered(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    """GIVEN a bundle that an earlier run uploaded just before it crashed (state not written)
    WHEN the new run delivers THEN put_new finds it, the bundle is 'uploaded', the object is
    the one and only copy with the same bytes."""
    bundle_id, data = put_in_outbox(config)
    key = incoming_key("hki-kallio", bundle_id)
    assert store.put_new(key, data)  # the earlier, crashed run
    report = make_deliverer(config, store, clock).step()
    assert report.already_there == [bundle_id] and report.uploaded == []
    row = DeliveryLog.in_var(config.paths.var_dir).get(bundle_id)
    assert row is not None and row.state == State.UPLOADED
    assert [o.key for o in store.list("incoming/")] == [key]
    assert store.get(key) == data


def test_an_unreadable_zip_is_flagged_and_kept_and_does_not_hold_up_the_rest(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    broken_id = "01AAAAAAAAAAAAAAAAAAAAAAAA"  # sorts first
    Outbox(config.paths.outbox).bundle_path(broken_id).write_bytes(b"not a zip")
    good_id, _ = put_in_outbox(config)
    report = make_deliverer(config, store, clock).step()
    assert report.flagged == [broken_id] and report.uploaded == [good_id]
    assert Outbox(config.paths.outbox).bundle_path(broken_id).read_bytes() == b"not a zip"
    row = DeliveryLog.in_var(config.paths.var_dir).get(broken_id)
    assert row is not None and row.state == State.FLAGGED and "manifest" in (row.last_error or "")


def test_half_written_temp_files_in_the_outbox_are_not_bundles(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    bundle_id, data = valid_bundle(documents=1)
    outbox = Outbox(config.paths.outbox)
    (outbox.root / f".tmp-0123456789ab-{bundle_id}.zip").write_bytes(data[:100])
    report = make_deliverer(config, store, clock).step()
    assert report.queued == [] and report.flagged == [] and store.puts == []


# --- receipts ----------------------------------------------------------------------------

def test_a_receipt_deletes_the_zip_and_the_scans_and_keeps_the_record(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    """GIVEN an uploaded bundle WHEN the ingest's receipt appears and the next poll is due
    THEN the zip and done/{id}/ are deleted and the row keeps case ref and received-at."""
    bundle_id, _ = put_in_outbox(config)
    other_id, _ = put_in_outbox(config)
    deliverer = make_deliverer(config, store, clock)
    deliverer.step()
    place_receipt(store, bundle_id)
    assert deliverer.step().receipted == []  # not due yet: polls every receipt_poll_s
    clock.now += POLL_S
    assert deliverer.step().receipted == [bundle_id]
    assert local_copies(config, bundle_id) == (False, False)
    assert local_copies(config, other_id) == (True, True)
    row = DeliveryLog.in_var(config.paths.var_dir).get(bundle_id)
    assert row is not None and row.state == State.RECEIPTED
    assert (row.case_ref, row.received_at, row.arrival_date) == (
        "K-2026-000123", "2026-11-27T08:20:05Z", "2026-11-27")
    statuses = {s["bundle_id"]: s for s in delivery_status(config, now=clock.now)}
    assert statuses[bundle_id]["case_ref"] == "K-2026-000123"
    assert statuses[bundle_id]["receipted_at"] == "2027-01-15T08:00:10Z"
    assert statuses[other_id]["state"] == "uploaded"


@pytest.mark.parametrize("fields", [
    {"bundle_id": "01BBBBBBBBBBBBBBBBBBBBBBBB"},
    {"case_ref": ""},
    {"received_at": "2026-11-27T10:20:05+02:00"},
    {"received_at": None},
    {"point_id": "tku-keskusta"},
])
def test_a_receipt_that_cannot_be_trusted_deletes_nothing(
        config: AgentConfig, store: SwitchableStore, clock: Clock,
        fields: dict[str, object]) -> None:
    bundle_id, _ = put_in_outbox(config)
    deliverer = make_deliverer(config, store, clock)
    deliverer.step()
    place_receipt(store, bundle_id, changes=fields)
    for _ in range(3):
        clock.now += POLL_S
        assert deliverer.step().receipted == []
    assert local_copies(config, bundle_id) == (True, True)
    log = DeliveryLog.in_var(config.paths.var_dir)
    outcomes = [o for _, o, _ in log.attempts(bundle_id)]
    assert outcomes == [Outcome.UPLOADED, Outcome.BAD_RECEIPT]  # noted once, not every poll


def test_parse_receipt_refuses_what_is_not_a_receipt_object() -> None:
    bundle_id = "01BBBBBBBBBBBBBBBBBBBBBBBB"
    for raw in (b"{", b"[1]", b'"x"'):
        with pytest.raises(ValueError):
            parse_receipt(raw, bundle_id)
    good = json.dumps({"bundle_id": bundle_id, "case_ref": "K-1",
                       "received_at": "2026-11-27T08:20:05Z"}).encode()
    assert parse_receipt(good, bundle_id) == Receipt("K-1", "2026-11-27T08:20:05Z", None)


def test_the_receipt_the_ingest_writes_is_understood() -> None:
    """The two sides' receipt formats agree: what ingest.receipt writes, the agent reads."""
    bundle_id = "01BBBBBBBBBBBBBBBBBBBBBBBB"
    written = IngestReceipt(bundle_id, "ASPA-2026-11-28-00042-7", "hki-kallio",
                            datetime(2026, 11, 27, 22, 30, 5, 250000, tzinfo=UTC),
                            date(2026, 11, 28), (ReceiptDocument("001.pdf", "TO 1", "form", 2),))
    assert parse_receipt(written.to_bytes(), bundle_id, "hki-kallio") == Receipt(
        "ASPA-2026-11-28-00042-7", "2026-11-27T22:30:05.250000Z", "2026-11-28")


def test_a_bundle_without_receipt_in_time_is_flagged_not_deleted_and_a_late_receipt_closes_it(
        config: AgentConfig, store: SwitchableStore, clock: Clock,
        caplog: pytest.LogCaptureFixture) -> None:
    bundle_id, _ = put_in_outbox(config)
    deliverer = make_deliverer(config, store, clock)
    deliverer.step()
    clock.now += TIMEOUT_S - 1
    assert deliverer.step().flagged == []
    clock.now += 1
    with caplog.at_level(logging.WARNING, logger="scanner_agent.delivery"):
        assert deliverer.step().flagged == [bundle_id]
    assert any(r.levelno == logging.WARNING and bundle_id in r.getMessage()
               for r in caplog.records)
    assert local_copies(config, bundle_id) == (True, True)
    assert delivery_status(config, now=clock.now)[0]["state"] == "flagged"
    clock.now += POLL_S
    assert deliverer.step().flagged == []  # flagged once
    place_receipt(store, bundle_id)
    clock.now += POLL_S
    assert deliverer.step().receipted == [bundle_id]
    assert local_copies(config, bundle_id) == (False, False)


def test_a_crash_between_receipt_and_deletion_is_finished_at_the_next_start(
        config: AgentConfig, store: SwitchableStore, clock: Clock) -> None:
    bundle_id, _ = put_in_outbox(config)
    make_deliverer(config, store, clock).step()
    log = DeliveryLog.in_var(config.paths.var_dir)
    log.record_receipt(bundle_id, Receipt("K-9", "2026-11-27T08:20:05Z", None), clock.now)
    # -- crash here: the receipt is recorded, the local copies are still there --
    assert local_copies(config, bundle_id) == (True, True)
    make_deliverer(config, store, clock).step()
    assert local_copies(config, bundle_id) == (False, False)
    assert store.puts == [incoming_key("hki-kallio", bundle_id)]  # not uploaded again


# --- the loop and the status -----------------------------------------------------------

def test_run_keeps_going_after_an_unexpected_error_and_stops_when_asked(
        config: AgentConfig, store: SwitchableStore, clock: Clock,
        monkeypatch: pytest.MonkeyPatch) -> None:
    bundle_id, _ = put_in_outbox(config)
    stop = threading.Event()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 3:
            stop.set()

    deliverer = Deliverer(config, store, clock=clock, sleep=sleep, jitter=lambda c: c)
    real_put_new = store.put_new
    calls = iter([RuntimeError("bug"), None])

    def flaky_put_new(key: str, data: bytes, *, sha256_hex: str | None = None,
                      metadata: Mapping[str, str] | None = None) -> bool:
        error = next(calls, None)
        if error:
            raise error
        return real_put_new(key, data, sha256_hex=sha256_hex, metadata=metadata)

    monkeypatch.setattr(store, "put_new", flaky_put_new)
    deliverer.run(stop)
    assert waits[0] == config.delivery.backoff_base_s  # backed off after the bug
    assert store.get(incoming_key("hki-kallio", bundle_id))


def test_status_without_a_delivery_log_is_empty_and_creates_nothing(
        config: AgentConfig) -> None:
    assert delivery_status(config) == []
    assert not (config.paths.var_dir / "delivery.db").exists()


def test_the_delivery_log_uses_wal(config: AgentConfig, store: SwitchableStore,
                                   clock: Clock) -> None:
    make_deliverer(config, store, clock).step()
    with sqlite3.connect(config.paths.var_dir / "delivery.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
