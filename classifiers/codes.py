"""Find Kela form codes ("TO 1", "TO1r", "Yl21r") in one line of OCR text.

OCR turns a printed code into many shapes: the space goes missing or multiplies ("TO1",
"T O 1"), letters and digits trade places (O/0, S/5, I/1/l, B/8, Z/2), the language suffix sticks
to the number ("TO1r"), and the footer's MM.YY version date may glue on ("AE1 09.23" read as
"AE10923", which is AE 1 of September 2023, never "AE 109"). Only codes the catalogue lists are
answered, which is what keeps this tolerant search from inventing codes.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from classifiers.base import Language

# What OCR reads in place of a letter / a digit ("SV Ar" was seen for "SV 4r", "[L 1" for
# "LL 1"). Only the letter part may hold "digits" and only the number part "letters".
_AS_LETTER = {"0": "O", "5": "S", "1": "I", "8": "B", "2": "Z", "4": "A", "[": "L"}
_AS_DIGIT = {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1", "i": "1", "S": "5", "s": "5",
             "B": "8", "Z": "2", "z": "2", "A": "4"}
# The language a suffix marks; "o" is the form's instruction sheet, in no particular language.
_SUFFIXES: dict[str, Language | None] = {"r": "sv", "e": "en", "o": None}
_EDGE_PUNCTUATION = "()]{},;:\"'"  # not "[": it may be an L
_MAX_WINDOW_TOKENS = 4  # "T O 1 r" at worst
_MAX_WINDOW_CHARS = 12  # "SV17801.23r"
_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True)
class CodeHit:
    """One catalogue code read in a line, with how it was written."""

    code: str  # normalised "TO 1"
    suffix: str | None  # "r" (Swedish), "e" (English), "o" (instruction sheet) or None
    raw: str  # the characters it was read from, spaces removed
    corrected: bool  # True when a letter/digit confusion had to be undone
    start: int  # index of its first and one past its last whitespace token in the line
    end: int

    @property
    def suffix_language(self) -> Language | None:
        """The language the suffix marks ("sv", "en"), or None."""
        return _SUFFIXES.get(self.suffix) if self.suffix else None


def find_codes(line: str, known: Collection[str]) -> list[CodeHit]:
    """Every catalogue code in ``line``, leftmost first, each code once.

    Windows of one to four whitespace tokens are glued together and parsed, so "T O 1", "TO 1"
    and "TO1" all count; a hit found in a shorter window wins over one in a longer window.
    """
    tokens = _TOKEN.findall(line)
    hits: dict[str, CodeHit] = {}
    for start in range(len(tokens)):
        for end in range(start + 1, min(start + _MAX_WINDOW_TOKENS, len(tokens)) + 1):
            raw = "".join(tokens[start:end]).strip(_EDGE_PUNCTUATION)
            if len(raw) > _MAX_WINDOW_CHARS:
                break
            hit = _best_parse(raw, known, start, end)
            if hit is not None and hit.code not in hits:
                hits[hit.code] = hit
                break
    return sorted(hits.values(), key=lambda h: h.start)


def _best_parse(raw: str, known: Collection[str], start: int, end: int) -> CodeHit | None:
    """The catalogue code ``raw`` reads as, preferring a reading with no confusion undone."""
    readings = [r for r in _readings(raw) if r[0] in known]
    if not readings:
        return None
    code, suffix, corrected = min(readings, key=lambda r: (r[2], r[1] is None))
    return CodeHit(code, suffix, raw, corrected, start, end)


def _readings(raw: str) -> list[tuple[str, str | None, bool]]:
    """All (code, suffix, corrected) shapes ``raw`` can be, catalogue not yet consulted."""
    if not (raw[:1].isupper() or raw[:1] in _AS_LETTER):
        return []
    bodies: list[tuple[str, str | None]] = [(raw, None)]
    if raw[-1:] in _SUFFIXES:
        bodies.append((raw[:-1], raw[-1]))
    out = []
    for body, suffix in bodies:
        for split in range(1, min(3, len(body) - 1) + 1):
            letters = _as_letters(body[:split])
            number = _number(body[split:])
            if letters is None or number is None:
                continue
            corrected = letters != body[:split] or number[1]
            out.append((f"{letters} {int(number[0])}", suffix, corrected))
    return out


def _as_letters(text: str) -> str | None:
    if not all(c.isupper() or c in _AS_LETTER for c in text):
        return None
    return "".join(_AS_LETTER.get(c, c) for c in text)


def _number(text: str) -> tuple[str, bool] | None:
    """The form number in ``text`` (digits, maybe with a glued MM.YY date), and if corrected."""
    digits = "".join(_AS_DIGIT.get(c, c) for c in text)
    corrected = digits != text
    head, dot, tail = digits.replace(",", ".").partition(".")
    if dot:
        # "AE109.23": the two digits before the dot are the month, what precedes is the number.
        if not (tail.isdigit() and len(tail) == 2 and _is_month(head[-2:])):
            return None
        number = head[:-2]
    elif len(digits) <= 3:
        number = digits
    elif 5 <= len(digits) <= 7 and _is_month(digits[-4:-2]):
        # "AE10923" = "AE1" + "0923": a glued date is four digits, so the rest is the number.
        number = digits[:-4]
    else:
        return None
    if not number.isdigit() or number.startswith("0") or len(number) > 3:
        return None
    return number, corrected


def _is_month(text: str) -> bool:
    return text.isdigit() and len(text) == 2 and 1 <= int(text) <= 12
