"""Building blocks of a Kela-style form page: header, sections, field boxes, footer.

Sizes follow Kela's printed forms closely enough for OCR to meet the same difficulties: a large
code in the header corner, small grey labels in ruled boxes, shaded section bands, and a small
footer repeating the code with its MM.YY version.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from classifiers.synth.canvas import LABEL_INK, MARGIN_MM, SHADE, Canvas
from classifiers.synth.wording import word

CONTENT_MM = 210.0 - 2 * MARGIN_MM
RIGHT_MM = 210.0 - MARGIN_MM
# Bold 18 pt read best with tesseract fin+swe (tried 14-24 pt, bold and regular): smaller or
# regular codes lose their "1" to "I"/"l" more often, larger ones get dropped as graphics.
HEADER_CODE_PT = 18
TITLE_PT = 15
SECTION_PT = 11
LABEL_PT = 8
VALUE_PT = 12
BODY_PT = 10
FOOTER_PT = 9
FIELD_H_MM = 13.0


@dataclass(frozen=True)
class Field:
    """One ruled box: a printed label and what the customer wrote in it."""

    label: str
    value: str
    width_mm: float


def printed_code(code: str, language: str) -> str:
    """The code as printed on the language variant: ``TO 1`` in Finnish, ``TO 1r`` in Swedish."""
    return f"{code}r" if language == "sv" else code


def draw_header(canvas: Canvas, code: str, title: str, language: str) -> float:
    """Brand, agency, code, title and the "Saapunut" box; return where the body starts (mm)."""
    canvas.text(MARGIN_MM, 11, word("brand", language), 26, bold=True)
    canvas.text(MARGIN_MM, 22, word("agency", language), 9, ink=LABEL_INK)
    canvas.text(
        RIGHT_MM, 12, printed_code(code, language), HEADER_CODE_PT, bold=True, align="right"
    )
    canvas.rect(RIGHT_MM - 42, 22, 42, 14)
    canvas.text(RIGHT_MM - 41, 23, word("arrived", language), LABEL_PT, ink=LABEL_INK)
    y = canvas.wrapped(MARGIN_MM, 29, title, TITLE_PT, CONTENT_MM - 48, bold=True)
    y = canvas.text(MARGIN_MM, max(y, 38) + 1, word("instructions", language), 9)
    return y + 5


def draw_section(canvas: Canvas, y_mm: float, number: int, title: str) -> float:
    """A shaded band with a numbered section title; return the y below it."""
    canvas.rect(MARGIN_MM, y_mm, CONTENT_MM, 7.5, fill=SHADE)
    canvas.text(MARGIN_MM + 2, y_mm + 1.6, f"{number} {title}", SECTION_PT, bold=True)
    return y_mm + 9.5


def draw_fields(canvas: Canvas, y_mm: float, fields: Sequence[Field]) -> float:
    """A row of ruled field boxes side by side; return the y below the row."""
    x = MARGIN_MM
    for f in fields:
        canvas.rect(x, y_mm, f.width_mm, FIELD_H_MM)
        canvas.text(x + 1.5, y_mm + 1.0, f.label, LABEL_PT, ink=LABEL_INK)
        if f.value:
            canvas.text(x + 2.5, y_mm + 5.8, f.value, VALUE_PT)
        x += f.width_mm
    return y_mm + FIELD_H_MM + 2.5


def draw_choice(canvas: Canvas, y_mm: float, text: str, checked: bool) -> float:
    """A checkbox with its text, ticked when ``checked``; return the y below it."""
    canvas.rect(MARGIN_MM + 1, y_mm + 0.3, 3.6, 3.6)
    if checked:
        x, y = MARGIN_MM + 1, y_mm + 0.3
        canvas.polyline([(x + 0.6, y + 1.8), (x + 1.5, y + 3.0), (x + 3.2, y + 0.4)], weight_mm=0.5)
    canvas.text(MARGIN_MM + 7, y_mm, text, BODY_PT)
    return y_mm + 6.0


def draw_signature(
    canvas: Canvas, y_mm: float, rng: random.Random, language: str, date: str
) -> float:
    """Declaration, date and a scribbled signature; return the y below."""
    y = canvas.text(MARGIN_MM, y_mm, word("declare", language), BODY_PT) + 1
    half = CONTENT_MM / 2
    canvas.rect(MARGIN_MM, y, half, FIELD_H_MM + 4)
    canvas.rect(MARGIN_MM + half, y, half, FIELD_H_MM + 4)
    canvas.text(MARGIN_MM + 1.5, y + 1, word("date", language), LABEL_PT, ink=LABEL_INK)
    canvas.text(MARGIN_MM + half + 1.5, y + 1, word("signature", language), LABEL_PT, ink=LABEL_INK)
    canvas.text(MARGIN_MM + 2.5, y + 7, date, VALUE_PT)
    x0, base = MARGIN_MM + half + 8, y + 12
    canvas.polyline([(x0 + i * 3.5, base - rng.uniform(0, 5)) for i in range(14)], weight_mm=0.45)
    return y + FIELD_H_MM + 7


def draw_footer(
    canvas: Canvas, code: str, version: str, page: int, pages: int, language: str
) -> None:
    """The footer rule and line: ``TO 1 01.24   www.kela.fi   Sivu 1 (2)``."""
    canvas.hline(MARGIN_MM, 280, CONTENT_MM, weight_mm=0.25)
    y = 282.0
    printed = printed_code(code, language)
    canvas.text(MARGIN_MM, y, printed, FOOTER_PT)
    # A clear gap, as on Kela's footers: "AE1 09.23" run together reads as "AE10923".
    canvas.text(MARGIN_MM + canvas.text_width_mm(printed, FOOTER_PT) + 3, y, version, FOOTER_PT)
    web = word("web", language)
    canvas.text(105 - canvas.text_width_mm(web, FOOTER_PT) / 2, y, web, FOOTER_PT)
    canvas.text(RIGHT_MM, y, f"{word('page', language)} {page} ({pages})", FOOTER_PT, align="right")


def version_stamp(rng: random.Random) -> str:
    """A form version date as printed in footers, ``MM.YY``."""
    return f"{rng.randint(1, 12):02d}.{rng.randint(15, 24):02d}"
