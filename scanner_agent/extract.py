"""Extract the customer's personal identity code (hetu) from a document's OCR pages.

Where it looks, best first: the box right of or below a "Henkilötunnus" / "Personbeteckning" /
"Hetu" label, re-read with a character whitelist (the century sign is the character full-page
OCR gets wrong); the label's line in the page text; then any valid code in the text, page 1
first. A code whose checksum fails is never returned, and full codes are never logged.

A wrong but valid code attaches the application to another person; a missing one only sends it
to a person at Kela. So a code by a label is accepted only with two witnesses, in full:

* Each candidate box is read twice, independently: as scanned (the page's languages, scan
  size) and enhanced (contrast stretched, 3x, the ``eng`` model); both with the whitelist and
  the field's ruled lines whitened. Two small tesseract runs a box, ≈ 0.1–0.2 s each.
* Both reads give a valid code and agree on all 11 characters: accepted, method ``label_box``.
* Both give valid codes that differ (typically the century sign, C/D or E/F, which the
  checksum does not cover): no code, method ``ambiguous``; the search stops there.
* One read gives a code, the other none: the full-page text by the label breaks the tie. Same
  code there: accepted (``label_box``); another valid code there: ``ambiguous``; nothing
  there: the box is left undecided and the next box is tried.
* No re-read of the label's boxes gave any code: the code in the full-page text by the label
  (``label_text``). A code read by a label only once and never confirmed gives no code, method
  ``unconfirmed``, rather than falling back to codes elsewhere.
* Only when no label box read any code is the first valid code anywhere taken (``text`` or
  ``corrected``): letters and attachments without a labelled box.

The century sign, in full. The check character does not cover it, and ``-``/``Y``/``X``/``W``/
``V``/``U`` (1900s), ``A``…``F`` (2000s) and ``+`` are different people since 2023: a handwritten
``W`` read as ``U``, or a script-font ``V`` read as ``U``, is another person's valid code that two
witnesses may even agree on. So a sign is accepted only on a confident read of that very
character: every re-read of the box that gave the code must show the sign as read (not
corrected into one) with tesseract's character confidence at least
:data:`MIN_SIGN_CONFIDENCE` and no other century sign close behind among the choices tesseract
weighed for it (:data:`RIVAL_MARGIN`), and no read — re-read or page text by the label — may show
the same code with another sign. A code from the page text (``label_text``, ``text``,
``corrected``) is re-read in the box of its words on the page under the same rule. Otherwise:
no code, method ``uncertain_century_sign``, and a person supplies it. (Handwriting is not read
properly yet; until it is, this costs some handwritten codes, never a wrong one.)

The correction rule for text, in full:

* A code-shaped run is six date characters, a century sign, three individual-number characters
  and a check character (``DDMMYYCNNNQ``), not glued to other letters or digits.
* Read as it stands and valid (real date, right check character): accepted, method ``text``.
* Otherwise each character may be replaced by what OCR typically mistakes it for — O/o→0,
  I/i/l/|→1, S/s→5, B→8, Z/z→2 in the digit places; a lower-case check character upper-cased,
  O→0, I/l→1, Z→2, G→6, )/]→J, and S↔5, B↔8, D↔0 in the check place; ``0``/``1``→U, ``0``→C
  or D, ``4``→A, ``8``→B and a lower-case letter upper-cased in the century place. Exactly one
  replacement is allowed, and it is accepted (method ``corrected``) only when it is the *only*
  single replacement that yields a valid code.
* The checksum does not cover the century sign, so a century replacement must also put the
  birth date in the plausible window (not in the future, at most :data:`MAX_AGE_YEARS` back);
  without that, "0" could be U (1900s) or D (2000s) and both would "check". A "0" in a
  2000s code stays unreadable: C and D give the same year (a clean "C" came out as "0").
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

import numpy as np
from PIL import Image

from aspa_contract.hetu import CENTURY_SIGNS, CHECK_CHARS, is_valid, mask
from scanner_agent.config import OcrSettings
from scanner_agent.errors import InputRejected
from scanner_agent.ocr import read_region, union_box
from scanner_agent.pages import Box, OcrPage, OcrWord, RegionRead, parked

log = logging.getLogger(__name__)

MAX_AGE_YEARS = 105
_CENTURY_PLACE = 6
_CHECK_PLACE = 10
_AS_DIGIT = {"O": "0", "o": "0", "I": "1", "i": "1", "l": "1", "|": "1", "S": "5", "s": "5",
             "B": "8", "Z": "2", "z": "2"}
_AS_CENTURY = {"0": "UCD", "1": "U", "4": "A", "8": "B"}
_AS_CHECK = {"O": "0", "o": "0", "Q": "0", "I": "1", "i": "1", "l": "1", "|": "1", "Z": "2",
             "z": "2", "G": "6", ")": "J", "]": "J"}
_CHECK_SWAPS = {"S": "5", "5": "S", "B": "8", "8": "B", "D": "0", "0": "D"}
_CENTURY_YEARS = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
_DASHES = str.maketrans({"–": "-", "—": "-", "‐": "-", "‑": "-", "−": "-"})
_D = "[0-9OoIil|SsBZz]"
# Inside a lookahead so candidates may overlap: "-" and "|" can end one run and start another.
_SHAPE = re.compile(
    rf"(?<![0-9A-Za-z])(?=({_D}{{6}}[-+A-Za-z0148]{_D}{{3}}[0-9A-Za-z|)\]])(?![0-9A-Za-z]))"
)


def find_hetu_in_text(text: str, *, today: date | None = None) -> list[tuple[str, str]]:
    """Valid codes in ``text`` as ``(code, method)``, in reading order, each code once.

    ``method`` is ``"text"`` for a code read as it stands and ``"corrected"`` for one recovered
    by the single-replacement rule in this module's docstring. ``today`` bounds the plausible
    birth dates for century-sign replacements (default: the real today).
    """
    found: dict[str, str] = {}
    for raw in _shapes(text):
        result = read_candidate(raw, today=today or date.today())
        if result is not None and result[0] not in found:
            found[result[0]] = result[1]
    return list(found.items())


def read_candidate(raw: str, *, today: date) -> tuple[str, str] | None:
    """``(code, "text"|"corrected")`` for one 11-character run, or None when it is no code."""
    if raw == raw.upper() and is_valid(raw):
        return raw, "text"
    fixes = {fix for fix in _single_fixes(raw) if _acceptable(fix, raw, today)}
    return (fixes.pop(), "corrected") if len(fixes) == 1 else None


def _shapes(text: str) -> Iterator[str]:
    for match in _SHAPE.finditer(text.translate(_DASHES)):
        yield match.group(1)


def _single_fixes(raw: str) -> Iterator[str]:
    """Every string one replacement away from ``raw`` that has the code's character classes."""
    options = [_options(i, c) for i, c in enumerate(raw)]
    broken = [i for i, (allowed, _) in enumerate(options) if not allowed]
    if len(broken) > 1:
        return  # two characters need replacing: more than the rule allows
    places = broken or range(len(raw))
    for i in places:
        for replacement in options[i][1]:
            yield raw[:i] + replacement + raw[i + 1:]


