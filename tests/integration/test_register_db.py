"""Register stage on real databases (a SQLite file and PostgreSQL): cases exactly once.

Bundles are real: built by the agent's builder (tests/bundles.py) and checked by the ingest's
own ``verify_bundle``, so what is registered is exactly what the verify stage hands over.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from aspa_contract.layout import incoming_key
from ingest.cli import app
from ingest.db import (
    CaseNotFound,
    MalformedCaseRef,
    SchemaNotCurrent,
    make_engine,
    parse_case_ref,
    record_exception,
    register_case,
    require_current,
    show_case,
    upgrade_database,
)
from ingest.db.attempts import count_failure
from ingest.db.migrate import head_revision
from ingest.db.models import (
    AccessLogEntry,
    Base,
    BundleException,
    Case,
    Document,
    FailedAttempt,
)
from ingest.db.queries import access_log
from ingest.errors import RejectCode
from ingest.verify import VerifiedBundle, verify_bundle
from tests.bundles import TEST_HETU, valid_bundle

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EVENING_UTC = datetime(2026, 11, 27, 22, 30, tzinfo=UTC)  # 00:30 on 28 Nov in Helsinki


def verified(point_id: str = "hki-kallio", documents: int = 2,
             hetu: str | None = TEST_HETU) -> tuple[str, VerifiedBundle]:
    """``(object key, verified bundle)`` of a fresh, valid bundle."""
    bundle_id, data = valid_bundle(point_id, documents, hetu)
    key = incoming_key(point_id, bundle_id)
    return key, verify_bundle(key, data)


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated database of each backend in turn."""
    upgrade_database(db_url)
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def rows(engine: Engine, model: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(select(model.__table__)))


# --- migrations ---------------------------------------------------------------------------


def test_migrations_build_the_schema_from_empty_and_repeat_as_a_no_op(db_url: str) -> None:
    """GIVEN an empty database WHEN upgraded twice THEN it is at head with all five tables."""
    empty = make_engine(db_url)
    with pytest.raises(SchemaNotCurrent, match="aspa-ingest db upgrade"):
        require_current(empty)
    first, second = upgrade_database(db_url), upgrade_database(db_url)
    assert first == second == head_revision()
    require_current(empty)
    assert set(inspect(empty).get_table_names()) >= {
        "cases", "documents", "exceptions", "access_log", "case_ref_counters", "point_keys"}
    empty.dispose()


def _upgrade_worker(url: str, start: Any, results: Any) -> None:
    """One of several processes starting at once, each migrating the database first."""
    start.wait()
    try:
        results.put(upgrade_database(url))
    except Exception as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def test_workers_starting_together_migrate_without_tripping_over_each_other(
        db_url: str) -> None:
    """GIVEN an empty database WHEN 3 processes run the migrations at the same moment
    THEN each finishes at the head revision and none fails (no half-created tables)."""
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(3), spawn.Queue()
    workers = [spawn.Process(target=_upgrade_worker, args=(db_url, start, results))
               for _ in range(3)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert outcomes == [head_revision()] * 3


def _alembic_worker(url: str, start: Any, results: Any) -> None:
    """One of several processes starting at once, each running the `alembic` command line."""
    from alembic.config import main as alembic_main

    start.wait()
    try:
        alembic_main(argv=["-c", str(REPO / "ingest/db/alembic.ini"), "-x", f"db_url={url}",
                           "upgrade", "head"])
        results.put("done")
    except BaseException as exc:
        results.put(f"{type(exc).__name__}: {exc}")


def test_the_alembic_command_line_beside_starting_workers_migrates_without_locking_errors(
        tmp_path: Path) -> None:
    """GIVEN an empty SQLite file WHEN 4 `alembic upgrade head` command lines and 2 workers'
    upgrades start at the same moment, twice
    THEN every one finishes (none fails with "database is locked") and the file is at head."""
    spawn = multiprocessing.get_context("spawn")
    for round_ in range(2):
        url = f"sqlite:///{tmp_path / f'round{round_}.db'}"
        start, results = spawn.Barrier(6), spawn.Queue()
        workers = [spawn.Process(target=_alembic_worker, args=(url, start, results))
                   for _ in range(4)]
        workers += [spawn.Process(target=_upgrade_worker, args=(url, start, results))
                    for _ in range(2)]
        for worker in workers:
            worker.start()
        outcomes = sorted(results.get(timeout=120) for _ in workers)
        for worker in workers:
            worker.join(timeout=30)
        assert outcomes == sorted(["done"] * 4 + [head_revision()] * 2)
        require_current(make_engine(url))


def test_the_migrated_schema_is_what_the_models_describe(engine: Engine) -> None:
    """GIVEN a migrated database THEN autogenerate finds nothing to add, drop or alter."""
    with engine.connect() as connection:
        diff = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)
    assert diff == []


