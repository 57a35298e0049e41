"""Fuzzy matching of catalogue titles and keywords against OCR text.

A title is a handful of words; each word counts by its length and by how well it was read, so
"Hakemus – Sairauspäivärahat" scores 1.0 on its own form and clearly less on "Osasairaus-
päiväraha", and a word split by OCR ("C- lausunto") still counts through glued neighbours.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

_WORD = re.compile(r"[0-9a-zåäöéü]+(?:-[0-9a-zåäöéü]+)*")
_SQUASH = re.compile(r"[^0-9a-zåäöéü]+")
FUZZY_MIN = 0.8  # below this two words are different words
_SUBSTRING_MIN_LEN = 6  # shorter stems turn up by accident inside compound words


def words(text: str) -> list[str]:
    """Lower-case words of ``text``; hyphenated words are kept whole."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Region:
    """A piece of OCR text prepared for title look-ups."""

    tokens: frozenset[str]  # words and the parts of hyphenated words
    grams: frozenset[str]  # one to three neighbouring words glued, letters and digits only
    # Titles share words ("hakemus", "ansökan"): score each word once per region.
    word_scores: dict[tuple[str, bool], float] = field(
        default_factory=dict, compare=False, repr=False
    )

    @classmethod
    def of(cls, text: str) -> Region:
        found = words(text)
        parts = {p for w in found if "-" in w for p in w.split("-")}
        # Glued neighbours catch words OCR split ("C- lausunto"); whole grams only, so
        # "...päiväraha" + "Täytä" never reads as "päivärahat".
        squashed = [_SQUASH.sub("", w) for w in found]
        grams = {"".join(squashed[i:i + n]) for n in (1, 2, 3) for i in range(len(squashed))}
        return cls(frozenset(found) | parts, frozenset(grams))


def title_score(title: str, region: Region, *, fuzzy: bool = True) -> float:
    """0..1: the length-weighted share of ``title``'s words read in ``region``.

    ``fuzzy=False`` counts only words read exactly: a cheap first pass that suffices when
    some title is read in full.
    """
    title_words = words(title)
    total = sum(len(w) for w in title_words)
    if total == 0:
        return 0.0
    return sum(len(w) * _word_score(w, region, fuzzy) for w in title_words) / total


def keyword_hits(keywords: tuple[str, ...], region: Region) -> list[str]:
    """The keywords (lower-case stems or phrases) read in ``region``.

    A keyword counts at the start of a word or of words glued together (so inflected and
    OCR-split words count); a long one also inside a compound word. Short ones ("pano") only
    at a word start, where they are not accidents.
    """
    return [k for k in keywords if _has_keyword(k, region)]


def _has_keyword(keyword: str, region: Region) -> bool:
    squashed = _SQUASH.sub("", keyword)
    if any(gram.startswith(squashed) for gram in region.grams):
        return True
    # A long stem also counts inside a compound: "toimeentulotu" in "perustoimeentulotuki".
    return len(squashed) >= _SUBSTRING_MIN_LEN and any(squashed in t for t in region.tokens)


def _word_score(word: str, region: Region, fuzzy: bool) -> float:
    key = (word, fuzzy)
    if key not in region.word_scores:
        region.word_scores[key] = _score_once(word, region, fuzzy)
    return region.word_scores[key]


def _score_once(word: str, region: Region, fuzzy: bool) -> float:
    if word in region.tokens:
        return 1.0
    if _SQUASH.sub("", word) in region.grams:
        return 1.0
    if not fuzzy or len(word) < 4:
        return 0.0  # "a", "om", "c": a near miss is a different word
    return best_ratio(word, region.tokens)


def best_ratio(word: str, tokens: frozenset[str]) -> float:
    """The best similarity (0..1) of ``word`` to any of ``tokens``; 0 when under FUZZY_MIN."""
    best = 0.0
    # ``word`` as the second sequence: SequenceMatcher indexes that one once, not per token.
    matcher = SequenceMatcher(None, "", word, autojunk=False)
    for token in tokens:
        # Cheap bounds first: most pairs differ in length too much to reach FUZZY_MIN.
        if 2 * min(len(word), len(token)) / (len(word) + len(token)) < FUZZY_MIN:
            continue
        matcher.set_seq1(token)
        if matcher.quick_ratio() >= max(FUZZY_MIN, best):
            best = max(best, matcher.ratio())
    return best if best >= FUZZY_MIN else 0.0
