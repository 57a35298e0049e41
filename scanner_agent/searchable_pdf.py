"""Build searchable PDFs: each page is the scan image, compressed small, under an invisible text
layer drawn from the OCR words line by line (:mod:`scanner_agent.text_layer`).

How the image is stored (``OcrSettings.image_layer``), measured on A4 300 dpi text pages:
greyscale JPEG q60 at 300 dpi took 150 kB (sparse form) to 400–510 kB (dense, scanned-looking);
binarised CCITT G4 took 11–37 kB. So the default ``bilevel`` stores every page as G4, thresholded
against the page's own paper tone (stamps and pen stay, paper noise and highlighter go); ``jpeg``
keeps greyscale pages as JPEG q60 at their own dpi for sites that need photos kept.
Images are embedded as encoded, by img2pdf, without re-compression.
"""

from __future__ import annotations

import io
import logging
from typing import cast

import img2pdf
import numpy as np
from PIL import Image
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import ContentStream, DictionaryObject, NameObject

from scanner_agent.config import ImageLayer
from scanner_agent.pages import OcrPage, OcrWord
from scanner_agent.text_layer import FONT_NAME, font_dictionary, text_layer_ops

log = logging.getLogger(__name__)

JPEG_QUALITY = 60
# Pixels darker than this share of the paper tone are ink: keeps ballpoint and stamps (grey
# ~120 on white), drops light paper texture and yellow highlighter (grey ~200).
INK_LEVEL = 0.75


def build_page_pdf(image: Image.Image, dpi: int, words: list[OcrWord], *,
                   layer: ImageLayer = "bilevel") -> bytes:
    """One PDF page: ``image`` at ``dpi`` under an invisible text layer of ``words``.

    ``words`` are in reading order with pixel boxes on ``image`` (as :func:`parse_tsv` gives).
    """
    encoded, kind = encode_image(image, dpi, layer=layer)
    log.debug("page image %s, %d bytes", kind, len(encoded))
    layout = img2pdf.get_fixed_dpi_layout_fun((dpi, dpi))
    writer = PdfWriter(clone_from=io.BytesIO(img2pdf.convert(encoded, layout_fun=layout)))
    if words:
        _add_text_layer(writer, writer.pages[0], words, image.height)
    return _to_bytes(writer)


def encode_image(image: Image.Image, dpi: int, *,
                 layer: ImageLayer = "bilevel") -> tuple[bytes, str]:
    """The page image as CCITT G4 TIFF or JPEG bytes, and which of the two (``ccitt-g4``/``jpeg``).

    Pure black-and-white images are always G4; greyscale ones are binarised for ``bilevel``.
    """
    out = io.BytesIO()
    gray = image if image.mode in ("1", "L") else image.convert("L")
    if layer == "bilevel" or is_bilevel(gray):
        binarise(gray).save(out, format="TIFF", compression="group4", dpi=(dpi, dpi))
        return out.getvalue(), "ccitt-g4"
    gray.save(out, format="JPEG", quality=JPEG_QUALITY, dpi=(dpi, dpi), optimize=True)
    return out.getvalue(), "jpeg"


def binarise(image: Image.Image) -> Image.Image:
    """Black and white, ink being anything clearly darker than this page's paper."""
    if image.mode == "1":
        return image
    paper = float(np.percentile(np.asarray(image.reduce(4)), 90))
    threshold = round(paper * INK_LEVEL)
    return image.point(lambda value: 255 if value > threshold else 0).convert("1")


def is_bilevel(image: Image.Image) -> bool:
    """True when every pixel is pure black or pure white (a lineart scan)."""
    if image.mode == "1":
        return True
    if image.mode != "L":
        return False
    histogram = np.asarray(image.histogram())
    return int(histogram[1:255].sum()) == 0


def build_document_pdf(pages: list[OcrPage]) -> bytes:
    """All ``pages`` (each already image + text layer) as one PDF, in the order given."""
    writer = PdfWriter()
    for page in pages:
        writer.append(PdfReader(io.BytesIO(page.pdf)))
    # Every page carries the same text-layer font dictionary: keep one copy.
    writer.compress_identical_objects()
    return _to_bytes(writer)


def pdf_bytes_per_page(pdf: bytes) -> float:
    """Average size of one page of ``pdf`` in bytes."""
    return len(pdf) / max(1, len(PdfReader(io.BytesIO(pdf)).pages))


def _add_text_layer(writer: PdfWriter, page: PageObject, words: list[OcrWord],
                    height_px: int) -> None:
    # Scale from the page img2pdf made rather than 72/dpi: word boxes then stay over their
    # pixels even if img2pdf rounds the page size.
    page_height = float(page.mediabox.height)
    ops = text_layer_ops(words, scale=page_height / height_px, page_height=page_height)
    image_ops = page.get_contents()
    contents = ContentStream(None, writer)
    contents.set_data((b"" if image_ops is None else image_ops.get_data()) + b"\n" + ops)
    page.replace_contents(contents)
    resources = cast(DictionaryObject, page[NameObject("/Resources")].get_object())
    fonts = cast(DictionaryObject,
                 resources.setdefault(NameObject("/Font"), DictionaryObject()))
    # An indirect object, so build_document_pdf can keep a single copy for all pages.
    fonts[NameObject(FONT_NAME)] = writer._add_object(font_dictionary())
    page.compress_content_streams()


def _to_bytes(writer: PdfWriter) -> bytes:
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
