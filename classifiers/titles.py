"""Fuzzy matching of catalogue titles and keywords against OCR text.

A title is a handful of words; each word counts by its length and by how well it was read, so
"Hakemus – Sairauspäivärahat" scores 1.0 on its own form and clearly less on "Osasairaus-
päiväraha", and a word split by OCR ("C- lausunto") still counts through the squashed text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

_WORD = re.compile(r"[0-9a-zåäöéü]+(?:-[0-9a-zåäöéü]+)*")
_SQUASH = re.compile(r"[^0-9a-zåäöéü]+")
FUZZY_MIN = 0.8  # below this two words are different words
_SUBSTRING_MIN_LEN = 6  # shorter words are found by accident inside squashed text


def words(text: str) -> list[str]:
    """Lower-case words of ``text``; hyphenated words are kept whole."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Region:
    """A piece of OCR text prepared for title look-ups."""

    tokens: frozenset[str]  # words and the parts of hyphenated words
    squashed: str  # lower case, letters and digits only

    @classmethod
    def of(cls, text: str) -> Region:
        found = words(text)
        parts = {p for w in found if "-" in w for p in w.split("-")}
        return cls(frozenset(found) | parts, _SQUASH.sub("", text.lower()))


def title_score(title: str, region: Region) -> float:
    """0..1: the length-weighted share of ``title``'s words read in ``region``."""
    title_words = words(title)
    total = sum(len(w) for w in title_words)
    if total == 0:
        return 0.0
    return sum(len(w) * _word_score(w, region) for w in title_words) / total


def keyword_hits(keywords: tuple[str, ...], region: Region) -> list[str]:
    """The keywords (lower-case stems or phrases) read in ``region``.

    Long keywords are looked for in the squashed text, so inflected and OCR-split words count;
    short ones ("pano", "otto") only at the start of a word, where they are not accidents.
    """
    return [k for k in keywords if _has_keyword(k, region)]


def _has_keyword(keyword: str, region: Region) -> bool:
    squashed = _SQUASH.sub("", keyword)
    if len(squashed) >= _SUBSTRING_MIN_LEN:
        return squashed in region.squashed
    return any(token.startswith(squashed) for token in region.tokens)


def _word_score(word: str, region: Region) -> float:
    if word in region.tokens:
        return 1.0
    squashed = _SQUASH.sub("", word)
    if len(squashed) >= _SUBSTRING_MIN_LEN and squashed in region.squashed:
        return 1.0
    if len(word) < 4:
        return 0.0  # "a", "om", "c": a near miss is a different word
    return best_ratio(word, region.tokens)


def best_ratio(word: str, tokens: frozenset[str]) -> float:
    """The best similarity (0..1) of ``word`` to any of ``tokens``; 0 when under FUZZY_MIN."""
    best = 0.0
    for token in tokens:
        # Cheap bounds first: most pairs differ in length too much to reach FUZZY_MIN.
        if 2 * min(len(word), len(token)) / (len(word) + len(token)) < FUZZY_MIN:
            continue
        matcher = SequenceMatcher(None, word, token, autojunk=False)
        if matcher.quick_ratio() < max(FUZZY_MIN, best):
            continue
        best = max(best, matcher.ratio())
    return best if best >= FUZZY_MIN else 0.0
