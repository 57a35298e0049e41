"""``aspa-agent demo``: the main job on the embedded default, agent and Kela's ingest together.

Storage is a local folder (``var/store``, the ``file:`` backend) and the case register is SQLite
(``var/ingest.db``): no servers. Sample scans (synthetic forms, test identity codes only) are
dropped into the inbox as a network scanner would; each becomes a bundle, is delivered, is
registered as a pending case, and its receipt comes back to the agent, which then deletes its
local copies. Keeps watching (printing each new case) until Ctrl-C, unless ``--once``.
Bundles travel sealed, as in production: the demo makes (once, under ``var/keys``) the point's
signing key and a stand-in for Kela's identity, and registers the point's key with its ingest.

This is the only place where the agent starts the ingest: a convenience for trying it out.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image
from rich.console import Console
from rich.table import Table

from aspa_contract.hetu import mask
from aspa_contract.keys import create_identity, create_signing_key, load_identities
from classifiers.catalogue import load_catalogue
from classifiers.loading import load_classifier
from classifiers.synth import render_attachment, render_form
from ingest.db import make_engine, upgrade_database
from ingest.keyring import add_point_key
from ingest.settings import IngestConfig, load_ingest_config
from ingest.worker import run_workers
from scanner_agent.config import AgentConfig
from scanner_agent.delivery import delivery_status
from scanner_agent.pipeline import Outcome
from scanner_agent.service import Service

# A pipe or CI log is not 80 columns wide by nature: do not squeeze case references.
console = Console(width=None if sys.stdout.isatty() else 150)
SAMPLE_JOBS = 4
WAIT_S = 600.0


def run_demo(config: AgentConfig, once: bool) -> list[Outcome]:
    """Start ingest and agent, drop the samples, show them become cases; then watch on."""
    config = _with_local_delivery(config)
    ingest = _ingest_config(config)
    config = _with_demo_keys(config, ingest)
    outcomes: list[Outcome] = []
    stop = threading.Event()
    service = Service(config, load_classifier(config.classifier.catalogue,
                                              config.classifier.model),
                      on_outcome=outcomes.append, stop_event=stop)
    service.make_folders()
    threads = [threading.Thread(target=service.run, name="agent"),
               threading.Thread(target=run_workers, args=(ingest, stop),
                                name="ingest")]
    for thread in threads:
        thread.start()
    drop_samples(config.paths.inbox)
    console.print(f"dropped {SAMPLE_JOBS} sample scans into {config.paths.inbox}; "
                  "reading, delivering and registering them …")
    try:
        _wait(lambda: len(outcomes) >= SAMPLE_JOBS and _all_receipted(config, outcomes), threads)
        print_summary(config, outcomes)
        if not once:
            _watch(config, outcomes, threads)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    return outcomes


def drop_samples(inbox: Path) -> None:
    """Write the sample jobs into ``inbox`` the way a scanner does."""
    catalogue = load_catalogue()
    stamp = time.strftime("%H%M%S")
    to1 = render_form(catalogue.by_code("TO 1")[0], "fi", seed=1)
    at1 = render_form(catalogue.by_code("AT 1")[0], "sv", seed=2)
    sv8 = render_form(catalogue.by_code("SV 8")[0], "fi", seed=3)
    slip = render_attachment("attachment/pay_slip", "fi", seed=4)
    _save(to1.pages, inbox / f"demo-{stamp}-hakemus.tif")
    _save(at1.pages[:1], inbox / f"demo-{stamp}-ansokan.png")
    folder = inbox / f"demo-{stamp}-asiakas"
    folder.mkdir()
    _save(sv8.pages, folder / "1-hakemus.tif")
    _save(slip.pages[:1], folder / "2-palkkatodistus.png")
    (folder / ".done").touch()
    broken = inbox / f"demo-{stamp}-katkennut.png"
    _save(to1.pages[:1], broken)
    os.truncate(broken, broken.stat().st_size // 3)  # a transfer that died halfway


def print_summary(config: AgentConfig, outcomes: list[Outcome]) -> None:
    """One row per input: its case at Kela (with receipt) or why it is in quarantine."""
    receipts = _receipts(config)
    table = Table("input", "result", "case (arrival)", "documents", "hetu")
    for outcome in outcomes:
        if outcome.bundle is None:
            reason = outcome.rejected.code.value if outcome.rejected else "?"
            table.add_row(outcome.name, f"[red]quarantine[/] ({reason})", "", "", "")
            continue
        manifest = outcome.bundle.manifest
        receipt = receipts.get(outcome.bundle.bundle_id, {})
        case = receipt.get("case_ref") or "[yellow]waiting for receipt[/]"
        arrival = f" ({receipt['received_at']})" if receipt.get("received_at") else ""
        docs = ", ".join(f"{d['form_code'] or d['kind']} ({d['pages']} p)"
                         for d in manifest["documents"])
        table.add_row(outcome.name, "[green]pending at Kela[/]", case + arrival, docs,
                      mask(manifest["customer"]["hetu"]) or "-")
    console.print(table)


def _with_local_delivery(config: AgentConfig) -> AgentConfig:
    if config.delivery.enabled:
        return config
    store = config.paths.var_dir / "store"
    store.mkdir(parents=True, exist_ok=True)
    delivery = config.delivery.model_copy(update={
        "storage_url": f"file:{store}", "outbox_poll_s": 0.5, "receipt_poll_s": 1.0})
    return config.model_copy(update={"delivery": delivery})


def _ingest_config(config: AgentConfig) -> IngestConfig:
    var = config.paths.var_dir
    return load_ingest_config(None, storage_url=config.delivery.storage_url,
                              db_url=f"sqlite:///{var / 'ingest.db'}", reconcile_interval_s=1.0,
                              sealing__identities_dir=var / "keys" / "ingest")


def _with_demo_keys(config: AgentConfig, ingest: IngestConfig) -> AgentConfig:
    """The point's signing key and the demo ingest's identity (each made once, kept after),
    the point's key registered with the ingest, and the agent sealing to that identity."""
    folder = ingest.sealing.identities_dir
    identities = load_identities(folder) or {"new": create_identity(folder)}
    kela = sorted(identities.values(), key=lambda identity: str(identity.path))[-1]
    signing = create_signing_key(config.signing_key_path)
    upgrade_database(ingest.db_url)
    engine = make_engine(ingest.db_url)
    try:
        add_point_key(engine, config.point.point_id, signing.public_text)
    finally:
        engine.dispose()
    sealing = config.sealing.model_copy(update={"kela_recipient": kela.recipient})
    return config.model_copy(update={"sealing": sealing})


