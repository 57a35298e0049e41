"""Draw a confusion matrix as a PNG with Pillow: truth down the side, answers across the top.

Cells hold their counts; the diagonal is green and errors red, shaded by their share of the
row, so the eye finds the mistakes first. Sized for the catalogue's ~35 labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
CELL = 34  # px: room for a three-digit count at the cell font
PAD = 10
_WHITE = (255, 255, 255)
_GRID = (200, 200, 200)
_INK = (20, 20, 20)
_RIGHT = (34, 139, 34)
_WRONG = (200, 40, 40)

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@lru_cache(maxsize=8)
def font(size: int) -> Font:
    """DejaVu Sans at ``size`` px (fonts-dejavu-core), else Pillow's built-in font."""
    try:
        return ImageFont.truetype(str(FONT_PATH), size)
    except OSError:
        return ImageFont.load_default(size)


def draw_confusion(labels: Sequence[str], counts: Sequence[Sequence[int]],
                   title: str = "Confusion matrix") -> Image.Image:
    """An RGB image of ``counts[truth][answer]`` with labelled axes and a row-total column."""
    label_font, title_font = font(13), font(16)
    label_w = max((_text_w(label, label_font) for label in labels), default=0) + PAD
    axis = 24  # room for an axis title
    left = PAD + axis + label_w
    top = PAD + 28 + axis + label_w  # title line, axis title, rotated column labels
    n = len(labels)
    size = (left + (n + 1) * CELL + PAD, top + n * CELL + PAD)
    image = Image.new("RGB", size, _WHITE)
    draw = ImageDraw.Draw(image)
    draw.text((PAD, PAD), title, font=title_font, fill=_INK)
    _axis_titles(image, left, top, n)
    for i, label in enumerate(labels):
        _row_label(draw, label, label_font, left, top + i * CELL)
        _column_label(image, label, label_font, left + i * CELL, top)
    _column_label(image, "total", label_font, left + n * CELL, top)
    for i, row in enumerate(counts):
        total = sum(row)
        for j, count in enumerate(row):
            _cell(draw, (left + j * CELL, top + i * CELL), count, total, right=i == j)
        _cell(draw, (left + n * CELL, top + i * CELL), total, 0, right=True)
    return image


def _cell(draw: ImageDraw.ImageDraw, at: tuple[int, int], count: int, total: int, *,
          right: bool) -> None:
    share = count / total if total else 0.0
    colour = _shade(_RIGHT if right else _WRONG, share, right=right) if count else _WHITE
    x, y = at
    draw.rectangle((x, y, x + CELL, y + CELL), fill=colour, outline=_GRID)
    if count:
        text = str(count)
        cell_font = font(13 if len(text) <= 3 else 10)
        ink = _WHITE if share > 0.55 else _INK
        draw.text((x + CELL / 2, y + CELL / 2), text, font=cell_font, fill=ink, anchor="mm")


def _shade(colour: tuple[int, int, int], share: float, *, right: bool) -> tuple[int, int, int]:
    """``colour`` mixed into white: a tint for a small share, full colour for all. An error
    starts darker than a right answer: a single one must still catch the eye."""
    base = 0.15 if right else 0.35
    strength = base + (1 - base) * share
    r, g, b = (round(255 + (c - 255) * strength) for c in colour)
    return (r, g, b)


def _row_label(draw: ImageDraw.ImageDraw, label: str, label_font: Font, left: int,
               y: int) -> None:
    draw.text((left - 6, y + CELL / 2), label, font=label_font, fill=_INK, anchor="rm")


def _column_label(image: Image.Image, label: str, label_font: Font, x: int, top: int) -> None:
    """``label`` written bottom-up so it ends just above column ``x``."""
    width = _text_w(label, label_font) + 2
    strip = Image.new("RGB", (width, CELL), _WHITE)
    ImageDraw.Draw(strip).text((0, CELL / 2), label, font=label_font, fill=_INK, anchor="lm")
    turned = strip.rotate(90, expand=True)
    image.paste(turned, (x, top - 6 - turned.height))


def _axis_titles(image: Image.Image, left: int, top: int, n: int) -> None:
    draw = ImageDraw.Draw(image)
    axis_font = font(14)
    draw.text((left + n * CELL / 2, PAD + 30), "answer (predicted)", font=axis_font,
              fill=_INK, anchor="mt")
    text = "truth (labels.csv)"
    strip = Image.new("RGB", (_text_w(text, axis_font) + 4, 20), _WHITE)
    ImageDraw.Draw(strip).text((2, 10), text, font=axis_font, fill=_INK, anchor="lm")
    turned = strip.rotate(90, expand=True)
    image.paste(turned, (PAD, max(top, top + n * CELL // 2 - turned.height // 2)))


def _text_w(text: str, text_font: Font) -> int:
    box = text_font.getbbox(text)
    return int(box[2] - box[0])