# --- register -----------------------------------------------------------------------------


def test_a_verified_bundle_becomes_one_pending_case_with_its_documents(engine: Engine) -> None:
    key, bundle = verified(documents=2)
    registration = register_case(engine, bundle, object_key=key, received_at=EVENING_UTC)

    assert registration.created and registration.bundle_id == bundle.bundle_id
    [case] = rows(engine, Case)
    assert (case.case_ref, case.status, case.point_id, case.clerk_id, case.hetu) == (
        registration.case_ref, "pending", "hki-kallio", "clerk-7", TEST_HETU)
    assert case.received_at == EVENING_UTC and case.received_at.tzinfo is not None
    assert case.object_key == key and case.manifest == bundle.manifest
    documents = sorted(rows(engine, Document), key=lambda d: d.position)
    assert [(d.position, d.form_code, d.kind, d.pages) for d in documents] == [
        (1, "TO 1", "form", 1), (2, None, "attachment/bank_statement", 1)]


def test_the_same_bundle_twice_is_one_case_and_the_repeat_is_not_created(
        engine: Engine) -> None:
    """GIVEN a registered bundle WHEN it is delivered again (a later event, another clock)
    THEN the first case is returned unchanged and nothing new is written."""
    key, bundle = verified()
    first = register_case(engine, bundle, object_key=key, received_at=EVENING_UTC)
    again = register_case(engine, bundle, object_key=key,
                          received_at=EVENING_UTC + timedelta(hours=2))

    assert (first.created, again.created) == (True, False)
    assert (again.case_ref, again.received_at) == (first.case_ref, first.received_at)
    assert len(rows(engine, Case)) == 1 and len(rows(engine, Document)) == 2
    # The number the repeat drew was given back: the next case of the day is number 2.
    _, other = verified()
    nxt = register_case(engine, other, object_key="k", received_at=EVENING_UTC)
    assert parse_case_ref(nxt.case_ref)[1] == 2


@pytest.mark.parametrize(("received_at", "expected"), [
    (EVENING_UTC, date(2026, 11, 28)),                                  # EET, UTC+2
    (datetime(2026, 11, 27, 21, 59, tzinfo=UTC), date(2026, 11, 27)),
    (datetime(2026, 6, 30, 21, 0, tzinfo=UTC), date(2026, 7, 1)),       # EEST, UTC+3
])
def test_the_arrival_date_is_the_day_in_helsinki(engine: Engine, received_at: datetime,
                                                 expected: date) -> None:
    key, bundle = verified()
    registration = register_case(engine, bundle, object_key=key, received_at=received_at)
    [case] = rows(engine, Case)
    assert case.arrival_date == registration.arrival_date == expected
    assert registration.case_ref.startswith(f"ASPA-{expected.isoformat()}-")


def test_a_naive_received_at_is_refused(engine: Engine) -> None:
    key, bundle = verified()
    with pytest.raises(ValueError, match="tz-aware"):
        register_case(engine, bundle, object_key=key, received_at=datetime(2026, 11, 27, 12))
    assert rows(engine, Case) == []


