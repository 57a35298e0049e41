"""OCR with the real tesseract (fin+swe): words, strips, region re-reads, the searchable PDF."""

from __future__ import annotations

import re
import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader

from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.ocr import OcrPool, check_tesseract, ocr_page, ocr_region
from scanner_agent.pages import OcrPage, OcrWord, PreparedPage, RawPage
from scanner_agent.searchable_pdf import (
    build_document_pdf,
    build_page_pdf,
    encode_image,
    pdf_bytes_per_page,
)
from tests.pagegen import a4_size, font, form_like_page, text_page

pytestmark = pytest.mark.integration

SETTINGS = OcrSettings()
TEST_HETU = "010594Y9032"  # individual number 903: a temporary/test code


@pytest.fixture(scope="module")
def form_page() -> OcrPage:
    """One form-like A4 300 dpi page, OCR'd once for every test in this module."""
    return ocr_page(PreparedPage(image=form_like_page(body_lines=6), number=1, dpi=300),
                    SETTINGS)


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_words_come_with_boxes_and_lines(form_page: OcrPage) -> None:
    assert "Hakijan tiedot ja henkilötunnus" in form_page.text
    word = next(w for w in form_page.words if w.text == "Perustoimeentulotuki")
    left, top, right, bottom = word.box
    assert 0 <= left < right <= 2480 and 0 <= top < bottom <= 3508
    assert "Perustoimeentulotuki" in form_page.lines[word.line].text


def test_header_and_footer_strips_are_read_on_their_own(form_page: OcrPage) -> None:
    assert "TO 1" in form_page.header
    assert "Sivu 1 (2)" in form_page.footer
    assert "Hakijan" not in form_page.header + form_page.footer


def test_searchable_pdf_holds_the_page_words_at_a4_size(form_page: OcrPage,
                                                        tmp_path: Path) -> None:
    """GIVEN an OCR'd A4 300 dpi page WHEN built into a document PDF
    THEN pdftotext finds its words, and the page measures 595×842 pt."""
    pdf = build_document_pdf([form_page, form_page])
    text = _pdftotext(pdf, tmp_path)
    for word in ("Perustoimeentulotuki", "henkilötunnus", "utkomststöd", "Päivämäärä"):
        assert word in text
    reader = PdfReader(tmp_path / "doc.pdf")
    assert len(reader.pages) == 2
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)


# Two columns, each a bold heading over a smaller line, as on Kela forms: tesseract's own
# word-by-word text layer made pdftotext interleave them ("2 Haettava / Haen / etuutta / etuus").
COLUMNS = [("2 Haettava etuus", "Haen etuutta alkaen 16.6.2024"),
           ("3 Sökt stöd", "Äldre sökande önskar stöd för hösten 1.7.2024")]
COLUMN_X_MM = (20, 110)


def _two_column_page(dpi: int = 300) -> Image.Image:
    page = Image.new("L", a4_size(dpi), 255)
    draw = ImageDraw.Draw(page)
    mm = dpi / 25.4
    for x, (heading, body) in zip(COLUMN_X_MM, COLUMNS, strict=True):
        draw.text((x * mm, 40 * mm), heading, fill=0, font=font(11, dpi, bold=True))
        draw.text((x * mm, 44.5 * mm), body, fill=0, font=font(9, dpi))
    return page


def _column_lines(page: OcrPage) -> list[str]:
    """What OCR read of each column line: a line's words split at the middle of the page."""
    middle = page.image.width / 2
    lines: dict[tuple[int, bool], list[str]] = {}
    for word in page.words:
        lines.setdefault((word.line, word.box[0] > middle), []).append(word.text)
    return [" ".join(words) for words in lines.values()]


def test_text_layer_keeps_each_column_line_together(tmp_path: Path) -> None:
    """GIVEN a page with two columns of heading + line side by side
    WHEN it is OCR'd into a searchable PDF
    THEN pdftotext gives every column line whole on a line of its own, ä ö Ä Ö kept."""
    page = ocr_page(PreparedPage(image=_two_column_page(), number=1, dpi=300),
                    OcrSettings(read_strips=False))
    expected = _column_lines(page)
    assert len(expected) == 4 and "Haettava" in expected[0]  # OCR found both columns
    found = [line.strip() for line in _pdftotext(page.pdf, tmp_path).splitlines()]
    for line in expected:
        assert line in found
    assert any("Äldre sökande önskar" in line for line in found)


def test_text_layer_keeps_finnish_and_swedish_letters(tmp_path: Path) -> None:
    """GIVEN OCR words with å ä ö Å Ä Ö, and characters outside the PDF font's encoding
    WHEN they are drawn as a page's text layer
    THEN pdftotext gives the Nordic letters back, the others as base letter or "?"."""
    words = [OcrWord("Åland", (100, 100, 300, 140), 95.0, 0),
             OcrWord("Äiti", (320, 100, 460, 140), 95.0, 0),
             OcrWord("Öljy", (480, 100, 620, 140), 95.0, 0),
             OcrWord("på", (100, 200, 180, 240), 95.0, 1),
             OcrWord("äiti", (200, 200, 330, 240), 95.0, 1),
             OcrWord("över", (350, 200, 500, 240), 95.0, 1),
             OcrWord("Erdős→€", (100, 300, 400, 340), 95.0, 2)]
    pdf = build_page_pdf(Image.new("L", (800, 500), 255), 100, words)
    lines = [line.strip() for line in _pdftotext(pdf, tmp_path).splitlines() if line.strip()]
    assert lines == ["Åland Äiti Öljy", "på äiti över", "Erdos?€"]


