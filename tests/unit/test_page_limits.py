"""What the headers of a file say is checked before any pixel is decoded, and pages are
decoded one at a time; a resolution no scanner writes is treated as unknown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.decode import decode_file, image_dpi, plausible_dpi
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.prepare import prepare_page
from tests.badfiles import (
    jpeg_declaring,
    pdf_image_deflate_bomb,
    pdf_of_pages,
    png_declaring,
    tiff_declaring,
    tiff_huge_tile,
    tiff_of_blank_frames,
)
from tests.pagegen import a4_size, form_like_page

LIMITS = {"max_pixels": 60_000_000, "max_pages": 200}


def _refused(path: Path) -> RejectCode:
    with pytest.raises(InputRejected) as caught:
        decode_file(path, **LIMITS)  # no page is read: the headers alone refuse it
    return caught.value.code


def test_tiff_of_1000_frames_is_refused_from_its_headers(tmp_path: Path) -> None:
    assert _refused(tiff_of_blank_frames(tmp_path / "f.tif")) is RejectCode.TOO_MANY_PAGES


def test_pdf_of_5000_pages_is_refused_by_its_page_count(tmp_path: Path) -> None:
    assert _refused(pdf_of_pages(tmp_path / "p.pdf", 5000)) is RejectCode.TOO_MANY_PAGES


@pytest.mark.parametrize("make", [jpeg_declaring, tiff_declaring, tiff_huge_tile])
def test_header_claiming_too_many_pixels_is_refused_before_decoding(
        make: Callable[[Path], Path], tmp_path: Path) -> None:
    assert _refused(make(tmp_path / "bomb")) is RejectCode.TOO_MANY_PIXELS


def test_colour_png_that_would_need_over_200_mb_to_decode_is_refused_from_its_header(
        tmp_path: Path) -> None:
    """56 Mpx is under the pixel cap, but Pillow holds a colour pixel in 4 bytes."""
    path = png_declaring(tmp_path / "c.png", (7000, 8000), colour=True)
    assert _refused(path) is RejectCode.TOO_MANY_PIXELS


def test_colour_jpeg_is_decoded_straight_to_grey(tmp_path: Path) -> None:
    path = tmp_path / "c.jpg"
    form_like_page(dpi=100).convert("RGB").save(path, dpi=(100, 100))
    assert decode_file(path, **LIMITS)[0].image.mode == "L"


def test_pages_are_counted_at_once_and_decoded_one_at_a_time(tmp_path: Path) -> None:
    pages = decode_file(tiff_of_blank_frames(tmp_path / "f.tif", frames=200), **LIMITS)
    assert len(pages) == 200
    reading = iter(pages)
    first = next(reading)
    assert (first.number, first.image.size) == (1, a4_size(300))
    assert pages[199].number == 200


def test_pdf_image_inflating_past_its_pixels_is_decoded_only_as_far_as_they_need(
        tmp_path: Path) -> None:
    [page] = decode_file(pdf_image_deflate_bomb(tmp_path / "b.pdf", inflated_mib=64), **LIMITS)
    assert (page.image.size, page.dpi) == (a4_size(300), 300)


@pytest.mark.parametrize("dpi", [100000, 10000, 0, -300, 1])
def test_resolution_that_makes_an_a4_scan_absurdly_small_or_large_is_unknown(dpi: int) -> None:
    assert plausible_dpi(dpi, a4_size(300)) is None


@pytest.mark.parametrize("dpi", [150, 300, 600])
def test_resolution_that_makes_an_a4_scan_a4_is_believed(dpi: int) -> None:
    assert plausible_dpi(dpi, a4_size(dpi)) == dpi


def test_png_claiming_100000_dpi_has_unknown_dpi(tmp_path: Path) -> None:
    path = tmp_path / "form.png"
    form_like_page(dpi=150).save(path, dpi=(100000, 100000))
    assert decode_file(path, **LIMITS)[0].dpi is None


def test_infinite_dpi_in_a_header_is_unknown() -> None:
    image = Image.new("L", a4_size(100))
    image.info["dpi"] = (float("inf"), float("inf"))
    assert image_dpi(image) is None


@pytest.mark.parametrize(("claimed", "dpi", "prepared_dpi"), [
    ((100000, 100000), 300, 300),  # an absurd header: inferred from the page size
    ((600, 600), 600, 300),  # a fine scan: reduced towards 300 for OCR
])
def test_prepared_page_says_the_resolution_it_has(
        claimed: tuple[int, int], dpi: int, prepared_dpi: int, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("scanner_agent.prepare.detect_rotation", lambda *args: 0)
    path = tmp_path / "form.png"
    form_like_page(dpi=dpi).save(path, dpi=claimed)
    [raw] = decode_file(path, **LIMITS)
    prepared = prepare_page(raw, PrepareSettings(), OcrSettings())
    assert prepared is not None
    assert prepared.dpi == prepared_dpi
    assert prepared.image.info["dpi"] == (prepared_dpi, prepared_dpi)
    assert abs(prepared.image.height - a4_size(prepared_dpi)[1]) <= 1
