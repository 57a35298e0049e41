"""Never the wrong person: a hetu whose century sign is printed faintly, written by hand or
typed in a script font comes out right or not at all, never as another valid code.

The century sign is outside the checksum, and ``-``/``Y``/``X``/``W``/``V``/``U`` (1900s),
``A``…``F`` (2000s) and ``+`` are different people since 2023; a handwritten ``W`` read as
``U`` and a script-font ``V`` read as ``U`` were returned as the customer's code by an outside
test. Each page (tests/handwriting.py) goes through real tesseract: OCR, then the extractor.

These pages did not reproduce that failure: the earlier two-witness rule gave no wrong code on
them either (nor on ~250 more generated while calibrating). They guard the property and
measure the recall the stricter rule costs; the cases that fail without the rule (reads that
agree on a doubtful sign, a sign only reached by correction, a rival sign close behind, the
page text showing another sign) are in tests/unit/test_extract.py.
"""

from __future__ import annotations

import os
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from aspa_contract.hetu import CENTURY_SIGNS, check_character, is_valid
from scanner_agent.config import OcrSettings
from scanner_agent.extract import HetuFinding, find_hetu
from scanner_agent.ocr import ocr_page
from scanner_agent.pages import PreparedPage
from tests.handwriting import DPI, field_page

# 39 small pages, each OCR'd and its box re-read: minutes on a busy two-core machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(1800)]

SETTINGS = OcrSettings(read_strips=False)  # the strips play no part in finding the hetu
TODAY = date(2026, 12, 1)
# (style, seed): every century sign is written in each. The script pages are the italic face
# a Swedish TO 1r was typed in, where a V was read as U.
WRITINGS = (("hand", 0), ("faint", 0), ("script", 0))


def code_for(sign: str, seed: int) -> str:
    """A test code (individual number 900-999) with century sign ``sign``, born in the past."""
    rng = random.Random(f"{sign}{seed}")
    year = {"+": rng.randrange(60, 99), **dict.fromkeys("ABCDEF", rng.randrange(1, 20))}.get(
        sign, rng.randrange(30, 99))
    digits = f"{rng.randrange(1, 29):02d}{rng.randrange(1, 13):02d}{year:02d}"
    number = str(rng.randrange(900, 1000))
    return f"{digits}{sign}{number}{check_character(digits + number)}"


def _read(code: str, style: str, seed: int) -> HetuFinding:
    page = PreparedPage(image=field_page(code, style, seed), number=1, dpi=DPI)
    return find_hetu([ocr_page(page, SETTINGS)], SETTINGS, today=TODAY)


@pytest.fixture(scope="module")
def findings() -> dict[tuple[str, str, int], tuple[str, HetuFinding]]:
    """Every sign in every writing, read once (one tesseract per core)."""
    cases = [(sign, style, seed) for style, seed in WRITINGS for sign in CENTURY_SIGNS]
    codes = [code_for(sign, seed) for sign, _, seed in cases]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        found = list(pool.map(_read, codes, [style for _, style, _ in cases],
                              [seed for _, _, seed in cases]))
    return {case: (code, finding) for case, code, finding in zip(cases, codes, found, strict=True)}


@pytest.mark.parametrize("style", sorted({style for style, _ in WRITINGS}))
def test_a_hard_to_read_century_sign_gives_the_right_code_or_none(
    findings: dict[tuple[str, str, int], tuple[str, HetuFinding]], style: str
) -> None:
    """GIVEN a form field holding a test hetu with each century sign (-, Y, X, W, V, U, A-F, +)
    written ``style`` (by hand, faintly printed, in an italic script font), scanned with skew,
    uneven light and specks WHEN the hetu is extracted with real tesseract
    THEN each result is the written code or no code; never another valid code."""
    wrong = {case[0]: (code[6], finding.code[6]) for case, (code, finding) in findings.items()
             if case[1] == style and finding.code is not None and finding.code != code}
    assert wrong == {}


def test_no_code_for_an_uncertain_sign_says_why(
    findings: dict[tuple[str, str, int], tuple[str, HetuFinding]],
) -> None:
    """A code withheld because of its sign says so, for the person who supplies it."""
    methods = {finding.method for _, finding in findings.values() if finding.code is None}
    assert methods <= {"uncertain_century_sign", "ambiguous", "unconfirmed", "none"}


def test_faintly_printed_codes_are_still_found(
    findings: dict[tuple[str, str, int], tuple[str, HetuFinding]],
) -> None:
    """The rule costs the signs tesseract itself doubts, not printed ones: of the 13 faintly
    printed codes, 12 were found before and after it (the 13th, with +, by neither). By hand
    and in the script font: 6 and 9 of 13 before, 4 and 6 after (2026-12-01, tesseract 5.3.0);
    never a wrong code either time."""
    right = [case for case, (code, finding) in findings.items()
             if case[1] == "faint" and finding.code == code]
    assert all(is_valid(code) for code, _ in findings.values())
    assert len(right) >= 11, sorted(right)