def test_case_refs_are_unique_and_numbered_per_arrival_day(engine: Engine) -> None:
    """GIVEN three bundles on one day and two the next THEN refs run 1-3 and 1-2, all distinct,
    and the database itself refuses a second case with a ref already taken."""
    next_day = EVENING_UTC + timedelta(days=1)
    refs = [register_case(engine, b, object_key=k, received_at=at).case_ref
            for at in (EVENING_UTC,) * 3 + (next_day,) * 2 for k, b in [verified()]]
    assert len(set(refs)) == 5
    assert [parse_case_ref(r) for r in refs] == [
        (date(2026, 11, 28), 1), (date(2026, 11, 28), 2), (date(2026, 11, 28), 3),
        (date(2026, 11, 29), 1), (date(2026, 11, 29), 2)]
    [existing, *_] = rows(engine, Case)
    clash = {**existing._asdict(), "bundle_id": "01JDZZZZZZZZZZZZZZZZZZZZZZ"}
    del clash["id"]
    with pytest.raises(IntegrityError) as refused, engine.begin() as connection:
        connection.execute(insert(Case).values(clash))
    # The engine keeps statement parameters (the manifest, the hetu) out of error texts.
    assert TEST_HETU not in str(refused.value)


def _race_worker(url: str, bundles: list[tuple[str, VerifiedBundle]], start: Any,
                 results: Any) -> None:
    """One of several processes registering the same bundles at the same moment.

    Puts its ``(bundle_id, case_ref, created)`` list, or the error text, on ``results``.
    """
    engine = make_engine(url)
    start.wait()
    try:
        outcome: Any = [
            (b.bundle_id, r.case_ref, r.created) for key, b in bundles
            for r in [register_case(engine, b, object_key=key, received_at=EVENING_UTC)]]
    except Exception as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()
    results.put(outcome)


def test_racing_workers_register_each_bundle_exactly_once(engine: Engine, db_url: str) -> None:
    """GIVEN 20 bundles WHEN 3 processes register all of them at once (one in reverse order)
    THEN there are 20 cases, each created by exactly one process, and all agree on its ref."""
    bundles = [verified(documents=1) for _ in range(20)]
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(3), spawn.Queue()
    orders = [bundles, bundles, bundles[::-1]]
    workers = [spawn.Process(target=_race_worker, args=(db_url, order, start, results))
               for order in orders]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert [o for o in outcomes if isinstance(o, str)] == []

    all_results = [item for outcome in outcomes for item in outcome]
    created = Counter(bundle_id for bundle_id, _, was_created in all_results if was_created)
    assert sorted(created) == sorted(b.bundle_id for _, b in bundles)
    assert set(created.values()) == {1}
    refs_by_bundle: dict[str, set[str]] = {}
    for bundle_id, ref, _ in all_results:
        refs_by_bundle.setdefault(bundle_id, set()).add(ref)
    assert all(len(refs) == 1 for refs in refs_by_bundle.values())
    cases = rows(engine, Case)
    assert len(cases) == 20 and len({c.case_ref for c in cases}) == 20
    assert sorted(parse_case_ref(c.case_ref)[1] for c in cases) == list(range(1, 21))
    assert len(rows(engine, Document)) == 20


# --- exceptions ---------------------------------------------------------------------------


def test_a_rejected_bundle_is_recorded_once_per_copy_and_cause(engine: Engine) -> None:
    """GIVEN a rejection recorded WHEN the same copy is rejected again for the same code
    THEN no second record; a different code is a second record, and so is another copy rejected
    at the same key (another upload) for the same code. A hetu in the reason is masked."""
    key = incoming_key("hki-kallio", "01JD0000000000000000000042")
    quarantine = "quarantine/hki-kallio/01JD0000000000000000000042~0123456789abcdef.zip"
    common: dict[str, Any] = {"object_key": key, "bundle_id": "01JD0000000000000000000042",
              "quarantine_key": quarantine}
    first = record_exception(engine, code=RejectCode.CHECKSUM_MISMATCH,
                             reason=f"001.pdf of {TEST_HETU} differs", **common)
    repeat = record_exception(engine, code=RejectCode.CHECKSUM_MISMATCH, reason="again",
                              **common)
    other = record_exception(engine, code=RejectCode.PAGE_COUNT_MISMATCH, reason="3 ≠ 2",
                             **common)
    second_upload = record_exception(
        engine, code=RejectCode.CHECKSUM_MISMATCH, reason="the second upload differs",
        **(common | {"quarantine_key": quarantine.replace("0123456789abcdef", "f" * 16)}))

    assert (first, repeat, other, second_upload) == (True, False, True, True)
    records = sorted(rows(engine, BundleException), key=lambda r: r.id)
    assert [(r.code, r.reason) for r in records] == [
        ("checksum_mismatch", "001.pdf of 010594Y***2 differs"),
        ("page_count_mismatch", "3 ≠ 2"), ("checksum_mismatch", "the second upload differs")]
    assert records[0].quarantine_key == quarantine and records[0].detected_at.tzinfo is not None


