"""kill -9 of the agent at random instants across a mixed workload, while it uploads to S3 and
the ingest registers.

GIVEN `aspa-agent run` delivering to moto's S3 (SQS events to an ingest worker on PostgreSQL)
      and inputs landing in its inbox between restarts: loose scans, job folders, garbage and
      truncated files
WHEN the agent (with its tesseract children) is SIGKILLed after a random time, again and again,
     and restarted each time
THEN after every kill each input is still in the inbox, in one bundle or in quarantine — never
     lost, never in two bundles, never both — and once the agent has drained, each input is in
     exactly one registered case (bad ones: one quarantine entry), every receipt has been read
     and no local copy, half-written file or stray object is left.

The short version (CI) kills 6 times; ``--long-faults`` (or ASPA_LONG_FAULTS=1) at least 200.
The seed printed at the start replays the same choices (which inputs, when to kill); the
instants themselves still depend on the machine's speed.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ingest.db import make_engine
from ingest.db.models import BundleException, Case
from scanner_agent.delivery_log import DeliveryLog, State
from tests.exchange import Exchange, agent_sealing, running_worker
from tests.faults.ledger import Ledger
from tests.faults.processes import children, exited
from tests.faults.waiting import wait_until
from tests.faults.workload import drop_input, kinds_for_round, render_pages
from tests.s3server import REGION

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

SHORT_KILLS = 6
LONG_KILLS = 200
# Kills between two drains, and inputs dropped meanwhile: (short, long).
KILLS_PER_ROUND = (6, 20)
INPUTS_PER_ROUND = (6, 8)
LIFE_S = (0.5, 10.0)  # how long the agent runs before a kill, drawn uniformly
AGENT_LOG = "agent.log"
POINT = "hki-kallio"


def agent_env(var: Path, exchange: Exchange) -> dict[str, str]:
    """`aspa-agent run` on ``var`` delivering to the exchange's bucket, polling briskly, sealing
    with its point's test key to the test Kela key."""
    sealing = agent_sealing(var, POINT)
    return {"ASPA_" + key.upper(): str(value) for key, value in sealing.items()} | {
        "ASPA_PATHS__VAR_DIR": str(var),
        "ASPA_POINT__POINT_ID": POINT,
        "ASPA_INTAKE__QUIET_S": "0.3",
        "ASPA_INTAKE__FOLDER_QUIET_S": "1.0",
        "ASPA_INTAKE__UNDECODABLE_GRACE_S": "1.0",
        "ASPA_OCR__WORKERS": "2",
        "ASPA_DELIVERY__STORAGE_URL": exchange.bucket.url,
        "ASPA_DELIVERY__STORAGE__ENDPOINT_URL": exchange.server.endpoint_url,
        "ASPA_DELIVERY__STORAGE__REGION": REGION,
        "ASPA_DELIVERY__STORAGE__ADDRESSING_STYLE": "path",
        "ASPA_DELIVERY__STORAGE__MAX_ATTEMPTS": "2",
        "ASPA_DELIVERY__OUTBOX_POLL_S": "0.2",
        "ASPA_DELIVERY__RECEIPT_POLL_S": "0.5",
        "ASPA_DELIVERY__BACKOFF_BASE_S": "0.2",
        "ASPA_DELIVERY__BACKOFF_CAP_S": "2.0",
    }


def drained(var: Path) -> bool:
    """Nothing left for the agent: inbox, outbox and done/ empty, every bundle receipted."""
    inbox = [p for p in (var / "inbox").iterdir() if p.name != ".aspa-claimed"]
    claimed = list((var / "inbox").glob(".aspa-claimed/*/*"))
    local = [p for p in (var / "outbox").iterdir()] + list((var / "done").iterdir())
    rows = DeliveryLog.in_var(var).rows(State.QUEUED, State.UPLOADED, State.FLAGGED)
    return not inbox and not claimed and not local and not rows


def assert_delivered(var: Path, exchange: Exchange, ledger: Ledger) -> None:
    """Every bundle receipted once; the store holds one receipt per case and nothing pending."""
    engine = make_engine(exchange.config.db_url)
    with engine.connect() as connection:
        cases = set(connection.execute(select(Case.bundle_id)).scalars())
        rejected = connection.execute(select(func.count()).select_from(BundleException))
        assert rejected.scalar_one() == 0, "the ingest rejected a bundle the agent made"
    engine.dispose()
    receipted = {row.bundle_id for row in DeliveryLog.in_var(var).rows(State.RECEIPTED)}
    assert receipted == cases, "the agent read exactly the receipts of the registered cases"
    store = exchange.store
    receipts = {info.key.rsplit("/", 1)[1].removesuffix(".json")
                for info in store.list("receipts/")}
    assert receipts == cases
    assert list(store.list("incoming/")) == []
    assert list(store.list("quarantine/")) == []
    assert not list(var.rglob(".tmp-*")), "a half-written file was left behind"
    assert len(cases) == sum(not item.bad for item in ledger.inputs.values())


def test_kill_9_of_the_agent_at_random_instants_loses_and_doubles_nothing(
        tmp_path: Path, exchange: Exchange, rng: random.Random, long_faults: bool) -> None:
    var = tmp_path / "var"
    (var / "inbox").mkdir(parents=True)
    env = agent_env(var, exchange)
    ledger = Ledger()
    pages = render_pages()
    target = LONG_KILLS if long_faults else SHORT_KILLS
    ingest = exchange.config.model_copy(update={"reconcile_interval_s": 5.0})
    started = time.monotonic()
    rounds = 0
    with running_worker(ingest), children(tmp_path / "logs") as kids:
        while kids.kills < target:
            kills = min(KILLS_PER_ROUND[long_faults], target - kids.kills)
            kinds = kinds_for_round(rng, INPUTS_PER_ROUND[long_faults])
            drop_at = [rng.randrange(kills) for _ in kinds]
            for k in range(kills):
                agent = kids.start(["aspa-agent", "run", "--json-logs"], env, AGENT_LOG)
                for n in [n for n, at in enumerate(drop_at) if at == k]:
                    drop_input(var / "inbox", pages, ledger, rng, f"r{rounds}i{n}", kinds[n])
                time.sleep(rng.uniform(*LIFE_S))
                assert agent.poll() is None, f"the agent died:\n{kids.tail(AGENT_LOG)}"
                kids.kill9(agent)
                ledger.assert_safe(ledger.locate(var, exchange.config.db_url),
                                   f"after kill {kids.kills}")
            agent = kids.start(["aspa-agent", "run", "--json-logs"], env, AGENT_LOG)
            wait_until("the agent drained", lambda: drained(var),
                       trouble=exited(agent, "the agent"),
                       context=lambda: kids.tail(AGENT_LOG))
            assert kids.terminate(agent) == 0, kids.tail(AGENT_LOG)
            ledger.assert_settled(ledger.locate(var, exchange.config.db_url))
            assert_delivered(var, exchange, ledger)
            rounds += 1
    bad = sum(item.bad for item in ledger.inputs.values())
    print(f"agent kill -9: {kids.kills} kills in {rounds} rounds, {len(ledger.inputs)} inputs "
          f"({bad} bad), {time.monotonic() - started:.0f} s: every input in exactly one case "
          "or one quarantine entry")