def test_text_layer_is_a_valid_pdf_over_the_image(form_page: OcrPage, tmp_path: Path) -> None:
    """GIVEN an OCR'd page WHEN its PDF is parsed strictly
    THEN it has one page the image's size at its dpi that still draws the scan image, and
    pdftotext's word boxes lie over the OCR word boxes (so search highlights land on them)."""
    [page] = PdfReader(BytesIO(form_page.pdf), strict=True).pages
    assert len(page.images) == 1
    contents = page.get_contents()
    assert contents is not None
    assert [op for _, op in contents.operations if op == b"Do"] == [b"Do"]
    assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(
        (form_page.image.width * 72 / 300, form_page.image.height * 72 / 300), abs=0.5)
    path = tmp_path / "page.pdf"
    path.write_bytes(form_page.pdf)
    html = subprocess.run(["pdftotext", "-bbox", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout
    scale = 300 / 72
    found = {m["word"]: [float(m[k]) * scale for k in ("x0", "y0", "x1", "y1")]
             for m in _BBOX_WORD.finditer(html)}
    word = next(w for w in form_page.words if w.text == "Perustoimeentulotuki")
    left, top, right, bottom = found["Perustoimeentulotuki"]
    assert (left, right) == pytest.approx((word.box[0], word.box[2]), abs=3)
    assert top <= word.box[1] + 5 and bottom >= word.box[3] - 5


_BBOX_WORD = re.compile(r'<word xMin="(?P<x0>[\d.]+)" yMin="(?P<y0>[\d.]+)" '
                        r'xMax="(?P<x1>[\d.]+)" yMax="(?P<y1>[\d.]+)">(?P<word>[^<]+)</word>')


def test_page_image_sizes_g4_and_jpeg(form_page: OcrPage,
                                      record_property: pytest.RecordProperty) -> None:
    """The default bilevel layer is G4 and small; JPEG is kept for greyscale on request."""
    g4, g4_kind = encode_image(form_page.image, 300, layer="bilevel")
    jpeg, jpeg_kind = encode_image(form_page.image, 300, layer="jpeg")
    record_property("g4_bytes", len(g4))
    record_property("jpeg_bytes", len(jpeg))
    print(f"A4 300 dpi form page: G4 {len(g4)} B, JPEG q60 {len(jpeg)} B")
    assert (g4_kind, jpeg_kind) == ("ccitt-g4", "jpeg")
    assert len(g4) < len(jpeg)
    assert pdf_bytes_per_page(form_page.pdf) < 150_000


def test_region_reread_with_a_whitelist() -> None:
    """GIVEN a hetu printed on a page WHEN its box is re-read with the hetu alphabet
    THEN the exact 11 characters come back."""
    page = Image.new("L", (1200, 300), 255)
    ImageDraw.Draw(page).text((100, 100), TEST_HETU, fill=0, font=font(14, 300))
    text = ocr_region(page, (60, 60, 1000, 220), whitelist="0123456789ABCDEFHJKLMNPRSTUVWXY+-",
                      settings=SETTINGS)
    assert text == TEST_HETU


def test_pool_reads_pages_in_parallel_and_drops_blanks() -> None:
    """GIVEN two text pages and a blank one fed one by one THEN two OcrPages, one None."""
    pages = [text_page(["Ansökan om grundläggande utkomststöd", "Bilaga 1"] * 3, dpi=200),
             Image.new("L", (1654, 2339), 255),
             text_page(["Vuokrasopimus ja palkkatodistus", "Liite 2"] * 3, dpi=200)]
    settings = OcrSettings(workers=2, read_strips=False)
    with OcrPool(settings, PrepareSettings()) as pool:
        futures = [pool.submit_raw(RawPage(image=image, number=n, dpi=200))
                   for n, image in enumerate(pages, start=1)]
        results = [future.result() for future in futures]
    first, blank, third = results
    assert blank is None
    assert first is not None and third is not None
    assert (first.number, third.number) == (1, 3)
    assert "utkomststöd" in first.text and "palkkatodistus" in third.text


@pytest.mark.parametrize("settings", [
    OcrSettings(tesseract_cmd="/nonexistent/tesseract"),
    OcrSettings(languages="fin+xyz"),
    OcrSettings(timeout_s=0.001),
], ids=["missing-binary", "missing-language", "timeout"])
def test_tesseract_failure_rejects_the_input(settings: OcrSettings) -> None:
    page = PreparedPage(image=text_page(["Hakemus"], dpi=100), number=1, dpi=100)
    with pytest.raises(InputRejected) as caught:
        ocr_page(page, settings)
    assert caught.value.code is RejectCode.OCR_FAILED


def test_doctor_check_passes_on_this_machine() -> None:
    assert check_tesseract(SETTINGS) == []


def test_doctor_check_names_a_missing_language_and_binary() -> None:
    [problem] = check_tesseract(OcrSettings(languages="fin+xyz"))
    assert "xyz" in problem
    [missing] = check_tesseract(OcrSettings(tesseract_cmd="/nonexistent/tesseract"))
    assert "not found" in missing
