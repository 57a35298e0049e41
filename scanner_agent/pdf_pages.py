"""Read scan-to-folder PDFs: refuse broken ones, and lift a page's scan image out unchanged.

A scanner's PDF page is usually one image drawn over the whole page. Taking that image back
(instead of rasterising) keeps the scan's own pixels and resolution and costs milliseconds.
Anything less simple (text, several images, masks, skew) returns None and gets rasterised.
"""

from __future__ import annotations

import io
import logging
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

from PIL import Image
from pypdf import PageObject, PdfReader
from pypdf.generic import ContentStream, DictionaryObject, StreamObject

from scanner_agent.errors import InputRejected, RejectCode

log = logging.getLogger(__name__)

Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
# Content operators that cannot change what a single drawn image looks like.
_HARMLESS_OPS = {b"q", b"Q", b"cm", b"Do", b"gs", b"w", b"J", b"j", b"M", b"d", b"ri", b"i"}
_MASK_KEYS = ("/Decode", "/ImageMask", "/SMask", "/Mask")
_COVERAGE = 0.98  # the image must cover this share of the page in both directions
_MAX_CONTENT_BYTES = 4096  # a page drawing one image needs under 100


def check_complete(path: Path) -> None:
    """Refuse a PDF whose end-of-file marker is missing: it is still being written or cut."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        handle.seek(max(0, size - 1024))
        tail = handle.read()
    if b"%%EOF" not in tail:
        raise InputRejected(RejectCode.TRUNCATED, "PDF has no %%EOF marker at its end")


@contextmanager
def open_pdf(path: Path, *, max_pages: int | None) -> Iterator[PdfReader]:
    """``path`` open for reading; refused when damaged, encrypted, empty or longer than
    ``max_pages``. The file is read as pages need it, never loaded whole."""
    check_complete(path)
    with path.open("rb") as handle:
        yield _checked_reader(handle, max_pages)


def _checked_reader(handle: BinaryIO, max_pages: int | None) -> PdfReader:
    try:
        reader = PdfReader(handle)
        encrypted = reader.is_encrypted
        count = 0 if encrypted else _page_count(reader, max_pages)
    except Exception as exc:  # pypdf raises many types on malformed input; all mean "damaged"
        raise InputRejected(RejectCode.TRUNCATED,
                            f"PDF cannot be parsed: {type(exc).__name__}: {exc}") from None
    if encrypted:
        raise InputRejected(RejectCode.ENCRYPTED_PDF, "PDF is encrypted")
    if count == 0:
        raise InputRejected(RejectCode.PDF_NO_PAGES, "PDF has no pages")
    if max_pages is not None and count > max_pages:
        raise InputRejected(RejectCode.TOO_MANY_PAGES, f"{count} pages, at most {max_pages}")
    return reader


def _page_count(reader: PdfReader, max_pages: int | None) -> int:
    # The page tree's own count comes first: flattening a tree of thousands of pages costs
    # memory for each, and a file over the limit is refused without it.
    declared = cast(DictionaryObject, reader.root_object["/Pages"]).get("/Count", 0)
    if max_pages is not None and isinstance(declared, int) and declared > max_pages:
        return int(declared)
    return len(reader.pages)


def page_size_pt(page: PageObject) -> tuple[float, float]:
    """The page's displayed width and height in points (crop box, after /Rotate)."""
    width, height = float(page.cropbox.width), float(page.cropbox.height)
    return (height, width) if page.rotation % 180 else (width, height)


@dataclass(frozen=True)
class EmbeddedImage:
    """A page's one full-page scan image, found but not yet decoded."""

    page: PageObject
    xobject: StreamObject
    size: tuple[int, int]  # pixels, as stored (before /Rotate)
    drawn_width_pt: float

    @property
    def dpi(self) -> int:
        return round(self.size[0] / (self.drawn_width_pt / 72))

    def decode(self) -> Image.Image | None:
        """The image, upright as the page shows it; None when pypdf cannot decode it."""
        image = _decode(self.page, self.xobject, self.size)
        rotation = self.page.rotation % 360
        if image is not None and rotation:
            image = image.rotate(-rotation, expand=True)  # /Rotate is clockwise
        return image


def full_page_image(page: PageObject) -> EmbeddedImage | None:
    """The page's scan image when the page is nothing but one image over the whole page."""
    try:
        return _full_page_image(page)
    except Exception as exc:  # malformed or over pypdf's limits: let poppler have a go
        log.info("page structure not read (%s); rasterising", type(exc).__name__)
        return None


def _full_page_image(page: PageObject) -> EmbeddedImage | None:
    found = _single_image(page)
    if found is None:
        return None
    name, xobject = found
    placement = _placement(page, name)
    if placement is None or not _covers_page(placement, page):
        return None
    size = (int(cast(int, xobject["/Width"])), int(cast(int, xobject["/Height"])))
    return EmbeddedImage(page, xobject, size, placement[0])


def _single_image(page: PageObject) -> tuple[str, StreamObject] | None:
    """Name and stream of the page's only image XObject, if it has one and no fonts."""
    resources = page.get("/Resources")
    if resources is None:
        return None
    resources = resources.get_object()
    if "/Font" in resources:
        return None
    xobjects = resources.get("/XObject")
    if xobjects is None:
        return None
    xobjects = xobjects.get_object()
    if len(xobjects) != 1:
        return None
    name, ref = next(iter(xobjects.items()))
    xobject = ref.get_object()
    if not isinstance(xobject, StreamObject):
        return None
    if xobject.get("/Subtype") != "/Image" or any(key in xobject for key in _MASK_KEYS):
        return None
    params = xobject.get("/DecodeParms")
    params = params.get_object() if params is not None else {}
    if isinstance(params, dict) and params.get("/BlackIs1"):
        return None  # pypdf's CCITT decoding may not honour it: let poppler render the page
    return str(name), xobject