def test_failures_of_one_object_counted_by_racing_workers_are_each_counted(
        engine: Engine) -> None:
    """GIVEN 6 workers failing on the same object version at the same moment (threads, each
    with its own connection) WHEN each counts its failure THEN the counts are 1…6: none lost
    to a race, so the redrive limit holds with several workers; another version counts afresh."""
    start = threading.Barrier(6)

    def fail_once(_: int) -> int:
        start.wait()
        return count_failure(engine, fingerprint="a" * 16, object_key="incoming/p/x.zip",
                             error=f"RuntimeError: {TEST_HETU} in a trace")

    with ThreadPoolExecutor(6) as pool:
        counts = sorted(pool.map(fail_once, range(6)))

    assert counts == [1, 2, 3, 4, 5, 6]
    assert count_failure(engine, fingerprint="b" * 16, object_key="incoming/p/x.zip",
                         error="again") == 1
    assert all(TEST_HETU not in row.last_error for row in rows(engine, FailedAttempt))


def test_a_rejection_without_a_bundle_id_is_recorded(engine: Engine) -> None:
    assert record_exception(engine, object_key="incoming/x/notes.txt", bundle_id=None,
                            code=RejectCode.BAD_KEY, reason="not a bundle key",
                            quarantine_key=None)
    [record] = rows(engine, BundleException)
    assert (record.bundle_id, record.code) == (None, "bad_key")


# --- reading: show, access log ------------------------------------------------------------


def test_showing_a_case_logs_who_viewed_it(engine: Engine) -> None:
    key, bundle = verified()
    ref = register_case(engine, bundle, object_key=key, received_at=EVENING_UTC).case_ref

    by_ref = show_case(engine, ref.lower(), viewer="virkailija1", channel="cli")
    by_bundle = show_case(engine, bundle.bundle_id, viewer="virkailija2", channel="web")

    assert by_ref == by_bundle and by_ref.hetu == "010594Y***2"
    assert [(v, a, c) for v, a, c, _ in access_log(engine, ref)] == [
        ("virkailija1", "view", "cli"), ("virkailija2", "view", "web")]


def test_a_mistyped_or_unknown_case_is_not_shown_and_not_logged(engine: Engine) -> None:
    key, bundle = verified()
    ref = register_case(engine, bundle, object_key=key, received_at=EVENING_UTC).case_ref
    assert ref.endswith("-00001-" + ref[-1])
    swapped = ref.replace("-00001-", "-00010-")  # two neighbouring digits swapped
    with pytest.raises(MalformedCaseRef, match="check digit"):
        show_case(engine, swapped, viewer="v", channel="cli")
    with pytest.raises(CaseNotFound):
        show_case(engine, "01JDZZZZZZZZZZZZZZZZZZZZZZ", viewer="v", channel="cli")
    assert rows(engine, AccessLogEntry) == []


# --- CLI ----------------------------------------------------------------------------------


