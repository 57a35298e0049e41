"""Preparing real files with the real tesseract OSD: turned pages come out upright, also under a
shadow that hides the text from tesseract's global threshold."""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.synth import degrade, render_attachment
from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.decode import decode_file
from scanner_agent.ocr import HEADER_SHARE, ocr_page, ocr_region
from scanner_agent.pages import RawPage
from scanner_agent.prepare import prepare_page
from tests.pagegen import SAMPLE_LINES, blank_page, text_page

pytestmark = pytest.mark.integration

OCR = OcrSettings(read_strips=False)
PREPARE = PrepareSettings()


@pytest.mark.parametrize("turned_ccw", [90, 180])
def test_turned_page_comes_out_upright(turned_ccw: int, tmp_path: Path) -> None:
    """GIVEN a text page saved turned by 90° or 180° WHEN decoded, prepared and read
    THEN OSD turned it back and the OCR text holds the page's words."""
    path = tmp_path / "turned.png"
    page = text_page(SAMPLE_LINES, dpi=300)
    page.rotate(turned_ccw, expand=True).save(path, dpi=(300, 300))
    [raw] = decode_file(path, max_pixels=PREPARE.max_pixels, max_pages=5)
    prepared = prepare_page(raw, PREPARE, OCR)
    assert prepared is not None
    assert prepared.rotated_by == turned_ccw  # clockwise turn undoes the counter-clockwise one
    assert prepared.image.size == page.size
    text = ocr_page(prepared, OCR).text
    assert "Perustoimeentulotuki" in text
    assert "utkomststöd" in text


@pytest.mark.parametrize("turned_ccw", [90, 270])
def test_shadowed_turned_bank_statement_comes_out_upright(turned_ccw: int) -> None:
    """GIVEN a rendered bank statement turned by 90° or 270° with a deep shadow towards one
    side (degrade seed 5: untreated, OSD answers "too few characters" and the page stayed
    turned, so OCR read only its number columns) WHEN prepared THEN it is evened out, turned
    upright, and its header reads as a bank statement."""
    rendered = render_attachment("attachment/bank_statement", "sv", seed=0)
    page = rendered.pages[0]
    turned = degrade(page, seed=5, rotate=turned_ccw, uneven_light=0.35)
    prepared = prepare_page(RawPage(image=turned, number=1, dpi=300), PREPARE, OCR)
    assert prepared is not None
    assert prepared.rotated_by == turned_ccw
    assert prepared.image.size == page.size
    width, height = prepared.image.size
    header = ocr_region(prepared.image, (0, 0, width, round(height * HEADER_SHARE)),
                        whitelist=None, psm=6, settings=OCR)
    assert "KONTOUTDRAG" in header


def test_page_with_too_little_text_for_osd_is_kept_as_is() -> None:
    """GIVEN one short line (OSD: "too few characters") THEN no error and no turn."""
    raw = RawPage(image=text_page(["Liite 2"]), number=1, dpi=300)
    prepared = prepare_page(raw, PREPARE, OCR)
    assert prepared is not None
    assert prepared.rotated_by == 0


def test_blank_scan_file_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    blank_page(specks=20, edge_shadow=True).save(path, dpi=(300, 300))
    [raw] = decode_file(path, max_pixels=PREPARE.max_pixels, max_pages=5)
    assert prepare_page(raw, PREPARE, OCR) is None
