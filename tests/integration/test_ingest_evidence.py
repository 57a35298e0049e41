"""The ingest on real services (moto S3 + SQS, PostgreSQL) against what an outside test found:
it never loops, never loses evidence, never leaks a name, and every object under incoming/
ends as a case or an exception record.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from aspa_contract.layout import incoming_key
from aspa_contract.storage import StorageError, open_storage
from ingest.cli import app
from ingest.db import (
    list_cases,
    list_exceptions,
    make_engine,
    record_exception,
    upgrade_database,
)
from ingest.db.attempts import MAX_ATTEMPTS
from ingest.errors import RejectCode
from ingest.settings import IngestConfig
from ingest.worker import Outcome, WorkerContext, handle_all, open_context, process_key
from tests.bundles import TEST_HETU, edit_manifest, tiny_pdf, valid_bundle, with_entry
from tests.exchange import Exchange, ingest_sealing, running_worker
from tests.integration.test_ingest_worker import KELA, keys, upload, wait_until

pytestmark = pytest.mark.integration

POINT = "hki-kallio"


def raw_s3(exchange: Exchange) -> tuple[Any, str, str]:
    """A plain boto3 S3 client, the bucket, and the store's prefix with its slash."""
    return exchange.server.client("s3"), exchange.bucket.name, exchange.bucket.prefix + "/"


def raw_incoming(exchange: Exchange) -> list[str]:
    """Every object key under the store's incoming/, as S3 lists it (nothing skipped)."""
    client, bucket, prefix = raw_s3(exchange)
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix + "incoming/")
    return [obj["Key"] for obj in listed.get("Contents", [])]


# --- never loops --------------------------------------------------------------------------


def test_a_bundle_handed_in_in_month_13_is_rejected_once_not_retried(
        exchange_context: WorkerContext) -> None:
    """GIVEN a sealed bundle whose handed_in_at is 2026-13-45T99:99:99Z (it matched the old
    pattern and made register raise ValueError on every delivery)
    WHEN the worker takes it THEN it is quarantined as a schema violation at the first try."""
    bundle_id, data = valid_bundle(POINT, documents=1)
    bad = edit_manifest(data, lambda m: m.update(handed_in_at="2026-13-45T99:99:99Z"))
    key = incoming_key(POINT, bundle_id)
    upload(exchange_context.store, key, bad)

    result = process_key(key, exchange_context)

    assert (result.outcome, result.code) == (Outcome.REJECTED, RejectCode.SCHEMA_VIOLATION)
    [record] = list_exceptions(exchange_context.engine)
    assert "handed_in_at" in record.reason