def cli(db_url: str, *args: str) -> Any:
    result = CliRunner().invoke(app, list(args), env={"ASPA_INGEST_DB_URL": db_url})
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_cases_list_json_shape_and_masking(engine: Engine, db_url: str) -> None:
    """GIVEN cases at two points WHEN `cases list --json` THEN one JSON array, newest first,
    with ref, bundle, point, received_at, status and per-document form, kind and pages; the
    identity code masked and never in full anywhere in the output."""
    key, first = verified("hki-kallio", documents=2)
    register_case(engine, first, object_key=key, received_at=EVENING_UTC)
    key, second = verified("tku-keskusta", documents=1)
    register_case(engine, second, object_key=key, received_at=EVENING_UTC + timedelta(hours=1))

    result = cli(db_url, "cases", "list", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert [c["point_id"] for c in listed] == ["tku-keskusta", "hki-kallio"]
    newest_first = listed[1]
    assert newest_first["bundle_id"] == first.bundle_id
    assert newest_first["received_at"] == "2026-11-27T22:30:00Z"
    assert newest_first["arrival_date"] == "2026-11-28"
    assert newest_first["status"] == "pending"
    assert newest_first["hetu"] == "010594Y***2"
    assert newest_first["case_ref"].startswith("ASPA-2026-11-28-")
    assert [(d["form_code"], d["kind"], d["pages"]) for d in newest_first["documents"]] == [
        ("TO 1", "form", 1), (None, "attachment/bank_statement", 1)]
    assert TEST_HETU not in result.output

    only = json.loads(cli(db_url, "cases", "list", "--json", "--point", "hki-kallio").stdout)
    assert [c["bundle_id"] for c in only] == [first.bundle_id]
    assert len(json.loads(cli(db_url, "cases", "list", "--json", "--limit", "1").stdout)) == 1


def test_cases_show_json_writes_the_os_user_to_the_access_log(engine: Engine,
                                                              db_url: str) -> None:
    import getpass

    key, bundle = verified()
    ref = register_case(engine, bundle, object_key=key, received_at=EVENING_UTC).case_ref
    result = cli(db_url, "cases", "show", ref, "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["case_ref"], shown["hetu"]) == (ref, "010594Y***2")
    assert TEST_HETU not in result.output
    assert [(v, c) for v, _, c, _ in access_log(engine, ref)] == [(getpass.getuser(), "cli")]


def test_human_output_masks_the_identity_code_too(engine: Engine, db_url: str) -> None:
    key, bundle = verified()
    ref = register_case(engine, bundle, object_key=key, received_at=EVENING_UTC).case_ref
    for args in (("cases", "list"), ("cases", "show", ref)):
        result = cli(db_url, *args)
        assert result.exit_code == 0, result.output
        assert "010594Y***2" in result.output and TEST_HETU not in result.output


def test_exceptions_list_json(engine: Engine, db_url: str) -> None:
    record_exception(engine, object_key="incoming/hki-kallio/x.zip", bundle_id=None,
                     code=RejectCode.BAD_KEY, reason="not a ULID", quarantine_key=None)
    listed = json.loads(cli(db_url, "exceptions", "list", "--json").stdout)
    assert [(e["code"], e["object_key"], e["reason"]) for e in listed] == [
        ("bad_key", "incoming/hki-kallio/x.zip", "not a ULID")]
    assert listed[0]["detected_at"].endswith("Z")


def test_db_upgrade_command_migrates_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'ingest.db'}"
    result = cli(url, "db", "upgrade")
    assert result.exit_code == 0 and head_revision() in result.stdout
    require_current(make_engine(url))
    assert json.loads(cli(url, "cases", "list", "--json").stdout) == []


def test_the_console_script_names_the_fix_for_an_unmigrated_database(tmp_path: Path) -> None:
    """GIVEN an empty database WHEN `aspa-ingest cases list` THEN exit 3 and a message saying
    to run `aspa-ingest db upgrade` (no traceback)."""
    url = f"sqlite:///{tmp_path / 'ingest.db'}"
    done = subprocess.run([sys.executable, "-c", "from ingest.cli import main; main()",
                           "cases", "list"], capture_output=True, text=True, timeout=60,
                          env={"ASPA_INGEST_DB_URL": url, "PATH": "/usr/bin:/bin"},
                          cwd=REPO, check=False)
    assert done.returncode == 3, done.stderr
    assert "aspa-ingest db upgrade" in done.stderr and "Traceback" not in done.stderr
