"""Make a raw page ready for OCR: greyscale, known resolution, even light, upright — or drop it
as blank.

A page is blank when almost nothing on it differs from its paper. A page whose "paper" is dark
is never blank: with something on it (a negative scan, a sheet on the glass with the lid open)
it is kept with a ``dark_page`` warning; with nothing on it (solid black) the scanner lost the
page — lid open on an empty glass, a lamp fault — and the job is rejected as
``page_all_black``, so the clerk scans again while the paper is still at hand instead of Kela
receiving a black page or nothing.
"""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image, ImageFilter

from aspa_contract.names import public_name
from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.pages import PreparedPage, RawPage
from scanner_agent.tesseract import run_tesseract

log = logging.getLogger(__name__)

A4_LONG_SIDE_IN = 297 / 25.4
COMMON_DPI = (100, 150, 200, 240, 300, 400, 600)
OCR_DPI = 300  # pages finer than 1.5 times this are reduced towards it
BLANK_CHECK_DPI = 75  # ink share is measured on a copy this coarse: dust specks average away
BLANK_MARGIN_MM = 16.0  # scanner edges, shadows and punched holes (≤ 15 mm in) are ignored
INK_CONTRAST = 80  # a pixel is ink when it differs this much from the paper
DARK_PAPER = 96  # paper (the page's median) darker than this is no paper: black or negative
LIGHT_DPI = 10  # paper brightness is estimated on a copy this coarse
LIGHT_WINDOW_PX = 5  # max filter on that copy (≈ 13 mm): wider than any glyph or ruled line


def prepare_page(raw: RawPage, settings: PrepareSettings, ocr: OcrSettings) -> PreparedPage | None:
    """Greyscale, dpi-tagged, upright copy of ``raw``; None when the page is blank."""
    image, dpi = at_ocr_resolution(to_gray(raw.image), raw.dpi)
    paper, ink = look_at(image, dpi)
    if paper < DARK_PAPER and ink < settings.blank_ink_ratio:
        where = f"page {raw.number}" + (f" of {public_name(raw.source)}" if raw.source else "")
        raise InputRejected(RejectCode.PAGE_ALL_BLACK, f"{where} is solid black")
    if ink < settings.blank_ink_ratio:
        log.info("page %d is blank; dropped", raw.number)
        return None
    warnings = [f"low_resolution:{dpi}dpi"] if dpi < settings.min_dpi else []
    if paper < DARK_PAPER:
        warnings.append("dark_page")
    image = even_out_light(image, dpi, settings.max_light_spread)
    rotation = detect_rotation(image, dpi, settings, ocr)
    if rotation:
        image = image.rotate(-rotation, expand=True)  # PIL turns counter-clockwise
    # Later readers (the hetu box re-read) take the resolution from the image: it must say the
    # one decided here, not a header's 100000 nor the 600 of a page reduced to 300.
    image.info["dpi"] = (dpi, dpi)
    return PreparedPage(image=image, number=raw.number, dpi=dpi, rotated_by=rotation,
                        warnings=warnings)


