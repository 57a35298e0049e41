"""``aspa-agent demo``: the main job on the embedded default, with sample scans dropped in.

Renders a few synthetic Kela forms (test identity codes only), drops them into the inbox as a
network scanner would, runs the agent until they have become bundles (or gone to quarantine),
prints a summary, and keeps watching until Ctrl-C unless ``--once``.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from PIL import Image
from rich.console import Console
from rich.table import Table

from aspa_contract.hetu import mask
from classifiers.catalogue import load_catalogue
from classifiers.loading import load_classifier
from classifiers.synth import render_attachment, render_form
from scanner_agent.config import AgentConfig
from scanner_agent.pipeline import Outcome
from scanner_agent.service import Service

console = Console()


def run_demo(config: AgentConfig, once: bool) -> list[Outcome]:
    """Drop the samples, process them, print the summary; then watch on unless ``once``."""
    outcomes: list[Outcome] = []
    service = Service(config, load_classifier(config.classifier.catalogue,
                                              config.classifier.model),
                      on_outcome=outcomes.append)
    service.make_folders()
    expected = drop_samples(config.paths.inbox)
    console.print(f"dropped {expected} sample scans into {config.paths.inbox}; reading them …")
    worker = threading.Thread(target=service.run, name="agent")
    worker.start()
    try:
        while len(outcomes) < expected and worker.is_alive():
            time.sleep(0.2)
        print_summary(outcomes)
        if not once:
            console.print(f"watching {config.paths.inbox} for more scans; Ctrl-C to stop")
            seen = len(outcomes)
            while worker.is_alive():
                time.sleep(0.5)
                for outcome in outcomes[seen:]:
                    print_summary([outcome])
                seen = len(outcomes)
    except KeyboardInterrupt:
        pass
    finally:
        service.stop()
        worker.join()
    return outcomes


def drop_samples(inbox: Path) -> int:
    """Write the sample jobs into ``inbox`` the way a scanner does; returns how many jobs."""
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
    return 4


def print_summary(outcomes: list[Outcome]) -> None:
    table = Table("input", "result", "documents", "hetu")
    for outcome in outcomes:
        if outcome.bundle is None:
            reason = outcome.rejected.code.value if outcome.rejected else "?"
            table.add_row(outcome.name, f"[red]quarantine[/] ({reason})", "", "")
            continue
        manifest = outcome.bundle.manifest
        docs = ", ".join(f"{d['form_code'] or d['kind']} ({d['pages']} p)"
                         for d in manifest["documents"])
        table.add_row(outcome.name, f"[green]bundle[/] {outcome.bundle.bundle_id}", docs,
                      mask(manifest["customer"]["hetu"]) or "-")
    console.print(table)


def _save(pages: list[Image.Image], path: Path) -> None:
    tmp = path.with_name(path.name + ".part")  # the watcher ignores *.part until the rename
    first, *rest = pages
    if path.suffix == ".tif":
        first.save(tmp, format="TIFF", save_all=True, append_images=rest, dpi=(300, 300),
                   compression="tiff_deflate")
    else:
        first.save(tmp, format="PNG", dpi=(300, 300))
    tmp.rename(path)
