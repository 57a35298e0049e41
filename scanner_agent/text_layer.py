"""Draw OCR words as an invisible text layer: one PDF text object per line, each word on its box.

Tesseract's own text-only PDF places words one by one, and text extractors (pdftotext, viewers'
copy and search) then interleave the lines of side-by-side columns. Here each OCR line becomes
one text object with one font size and baseline, words joined by a space glyph that spans the
gap to the next word, so extractors keep each line's words together and in order.

The font is Helvetica with WinAnsiEncoding (covers å ä ö Å Ä Ö and the rest of Latin-1);
other characters become their unaccented letter or ``?``. The font declares every glyph
``GLYPH_WIDTH`` wide, so each word's horizontal scaling (``Tz``) makes it exactly as wide as its
box whatever metrics a viewer would use: selection and search highlights land on the words.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from itertools import groupby

from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    NumberObject,
)

from scanner_agent.pages import OcrWord

FONT_NAME = "/AspaOcr"  # resource name; unlike tesseract's "/f-0-0", cannot clash with img2pdf's
GLYPH_WIDTH = 500  # in 1/1000 em, every code 32..255
FIRST_CODE, LAST_CODE = 32, 255
# Helvetica's ascent and descent (AFM, 1/1000 em): a line with descenders spans both, one
# without spans roughly the ascent, so the font size follows from the line box's height.
ASCENT, DESCENT = 0.718, 0.207
_DESCENDERS = frozenset("gjpqyQ,;()[]{}|/_")
MIN_GAP_EM = 0.1  # narrowest space drawn between two words, so extractors still see a gap


def font_dictionary() -> DictionaryObject:
    """The text layer's font: standard Helvetica, WinAnsiEncoding, all glyphs one width."""
    return DictionaryObject({
        NameObject("/Type"): NameObject("/Font"),
        NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        NameObject("/FirstChar"): NumberObject(FIRST_CODE),
        NameObject("/LastChar"): NumberObject(LAST_CODE),
        NameObject("/Widths"): ArrayObject(
            [NumberObject(GLYPH_WIDTH)] * (LAST_CODE - FIRST_CODE + 1)),
    })


def text_layer_ops(words: Iterable[OcrWord], *, scale: float, page_height: float) -> bytes:
    """Content-stream operators drawing ``words`` invisibly, one text object per OCR line.

    Word boxes are in pixels from the top left; ``scale`` is points per pixel and
    ``page_height`` the page height in points (PDF's origin is the bottom left).
    """
    parts = [_line_ops(list(line), scale, page_height)
             for _, line in groupby(words, key=lambda word: word.line)]
    return b"".join(parts)


def encode_text(text: str) -> bytes:
    """``text`` in WinAnsiEncoding, one byte per character so widths still add up.

    A character outside the encoding becomes its base letter when it has one (ő → o), else ``?``.
    """
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        out += _encode_char(char)
    return bytes(out)


def _encode_char(char: str) -> bytes:
    # WinAnsiEncoding is cp1252 for every printable character; control codes are not glyphs.
    if char.isprintable():
        for candidate in (char, unicodedata.normalize("NFD", char)[0]):
            try:
                encoded = candidate.encode("cp1252")
            except UnicodeEncodeError:
                continue
            if FIRST_CODE <= encoded[0] <= LAST_CODE:
                return encoded
    return b"?"


def _line_ops(words: list[OcrWord], scale: float, page_height: float) -> bytes:
    top = min(word.box[1] for word in words)
    bottom = max(word.box[3] for word in words)
    height = (bottom - top) * scale
    has_descenders = any(char in _DESCENDERS for word in words for char in word.text)
    size = height / (ASCENT + DESCENT) if has_descenders else height / ASCENT
    baseline = page_height - bottom * scale + (DESCENT * size if has_descenders else 0.0)
    em = GLYPH_WIDTH / 1000 * size  # advance of one glyph at Tz 100
    min_gap = MIN_GAP_EM * size
    cursor = words[0].box[0] * scale
    ops = [f"BT 3 Tr {FONT_NAME} {size:.2f} Tf 1 0 0 1 {cursor:.2f} {baseline:.2f} Tm".encode()]
    for word, following in zip(words, [*words[1:], None], strict=True):
        # Draw left to right from a cursor: a word whose box reaches back under its neighbour
        # (the hook of a "j") must not start left of it, or extractors break the line there.
        code = encode_text(word.text)
        right = max(word.box[2] * scale, cursor + min_gap)
        ops.append(_show(code, (right - cursor) / (em * len(code))))
        if following is not None:
            cursor = max(following.box[0] * scale, right + min_gap)
            ops.append(_show(b" ", (cursor - right) / em))
    ops.append(b"ET\n")
    return b"\n".join(ops)


def _show(code: bytes, stretch: float) -> bytes:
    """Set horizontal scaling to ``stretch`` (1 = natural width) and show ``code``."""
    return f"{stretch * 100:.2f} Tz <{code.hex()}> Tj".encode()