def _a_bug(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError(f"a bug that quotes the manifest: {TEST_HETU}")


def test_a_bundle_failing_with_a_bug_is_quarantined_as_internal_error_after_n_tries(
        exchange: Exchange, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN registering always fails with an unexpected error (a bug), and each try runs in a
    fresh worker exchange_context (a restart) WHEN the bundle is handled MAX_ATTEMPTS times
    THEN it stays in incoming/ until the last try, which quarantines it as internal_error with
    the error in its record (hetu masked): the count is kept in the database, not in memory."""
    monkeypatch.setattr("ingest.worker.register_case", _a_bug)
    upgrade_database(exchange.config.db_url)
    bundle_id, data = valid_bundle(POINT, documents=1)
    key = incoming_key(POINT, bundle_id)
    upload(exchange.store, key, data)

    handled = []
    for _ in range(MAX_ATTEMPTS):
        engine = make_engine(exchange.config.db_url)
        handled.append(handle_all([key], WorkerContext(exchange.store, engine, identities=KELA)))
        engine.dispose()

    assert handled == [False] * (MAX_ATTEMPTS - 1) + [True]
    assert keys(exchange.store, "incoming/") == []
    engine = make_engine(exchange.config.db_url)
    [record] = list_exceptions(engine)
    engine.dispose()
    assert record.code == RejectCode.INTERNAL_ERROR == "internal_error"
    assert f"failed {MAX_ATTEMPTS} times" in record.reason and "RuntimeError" in record.reason
    assert TEST_HETU not in record.reason
    assert record.quarantine_key is not None
    assert exchange.store.head(record.quarantine_key) is not None


def _store_refuses(*_args: object, **_kwargs: object) -> None:
    raise StorageError("S3 answered InvalidRequest (the object is too large to copy)")


def test_a_poison_bundle_the_store_refuses_to_copy_is_recorded_where_it_lies(
        exchange_context: WorkerContext, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a bundle whose registration always fails with a bug, in a store that refuses
    to copy it into quarantine WHEN it is handled MAX_ATTEMPTS times and then again
    THEN the last try records it as internal_error where it lies (the record says so), and
    every later try is done at once with no second record: it ends in a record, not a loop."""
    monkeypatch.setattr("ingest.worker.register_case", _a_bug)
    monkeypatch.setattr("ingest.worker.quarantine", _store_refuses)
    bundle_id, data = valid_bundle(POINT, documents=1)
    key = incoming_key(POINT, bundle_id)
    upload(exchange_context.store, key, data)

    handled = [handle_all([key], exchange_context) for _ in range(MAX_ATTEMPTS + 1)]

    assert handled == [False] * (MAX_ATTEMPTS - 1) + [True, True]
    [record] = list_exceptions(exchange_context.engine)
    assert (record.code, record.quarantine_key, record.bundle_id) == (
        "internal_error", key, bundle_id)
    assert "stays where it is" in record.reason and "InvalidRequest" in record.reason
    assert exchange_context.store.head(key) is not None


def test_the_running_worker_stops_retrying_a_poison_bundle_and_goes_on(
        exchange: Exchange, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a running worker (listing every 0.2 s) and a bundle whose registration always
    fails unexpectedly WHEN it is uploaded THEN after MAX_ATTEMPTS tries it is quarantined as
    internal_error and leaves incoming/: no endless loop."""
    monkeypatch.setattr("ingest.worker.register_case", _a_bug)
    config = exchange.config.model_copy(update={"queue_url": None, "reconcile_interval_s": 0.2})
    bundle_id, data = valid_bundle(POINT, documents=1)
    with running_worker(config):
        upload(exchange.store, incoming_key(POINT, bundle_id), data)
        wait_until("the poison bundle leaves incoming/",
                   lambda: keys(exchange.store, "incoming/") == [])
    engine = make_engine(config.db_url)
    assert [r.code for r in list_exceptions(engine)] == ["internal_error"]
    engine.dispose()


# --- never loses evidence -----------------------------------------------------------------


def test_two_different_bundles_rejected_at_one_key_are_two_copies_and_two_records(
        exchange_context: WorkerContext) -> None:
    """GIVEN a bundle rejected for a checksum mismatch WHEN another, different bundle arrives
    at the same key and is rejected for the same reason
    THEN both are kept under quarantine/ (the second does not overwrite the first), each with
    its own reason file and its own exception record."""
    bundle_id, data = valid_bundle(POINT, documents=1)
    key = incoming_key(POINT, bundle_id)
    first = with_entry(data, "001.pdf", tiny_pdf(2))
    second = with_entry(data, "001.pdf", tiny_pdf(3))
    for bad in (first, second):
        upload(exchange_context.store, key, bad)
        assert process_key(key, exchange_context).code == RejectCode.CHECKSUM_MISMATCH

    kept = keys(exchange_context.store, f"quarantine/{POINT}/")
    copies = [k for k in kept if k.endswith(".zip")]
    assert len(copies) == 2 and len(kept) == 4
    records = list_exceptions(exchange_context.engine)
    assert sorted(r.quarantine_key or "" for r in records) == sorted(copies)
    assert {r.code for r in records} == {"checksum_mismatch"}


# --- every object ends somewhere ----------------------------------------------------------


FOREIGN_NAMES = (".hidden.zip", "scan\x01.zip", f".{TEST_HETU}.zip")


def test_objects_whose_keys_the_store_refuses_become_exception_records(
        exchange: Exchange) -> None:
    """GIVEN objects under incoming/ with a leading dot, a control character, and a hetu after
    a dot in their names (the store interface refuses such keys; the listing skipped them)
    WHEN the worker runs THEN each leaves incoming/, is kept under quarantine/_bad_key/ with a
    masked name, and has its own bad_key exception record."""
    client, bucket, prefix = raw_s3(exchange)
    for name in FOREIGN_NAMES:
        client.put_object(Bucket=bucket, Key=f"{prefix}incoming/{POINT}/{name}", Body=b"junk")

    with running_worker(exchange.config):
        wait_until("incoming/ is empty", lambda: raw_incoming(exchange) == [])

    engine = make_engine(exchange.config.db_url)
    records = list_exceptions(engine)
    engine.dispose()
    assert sorted(r.code for r in records) == ["bad_key"] * len(FOREIGN_NAMES)
    kept = keys(exchange.store, "quarantine/_bad_key/")
    assert len(kept) == 2 * len(FOREIGN_NAMES)  # each copy and its reason
    for record in records:
        assert record.quarantine_key in kept
        assert exchange.store.get(record.quarantine_key or "") == b"junk"
    assert TEST_HETU not in json.dumps([r.to_json() for r in records]) + "".join(kept)


# --- never leaks a name -------------------------------------------------------------------


def test_a_key_naming_a_hetu_is_quarantined_and_shown_masked_everywhere(
        exchange: Exchange, exchange_context: WorkerContext,
        caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN an object at incoming/hki-kallio/<hetu>.zip
    WHEN the worker rejects it THEN the quarantine key, the reason file, the exception record,
    `aspa-ingest exceptions list` (both forms) and the ingest's log lines show the hetu masked,
    never whole."""
    key = f"incoming/{POINT}/{TEST_HETU}.zip"
    upload(exchange_context.store, key, b"not a bundle")
    with caplog.at_level(logging.DEBUG):
        result = process_key(key, exchange_context)

    assert (result.outcome, result.code) == (Outcome.REJECTED, RejectCode.BAD_KEY)
    kept = keys(exchange_context.store, "quarantine/")
    reasons = [exchange_context.store.get(k).decode() for k in kept if k.endswith(".reason.json")]
    runner = CliRunner()
    env = {"ASPA_INGEST_DB_URL": exchange.config.db_url}
    listed = [runner.invoke(app, ["exceptions", "list", *args], env=env).stdout
              for args in ([], ["--json"])]
    # Our own log lines; botocore's debug lines quote every request (see the report).
    ours = [r.getMessage() for r in caplog.records if r.name.startswith(("ingest", "aspa"))]
    assert any("010594Y***2" in line for line in ours)
    seen = [*kept, *reasons, *listed, *ours,
            json.dumps([r.to_json() for r in list_exceptions(exchange_context.engine)])]
    assert len(kept) == 2 and "010594Y***2" in "".join(kept)
    for text in seen:
        assert TEST_HETU not in text
    assert list_cases(exchange_context.engine) == []


def test_names_stored_unmasked_by_earlier_versions_are_renamed_at_start(
        exchange: Exchange) -> None:
    """GIVEN what an earlier version stored for a rejected key incoming/hki-kallio/<hetu>.zip:
    the copy and its reason under quarantine/_bad_key/hki-kallio/<hetu>…, and an exception
    record naming both unmasked WHEN a worker starts THEN the copy and reason are under masked
    keys (same bytes), the record names them masked, and no stored key holds the hetu."""
    upgrade_database(exchange.config.db_url)
    store = exchange.store
    raw_key = f"incoming/{POINT}/{TEST_HETU}.zip"
    old_copy = f"quarantine/_bad_key/{POINT}/{TEST_HETU}.zip"
    store.put(old_copy, b"not a bundle")
    store.put(old_copy.removesuffix(".zip") + ".reason.json",
              json.dumps({"code": "bad_key", "object_key": raw_key}).encode())
    engine = make_engine(exchange.config.db_url)
    record_exception(engine, object_key=raw_key, bundle_id=None, code=RejectCode.BAD_KEY,
                     reason="not a bundle key", quarantine_key=old_copy)

    open_context(exchange.config).engine.dispose()

    [record] = list_exceptions(engine)
    engine.dispose()
    masked_copy = f"quarantine/_bad_key/{POINT}/010594Y***2.zip"
    assert (record.object_key, record.quarantine_key) == (
        f"incoming/{POINT}/010594Y***2.zip", masked_copy)
    assert store.get(masked_copy) == b"not a bundle"
    reason = json.loads(store.get(f"quarantine/_bad_key/{POINT}/010594Y***2.reason.json"))
    assert reason["object_key"] == record.object_key
    assert not [key for key in keys(store, "") if TEST_HETU in key]


def test_files_whose_names_the_store_refuses_become_exception_records_on_a_file_store(
        tmp_path: Path) -> None:
    """GIVEN a file: store (a share) whose incoming/ holds files named with a control
    character, with Latin-1 bytes, and with a hetu, besides a dot file (the store's own kind of
    temporary name) WHEN the worker runs on it with SQLite THEN each of the three is kept under
    quarantine/_bad_key/ with a masked name and its own bad_key record; the dot file is left
    alone; the listing keeps running."""
    root = tmp_path / "store"
    folder = root / "incoming" / POINT
    folder.mkdir(parents=True)
    names = [b"scan\x01.zip", b"bad_\xff\xfe_name.zip", TEST_HETU.encode() + b"\x02.zip"]
    for name in [*names, b".partial.zip"]:
        (folder / os.fsdecode(name)).write_bytes(b"junk " + name)
    config = IngestConfig(storage_url=root.as_uri(), db_url=f"sqlite:///{tmp_path / 'db.db'}",
                          sealing=ingest_sealing(tmp_path / "kela-keys"),
                          reconcile_interval_s=0.2)

    with running_worker(config):
        wait_until("only the dot file is left in incoming/",
                   lambda: sorted(os.listdir(folder)) == [".partial.zip"])

    engine = make_engine(config.db_url)
    records = list_exceptions(engine)
    engine.dispose()
    assert [r.code for r in records] == ["bad_key"] * len(names)
    store = open_storage(config.storage_url)
    kept = {store.get(r.quarantine_key or "") for r in records}
    assert kept == {b"junk " + name for name in names}
    shown = json.dumps([r.to_json() for r in records]) + "".join(keys(store, "quarantine/"))
    assert TEST_HETU not in shown and "010594Y***2" in shown