def _placement(page: PageObject, name: str) -> Matrix | None:
    """The matrix the image is drawn with, if the content is just ``q cm /name Do Q``."""
    ctm, stack, drawn = _IDENTITY, [], None
    contents = page.get_contents()
    if contents is None or len(contents.get_data()) > _MAX_CONTENT_BYTES:
        return None  # a scan's page says "q cm Do Q"; millions of operators cost gigabytes
    for operands, operator in ContentStream(contents, page.pdf).operations:
        if operator not in _HARMLESS_OPS:
            return None
        if operator == b"q":
            stack.append(ctm)
        elif operator == b"Q" and stack:
            ctm = stack.pop()
        elif operator == b"cm":
            ctm = _multiply(tuple(float(v) for v in operands), ctm)  # type: ignore[arg-type]
        elif operator == b"Do":
            if drawn is not None or str(operands[0]) != name:
                return None
            drawn = ctm
    if drawn is None or abs(drawn[1]) > 1e-6 or abs(drawn[2]) > 1e-6:
        return None  # not drawn, or drawn rotated/skewed
    return drawn if drawn[0] > 0 and drawn[3] > 0 else None


def _multiply(m: Matrix, n: Matrix) -> Matrix:
    a, b, c, d, e, f = m
    p, q, r, s, t, u = n
    return (a * p + b * r, a * q + b * s, c * p + d * r, c * q + d * s,
            e * p + f * r + t, e * q + f * s + u)


def _covers_page(matrix: Matrix, page: PageObject) -> bool:
    box = page.cropbox
    width, height = float(box.width), float(box.height)
    return matrix[0] >= _COVERAGE * width and matrix[3] >= _COVERAGE * height


def _decode(page: PageObject, xobject: StreamObject,
            size: tuple[int, int]) -> Image.Image | None:
    try:
        image = (_decode_flate_png(xobject, size) or _decode_flate_raw(xobject, size)
                 or _decode_dct(xobject, size) or _decode_other(page, xobject))
    except Exception as exc:  # an unsupported filter (JBIG2 without jbig2dec, JPX, ...)
        log.info("embedded image not decodable (%s); rasterising", type(exc).__name__)
        return None
    if image is None or image.size != size:
        return None
    image.load()
    return image


def _decode_flate_png(xobject: StreamObject, size: tuple[int, int]) -> Image.Image | None:
    """Decode a Flate image with PNG predictors by handing its bytes to Pillow as a PNG.

    pypdf undoes PNG predictors in pure Python: 3 s for an A4 300 dpi page. The stream is
    exactly a PNG's IDAT data, so wrapping it in a PNG header lets libpng do it in ~50 ms.
    """
    colour = {"/DeviceGray": 0, "/DeviceRGB": 2}.get(str(xobject.get("/ColorSpace")))
    bits = int(cast(int, xobject.get("/BitsPerComponent", 8)))
    if (xobject.get("/Filter") != "/FlateDecode" or _predictor(xobject) < 10 or colour is None
            or bits not in (1, 8)):
        return None
    header = struct.pack(">IIBBBBB", *size, bits, colour, 0, 0, 0)
    raw = xobject._data  # the still-encoded stream bytes; pypdf has no public getter for them
    png = (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", raw)
           + _chunk(b"IEND", b""))
    return Image.open(io.BytesIO(png), formats=["PNG"])


def _decode_flate_raw(xobject: StreamObject, size: tuple[int, int]) -> Image.Image | None:
    """Decode a Flate image without predictor, inflating no more than its pixels need.

    pypdf inflates a whole stream (up to 75 MB) before looking at it: a stream declaring an
    A4 page but inflating to gigabytes would cost that much for nothing.
    """
    mode = _raw_mode(xobject)
    if xobject.get("/Filter") != "/FlateDecode" or _predictor(xobject) != 1 or mode is None:
        return None
    row = (size[0] * (1 if mode == "1" else len(mode)) * (1 if mode == "1" else 8) + 7) // 8
    wanted = row * size[1]
    data = zlib.decompressobj().decompress(xobject._data, wanted)
    if len(data) < wanted:
        return None
    return Image.frombytes(mode, size, data)


def _decode_dct(xobject: StreamObject, size: tuple[int, int]) -> Image.Image | None:
    """A JPEG image as Pillow reads it, refused unread when its own header says another size."""
    if xobject.get("/Filter") != "/DCTDecode":
        return None
    image = Image.open(io.BytesIO(xobject._data), formats=["JPEG"])
    return image if image.size == size else None


def _decode_other(page: PageObject, xobject: StreamObject) -> Image.Image | None:
    if xobject.get("/Filter") in ("/FlateDecode", "/DCTDecode"):
        return None  # one the bounded decoders above would not take: poppler renders it
    return page.images[0].image


def _raw_mode(xobject: StreamObject) -> str | None:
    colour = str(xobject.get("/ColorSpace"))
    bits = int(cast(int, xobject.get("/BitsPerComponent", 8)))
    return {("/DeviceGray", 1): "1", ("/DeviceGray", 8): "L",
            ("/DeviceRGB", 8): "RGB"}.get((colour, bits))


def _predictor(xobject: StreamObject) -> int:
    params = xobject.get("/DecodeParms")
    params = params.get_object() if params is not None else {}
    return int(cast(int, params.get("/Predictor", 1))) if isinstance(params, dict) else 0


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