def to_gray(image: Image.Image) -> Image.Image:
    """8-bit greyscale; transparency is laid on white paper, 16-bit is scaled down."""
    if image.mode == "L":
        return image
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.uint32)
        top = 65535 if image.mode.startswith("I;16") else max(int(array.max()), 1)
        return Image.fromarray((array * 255 // top).astype(np.uint8), "L")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        # Grey laid on white through the alpha, one byte a pixel each: RGBA compositing held
        # four times as much.
        alpha = (image if "A" in image.getbands() else image.convert("RGBA")).getchannel("A")
        paper = Image.new("L", image.size, 255)
        paper.paste(image.convert("L"), mask=alpha)
        return paper
    return image.convert("L")


def at_ocr_resolution(image: Image.Image, dpi: int | None) -> tuple[Image.Image, int]:
    """``image`` and its dpi (inferred if unknown), reduced to about 300 dpi when finer.

    Tesseract reads no better above 300 dpi, and a page at 600 dpi costs four times the
    memory and time in every later step: a 60 Mpx page took the agent and tesseract past 1 GB.
    """
    dpi = dpi or infer_dpi(image.size)
    factor = round(dpi / OCR_DPI)
    if factor < 2:
        return image, dpi
    return image.reduce(factor), round(dpi / factor)


def infer_dpi(size: tuple[int, int]) -> int:
    """Resolution of a page whose file does not say, assuming it is A4 (Letter lands close)."""
    guess = max(size) / A4_LONG_SIDE_IN
    nearest = min(COMMON_DPI, key=lambda dpi: abs(dpi - guess))
    # Within 10% of a usual scanner setting: a Letter page at 300 dpi measures 282 here.
    return nearest if abs(nearest - guess) <= 0.1 * nearest else max(1, round(guess))


def ink_share(image: Image.Image, dpi: int) -> float:
    """Share of pixels clearly unlike the paper inside the page margins (≈75 dpi copy)."""
    return look_at(image, dpi)[1]


def look_at(image: Image.Image, dpi: int) -> tuple[float, float]:
    """The page's paper brightness (0..255) and its ink share, inside the margins on a coarse
    (≈75 dpi) copy. Ink is what differs from the paper either way: dark on white paper,
    light on black."""
    factor = max(1, round(dpi / BLANK_CHECK_DPI))
    small = np.asarray(image.reduce(factor) if factor > 1 else image, dtype=np.int16)
    margin = round(BLANK_MARGIN_MM / 25.4 * dpi / factor)
    height, width = small.shape
    if height <= 2 * margin or width <= 2 * margin:
        margin = 0
    inner = small[margin:height - margin, margin:width - margin]
    paper = float(np.median(inner))  # grey recycled paper is paper too
    return paper, float(np.mean(np.abs(inner - paper) > INK_CONTRAST))


def even_out_light(image: Image.Image, dpi: int, max_spread: int) -> Image.Image:
    """``image`` with its paper made evenly white when its brightness varies by over ``max_spread``.

    Why: a shadow towards one edge (a lid left open, a curled sheet) makes tesseract's global
    threshold turn half the page black or drop its text; OSD then says "too few characters"
    and a turned page stays turned. Dividing by the paper's own brightness undoes the shadow;
    a page already even (most) is returned as it is, unchanged to the byte.
    """
    paper = paper_light(image, dpi)
    levels = np.asarray(paper)
    if int(np.percentile(levels, 98)) - int(np.percentile(levels, 2)) <= max_spread:
        return image
    light = np.maximum(np.asarray(paper.resize(image.size, Image.Resampling.BILINEAR),
                                  dtype=np.uint16), 1)
    even = np.minimum(np.asarray(image, dtype=np.uint16) * 255 // light, 255)
    log.debug("uneven light evened out (paper %d..%d)", levels.min(), levels.max())
    return Image.fromarray(even.astype(np.uint8), "L")


def paper_light(image: Image.Image, dpi: int) -> Image.Image:
    """The paper's brightness at each place, text removed, on a ≈ 10 dpi copy of ``image``."""
    factor = max(1, round(dpi / LIGHT_DPI))
    small = image.reduce(factor) if factor > 1 else image
    return small.filter(ImageFilter.MaxFilter(LIGHT_WINDOW_PX)).filter(
        ImageFilter.GaussianBlur(LIGHT_WINDOW_PX / 2))


def detect_rotation(image: Image.Image, dpi: int, settings: PrepareSettings,
                    ocr: OcrSettings) -> int:
    """Clockwise turn (0/90/180/270) that makes the page upright, by tesseract OSD.

    OSD runs on a copy at ``settings.osd_dpi`` (150 dpi: 0.2–0.5 s, where 300 dpi costs 0.7 s
    and 100 dpi gave wrong answers). A page OSD cannot judge (too little text) stays as it is.
    """
    factor = max(1, round(dpi / settings.osd_dpi))
    small = image.reduce(factor) if factor > 1 else image
    try:
        out = run_tesseract(small, max(1, dpi // factor), ["--psm", "0", "-l", "osd"], ocr,
                            call="orientation (OSD)")
    except InputRejected as exc:
        log.info("orientation not detected: %s", exc.detail)
        return 0
    return parse_osd(out["stdout"].decode("utf-8", "replace"), settings.osd_min_confidence)


def parse_osd(text: str, min_confidence: float) -> int:
    """The ``Rotate:`` value of tesseract's OSD report when its confidence is high enough."""
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    try:
        rotate = int(fields["Rotate"].strip())
        confidence = float(fields["Orientation confidence"].strip())
    except (KeyError, ValueError):
        return 0
    if confidence < min_confidence or rotate not in (90, 180, 270):
        return 0
    return rotate
