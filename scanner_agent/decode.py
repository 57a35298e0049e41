"""Turn one input file (PNG, JPEG, TIFF, PDF) into page images, or say why it cannot be used.

Every refusal is an :class:`InputRejected` with a stable code. Sizes are checked from headers
before any pixel is decoded, so a 20000×20000 "image bomb" is refused without allocating it.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from pathlib import Path

from PIL import Image, ImageFile
from pypdf import PageObject

from scanner_agent import pdf_pages
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.pages import RawPage

log = logging.getLogger(__name__)

IMAGE_FORMATS = ("PNG", "JPEG", "TIFF")
_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"%PDF-": "PDF",
}
# A file may still be arriving when it fails like this; the watcher waits and probes again.
_MAYBE_INCOMPLETE = {RejectCode.EMPTY_FILE, RejectCode.TRUNCATED, RejectCode.UNREADABLE_IMAGE,
                     RejectCode.NOT_A_SCAN}
RASTER_DPI = 300
# A dpi read from a file is believed only if the page it implies is at most this long (mm):
# software that does not know the resolution often writes 72 or 96.
_MAX_PAGE_MM = 500.0


def decode_file(path: Path, *, max_pixels: int, max_pages: int) -> list[RawPage]:
    """Decode every page of ``path``; raise ``InputRejected`` with the reason it is unusable."""
    kind = sniff(path)
    if kind == "PDF":
        return _decode_pdf(path, max_pixels=max_pixels, max_pages=max_pages)
    return _decode_image(path, max_pixels=max_pixels, max_pages=max_pages)


def probe(path: Path, *, max_pixels: int) -> bool:
    """True when ``path`` is complete: it decodes, or fails for a reason waiting cannot fix.

    Cheap enough for the folder watcher to call on every stable file: images are decoded (a
    truncated image only shows itself then), PDFs are only parsed, never rasterised.
    """
    try:
        if sniff(path) == "PDF":
            pdf_pages.open_pdf(path, max_pages=None)
        else:
            _decode_image(path, max_pixels=max_pixels, max_pages=None)
    except InputRejected as exc:
        return exc.code not in _MAYBE_INCOMPLETE
    return True


def sniff(path: Path) -> str:
    """The file's format from its first bytes: PNG, JPEG, TIFF or PDF."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        raise InputRejected(RejectCode.UNREADABLE_IMAGE, f"cannot read file: {exc}") from None
    if not head:
        raise InputRejected(RejectCode.EMPTY_FILE, "0 bytes")
    for magic, kind in _MAGIC.items():
        if head.startswith(magic):
            return kind
    raise InputRejected(RejectCode.NOT_A_SCAN,
                        f"content of {path.suffix or 'file'} is not PNG, JPEG, TIFF or PDF")


def _decode_image(path: Path, *, max_pixels: int, max_pages: int | None) -> list[RawPage]:
    _require_strict_loading()
    try:
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            frames = getattr(image, "n_frames", 1)
            if max_pages is not None and frames > max_pages:
                raise InputRejected(RejectCode.TOO_MANY_PAGES,
                                    f"{frames} pages, at most {max_pages}")
            return [_load_frame(image, index, path, max_pixels) for index in range(frames)]
    except Image.DecompressionBombError as exc:
        raise InputRejected(RejectCode.TOO_MANY_PIXELS, str(exc)) from None
    except InputRejected:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        # Image.open only reads the header: a failure there means it is not a usable image.
        raise InputRejected(RejectCode.UNREADABLE_IMAGE, f"{type(exc).__name__}: {exc}") from None


def _load_frame(image: Image.Image, index: int, path: Path, max_pixels: int) -> RawPage:
    image.seek(index)
    check_pixels(image.size, max_pixels)
    try:
        frame = image.copy()  # copy() decodes the frame: truncation shows here
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputRejected(RejectCode.TRUNCATED,
                            f"page {index + 1}: {type(exc).__name__}: {exc}") from None
    return RawPage(image=frame, number=index + 1, dpi=image_dpi(image), source=path)


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Refuse a page of ``size`` before decoding it when it has more than ``max_pixels``."""
    width, height = size
    if width <= 0 or height <= 0:
        raise InputRejected(RejectCode.UNREADABLE_IMAGE, f"image size {width}x{height}")
    if width * height > max_pixels:
        raise InputRejected(RejectCode.TOO_MANY_PIXELS,
                            f"{width}x{height} = {width * height} pixels, at most {max_pixels}")


def image_dpi(image: Image.Image) -> int | None:
    """Resolution stored in the image (PNG pHYs, JPEG JFIF, TIFF tags), if it is plausible."""
    dpi = image.info.get("dpi")
    if not dpi:
        return None
    try:
        value = round(float(dpi[0]))
    except (TypeError, ValueError, IndexError):
        return None
    return plausible_dpi(value, image.size)


def plausible_dpi(dpi: int, size: tuple[int, int]) -> int | None:
    """``dpi`` if it makes ``size`` a paper-sized page, else None (unknown)."""
    if dpi < 50:
        return None
    longest_mm = max(size) / dpi * 25.4
    return dpi if longest_mm <= _MAX_PAGE_MM else None


def _require_strict_loading() -> None:
    # Pillow would otherwise hand back a half-grey page for a truncated file, and a half-written
    # scan would be bundled as if complete. Some library may have flipped this global.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True; the agent needs it "
                           "False to detect truncated scans")


def _decode_pdf(path: Path, *, max_pixels: int, max_pages: int) -> list[RawPage]:
    reader = pdf_pages.open_pdf(path, max_pages=max_pages)
    pages = []
    for number, page in enumerate(reader.pages, start=1):
        image, dpi = _embedded(page, max_pixels) or _rasterise(
            path, number, pdf_pages.page_size_pt(page), max_pixels)
        pages.append(RawPage(image=image, number=number, dpi=dpi, source=path))
    return pages


def _embedded(page: PageObject, max_pixels: int) -> tuple[Image.Image, int | None] | None:
    embedded = pdf_pages.full_page_image(page)
    if embedded is None:
        return None
    check_pixels(embedded.size, max_pixels)
    image = embedded.decode()
    if image is None:
        return None
    return image, plausible_dpi(embedded.dpi, embedded.size)


def _rasterise(path: Path, number: int, size_pt: tuple[float, float],
               max_pixels: int) -> tuple[Image.Image, int | None]:
    check_pixels(tuple(round(side / 72 * RASTER_DPI) for side in size_pt),  # type: ignore[arg-type]
                 max_pixels)
    with tempfile.TemporaryDirectory(prefix="aspa-pdf-") as tmp:
        out = Path(tmp) / "page"
        command = ["pdftoppm", "-r", str(RASTER_DPI), "-f", str(number), "-l", str(number),
                   "-gray", "-singlefile", str(path), str(out)]
        try:
            subprocess.run(command, capture_output=True, check=True, timeout=120)
            # -gray without -png writes an uncompressed PGM: no encode/decode round trip.
            with Image.open(out.with_suffix(".pgm"), formats=["PPM"]) as image:
                return image.convert("L"), RASTER_DPI
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            raise InputRejected(RejectCode.UNREADABLE_IMAGE,
                                f"PDF page {number} could not be rendered: {exc}") from None