def _options(place: int, char: str) -> tuple[bool, str]:
    """(is ``char`` allowed as is at ``place``, its one-step replacements)."""
    if place == _CENTURY_PLACE:
        upper = char.upper() if char.islower() and char.upper() in CENTURY_SIGNS else ""
        return char in CENTURY_SIGNS, upper + _AS_CENTURY.get(char, "")
    if place == _CHECK_PLACE:
        upper = char.upper() if char.islower() and char.upper() in CHECK_CHARS else ""
        return char in CHECK_CHARS, upper + _AS_CHECK.get(char, "") + _CHECK_SWAPS.get(char, "")
    return char.isdigit(), _AS_DIGIT.get(char, "")


def _acceptable(code: str, raw: str, today: date) -> bool:
    if not is_valid(code) or code != code.upper():
        return False
    if code[_CENTURY_PLACE] == raw[_CENTURY_PLACE]:
        return True
    return _plausible_birth(code, today)


def _plausible_birth(code: str, today: date) -> bool:
    year = _CENTURY_YEARS[code[_CENTURY_PLACE]] + int(code[4:6])
    born = date(year, int(code[2:4]), int(code[0:2]))
    return born <= today and today.year - year <= MAX_AGE_YEARS


# --- Reading the pages -------------------------------------------------------------------------

