"""The invisible text layer's operators: encoding, and words laid left to right over their boxes."""

from __future__ import annotations

import re

import pytest

from scanner_agent.pages import OcrWord
from scanner_agent.text_layer import GLYPH_WIDTH, encode_text, text_layer_ops

_OP = re.compile(rb"(?P<tf>[\d.]+) Tf 1 0 0 1 (?P<x>[\d.]+) [\d.]+ Tm"
                 rb"|(?P<tz>[\d.]+) Tz <(?P<hex>[0-9a-f]*)> Tj")


def _spans(ops: bytes) -> list[tuple[str, float, float]]:
    """(text, left, right) in points of every shown string, by following the text cursor."""
    spans, size, x = [], 0.0, 0.0
    for match in _OP.finditer(ops):
        if match["tf"]:
            size, x = float(match["tf"]), float(match["x"])
            continue
        code = bytes.fromhex(match["hex"].decode())
        width = len(code) * GLYPH_WIDTH / 1000 * size * float(match["tz"]) / 100
        spans.append((code.decode("cp1252"), x, x + width))
        x += width
    return spans


def test_nordic_letters_keep_their_codes_and_others_degrade_one_for_one() -> None:
    assert encode_text("Åland äiti ÖVER") == "Åland äiti ÖVER".encode("cp1252")
    assert encode_text("Erdős→€\t") == b"Erdos?\x80?"


def test_words_sit_on_their_boxes_and_never_run_backwards() -> None:
    """GIVEN a line whose "ja" box reaches back under "tiedot" (the hook of the j)
    WHEN drawn at 1 pt a pixel THEN each word spans its box, none starts before the previous
    one ends, and a space glyph separates them."""
    words = [OcrWord("Hakijan", (100, 10, 300, 50), 96.0, 0),
             OcrWord("tiedot", (320, 10, 480, 50), 96.0, 0),
             OcrWord("ja", (470, 10, 520, 60), 96.0, 0)]
    spans = _spans(text_layer_ops(words, scale=1.0, page_height=100.0))
    assert [text for text, _, _ in spans] == ["Hakijan", " ", "tiedot", " ", "ja"]
    # Operands are written to 0.01: a word's right edge lands within rounding of its box.
    assert spans[0][1:] == pytest.approx((100, 300), abs=0.1)
    assert spans[2][1:] == pytest.approx((320, 480), abs=0.1)
    edges = [edge for _, left, right in spans for edge in (left, right)]
    assert edges == sorted(edges)
    assert spans[3][2] - spans[3][1] > 0  # a real gap before "ja", though its box overlaps
    assert spans[4][2] == pytest.approx(520, abs=0.1)
