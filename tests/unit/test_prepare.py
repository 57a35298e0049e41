"""Preparing pages for OCR: blank detection, resolution, greyscale, reading tesseract's OSD."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.pages import RawPage
from scanner_agent.prepare import (
    even_out_light,
    infer_dpi,
    ink_share,
    parse_osd,
    prepare_page,
    to_gray,
)
from tests.pagegen import a4_size, blank_page, text_page

BLANK_LIMIT = PrepareSettings().blank_ink_ratio


def _is_blank(image: Image.Image, dpi: int = 300) -> bool:
    return ink_share(image, dpi) < BLANK_LIMIT


# --- blank or not --------------------------------------------------------------------------

def test_white_page_is_blank() -> None:
    assert _is_blank(blank_page())


def test_page_with_dust_specks_and_scanner_edges_is_blank() -> None:
    """GIVEN thirty 2–3 px specks and dark strips along two edges THEN still blank."""
    assert _is_blank(blank_page(specks=30, edge_shadow=True))


def test_grey_recycled_paper_with_sensor_noise_is_blank() -> None:
    noise = np.random.default_rng(7).normal(0, 12, (a4_size(300)[1], a4_size(300)[0]))
    paper = np.clip(205 + noise, 0, 255).astype(np.uint8)
    assert _is_blank(Image.fromarray(paper, "L"))


def test_punched_holes_in_the_margin_do_not_make_a_page_content() -> None:
    page = blank_page()
    draw = ImageDraw.Draw(page)
    for top in (1000, 2500):  # ISO 838: 6 mm holes 12 mm from the edge
        draw.ellipse((106, top, 177, top + 71), fill=30)
    assert _is_blank(page)


@pytest.mark.parametrize("line", ["Hakijan tiedot ja henkilötunnus", "Sivu 2 (2)"])
def test_page_with_one_line_of_text_is_not_blank(line: str) -> None:
    assert not _is_blank(text_page([line], size_pt=9))


def test_one_line_at_150_dpi_is_not_blank() -> None:
    assert not _is_blank(text_page(["Liite 1: tiliote"], dpi=150), dpi=150)


def test_prepare_drops_a_blank_page() -> None:
    raw = RawPage(image=blank_page(specks=10), number=2, dpi=300)
    assert prepare_page(raw, PrepareSettings(), OcrSettings()) is None


# --- resolution ----------------------------------------------------------------------------

@pytest.mark.parametrize("dpi", [150, 200, 300, 600])
def test_dpi_of_an_a4_page_is_inferred_from_its_pixels(dpi: int) -> None:
    assert infer_dpi(a4_size(dpi)) == dpi


def test_dpi_of_a_letter_page_snaps_to_the_scanner_setting() -> None:
    assert infer_dpi((2550, 3300)) == 300  # 8.5 × 11 in at 300 dpi


def test_landscape_page_uses_its_long_side() -> None:
    width, height = a4_size(200)
    assert infer_dpi((height, width)) == 200


def test_low_resolution_page_carries_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN a 150 dpi page with text and min_dpi 200 THEN it is kept with a warning."""
    monkeypatch.setattr("scanner_agent.prepare.detect_rotation", lambda *args: 0)
    raw = RawPage(image=text_page(["Hakemus"] * 5, dpi=150), number=1, dpi=None)
    prepared = prepare_page(raw, PrepareSettings(min_dpi=200), OcrSettings())
    assert prepared is not None
    assert (prepared.dpi, prepared.warnings) == (150, ["low_resolution:150dpi"])


# --- greyscale -----------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["1", "RGB", "P", "CMYK"])
def test_every_mode_becomes_8_bit_grey_with_ink_kept(mode: str) -> None:
    page = text_page(["Hakemus"], dpi=100, mode=mode)
    gray = to_gray(page)
    assert gray.mode == "L"
    assert gray.getextrema()[0] < 50


def test_transparent_areas_become_white_paper() -> None:
    clear = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    assert to_gray(clear).getextrema() == (255, 255)


def test_16_bit_grey_is_scaled_not_clipped() -> None:
    mid = Image.fromarray(np.full((10, 10), 32768, dtype=np.uint16))
    assert to_gray(mid).getpixel((0, 0)) == 127


# --- uneven light --------------------------------------------------------------------------

SPREAD = PrepareSettings().max_light_spread


def _shadowed(page: Image.Image, depth: float) -> Image.Image:
    """``page`` darkened by up to ``depth`` towards its right edge, like a lid left open."""
    ramp = np.linspace(1.0, 1.0 - depth, page.width, dtype=np.float32)[None, :]
    return Image.fromarray((np.asarray(page, np.float32) * ramp).astype(np.uint8), "L")


def test_a_shadowed_page_gets_white_paper_and_keeps_its_ink() -> None:
    """GIVEN a text page darkened to 55% towards one edge THEN the paper comes out near white
    everywhere (tesseract's global threshold no longer eats that side) and the text stays dark."""
    page = text_page(["Kontoutdrag"] * 20, dpi=150)
    even = np.asarray(even_out_light(_shadowed(page, 0.45), 150, SPREAD))
    paper = np.asarray(page) == 255
    assert np.percentile(even[paper], 1) >= 225
    assert even[~paper].min() < 60


def test_an_evenly_lit_page_is_left_exactly_as_it_is() -> None:
    page = _shadowed(text_page(["Hakemus"] * 10, dpi=150), 0.05)  # a scanner's slight falloff
    assert even_out_light(page, 150, SPREAD) is page


# --- OSD report ----------------------------------------------------------------------------

OSD = """Page number: 0
Orientation in degrees: 270
Rotate: 90
Orientation confidence: {conf}
Script: Latin
Script confidence: 9.37
"""


def test_confident_osd_turns_the_page() -> None:
    assert parse_osd(OSD.format(conf="9.73"), 2.5) == 90


def test_unsure_osd_leaves_the_page_as_is() -> None:
    assert parse_osd(OSD.format(conf="0.01"), 2.5) == 0


def test_garbled_osd_output_leaves_the_page_as_is() -> None:
    assert parse_osd("Too few characters. Skipping this page", 2.5) == 0