LABELS = ("henkilötunnus", "personbeteckning", "hetu")
REGION_WHITELIST = "0123456789-+ABCDEFHJKLMNPRSTUVWXY"
_LABEL_MIN_RATIO = 0.8  # "Henkilotunnus", "Henkilötunnu5" still count; "Hakemus" does not
_MAX_LABELS = 4  # each label costs a few small tesseract runs; real forms have one or two
_BOX_SHARE = 0.35  # a field box is at most this share of the page wide (A4: 74 mm)
_BELOW_HEIGHTS = 3  # the value sits within this many label heights under the label
_ENHANCE_SCALE = 3  # enlargement of the enhanced read (2x read about as well on the held-out set)
_RULE_MM = 5.0  # a dark run this long is a ruled line: 12 pt glyphs are 2-3 mm wide and high
ENHANCED_LANGUAGE = "eng"  # digits and capitals only: a model other than the page's
# Tesseract's LSTM confidence (0..100) each read must give the century sign itself. Printed
# signs read right came at 90-99 (a degraded A 89.9, a clean C 95.0: tests/integration/
# test_extract_real.py), handwritten ones at 79-99; a sign misread as a digit or dropped comes
# with no sign to score at all. Disagreement between reads is the stronger guard; this floor
# drops the reads tesseract itself doubts.
MIN_SIGN_CONFIDENCE = 85.0
# A rival century sign tesseract weighed for the same character within this many points of
# the sign it took makes the read doubtful: a script-font Y taken at 93 with V at 70. Rivals
# far behind are usual on right reads (a faint printed Y taken at 98 with V at 56, E at 98
# with F at 34-38), so any rival at all would cost many right codes.
RIVAL_MARGIN = 25.0
_STRIP_LABEL = re.compile(r"[^a-zåäö/]+")
_CODE_GAP = re.compile(r"(?<=[0-9A-Z+-]) +(?=[0-9A-Z+-])")


Verdict = tuple[str | None, str]  # (code or None, method)
SignedCodes = list[tuple[str, float]]  # valid codes in one read, each with its sign's confidence
UNCERTAIN_SIGN = "uncertain_century_sign"
TEXT_REREAD = "hetu re-read of the page text"  # names the call in logs and error details


@dataclass(frozen=True)
class HetuFinding:
    """The customer's hetu as found in a document, or why not.

    ``method`` says where it came from: ``label_box`` (the box by a label, re-read and
    confirmed), ``label_text`` (the label's line in the page text), ``text`` (anywhere, read as
    is), ``corrected`` (anywhere, one OCR confusion undone); or why there is no code:
    ``ambiguous`` (two reads gave different valid codes), ``unconfirmed`` (a code read by a
    label once, never confirmed), ``uncertain_century_sign`` (the code's century sign was not
    read confidently, or reads disagree on it) or ``none``. ``candidates_seen`` counts the
    distinct valid codes met on the way; more than one means the document names others too.
    """

    code: str | None
    method: str
    candidates_seen: int


def find_hetu(pages: list[OcrPage], settings: OcrSettings, *,
              today: date | None = None) -> HetuFinding:
    """The customer's hetu in ``pages``: by a label first, else the first valid code in text.

    Follows the two-witness rule in this module's docstring. Never returns a code that fails
    :func:`aspa_contract.hetu.is_valid`; logs it masked only. ``today`` bounds plausible birth
    dates for century-sign corrections (default: today).
    """
    today = today or date.today()
    seen: set[str] = set()
    labelled = _by_labels(pages, settings, today, seen)
    in_text = [(page, *found) for page in pages
               for found in find_hetu_in_text(page.text, today=today)]
    if labelled is None and seen:
        labelled = None, "unconfirmed"  # a label's box read a code once; never confirmed
    seen.update(code for _, code, _ in in_text)
    if labelled is None and in_text:
        page, first, how = in_text[0]
        labelled = _sign_confirmed(page, first, how, settings, today)
    code, method = labelled or (None, "none")
    if code is None:
        log.info("no hetu taken: %s (%d candidates)", method, len(seen))
    else:
        log.info("hetu %s found by %s (%d candidates)", mask(code), method, len(seen))
    return HetuFinding(code, method, len(seen))


