"""Render a hetu field as people and odd printers fill it: by hand, faint, in a script font.

Used by the century-sign tests. A page is a small form excerpt (a heading, the label
"Henkilötunnus / Personbeteckning" and a ruled box under it holding the code) so a full OCR
run stays under a second. Handwriting is imitated with the installed fonts: each digit drawn on
its own with a jittered size, slant and baseline, the century sign drawn as jittered pen
strokes whose corners the hand rounds, then the whole field bent by a smooth random
displacement, which moves strokes as an unsteady hand does. Script: URW Z003 (a Zapf Chancery
clone, fonts-urw-base35), the italic face a Swedish TO 1r was typed in.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from classifiers.synth import degrade

DPI = 300
PAGE_PX = (1750, 700)  # about 148 x 59 mm: a strip of an A5 form
FIELD = (150, 330, 1150, 470)  # the ruled box under the label
STYLES = ("hand", "faint", "script")

_FONTS = {
    "hand": ("/usr/share/fonts/opentype/urw-base35/Z003-MediumItalic.otf",
             "/usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf",
             "/usr/share/fonts/truetype/freefont/FreeSansOblique.ttf"),
    "faint": ("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
              "/usr/share/fonts/truetype/freefont/FreeSerif.ttf",
              "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    "script": ("/usr/share/fonts/opentype/urw-base35/Z003-MediumItalic.otf",),
}
_LABEL_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def field_page(code: str, style: str, seed: int) -> Image.Image:
    """A page with ``code`` in the field under the hetu label, written in ``style``."""
    rng = np.random.default_rng([seed, STYLES.index(style)])
    page = Image.new("L", PAGE_PX, 255)
    draw = ImageDraw.Draw(page)
    label = ImageFont.truetype(_LABEL_FONT, 36)
    draw.text((150, 120), "Hakijan tiedot / Sökandens uppgifter", fill=0,
              font=ImageFont.truetype(_LABEL_FONT, 44))
    draw.text((150, 260), "Henkilötunnus / Personbeteckning", fill=0, font=label)
    draw.rectangle(FIELD, outline=0, width=3)
    ink = _handwritten(code, rng) if style == "hand" else _typed(code, style, rng)
    page.paste(0, (FIELD[0] + 30, FIELD[1] + 20), ink)
    return _scanned(page, style, seed)


def _handwritten(code: str, rng: np.random.Generator) -> Image.Image:
    """A mask of ``code`` written glyph by glyph with a wobbling hand: digits from a slanted
    or script font, the century sign drawn as pen strokes whose corners the hand rounds (a
    V's point, a W's troughs: the start of a U)."""
    path = _FONTS["hand"][int(rng.integers(len(_FONTS["hand"])))]
    mask = Image.new("L", (FIELD[2] - FIELD[0] - 60, FIELD[3] - FIELD[1] - 40), 0)
    x = 10.0
    for place, char in enumerate(code):
        size = int(rng.integers(62, 76))
        slant = float(rng.uniform(-9, 9))
        glyph = (_pen_glyph(char, size, rng) if place == 6
                 else _glyph(char, ImageFont.truetype(path, size), slant))
        y = int(rng.integers(0, 14))
        mask.paste(255, (int(x), y), glyph)
        x += glyph.width * float(rng.uniform(0.85, 1.05))
    return _wobble(mask, rng, amplitude=2.5)


# Century signs as pen strokes in a unit box (x right, y down); a hand writes them so.
_STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "-": [[(0.1, 0.55), (0.9, 0.55)]],
    "+": [[(0.5, 0.2), (0.5, 0.9)], [(0.1, 0.55), (0.9, 0.55)]],
    "Y": [[(0.0, 0.0), (0.5, 0.5)], [(1.0, 0.0), (0.5, 0.5), (0.5, 1.0)]],
    "X": [[(0.0, 0.0), (1.0, 1.0)], [(1.0, 0.0), (0.0, 1.0)]],
    "W": [[(0.0, 0.0), (0.22, 1.0), (0.5, 0.35), (0.78, 1.0), (1.0, 0.0)]],
    "V": [[(0.0, 0.0), (0.5, 1.0), (1.0, 0.0)]],
    "U": [[(0.0, 0.0), (0.0, 0.75), (0.15, 1.0), (0.85, 1.0), (1.0, 0.75), (1.0, 0.0)]],
    "A": [[(0.0, 1.0), (0.5, 0.0), (1.0, 1.0)], [(0.22, 0.6), (0.78, 0.6)]],
    "B": [[(0.0, 1.0), (0.0, 0.0), (0.75, 0.0), (0.9, 0.22), (0.75, 0.48), (0.0, 0.48)],
          [(0.0, 0.48), (0.85, 0.48), (1.0, 0.74), (0.85, 1.0), (0.0, 1.0)]],
    "C": [[(1.0, 0.1), (0.6, 0.0), (0.1, 0.15), (0.0, 0.5), (0.1, 0.85), (0.6, 1.0),
           (1.0, 0.9)]],
    "D": [[(0.0, 0.0), (0.0, 1.0), (0.6, 1.0), (1.0, 0.7), (1.0, 0.3), (0.6, 0.0), (0.0, 0.0)]],
    "E": [[(1.0, 0.0), (0.0, 0.0), (0.0, 1.0), (1.0, 1.0)], [(0.0, 0.5), (0.75, 0.5)]],
    "F": [[(1.0, 0.0), (0.0, 0.0), (0.0, 1.0)], [(0.0, 0.5), (0.75, 0.5)]],
}


def _pen_glyph(char: str, size: int, rng: np.random.Generator) -> Image.Image:
    """``char`` drawn with a pen: each point jittered, corners cut 0-2 times (Chaikin)."""
    width, height = round(size * 0.62), round(size * 0.72)
    glyph = Image.new("L", (width + 16, size + 8), 0)
    draw = ImageDraw.Draw(glyph)
    rounding = int(rng.integers(0, 3))
    for stroke in _STROKES[char]:
        points = [(8 + (px + rng.normal(0, 0.04)) * width,
                   size - height + (py + rng.normal(0, 0.04)) * height) for px, py in stroke]
        for _ in range(rounding):
            points = _cut_corners(points)
        draw.line(points, fill=255, width=max(3, size // 12), joint="curve")
    return glyph


def _cut_corners(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """One round of Chaikin's corner cutting: the ends stay, every corner gets rounder."""
    cut = [points[0]]
    for (x0, y0), (x1, y1) in pairwise(points):
        cut += [(0.75 * x0 + 0.25 * x1, 0.75 * y0 + 0.25 * y1),
                (0.25 * x0 + 0.75 * x1, 0.25 * y0 + 0.75 * y1)]
    return [*cut, points[-1]]


