"""Render test pages with Pillow and DejaVu fonts: A4 at a given dpi, known text, known layout.

Used by the decode/prepare/OCR tests and the OCR benchmark until ``classifiers.synth`` offers
realistic form pages. Every page is white paper with black text, so OCR results are predictable.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, ImageOps

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
A4_MM = (210.0, 297.0)

SAMPLE_LINES = [
    "Kela Hakemus Perustoimeentulotuki TO 1",
    "Hakijan tiedot ja henkilötunnus",
    "Asumismenot vuokra ja vesimaksu",
    "Ansökan om grundläggande utkomststöd",
    "Tilinumero ja pankin nimi",
    "Päivämäärä ja allekirjoitus",
]


def a4_size(dpi: int) -> tuple[int, int]:
    """Pixel size of an A4 portrait page at ``dpi``."""
    return tuple(round(mm / 25.4 * dpi) for mm in A4_MM)  # type: ignore[return-value]


def font(size_pt: float, dpi: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """DejaVu Sans at ``size_pt`` points, scaled for ``dpi``."""
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), round(size_pt / 72 * dpi))


def text_page(lines: list[str], *, dpi: int = 300, size_pt: float = 12,
              top_mm: float = 30, spacing: float = 1.8, mode: str = "L") -> Image.Image:
    """A white A4 page with ``lines`` of black text from ``top_mm`` down, left margin 25 mm."""
    page = Image.new("L", a4_size(dpi), 255)
    draw = ImageDraw.Draw(page)
    face = font(size_pt, dpi)
    x = round(25 / 25.4 * dpi)
    y = round(top_mm / 25.4 * dpi)
    step = round(size_pt / 72 * dpi * spacing)
    for line in lines:
        draw.text((x, y), line, fill=0, font=face)
        y += step
    return page.convert(mode) if mode != "L" else page


def blank_page(*, dpi: int = 300, specks: int = 0, edge_shadow: bool = False,
               gray: int = 255) -> Image.Image:
    """A blank A4 page, optionally with dust specks and a dark scanner-edge strip."""
    page = Image.new("L", a4_size(dpi), gray)
    draw = ImageDraw.Draw(page)
    width, height = page.size
    for i in range(specks):
        # Deterministic spread: a few 2-3 px dots across the page, like dust on the glass.
        x = (i * 7919) % (width - 400) + 200
        y = (i * 104729) % (height - 400) + 200
        draw.ellipse((x, y, x + 2 + i % 2, y + 2 + i % 2), fill=0)
    if edge_shadow:
        draw.rectangle((0, 0, width, round(2 / 25.4 * dpi)), fill=20)
        draw.rectangle((width - round(3 / 25.4 * dpi), 0, width, height), fill=40)
    return page


def form_like_page(*, dpi: int = 300, body_lines: int = 12) -> Image.Image:
    """An A4 page shaped like a Kela form: header code, body text, footer with page number."""
    lines = (SAMPLE_LINES * (body_lines // len(SAMPLE_LINES) + 1))[:body_lines]
    page = text_page(lines, dpi=dpi, top_mm=60)
    draw = ImageDraw.Draw(page)
    mm = dpi / 25.4
    draw.text((round(25 * mm), round(12 * mm)), "Kela", fill=0, font=font(20, dpi, bold=True))
    draw.text((round(150 * mm), round(14 * mm)), "TO 1", fill=0, font=font(18, dpi, bold=True))
    draw.text((round(25 * mm), round(280 * mm)), "TO 1 01.24   www.kela.fi   Sivu 1 (2)",
              fill=0, font=font(9, dpi))
    return page


def negative_page(*, dpi: int = 300) -> Image.Image:
    """A form page scanned as a negative: white text on black paper."""
    return ImageOps.invert(form_like_page(dpi=dpi))


def sheet_on_open_lid(*, dpi: int = 300) -> Image.Image:
    """A4 scanned with the lid open: black all round an A6 sheet of text in its middle."""
    page = Image.new("L", a4_size(dpi), 0)
    sheet = text_page(SAMPLE_LINES[:3], dpi=dpi, size_pt=10).crop(
        (0, 0, round(105 / 25.4 * dpi), round(148 / 25.4 * dpi)))
    page.paste(sheet, ((page.width - sheet.width) // 2, (page.height - sheet.height) // 2))
    return page


def colour_form_at(pixels: int, *, dpi: int = 600) -> Image.Image:
    """A colour (RGB) A4 form page at ``dpi`` on a white canvas of about ``pixels`` pixels (the
    page at the top left): the largest page the agent accepts when ``pixels`` is its cap."""
    form = form_like_page(dpi=dpi)
    height = max(form.height, round((pixels * form.height / form.width) ** 0.5))
    width = min(pixels // height, pixels)
    canvas = Image.new("L", (max(width, form.width), height), 255)
    canvas.paste(form, (0, 0))
    return canvas.convert("RGB")
