"""The arrival stamp a Kela office presses on paper: "KELA SAAPUNUT 12.03.2024", slightly askew.

A stamp is a distractor: it says Kela and a date, often right over the header where the form
code sits, and it is no part of any form.
"""

from __future__ import annotations

import random

from PIL import Image, ImageChops, ImageDraw, ImageFont

from classifiers.synth.canvas import DEJAVU_DIR
from classifiers.synth.wording import check_language

_FACE = DEJAVU_DIR / "DejaVuSans-Bold.ttf"  # stamps are rubber, not the document's typeface
_WORDS = {"fi": "KELA SAAPUNUT", "sv": "FPA INKOMMIT"}
# Where on the page (fractions of width, height) the stamp's centre may land: over the header's
# right corner, the top margin, beside the body, low on the page.
_SPOTS = ((0.78, 0.07), (0.55, 0.05), (0.70, 0.45), (0.35, 0.88), (0.75, 0.80))


def stamp_text(language: str, date: str) -> str:
    """What the stamp prints, e.g. ``KELA SAAPUNUT 12.03.2024``."""
    check_language(language)
    return f"{_WORDS[language]} {date}"


def add_stamp(page: Image.Image, *, seed: int, language: str, date: str) -> Image.Image:
    """``page`` with an arrival stamp dated ``date`` ("dd.mm.yyyy") pressed on it.

    The same arguments give the same pixels; place, tilt (±12°) and ink strength come from
    ``seed``. Ink only darkens: text under the stamp stays readable where the stamp is light.
    """
    rng = random.Random(f"stamp:{language}:{date}:{seed}")
    dpi = round(float(page.info.get("dpi", (300, 300))[0]))
    mark = _stamp_image(stamp_text(language, date), dpi, ink=rng.randint(40, 120))
    mark = mark.rotate(rng.uniform(-12, 12), Image.Resampling.BICUBIC, expand=True,
                       fillcolor=255)
    fx, fy = rng.choice(_SPOTS)
    x = round(page.width * fx + rng.uniform(-0.05, 0.05) * page.width - mark.width / 2)
    y = round(page.height * fy + rng.uniform(-0.02, 0.02) * page.height - mark.height / 2)
    x = min(max(0, x), page.width - mark.width)
    y = min(max(0, y), page.height - mark.height)
    layer = Image.new("L", page.size, 255)
    layer.paste(mark, (x, y))
    out = ImageChops.darker(page.convert("L"), layer)
    out.info["dpi"] = page.info.get("dpi", (dpi, dpi))
    return out


def _stamp_image(text: str, dpi: int, *, ink: int) -> Image.Image:
    """The stamp upright: a double-ruled box, the words on top and the date below."""
    words, date = text.rsplit(" ", 1)
    px = dpi / 25.4
    face = ImageFont.truetype(str(_FACE), round(14 / 72 * dpi))
    width = round(max(face.getlength(words), face.getlength(date)) + 10 * px)
    height = round(22 * px)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    line = max(1, round(0.6 * px))
    draw.rectangle((0, 0, width - 1, height - 1), outline=ink, width=line)
    inset = round(1.4 * px)
    draw.rectangle((inset, inset, width - 1 - inset, height - 1 - inset), outline=ink,
                   width=max(1, line // 2))
    draw.text((width / 2, 5.5 * px), words, fill=ink, font=face, anchor="mm")
    draw.text((width / 2, 15.5 * px), date, fill=ink, font=face, anchor="mm")
    return image
