"""Real pages are never quarantined as blank; blank and black pages end where a clerk expects.

GIVEN scans as service points send them: a TO 1 whose PNG header claims 100000 dpi; a folder
      of a TO 1 and its blank back page as a file of its own; a folder of two blank files; a
      folder of a TO 1 and a solid black page (lid open on an empty glass); a TO 1 scanned as
      a negative
WHEN the real agent (`aspa-agent bundle`, real tesseract) reads them in one run
THEN the 100000 dpi form and the negative are bundled (the negative flagged `dark_page`), the
     blank back page is dropped and named in a warning while its form is bundled, the two
     blank files are `all_pages_blank`, and the black page stops its job as `page_all_black`.
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
from PIL import ImageOps

from aspa_contract.hetu import mask
from classifiers.catalogue import load_catalogue
from classifiers.synth import render_blank, render_form
from tests.pagegen import blank_page

pytestmark = pytest.mark.integration
AGENT = str(Path(sys.executable).parent / "aspa-agent")


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("blank")
    rendered = render_form(load_catalogue().by_code("TO 1")[0], "fi", seed=31, pages=1)
    form = rendered.pages[0]
    form.save(root / "dpi100000.png", dpi=(100000, 100000))
    ImageOps.invert(form.convert("L")).save(root / "negative.png", dpi=(300, 300))
    for folder, files in {
        "form_and_back": {"1-front.png": form, "2-back.png": render_blank(seed=3)},
        "two_blanks": {"1.png": render_blank(seed=4), "2.png": render_blank(seed=5)},
        "form_and_black": {"1-front.png": form, "2-black.png": blank_page(gray=0)},
    }.items():
        (root / folder).mkdir()
        for name, page in files.items():
            page.save(root / folder / name, dpi=(300, 300))
    inputs = ["dpi100000.png", "negative.png", "form_and_back", "two_blanks", "form_and_black"]
    result = subprocess.run([AGENT, "bundle", *(str(root / name) for name in inputs),
                             "--out", str(root)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stderr  # 1: some were rejected
    outcome: dict[str, Any] = json.loads(result.stdout)
    outcome["hetu_printed"] = mask(rendered.hetu)
    return outcome


def _manifest_of(summary: dict[str, Any], source: str) -> dict[str, Any]:
    [bundle] = [b for b in summary["bundles"]
                if b["documents"][0]["source"] == source]
    with zipfile.ZipFile(io.BytesIO(Path(bundle["path"]).read_bytes())) as archive:
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
    return manifest


def _rejected_code(summary: dict[str, Any], folder: str) -> str:
    [code] = [r["code"] for r in summary["rejected"] if Path(r["path"]).name == folder]
    return str(code)


def test_form_whose_header_claims_100000_dpi_is_read_as_a_form_with_its_customer(
        summary: dict[str, Any]) -> None:
    manifest = _manifest_of(summary, "dpi100000.png")
    [doc] = manifest["documents"]
    assert (doc["pages"], doc["form_code"], doc["dropped_blank_pages"]) == (1, "TO 1", [])
    assert mask(manifest["customer"]["hetu"]) == summary["hetu_printed"]


def test_blank_back_page_file_is_dropped_and_named_while_its_form_is_bundled(
        summary: dict[str, Any]) -> None:
    [doc] = _manifest_of(summary, "1-front.png")["documents"]
    assert (doc["pages"], doc["form_code"]) == (1, "TO 1")
    assert "blank_file_dropped:2-back.png" in doc["warnings"]


def test_folder_of_only_blank_files_is_all_pages_blank(summary: dict[str, Any]) -> None:
    assert _rejected_code(summary, "two_blanks") == "all_pages_blank"


def test_solid_black_page_stops_its_job_with_its_own_reason(summary: dict[str, Any]) -> None:
    assert _rejected_code(summary, "form_and_black") == "page_all_black"


def test_negative_scan_is_kept_as_a_page_and_flagged(summary: dict[str, Any]) -> None:
    [doc] = _manifest_of(summary, "negative.png")["documents"]
    assert (doc["pages"], doc["dropped_blank_pages"]) == (1, [])
    assert "dark_page" in doc["warnings"]
