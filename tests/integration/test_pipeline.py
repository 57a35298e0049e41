"""The whole agent pipeline on real tesseract and SANE's test backend.

Covers what no single stage can: a sub-folder becomes one bundle, a blank page is dropped and
recorded, the `bundle` command's JSON summary, and a 3-page ADF job becoming one bundle.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from aspa_contract import validate_manifest
from aspa_contract.hetu import mask
from classifiers.catalogue import load_catalogue
from classifiers.synth import render_attachment, render_blank, render_form
from scanner_agent.config import AgentConfig
from scanner_agent.scan_job import scan_to_outbox

pytestmark = pytest.mark.integration


def _read_bundle(path: Path) -> tuple[dict[str, Any], zipfile.ZipFile]:
    archive = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    manifest = json.loads(archive.read("manifest.json"))
    validate_manifest(manifest)
    return manifest, archive


def test_a_sub_folder_becomes_one_bundle_with_its_blank_page_recorded(tmp_path: Path) -> None:
    """GIVEN a folder: a 2-page TO 1 with a blank sheet between its pages, then a pay slip
    WHEN `aspa-agent bundle FOLDER --out DIR` runs
    THEN one bundle holds two documents in name order, TO 1 of 2 pages (page 2 of 3 dropped and
    recorded), the pay slip as an attachment, the customer's code masked in the summary."""
    form = render_form(load_catalogue().by_code("TO 1")[0], "fi", seed=21, pages=2)
    slip = render_attachment("attachment/pay_slip", "fi", seed=22)
    folder = tmp_path / "asiakas"
    folder.mkdir()
    pages = [form.pages[0], render_blank(), form.pages[1]]
    pages[0].save(folder / "01-hakemus.tif", save_all=True, append_images=pages[1:],
                  dpi=(300, 300), compression="tiff_deflate")
    slip.pages[0].save(folder / "02-liite.png", dpi=(300, 300))
    out = tmp_path / "out"

    result = subprocess.run(
        [str(Path(sys.executable).parent / "aspa-agent"), "bundle", str(folder), "--out",
         str(out), "--point", "hki-kallio", "--clerk", "clerk-7"],
        capture_output=True, text=True, timeout=300,
    )

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rejected"] == []
    [bundle] = summary["bundles"]
    assert bundle["hetu"] == mask(form.hetu)
    assert form.hetu is not None and form.hetu not in result.stdout + result.stderr
    docs = bundle["documents"]
    assert [(d["source"], d["form_code"], d["kind"], d["pages"]) for d in docs] == [
        ("01-hakemus.tif", "TO 1", "form", 2),
        ("02-liite.png", None, "attachment/pay_slip", 1),
    ]
    manifest, archive = _read_bundle(Path(bundle["path"]))
    assert manifest["point_id"] == "hki-kallio" and manifest["clerk_id"] == "clerk-7"
    assert manifest["customer"]["hetu"] == form.hetu
    assert manifest["documents"][0]["dropped_blank_pages"] == [2]
    assert len(PdfReader(io.BytesIO(archive.read("001.pdf"))).pages) == 2


def test_bundle_command_reports_a_bad_file_and_exits_non_zero(tmp_path: Path) -> None:
    bad = tmp_path / "sivu.tif"
    bad.write_text("ei kuva")
    result = subprocess.run(
        [str(Path(sys.executable).parent / "aspa-agent"), "bundle", str(bad), "--out",
         str(tmp_path / "out")], capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    summary = json.loads(result.stdout)
    assert summary["bundles"] == [] and summary["rejected"][0]["path"] == str(bad)
    assert "Traceback" not in result.stderr


def test_a_three_page_adf_job_becomes_one_bundle_of_three_pages(
        agent_config: AgentConfig) -> None:
    """GIVEN SANE's test device in ADF mode capped at 3 pages
    WHEN `aspa-agent scan` runs THEN one bundle of one 3-page document lands in the outbox."""
    config = agent_config.model_copy(update={"scanner": agent_config.scanner.model_copy(
        update={"device": "test:0", "source": "ADF", "max_pages": 3, "resolution": 300,
                "extra_options": {"test_picture": "Grid"}})})
    outcome = scan_to_outbox(config)
    assert outcome.bundle is not None and outcome.path is not None
    assert outcome.path.parent == config.paths.outbox
    manifest, archive = _read_bundle(outcome.path)
    [document] = manifest["documents"]
    assert document["pages"] == 3
    assert len(PdfReader(io.BytesIO(archive.read("001.pdf"))).pages) == 3
