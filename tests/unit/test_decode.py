"""Decoding input files into pages: each accepted format, and each reason a file is refused."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import img2pdf
import pytest
from PIL import Image
from pypdf import PdfWriter, Transformation
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from scanner_agent.decode import decode_file, probe
from scanner_agent.errors import InputRejected, RejectCode
from tests.pagegen import a4_size, text_page

LIMITS = {"max_pixels": 60_000_000, "max_pages": 10}


def _page(dpi: int = 100) -> Image.Image:
    """A small but real A4 text page (100 dpi keeps the tests fast)."""
    return text_page(["Hakemus TO 1"], dpi=dpi)


def _rejected(path: Path, **limits: int) -> RejectCode:
    with pytest.raises(InputRejected) as caught:
        list(decode_file(path, **{**LIMITS, **limits}))  # damage shows as pages are read
    return caught.value.code


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


# --- refusals ------------------------------------------------------------------------------

def test_zero_byte_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(b"")
    assert _rejected(path) is RejectCode.EMPTY_FILE


def test_truncated_png_is_refused_not_half_decoded(tmp_path: Path) -> None:
    """GIVEN a PNG cut at 60% WHEN decoded THEN TRUNCATED, never a partly grey page."""
    full = io.BytesIO()
    _page().save(full, format="PNG")
    path = tmp_path / "cut.png"
    path.write_bytes(full.getvalue()[: len(full.getvalue()) * 6 // 10])
    assert _rejected(path) is RejectCode.TRUNCATED


def test_truncated_jpeg_is_refused(tmp_path: Path) -> None:
    full = io.BytesIO()
    _page().save(full, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(full.getvalue()[: len(full.getvalue()) // 2])
    assert _rejected(path) is RejectCode.TRUNCATED


def test_text_file_named_tif_is_not_a_scan(tmp_path: Path) -> None:
    path = tmp_path / "scan.tif"
    path.write_text("Hei, tämä ei ole kuva.\n", encoding="utf-8")
    assert _rejected(path) is RejectCode.NOT_A_SCAN


def test_png_with_garbage_header_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert _rejected(path) is RejectCode.UNREADABLE_IMAGE


def test_header_claiming_20000_square_is_refused_before_decoding(tmp_path: Path) -> None:
    """GIVEN a PNG whose header claims 20000×20000 but whose data is 20 bytes
    WHEN decoded THEN TOO_MANY_PIXELS (had it tried to decode, it would say TRUNCATED)."""
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 1, 0, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 20)) + _png_chunk(b"IEND", b""))
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    assert _rejected(path) is RejectCode.TOO_MANY_PIXELS


def test_pixel_limit_is_ours_not_pillows(tmp_path: Path) -> None:
    """GIVEN a page within Pillow's own bomb limit WHEN max_pixels is lower THEN refused."""
    path = tmp_path / "page.png"
    _page().save(path)
    width, height = a4_size(100)
    assert _rejected(path, max_pixels=width * height - 1) is RejectCode.TOO_MANY_PIXELS


def test_tiff_with_more_pages_than_allowed(tmp_path: Path) -> None:
    path = tmp_path / "three.tif"
    _page().save(path, save_all=True, append_images=[_page(), _page()])
    assert _rejected(path, max_pages=2) is RejectCode.TOO_MANY_PAGES


