"""kill -9 of ingest workers at random instants while bundles keep arriving.

GIVEN two `aspa-ingest run` processes (two worker threads each) on one SQS queue and one
      PostgreSQL database (migrated, the test points' keys trusted), and sealed bundles
      uploaded a few at a time as agents do
WHEN a random one of them is SIGKILLed after a random time, again and again, and restarted
THEN after every restart no bundle has two cases, every receipt names the case the register
     holds, and every uploaded bundle is still in incoming/, archived or registered; once the
     kills stop, every bundle is one case with one receipt, and nothing was rejected.

A message taken by a killed worker comes back after the queue's visibility timeout, and each
worker's listing of incoming/ finds what an event did not bring. The short version (CI) kills
8 times; ``--long-faults`` (or ASPA_LONG_FAULTS=1) at least 200.
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from aspa_contract.layout import incoming_key
from aspa_contract.storage import Storage
from ingest.db import make_engine
from ingest.db.models import BundleException, Case
from tests.bundles import seal, valid_bundle
from tests.exchange import Exchange
from tests.faults.processes import Children, children
from tests.faults.waiting import wait_until
from tests.s3server import REGION

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

SHORT_KILLS = 8
LONG_KILLS = 200
PROCESSES = 2
POINTS = ("hki-kallio", "tku-keskusta", "oulu-keskusta")
LIFE_S = (0.3, 4.0)  # how long a worker runs before a kill, drawn uniformly


def ingest_env(exchange: Exchange) -> dict[str, str]:
    """`aspa-ingest run` on the exchange: short visibility timeout, listing every second."""
    return {
        "ASPA_INGEST_STORAGE_URL": exchange.bucket.url,
        "ASPA_INGEST_STORAGE__ENDPOINT_URL": exchange.server.endpoint_url,
        "ASPA_INGEST_STORAGE__REGION": REGION,
        "ASPA_INGEST_STORAGE__ADDRESSING_STYLE": "path",
        "ASPA_INGEST_DB_URL": exchange.config.db_url,
        "ASPA_INGEST_SEALING__IDENTITIES_DIR": str(exchange.config.sealing.identities_dir),
        "ASPA_INGEST_QUEUE_URL": exchange.queue_url,
        "ASPA_INGEST_SQS__ENDPOINT_URL": exchange.server.endpoint_url,
        "ASPA_INGEST_SQS__REGION": REGION,
        "ASPA_INGEST_SQS__WAIT_TIME_S": "1",
        "ASPA_INGEST_SQS__VISIBILITY_TIMEOUT_S": "10",  # the least the ingest allows
        "ASPA_INGEST_RECONCILE_INTERVAL_S": "1",
        "ASPA_INGEST_WORKERS": "2",
    }


def upload(store: Storage, rng: random.Random, count: int) -> set[str]:
    """``count`` valid bundles from random points, sealed and uploaded as agents do."""
    made = set()
    for _ in range(count):
        point = rng.choice(POINTS)
        bundle_id, data = valid_bundle(point, documents=rng.randint(1, 3))
        sealed = seal(point, bundle_id, data)
        assert store.put_new(incoming_key(point, bundle_id), sealed.data,
                             metadata=sealed.metadata)
        made.add(bundle_id)
    return made


def registered(db_url: str) -> list[tuple[str, str]]:
    """``(bundle_id, case_ref)`` of every case; none while the tables do not exist yet."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            return [(row.bundle_id, row.case_ref) for row in connection.execute(
                select(Case.bundle_id, Case.case_ref))]
    except SQLAlchemyError:
        return []
    finally:
        engine.dispose()


def stored_ids(store: Storage, under: str) -> list[str]:
    return [info.key.rsplit("/", 1)[1].split(".", 1)[0] for info in store.list(under)]


def assert_consistent(store: Storage, db_url: str, uploaded: set[str], when: str) -> None:
    """What must hold at any instant: no bundle twice, receipts agree, nothing lost."""
    cases = registered(db_url)
    by_bundle = dict(cases)
    assert len(by_bundle) == len(cases), f"{when}: a bundle registered twice"
    assert len(set(by_bundle.values())) == len(cases), f"{when}: a case reference given twice"
    assert set(by_bundle) <= uploaded, f"{when}: a case for a bundle nobody uploaded"
    for info in store.list("receipts/"):
        receipt = json.loads(store.get(info.key))
        assert by_bundle.get(receipt["bundle_id"]) == receipt["case_ref"], (
            f"{when}: receipt {info.key} disagrees with the register")
    somewhere = set(stored_ids(store, "incoming/")) | set(stored_ids(store, "archive/")) | set(
        by_bundle)
    assert uploaded <= somewhere, f"{when}: lost {sorted(uploaded - somewhere)}"


@dataclass(frozen=True)
class Worker:
    """One `aspa-ingest run` process in worker slot ``slot``, with a log of its own."""

    slot: int
    process: subprocess.Popen[bytes]
    log: str

    @classmethod
    def start(cls, kids: Children, env: dict[str, str], cwd: Path, slot: int) -> Worker:
        log = f"ingest-{slot}-{len(kids.started)}.log"
        return cls(slot, kids.start(["aspa-ingest", "run"], env, log, cwd=cwd), log)


def test_kill_9_of_ingest_workers_at_random_instants_registers_each_bundle_once(
        tmp_path: Path, exchange: Exchange, rng: random.Random, long_faults: bool) -> None:
    db_url = exchange.config.db_url
    env = ingest_env(exchange)
    store = exchange.store
    target = LONG_KILLS if long_faults else SHORT_KILLS
    uploaded: set[str] = set()
    started = time.monotonic()
    with children(tmp_path / "logs") as kids:
        workers = [Worker.start(kids, env, tmp_path, n) for n in range(PROCESSES)]
        while kids.kills < target:
            uploaded |= upload(store, rng, rng.randint(0, 3))
            time.sleep(rng.uniform(*LIFE_S))
            victim = workers[rng.randrange(PROCESSES)]
            assert victim.process.poll() is None, kids.tail(victim.log)
            kids.kill9(victim.process)
            workers[victim.slot] = Worker.start(kids, env, tmp_path, victim.slot)
            assert_consistent(store, db_url, uploaded, f"after kill {kids.kills}")
        uploaded |= upload(store, rng, 3)
        def logs() -> str:
            return "\n".join(kids.tail(w.log) for w in workers)

        wait_until("every bundle registered and receipted", lambda: len(
            stored_ids(store, "receipts/")) == len(uploaded), context=logs)
        wait_until("incoming/ is empty", lambda: not stored_ids(store, "incoming/"),
                   context=logs)
        # A SIGTERM that lands before the handler is installed would end it by the signal.
        wait_until("every worker is running", lambda: all(
            "ingest running" in kids.tail(w.log, 10**6) for w in workers), context=logs)
        codes = [kids.terminate(w.process) for w in workers]
        assert codes == [0] * PROCESSES, [kids.tail(w.log) for w in workers]

    assert_consistent(store, db_url, uploaded, "at the end")
    assert {bundle_id for bundle_id, _ in registered(db_url)} == uploaded
    assert sorted(stored_ids(store, "archive/")) == sorted(uploaded)
    assert list(store.list("quarantine/")) == []
    engine = make_engine(db_url)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(BundleException)
                                  ).scalar_one() == 0, "a good bundle was rejected"
    engine.dispose()
    print(f"ingest kill -9: {kids.kills} kills of {PROCESSES} worker processes, "
          f"{len(uploaded)} bundles, {time.monotonic() - started:.0f} s: each registered once "
          "with one receipt")
