"""Scanned paper in, pending case at Kela out: agent and ingest together on real parts.

GIVEN the agent (real watcher, tesseract, delivery) and the ingest (real worker, register)
      sharing an exchange store: moto's S3 + SQS with PostgreSQL, or a folder with SQLite
WHEN a Finnish TO 1 and a sub-folder with a Swedish AT 1 and a pay slip land in the inbox
THEN each becomes one pending case with the right form codes, customer and pages, the receipts
     come back to the agent, and the agent's local copies (bundle and scans) are gone.
Bundles travel sealed (test keys): the store never holds a readable zip.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session, selectinload

from aspa_contract.storage import open_storage
from classifiers.catalogue import load_catalogue
from classifiers.synth import render_attachment, render_form
from ingest.db.models import Case
from ingest.settings import IngestConfig
from scanner_agent.config import AgentConfig
from scanner_agent.delivery import delivery_status
from tests.agent_runner import running_agent
from tests.exchange import (
    Exchange,
    ingest_sealing,
    running_worker,
    sealed_agent,
    trust_test_keys,
)

pytestmark = pytest.mark.integration


def _drop_scans(inbox: Path) -> dict[str, Any]:
    catalogue = load_catalogue()
    to1 = render_form(catalogue.by_code("TO 1")[0], "fi", seed=31, pages=2)
    at1 = render_form(catalogue.by_code("AT 1")[0], "sv", seed=32, pages=1)
    slip = render_attachment("attachment/pay_slip", "sv", seed=33)
    staging = inbox.parent / "staging"
    staging.mkdir(parents=True)
    inbox.mkdir(parents=True, exist_ok=True)
    to1.pages[0].save(staging / "hakemus.tif", save_all=True, append_images=to1.pages[1:],
                      dpi=(300, 300), compression="tiff_deflate")
    (staging / "kund").mkdir()
    at1.pages[0].save(staging / "kund" / "1-ansokan.png", dpi=(300, 300))
    slip.pages[0].save(staging / "kund" / "2-lonespec.png", dpi=(300, 300))
    (staging / "kund" / ".done").touch()
    (staging / "hakemus.tif").rename(inbox / "hakemus.tif")
    (staging / "kund").rename(inbox / "kund")
    return {"hakemus.tif": (to1.hetu, [("TO 1", "form", 2)]),
            "kund": (at1.hetu, [("AT 1", "form", 1), (None, "attachment/pay_slip", 1)])}


def _scan_to_case(agent_config: AgentConfig, storage_url: str, storage_settings: Any,
                  ingest: IngestConfig) -> None:
    delivery = agent_config.delivery.model_copy(update={
        "storage_url": storage_url, "storage": storage_settings,
        "outbox_poll_s": 0.2, "receipt_poll_s": 0.5, "backoff_base_s": 0.2})
    config = sealed_agent(agent_config.model_copy(update={"delivery": delivery}))
    expected = _drop_scans(config.paths.inbox)

    with running_worker(ingest), running_agent(config) as agent:
        outcomes = agent.wait_for(2)
        bundle_ids = {o.name: o.bundle.bundle_id for o in outcomes if o.bundle is not None}
        assert set(bundle_ids) == set(expected)
        deadline = time.monotonic() + 120
        while not all(row["state"] == "receipted" for row in delivery_status(config)
                      if row["bundle_id"] in bundle_ids.values()) or \
                len(delivery_status(config)) < 2:
            assert time.monotonic() < deadline, delivery_status(config)
            time.sleep(0.2)

    receipts = {row["bundle_id"]: row for row in delivery_status(config)}
    engine = create_engine(ingest.db_url)
    with Session(engine) as session:
        cases = {c.bundle_id: c for c in session.scalars(
            select(Case).options(selectinload(Case.documents)))}
    engine.dispose()
    assert len(cases) == 2
    for name, bundle_id in bundle_ids.items():
        hetu, documents = expected[name]
        case = cases[bundle_id]
        assert case.status == "pending"
        assert case.hetu == hetu
        assert [(d.form_code, d.kind, d.pages) for d in case.documents] == documents
        assert receipts[bundle_id]["case_ref"] == case.case_ref
        assert not (config.paths.done / bundle_id).exists(), "scans outlived the receipt"
    assert list(config.paths.outbox.glob("*.zip")) == []
    store = open_storage(storage_url, storage_settings)
    assert sorted(o.key.rsplit("/", 1)[1] for o in store.list("receipts/")) == sorted(
        f"{b}.json" for b in bundle_ids.values())
    assert list(store.list("incoming/")) == []
    for archived in store.list("archive/"):
        assert b"manifest.json" not in store.get(archived.key), "a readable zip in the store"


def test_scans_become_pending_cases_over_s3_sqs_and_postgresql(
        agent_config: AgentConfig, exchange: Exchange) -> None:
    """The ingest finds bundles only through SQS events (its listing waits an hour)."""
    _scan_to_case(agent_config, exchange.bucket.url, exchange.bucket.settings, exchange.config)


def test_scans_become_pending_cases_over_a_folder_and_sqlite(
        agent_config: AgentConfig, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    db_url = f"sqlite:///{tmp_path}/cases.db"
    trust_test_keys(db_url)
    ingest = IngestConfig(storage_url=f"file:{store}", db_url=db_url, reconcile_interval_s=0.5,
                          sealing=ingest_sealing(tmp_path / "kela-keys"))
    _scan_to_case(agent_config, f"file:{store}", agent_config.delivery.storage, ingest)
