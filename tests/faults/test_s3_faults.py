"""A struggling S3: the store answers 500, 503, SlowDown, drops connections (before or after it
did the work) and stalls, for a share of the requests of both sides.

GIVEN bundles in the agent's outbox, the agent's deliverer and the ingest worker both reaching
      moto's S3 only through the fault-injecting proxy (SQS events and PostgreSQL direct)
WHEN they deliver, register and answer with receipts through those faults
THEN every bundle is receipted on the agent, registered once at Kela, created once in the
     store, and nothing is rejected.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from aspa_contract.layout import incoming_key
from aspa_contract.storage import open_storage
from ingest.db import make_engine
from ingest.db.models import BundleException, Case
from scanner_agent.config import AgentConfig, load_config
from scanner_agent.delivery import Deliverer
from scanner_agent.delivery_log import DeliveryLog, State
from scanner_agent.outbox import Outbox
from tests.agent_runner import running_deliverer
from tests.bundles import valid_bundle
from tests.exchange import EachPointSealer, Exchange, running_worker
from tests.faults.proxy import FaultProxy
from tests.faults.waiting import wait_until

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
POINTS = ("hki-kallio", "tku-keskusta")


def fill_outbox(config: AgentConfig, count: int) -> dict[str, str]:
    """``count`` valid bundles in the outbox (scans in done/ beside them); bundle id → point."""
    made = {}
    for n in range(count):
        point = POINTS[n % len(POINTS)]
        bundle_id, data = valid_bundle(point_id=point, documents=1 + n % 2)
        Outbox(config.paths.outbox).bundle_path(bundle_id).write_bytes(data)
        (config.paths.done / bundle_id).mkdir(parents=True)
        (config.paths.done / bundle_id / "scan-0001.png").write_bytes(b"page")
        made[bundle_id] = point
    return made


@pytest.mark.parametrize(("bundles", "share"), [(16, 0.3), (8, 0.6)])
def test_every_bundle_is_delivered_and_registered_once_through_a_failing_s3(
        tmp_path: Path, exchange: Exchange, rng: random.Random, bundles: int,
        share: float) -> None:
    config = load_config(REPO / "config" / "agent.toml", paths__var_dir=tmp_path / "var",
                         delivery__storage_url=exchange.bucket.url,
                         delivery__outbox_poll_s=0.1, delivery__receipt_poll_s=0.2,
                         delivery__backoff_base_s=0.1, delivery__backoff_cap_s=1.0)
    config.paths.outbox.mkdir(parents=True)
    made = fill_outbox(config, bundles)
    log = DeliveryLog.in_var(config.paths.var_dir)

    with FaultProxy(exchange.server.endpoint_url, share=share, seed=rng.randrange(2**31),
                    delay_s=0.5) as proxy:
        # botocore's own retries (the product's retry_mode) meet the faults first.
        through_proxy = exchange.bucket.settings.model_copy(update={
            "endpoint_url": proxy.endpoint_url, "max_attempts": 3, "read_timeout": 10.0})
        ingest = exchange.config.model_copy(update={"storage": through_proxy,
                                                    "reconcile_interval_s": 2.0})
        deliverer = Deliverer(config, open_storage(exchange.bucket.url, through_proxy),
                              sealer=EachPointSealer())
        with running_worker(ingest), running_deliverer(deliverer) as thread:
            wait_until("every bundle receipted",
                       lambda: len(log.rows(State.RECEIPTED)) == bundles,
                       trouble=lambda: None if thread.is_alive() else "the deliverer died")
    print(f"proxy fates: {dict(proxy.counts)}")

    faults = sum(n for fate, n in proxy.counts.items() if fate != "forwarded")
    assert faults >= 5, f"too few faults injected to prove anything: {dict(proxy.counts)}"
    engine = make_engine(exchange.config.db_url)
    with engine.connect() as connection:
        cases = dict(connection.execute(select(Case.bundle_id, Case.case_ref)).all())
        rejected = connection.execute(select(func.count()).select_from(BundleException))
        assert rejected.scalar_one() == 0
    engine.dispose()
    assert set(cases) == set(made) and len(set(cases.values())) == bundles
    store = exchange.store
    receipts = [json.loads(store.get(info.key)) for info in store.list("receipts/")]
    assert {r["bundle_id"]: r["case_ref"] for r in receipts} == cases
    created = [path for method, path, status in proxy.log
               if method == "PUT" and status == 200 and "/incoming/" in path]
    assert sorted(created) == sorted(
        f"/{exchange.bucket.name}/{exchange.bucket.prefix}/{incoming_key(point, bundle_id)}"
        for bundle_id, point in made.items()), "each bundle created in the store exactly once"
    assert list(config.paths.outbox.glob("*.zip")) == [], "receipted bundles left locally"
    assert not any(config.paths.done.iterdir()), "scans outlived their receipt"