def test_encrypted_pdf(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("salainen")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    assert _rejected(path) is RejectCode.ENCRYPTED_PDF


def test_pdf_without_pages(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    PdfWriter().write(path)
    assert _rejected(path) is RejectCode.PDF_NO_PAGES


def test_pdf_with_more_pages_than_allowed(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(img2pdf.convert([_png_bytes(_page())] * 3))
    assert _rejected(path, max_pages=2) is RejectCode.TOO_MANY_PAGES


def test_pdf_cut_before_its_end_is_truncated(tmp_path: Path) -> None:
    data = img2pdf.convert(_png_bytes(_page()))
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) // 2])
    assert _rejected(path) is RejectCode.TRUNCATED


# --- accepted formats ----------------------------------------------------------------------

def test_png_page_keeps_pixels_and_dpi(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    _page().save(path, dpi=(100, 100))
    [page] = decode_file(path, **LIMITS)
    assert (page.number, page.dpi, page.image.size, page.source) == (1, 100, a4_size(100), path)


def test_jpeg_dpi_comes_from_jfif(tmp_path: Path) -> None:
    path = tmp_path / "page.jpg"
    _page(dpi=150).save(path, dpi=(150, 150))
    [page] = decode_file(path, **LIMITS)
    assert page.dpi == 150


def test_file_without_resolution_has_unknown_dpi(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    _page().save(path)
    assert decode_file(path, **LIMITS)[0].dpi is None


def test_implausible_72_dpi_on_a_300_dpi_page_is_treated_as_unknown(tmp_path: Path) -> None:
    """72 dpi would make this page 875 mm tall: the writer did not know the resolution."""
    path = tmp_path / "page.png"
    Image.new("L", a4_size(300), 255).save(path, dpi=(72, 72))
    assert decode_file(path, **LIMITS)[0].dpi is None


def test_multipage_tiff_gives_every_frame_in_order(tmp_path: Path) -> None:
    path = tmp_path / "pages.tif"
    frames = [_page(), Image.new("L", a4_size(100), 0), _page().convert("1")]
    frames[0].save(path, save_all=True, append_images=frames[1:], dpi=(100, 100),
                   compression="tiff_lzw")
    pages = decode_file(path, **LIMITS)
    assert [p.number for p in pages] == [1, 2, 3]
    assert pages[1].image.getextrema() == (0, 0)
    assert pages[2].image.mode == "1"
    assert all(p.dpi == 100 for p in pages)


def test_pdf_page_of_one_full_page_image_gives_that_image(tmp_path: Path) -> None:
    """GIVEN a scanner-style PDF (one JPEG over the page) THEN the embedded pixels come back
    unchanged in size, with dpi from page size vs pixels."""
    path = tmp_path / "scan.pdf"
    jpeg = io.BytesIO()
    _page(dpi=200).save(jpeg, format="JPEG", dpi=(200, 200))
    path.write_bytes(img2pdf.convert(jpeg.getvalue()))
    [page] = decode_file(path, **LIMITS)
    assert (page.image.size, page.dpi) == (a4_size(200), 200)


def test_pdf_page_of_a_bilevel_scan_keeps_its_exact_pixels(tmp_path: Path) -> None:
    """GIVEN a lineart scan stored as a 1-bit Flate image THEN the same pixels come back."""
    page = _page().convert("1")
    path = tmp_path / "lineart.pdf"
    path.write_bytes(img2pdf.convert(_png_bytes(page)))
    [decoded] = decode_file(path, **LIMITS)
    assert decoded.dpi == 100
    assert decoded.image.convert("1").tobytes() == page.tobytes()


def test_pdf_page_rotated_by_the_viewer_comes_out_as_displayed(tmp_path: Path) -> None:
    source = tmp_path / "scan.pdf"
    source.write_bytes(img2pdf.convert(_png_bytes(_page(), dpi=100)))
    writer = PdfWriter(clone_from=source)
    writer.pages[0].rotate(90)
    path = tmp_path / "rotated.pdf"
    writer.write(path)
    [page] = decode_file(path, **LIMITS)
    width, height = a4_size(100)
    assert page.image.size == (height, width)


def test_pdf_page_with_text_is_rasterised_at_300_dpi(tmp_path: Path) -> None:
    """GIVEN a PDF page drawn with fonts (not a scan) THEN pdftoppm renders it at 300 dpi."""
    path = tmp_path / "vector.pdf"
    _vector_pdf(path)
    [page] = decode_file(path, **LIMITS)
    width, height = page.image.size
    assert page.dpi == 300
    assert abs(width - a4_size(300)[0]) <= 1 and abs(height - a4_size(300)[1]) <= 1
    assert page.image.getextrema()[0] < 100  # the text was drawn


def test_cropped_pdf_page_is_rasterised_not_taken_whole(tmp_path: Path) -> None:
    """An image covering only part of the page is not "the scan": the page is rendered."""
    source = tmp_path / "scan.pdf"
    source.write_bytes(img2pdf.convert(_png_bytes(_page(), dpi=100)))
    writer = PdfWriter(clone_from=source)
    writer.pages[0].add_transformation(Transformation().scale(0.5, 0.5))
    path = tmp_path / "half.pdf"
    writer.write(path)
    [page] = decode_file(path, **LIMITS)
    assert page.dpi == 300


# --- probe ---------------------------------------------------------------------------------

def test_probe_says_complete_for_a_whole_file_and_waits_on_a_partial_one(tmp_path: Path) -> None:
    whole = io.BytesIO()
    _page().save(whole, format="PNG")
    done, partial = tmp_path / "done.png", tmp_path / "partial.png"
    done.write_bytes(whole.getvalue())
    partial.write_bytes(whole.getvalue()[:-100])
    assert probe(done, max_pixels=LIMITS["max_pixels"]) is True
    assert probe(partial, max_pixels=LIMITS["max_pixels"]) is False


def test_probe_does_not_wait_on_a_file_refused_for_good(tmp_path: Path) -> None:
    """An encrypted PDF will never decode; waiting longer cannot help, so it is 'complete'."""
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.encrypt("salainen")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    assert probe(path, max_pixels=LIMITS["max_pixels"]) is True


def test_probe_waits_on_a_pdf_still_being_written(tmp_path: Path) -> None:
    data = img2pdf.convert(_png_bytes(_page()))
    path = tmp_path / "partial.pdf"
    path.write_bytes(data[:-200])
    assert probe(path, max_pixels=LIMITS["max_pixels"]) is False


# --- helpers -------------------------------------------------------------------------------

def _png_bytes(image: Image.Image, dpi: int = 100) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def _vector_pdf(path: Path) -> None:
    """One A4 page of Helvetica text: what an office program, not a scanner, writes."""
    writer = PdfWriter()
    page = writer.add_blank_page(595.28, 841.89)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"),
                             NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject(
        {NameObject("/F1"): writer._add_object(font)})})
    stream = DecodedStreamObject()
    stream.set_data(b"BT /F1 36 Tf 72 700 Td (Hakemus TO 1) Tj ET")
    page.replace_contents(stream)
    writer.write(path)