def _by_labels(pages: list[OcrPage], settings: OcrSettings, today: date,
               seen: set[str]) -> Verdict | None:
    """The verdict of the first label that gives one: its boxes first, then its text."""
    for page in pages:
        labels = [w for w in page.words if is_label(w.text)][:_MAX_LABELS]
        verdict = _page_verdict(page, labels, settings, today, seen)
        if verdict is not None:
            return verdict
        if labels:  # its pixels were decoded for the boxes: park them again, or a long
            page.image = parked(page.image)  # document of labelled pages fills memory
    return None


def _page_verdict(page: OcrPage, labels: list[OcrWord], settings: OcrSettings, today: date,
                  seen: set[str]) -> Verdict | None:
    for label in labels:
        full = _codes(_text_near(page, label), today)
        read: set[str] = set()
        for box in _value_boxes(page, label):
            reads = _rereads(page, box, settings, today)
            read.update(code for codes in reads for code, _ in codes)
            verdict = _judge_box(reads, full)
            if verdict is not None:
                seen.update(read, full)
                return verdict
        seen.update(read, full)
        if full:  # no re-read gave a code, or the tie-break above would have decided
            return _sign_confirmed(page, full[0], "label_text", settings, today)
    return None


def _judge_box(reads: tuple[SignedCodes, SignedCodes], full: list[str]) -> Verdict | None:
    """Two reads of one box, with the full-page text as tie-breaker; None: undecided."""
    first, second = reads
    others = [code for code, _ in first + second] + full
    if first and second:
        if first[0][0] != second[0][0]:
            return None, "ambiguous"
        return _signed(first[0][0], [first[0][1], second[0][1]], others)
    one = first or second
    if not one or not full:
        return None
    if full[0] != one[0][0]:
        return None, "ambiguous"
    return _signed(one[0][0], [one[0][1]], others)


def _signed(code: str, confidences: list[float], others: list[str],
            method: str = "label_box") -> Verdict:
    """``code`` when every read saw its century sign confidently and none saw another sign."""
    if min(confidences) < MIN_SIGN_CONFIDENCE or _other_sign(code, others):
        log.info("hetu %s not taken: century sign read with confidence %.0f or contradicted",
                 mask(code), min(confidences))
        return None, UNCERTAIN_SIGN
    return code, method


def _other_sign(code: str, others: list[str]) -> bool:
    """True when one of ``others`` is ``code`` with another century sign."""
    digits = code[:_CENTURY_PLACE] + code[_CENTURY_PLACE + 1:]
    return any(o != code and o[:_CENTURY_PLACE] + o[_CENTURY_PLACE + 1:] == digits
               for o in others)


def _sign_confirmed(page: OcrPage, code: str, method: str, settings: OcrSettings,
                    today: date) -> Verdict:
    """``(code, method)`` for a code from the page text when a re-read of its words shows its
    date and century sign, the sign confidently; else no code (``uncertain_century_sign``)."""
    box = _words_box(page, code, today)
    if box is None:
        return None, UNCERTAIN_SIGN
    crop = _without_rules(page.image.crop(box), _dpi(page))
    read = _read_box(crop, _dpi(page), settings.languages, settings, TEXT_REREAD)
    return _signed(code, [_sign_confidence(read, code)], _codes(read.text, today), method)