def _receipts(config: AgentConfig) -> dict[str, dict[str, Any]]:
    return {row["bundle_id"]: row for row in delivery_status(config, receipted_limit=1000)}


def _all_receipted(config: AgentConfig, outcomes: list[Outcome]) -> bool:
    receipts = _receipts(config)
    return all(receipts.get(o.bundle.bundle_id, {}).get("case_ref")
               for o in outcomes if o.bundle is not None)


def _wait(done: Callable[[], bool], threads: list[threading.Thread]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if not all(t.is_alive() for t in threads):
            raise RuntimeError("the agent or the ingest stopped; see the log above")
        if time.monotonic() > deadline:
            console.print("[yellow]still waiting after 10 minutes; showing what is there[/]")
            return
        time.sleep(0.3)


def _watch(config: AgentConfig, outcomes: list[Outcome], threads: list[threading.Thread]) -> None:
    console.print(f"watching {config.paths.inbox} for more scans; Ctrl-C to stop")
    shown = len(outcomes)
    while all(t.is_alive() for t in threads):
        time.sleep(0.5)
        fresh = outcomes[shown:]
        if fresh and _all_receipted(config, fresh):
            print_summary(config, fresh)
            shown += len(fresh)


def _save(pages: list[Image.Image], path: Path) -> None:
    tmp = path.with_name(path.name + ".part")  # the watcher ignores *.part until the rename
    first, *rest = pages
    if path.suffix == ".tif":
        first.save(tmp, format="TIFF", save_all=True, append_images=rest, dpi=(300, 300),
                   compression="tiff_deflate")
    else:
        first.save(tmp, format="PNG", dpi=(300, 300))
    tmp.rename(path)