def _typed(code: str, style: str, rng: np.random.Generator) -> Image.Image:
    """A mask of ``code`` as printed, in grey for a faint print (the caller sets the ink)."""
    path = _FONTS[style][int(rng.integers(len(_FONTS[style])))]
    mask = Image.new("L", (FIELD[2] - FIELD[0] - 60, FIELD[3] - FIELD[1] - 40), 0)
    strength = int(rng.integers(90, 130)) if style == "faint" else 255
    ImageDraw.Draw(mask).text((10, 10), code, fill=strength,
                              font=ImageFont.truetype(path, int(rng.integers(60, 70))))
    return mask


def _glyph(char: str, face: ImageFont.FreeTypeFont, slant_deg: float) -> Image.Image:
    _, _, right, bottom = face.getbbox(char)
    glyph = Image.new("L", (int(right) + 8, int(bottom) + 8), 0)
    ImageDraw.Draw(glyph).text((4, 4), char, fill=255, font=face)
    return glyph.rotate(slant_deg, Image.Resampling.BICUBIC, expand=True)


def _wobble(mask: Image.Image, rng: np.random.Generator, amplitude: float) -> Image.Image:
    """``mask`` displaced by a smooth random field of up to ``amplitude`` pixels."""
    height, width = mask.height, mask.width
    coarse = rng.uniform(-1, 1, size=(2, height // 24 + 2, width // 24 + 2))
    fields = [np.asarray(Image.fromarray(c.astype(np.float32)).resize(
        (width, height), Image.Resampling.BICUBIC)) * amplitude for c in coarse]
    ys, xs = np.mgrid[0:height, 0:width]
    src_y = np.clip(np.rint(ys + fields[0]), 0, height - 1).astype(int)
    src_x = np.clip(np.rint(xs + fields[1]), 0, width - 1).astype(int)
    bent = np.asarray(mask)[src_y, src_x]
    return Image.fromarray(bent).filter(ImageFilter.GaussianBlur(0.7))


def _scanned(page: Image.Image, style: str, seed: int) -> Image.Image:
    """The page through a scanner: skew, uneven light, speckle, grain; faint prints paler."""
    if style == "faint":
        paper = np.asarray(page, dtype=np.float32)
        page = Image.fromarray((paper * 0.45 + 140).clip(0, 255).astype(np.uint8))
    out = degrade(page, seed=seed, skew_deg=0.8 if seed % 2 else -0.6, uneven_light=0.3,
                  speckle=0.1, noise=0.02)
    out.info["dpi"] = (DPI, DPI)
    return out