def _words_box(page: OcrPage, code: str, today: date) -> Box | None:
    """The box of the word, or two neighbouring words, in which the page text shows ``code``."""
    for i, word in enumerate(page.words):
        pair = page.words[i:i + 2]
        for words in ([word], pair if len(pair) == 2 and pair[1].line == word.line else []):
            text = " ".join(w.text for w in words)
            if words and code in _codes(text, today):
                h = max(w.box[3] - w.box[1] for w in words)
                return _pad(union_box([w.box for w in words]), h // 2, page.image.size)
    return None


def _codes(text: str, today: date) -> list[str]:
    """Valid codes in a label's text or a box read; if none, with the code's own spaces closed.

    OCR splits a code at the century sign now and then ("230967 W904J"); closing the gaps
    between capitals, digits and signs can only glue a code to a neighbour (then no code), or
    rarely forge one, which a second witness must still confirm.
    """
    codes = [c for c, _ in find_hetu_in_text(text, today=today)]
    if codes:
        return codes
    closed = _CODE_GAP.sub("", text)
    return [c for c, _ in find_hetu_in_text(closed, today=today)] if closed != text else []


def _signed_codes(read: RegionRead, today: date) -> SignedCodes:
    """Valid codes in a re-read, each with the confidence of its century sign as read."""
    return [(code, _sign_confidence(read, code)) for code in _codes(read.text, today)]


def _sign_confidence(read: RegionRead, code: str) -> float:
    """Tesseract's confidence in ``code``'s century sign as ``read`` shows it after the date.

    0 when ``read`` shows the code's date followed by no sign or another one, or not at all
    (then this read never saw that sign: a "0" the correction rule made "U" counts as not
    seen), or when tesseract weighed another century sign for that character within
    :data:`RIVAL_MARGIN` of it. The rest of the code may be misread here: the checksum of
    another witness covers it.
    """
    chars = "".join(char for char, _ in read.chars)
    start = chars.find(code[:_CENTURY_PLACE])
    while 0 <= start < len(chars) - _CENTURY_PLACE:
        place = start + _CENTURY_PLACE
        if chars[place] == code[_CENTURY_PLACE]:
            taken = read.chars[place][1]
            rivals = read.rivals[place] if place < len(read.rivals) else ()
            doubted = any(c in CENTURY_SIGNS and conf >= taken - RIVAL_MARGIN
                          for c, conf in rivals)
            return 0.0 if doubted else taken
        start = chars.find(code[:_CENTURY_PLACE], start + 1)
    return 0.0


def _rereads(page: OcrPage, box: Box, settings: OcrSettings,
             today: date) -> tuple[SignedCodes, SignedCodes]:
    """Valid codes in the box read as scanned and read enhanced (see the module docstring)."""
    return (_signed_codes(_read_as_scanned(page, box, settings), today),
            _signed_codes(_read_enhanced(page, box, settings), today))


def _read_box(crop: Image.Image, dpi: int, languages: str, settings: OcrSettings,
              call: str) -> RegionRead:
    """One whitelisted read of a whole crop; a failed read is one witness fewer, never more.

    Tesseract 5.3 dies with SIGFPE on some small crops: that costs this clue, not the document.
    """
    try:
        return read_region(crop, (0, 0, crop.width, crop.height), whitelist=REGION_WHITELIST,
                           psm=7, settings=settings.model_copy(update={"languages": languages}),
                           dpi=dpi, call=call)
    except InputRejected as exc:
        log.warning("%s failed, read without it: %s", call, exc.detail)
        return RegionRead("")


def _read_as_scanned(page: OcrPage, box: Box, settings: OcrSettings) -> RegionRead:
    """The box at scan size with the page's languages: the first witness."""
    crop = _without_rules(page.image.crop(box), _dpi(page))
    return _read_box(crop, _dpi(page), settings.languages, settings,
                     "hetu box re-read (as scanned)")


def _read_enhanced(page: OcrPage, box: Box, settings: OcrSettings) -> RegionRead:
    """The box contrast-stretched, enlarged and read by another model: the second witness.

    Stretched because shadows and JPEG leave grey glyphs on grey paper; enlarged because
    tesseract tells century signs apart better on bigger glyphs (a blurred "Y" read as "V" at
    scan size, right at 2x); another model because its mistakes differ from the first read's,
    which is what makes agreement mean something.
    """
    big = _stretch(_without_rules(page.image.crop(box), _dpi(page))).resize(
        (_ENHANCE_SCALE * (box[2] - box[0]), _ENHANCE_SCALE * (box[3] - box[1])),
        Image.Resampling.LANCZOS)
    return _read_box(big, _dpi(page) * _ENHANCE_SCALE, ENHANCED_LANGUAGE, settings,
                     "hetu box re-read (enhanced)")


def _stretch(crop: Image.Image) -> Image.Image:
    """``crop`` with its 2nd..98th percentile grey levels spread over the full range."""
    pixels = np.asarray(crop.convert("L"), dtype=np.float32)
    low, high = np.percentile(pixels, (2, 98))
    if high - low < 1:
        return crop.convert("L")
    stretched = (pixels - low) * (255 / (high - low))
    return Image.fromarray(np.clip(stretched, 0, 255).astype(np.uint8), "L")


def _without_rules(crop: Image.Image, dpi: int) -> Image.Image:
    """``crop`` with the field's ruled lines whitened: dark runs longer than any glyph stroke.

    A box border caught in the crop (the crop is cut from a skewed page) made both re-reads
    come back empty; tesseract reads the code alone.
    """
    gray = crop.convert("L")
    pixels = np.asarray(gray)
    low, high = np.percentile(pixels, (2, 98))
    dark = pixels < (int(low) + int(high)) // 2
    length = max(2, round(_RULE_MM / 25.4 * dpi))
    rules = _long_runs(dark, length) | _long_runs(dark.T, length).T
    if not rules.any():
        return gray
    cleaned = pixels.copy()
    cleaned[rules] = 255
    return Image.fromarray(cleaned, "L")


def _long_runs(dark: np.ndarray, length: int) -> np.ndarray:
    """Pixels of ``dark`` lying in a run of at least ``length`` along each row."""
    if dark.shape[1] < length:
        return np.zeros(dark.shape, dtype=bool)
    sums = np.cumsum(np.pad(dark, ((0, 0), (1, 0))).astype(np.int32), axis=1)
    starts = (sums[:, length:] - sums[:, :-length]) == length  # a full run starts here
    # A pixel is covered when a full run starts at most length - 1 places to its left.
    padded = np.pad(starts, ((0, 0), (length, length - 1))).astype(np.int32)
    reach = np.cumsum(padded, axis=1)
    return (reach[:, length:] - reach[:, :-length]) > 0


def is_label(text: str) -> bool:
    """True when an OCR word reads as a hetu label, allowing an OCR slip or a trailing colon."""
    for part in _STRIP_LABEL.sub("", text.lower()).split("/"):
        if part == "hetu" or any(
            len(part) > 4 and SequenceMatcher(None, part, label).ratio() >= _LABEL_MIN_RATIO
            for label in LABELS
        ):
            return True
    return False


def _value_boxes(page: OcrPage, label: OcrWord) -> list[Box]:
    """Where the label's value is: code-like words OCR saw right of or under it, then the blind
    areas under it (Kela's ruled boxes) and right of it, for when OCR saw nothing there."""
    left, top, right, bottom = label.box
    width, height = page.image.size
    h = bottom - top
    reach = round(width * _BOX_SHARE)
    read = [_pad(w.box, h // 2, page.image.size) for w in _near(page, label) if _code_like(w.text)]
    below = (max(0, left - h), bottom, min(width, left + reach),
             min(height, bottom + _BELOW_HEIGHTS * h))
    beside = (right + h // 2, max(0, top - h), min(width, right + reach), min(height, bottom + h))
    blind = [b for b in (below, beside) if b[2] - b[0] > h and b[3] - b[1] > h // 2]
    return read + blind


def _near(page: OcrPage, label: OcrWord) -> list[OcrWord]:
    """The words after ``label`` on its line, then those under it, in reading order."""
    left, top, _, bottom = label.box
    h = bottom - top
    reach = round(page.image.size[0] * _BOX_SHARE)
    after = [w for w in page.words if w.line == label.line and w.box[0] > label.box[0]]
    under = [w for w in page.words
             if w.line != label.line and bottom <= w.box[1] <= bottom + _BELOW_HEIGHTS * h
             and left - h <= w.box[0] <= left + reach]
    return after + under


def _code_like(text: str) -> bool:
    """Roughly eleven characters, mostly digits: worth a careful second read."""
    digits = sum(c.isdigit() or c in _AS_DIGIT for c in text)
    return 9 <= len(text) <= 13 and digits >= 7


def _pad(box: Box, pad: int, size: tuple[int, int]) -> Box:
    return (max(0, box[0] - pad), max(0, box[1] - pad),
            min(size[0], box[2] + pad), min(size[1], box[3] + pad))


def _text_near(page: OcrPage, label: OcrWord) -> str:
    """The words after ``label`` on its line and those under it, as the page's OCR read them."""
    return " ".join(w.text for w in _near(page, label))


def _dpi(page: OcrPage) -> int:
    """The page's resolution: from the image when it says, else as if the page were A4 wide."""
    dpi = page.image.info.get("dpi")
    if dpi:
        return round(dpi[0])
    return round(page.image.size[0] / (210 / 25.4))
