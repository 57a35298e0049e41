"""Turn one input file (PNG, JPEG, TIFF, PDF) into page images, or say why it cannot be used.

Every refusal is an :class:`InputRejected` with a stable code. Page counts and sizes are
checked from headers before any pixel is decoded, and pages are decoded one at a time, so a
20000×20000 "image bomb" or a TIFF of 1000 frames is refused without allocating it.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import cast, overload

from PIL import Image, ImageFile, TiffImagePlugin
from pypdf import PageObject

from scanner_agent import pdf_pages
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.pages import RawPage
from scanner_agent.prepare import to_gray

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
HARD_MAX_PAGES = 500  # the highest prepare.max_pages_per_document allows
TILE_WIDTH, TILE_LENGTH = 322, 323  # TIFF tags
# Memory one frame may take on its way to a grey page: A4 at 600 dpi in colour (RGB) needs
# 175 MB, grey at the pixel cap 120 MB. Colour at the cap needed 300 MB and took the agent past
# its budget (300 MB above idle).
MAX_FRAME_BYTES = 200 * 10**6
# A dpi read from a file is believed only if the page it implies is this long (mm): software
# that does not know the resolution often writes 72 or 96 (a page metres long), broken or
# hostile headers write 0 or 100000 (a page a millimetre long). A receipt is ~75 mm.
_MIN_PAGE_MM = 70.0
_MAX_PAGE_MM = 500.0


@dataclass(frozen=True)
class DecodedFile(Sequence[RawPage]):
    """A file's pages, counted and size-checked from its headers, each decoded only when read.

    Iterating decodes one page at a time, so a document never holds all its pages at once;
    indexing decodes that page afresh.
    """

    path: Path
    page_count: int
    pages: Callable[[int, int], Iterator[RawPage]]  # (start, stop) → those pages in order

    def __len__(self) -> int:
        return self.page_count

    def __iter__(self) -> Iterator[RawPage]:
        return self.pages(0, self.page_count)

    @overload
    def __getitem__(self, index: int) -> RawPage: ...
    @overload
    def __getitem__(self, index: slice) -> list[RawPage]: ...

    def __getitem__(self, index: int | slice) -> RawPage | list[RawPage]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self.page_count)
            return list(self.pages(start, stop))[::step]
        position = range(self.page_count)[index]  # IndexError as for a list
        return next(self.pages(position, position + 1))


def decode_file(path: Path, *, max_pixels: int, max_pages: int) -> DecodedFile:
    """The pages of ``path``, checked from its headers before any pixel is decoded.

    Raises ``InputRejected`` with the reason the file is unusable: at once for what the headers
    show (too many pages or pixels, not a scan), while reading a page for damage in its data.
    """
    kind = sniff(path)
    if kind == "PDF":
        return _pdf_file(path, max_pixels=max_pixels, max_pages=max_pages)
    return _image_file(path, max_pixels=max_pixels, max_pages=max_pages)


def probe(path: Path, *, max_pixels: int, max_pages: int = HARD_MAX_PAGES) -> bool:
    """True when ``path`` is complete: it decodes, or fails for a reason waiting cannot fix.

    Cheap enough for the folder watcher to call on every stable file: image pages are decoded
    one at a time and let go (a truncated image only shows itself then), PDFs are only parsed,
    never rasterised.
    """
    try:
        if sniff(path) == "PDF":
            with pdf_pages.open_pdf(path, max_pages=max_pages):
                pass
        else:
            for _ in _image_file(path, max_pixels=max_pixels, max_pages=max_pages):
                pass
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


def _image_file(path: Path, *, max_pixels: int, max_pages: int) -> DecodedFile:
    with _open_image(path) as image:
        frames = getattr(image, "n_frames", 1)
        if frames > max_pages:
            raise InputRejected(RejectCode.TOO_MANY_PAGES, f"{frames} pages, at most {max_pages}")
        _check_frame_headers(image, frames, max_pixels)
    return DecodedFile(path, frames, partial(_image_frames, path, max_pixels))


@contextmanager
def _open_image(path: Path) -> Iterator[Image.Image]:
    _require_strict_loading()
    try:
        with Image.open(path, formats=IMAGE_FORMATS) as image:
            if image.format == "JPEG":
                image.draft("L", image.size)  # libjpeg decodes colour straight to grey
            yield image
    except Image.DecompressionBombError as exc:
        raise InputRejected(RejectCode.TOO_MANY_PIXELS, str(exc)) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # Opening and seeking read headers only: a failure there means no usable image.
        raise InputRejected(RejectCode.UNREADABLE_IMAGE, f"{type(exc).__name__}: {exc}") from None


def _check_frame_headers(image: Image.Image, frames: int, max_pixels: int) -> None:
    """Refuse a frame too large to decode, reading only headers.

    A TIFF's frames each have their own size, and seeking one reads only its tags. A PNG's
    frames all lie on one canvas, and seeking one would decode it: its first header says all.
    """
    for index in range(frames if image.format == "TIFF" else 1):
        image.seek(index)
        _check_frame(image, max_pixels)


def _check_frame(image: Image.Image, max_pixels: int) -> None:
    check_pixels(image.size, max_pixels)
    width, height = image.size
    needs = width * height * _peak_bytes_per_pixel(image)
    if needs > MAX_FRAME_BYTES:
        raise InputRejected(RejectCode.TOO_MANY_PIXELS,
                            f"{image.mode} {width}x{height} needs {needs >> 20} MiB to decode, "
                            f"at most {MAX_FRAME_BYTES >> 20}")
    if image.format == "TIFF":
        # libtiff allocates a whole tile even where the image is small: 32768² tiles on a
        # 1024² image took 1.2 GB.
        tags = cast(TiffImagePlugin.TiffImageFile, image).tag_v2
        tile = tags.get(TILE_WIDTH), tags.get(TILE_LENGTH)
        if tile[0] is not None and tile[1] is not None:
            check_pixels((int(tile[0]), int(tile[1])), max_pixels)


def _peak_bytes_per_pixel(image: Image.Image) -> int:
    """Bytes a pixel of ``image`` costs at the peak of decoding it to grey: the frame as Pillow
    holds it (4 bytes for any colour or alpha mode), the grey page kept, and for transparency
    the alpha and the paper it is laid on."""
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if transparent:
        return 7
    if image.mode in ("1", "L", "P"):
        return 2
    return 3 if image.mode.startswith("I;16") else 5


def _image_frames(path: Path, max_pixels: int, start: int, stop: int) -> Iterator[RawPage]:
    with _open_image(path) as image:
        for index in range(start, stop):
            yield _load_frame(image, index, path, max_pixels)


def _load_frame(image: Image.Image, index: int, path: Path, max_pixels: int) -> RawPage:
    image.seek(index)
    _check_frame(image, max_pixels)
    try:
        image.load()  # decodes the frame: truncation shows here
    except (OSError, SyntaxError, ValueError) as exc:
        raise InputRejected(RejectCode.TRUNCATED,
                            f"page {index + 1}: {type(exc).__name__}: {exc}") from None
    # Only grey is read from here on: a colour page shrinks to a third before it is kept.
    frame = image.copy() if image.mode in ("1", "L") else to_gray(image)
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
    except (TypeError, ValueError, IndexError, OverflowError):  # OverflowError: infinite
        return None
    return plausible_dpi(value, image.size)


def plausible_dpi(dpi: int, size: tuple[int, int]) -> int | None:
    """``dpi`` if it makes ``size`` a paper-sized page, else None (unknown).

    A header claiming 100000 dpi makes an A4 scan a 1 mm stamp; believed, it shrank the page
    to nothing and the blank check dropped a real form.
    """
    if dpi <= 0:
        return None
    longest_mm = max(size) / dpi * 25.4
    return dpi if _MIN_PAGE_MM <= longest_mm <= _MAX_PAGE_MM else None


def _require_strict_loading() -> None:
    # Pillow would otherwise hand back a half-grey page for a truncated file, and a half-written
    # scan would be bundled as if complete. Some library may have flipped this global.
    if ImageFile.LOAD_TRUNCATED_IMAGES:
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES is True; the agent needs it "
                           "False to detect truncated scans")


def _pdf_file(path: Path, *, max_pixels: int, max_pages: int) -> DecodedFile:
    with pdf_pages.open_pdf(path, max_pages=max_pages) as reader:
        for page in reader.pages:
            embedded = pdf_pages.full_page_image(page)
            check_pixels(embedded.size if embedded else _raster_size(page), max_pixels)
        count = len(reader.pages)
    return DecodedFile(path, count, partial(_pdf_pages, path, max_pixels))


def _pdf_pages(path: Path, max_pixels: int, start: int, stop: int) -> Iterator[RawPage]:
    with pdf_pages.open_pdf(path, max_pages=None) as reader:
        for index in range(start, stop):
            page = reader.pages[index]
            image, dpi = (_embedded(page, max_pixels)
                          or _rasterise(path, index + 1, page, max_pixels))
            yield RawPage(image=image, number=index + 1, dpi=dpi, source=path)


def _embedded(page: PageObject, max_pixels: int) -> tuple[Image.Image, int | None] | None:
    embedded = pdf_pages.full_page_image(page)
    if embedded is None:
        return None
    check_pixels(embedded.size, max_pixels)
    image = embedded.decode()
    if image is None:
        return None
    return image, plausible_dpi(embedded.dpi, embedded.size)


def _raster_size(page: PageObject) -> tuple[int, int]:
    width, height = pdf_pages.page_size_pt(page)
    return round(width / 72 * RASTER_DPI), round(height / 72 * RASTER_DPI)


def _rasterise(path: Path, number: int, page: PageObject,
               max_pixels: int) -> tuple[Image.Image, int | None]:
    check_pixels(_raster_size(page), max_pixels)
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
