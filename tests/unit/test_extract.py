"""The hetu extractor: valid codes only, one OCR confusion at most and only when unique, and the
code by the "Henkilötunnus" label preferred over others on the page (OCR faked here)."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from PIL import Image

from aspa_contract.hetu import CENTURY_SIGNS, check_character, is_valid
from scanner_agent import extract
from scanner_agent.config import OcrSettings
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.extract import find_hetu, find_hetu_in_text, is_label
from scanner_agent.pages import Box, OcrLine, OcrPage, OcrWord, RegionRead

TODAY = date(2025, 6, 1)
# Test codes only (individual number 900-999).
CODE_1900 = "010594Y9032"
CODE_2000 = "020516C903K"
CODE_DASH = "010594-9032"


def make_code(ddmmyy: str, sign: str, nnn: str) -> str:
    return f"{ddmmyy}{sign}{nnn}{check_character(ddmmyy + nnn)}"


def found(text: str) -> list[tuple[str, str]]:
    return find_hetu_in_text(text, today=TODAY)


@pytest.mark.parametrize("sign", list(CENTURY_SIGNS))
def test_a_valid_code_with_every_century_sign_is_found_as_read(sign: str) -> None:
    """GIVEN a valid code with century sign ``sign`` in a sentence
    WHEN the text is searched THEN exactly that code is returned, uncorrected."""
    year = "88" if sign == "+" else "94" if sign in "-YXWVU" else "16"
    code = make_code(f"0105{year}", sign, "903")
    assert is_valid(code)
    assert found(f"Henkilötunnus: {code}, puhelin 040 123") == [(code, "text")]


def test_a_code_whose_check_character_is_wrong_is_never_returned() -> None:
    wrong = CODE_1900[:-1] + ("3" if CODE_1900[-1] != "3" else "4")
    assert found(f"hetu {wrong}") == []


def test_a_code_with_an_impossible_date_is_not_returned() -> None:
    digits = "310294903"  # 31 February
    assert found(f"{digits[:6]}-{digits[6:]}{check_character(digits)}") == []


@pytest.mark.parametrize(
    ("read", "meant"),
    [
        ("O10594Y9032", CODE_1900),  # O for 0 in the date
        ("010594Y9O32", CODE_1900),  # O for 0 in the individual number
        ("0l0594Y9032", CODE_1900),  # l for 1
        ("010594Y9O3Z", None),  # two confusions: more than one replacement
        ("020516C903k", CODE_2000),  # lower-case check character
        ("020516c903K", CODE_2000),  # lower-case century sign
        ("0205164903K", "020516A903K"),  # A read as 4; + (1816) is too old to be alive
        ("01059419032", "010594U9032"),  # U read as 1
        ("01059409032", "010594U9032"),  # 0 could be U, C or D, but C/D make 2094: the future
        ("0205160903K", None),  # 0 as C or D: both 2016, the checksum cannot tell them apart
        ("010594–9032", CODE_DASH),  # an en dash is a hyphen (not a correction)
    ],
)
def test_one_ocr_confusion_is_undone_when_exactly_one_fix_checks(
    read: str, meant: str | None
) -> None:
    expected = [] if meant is None else [(meant, "text" if "–" in read else "corrected")]
    assert found(f"Henkilötunnus {read}") == expected


def test_a_century_fix_that_leaves_two_plausible_birth_dates_is_refused() -> None:
    """GIVEN a 2030 code (sign D) whose sign was read as "0", which could be U or D
    WHEN read in mid-2031, both 1930 (age 101) and 2030 are plausible THEN nothing is returned;
    WHEN read in 2025, 2030 is in the future THEN the U reading is the one fix left."""
    code_d = make_code("010130", "D", "905")
    read = code_d[:6] + "0" + code_d[7:]
    assert find_hetu_in_text(read, today=date(2031, 6, 1)) == []
    assert find_hetu_in_text(read, today=date(2025, 1, 1)) == [
        (code_d[:6] + "U" + code_d[7:], "corrected")
    ]


def test_a_wrong_digit_is_not_guessed_even_when_another_digit_would_check() -> None:
    """Digit-for-digit slips are not in the confusion table: 8 read as 3 stays unreadable."""
    read = CODE_1900[:3] + "3" + CODE_1900[4:]  # 010394...: a valid date, wrong checksum
    assert found(read) == []


@pytest.mark.parametrize(
    ("nnn", "as_read"),
    [("913", "5"), ("925", "S"), ("900", "8"), ("928", "B"), ("902", "0"), ("920", "D"),
     ("906", ")")],
)
def test_a_check_character_read_as_its_look_alike_is_recovered(nnn: str, as_read: str) -> None:
    code = make_code("150390", "-", nnn)
    assert found(f"{code[:-1]}{as_read} ") == [(code, "corrected")]


def test_a_check_character_no_confusion_explains_stays_unreadable() -> None:
    code = make_code("150390", "-", "913")  # check character S
    assert found(code[:-1] + "G") == []


def test_codes_glued_to_other_characters_are_not_codes() -> None:
    assert found(f"X{CODE_1900}") == []
    assert found(f"{CODE_1900}7") == []


def test_every_distinct_code_is_listed_once_in_reading_order() -> None:
    text = f"{CODE_2000} ja {CODE_1900}, uudelleen {CODE_2000}"
    assert found(text) == [(CODE_2000, "text"), (CODE_1900, "text")]


@pytest.mark.parametrize("word", ["Henkilötunnus", "Henkilötunnus:", "HENKILÖTUNNUS",
                                  "Henkilotunnus", "Personbeteckning", "Hetu",
                                  "Henkilötunnus/Personbeteckning"])
def test_label_words_are_recognised_despite_case_colon_and_a_slip(word: str) -> None:
    assert is_label(word)


@pytest.mark.parametrize("word", ["Hakemus", "Henkilö", "Puhelinnumero", "het"])
def test_other_words_are_not_labels(word: str) -> None:
    assert not is_label(word)


# --- find_hetu with fake OCR pages -------------------------------------------------------------


def _page(rows: list[list[tuple[str, Box]]], number: int = 1) -> OcrPage:
    words = [OcrWord(text, box, 95.0, i) for i, row in enumerate(rows) for text, box in row]
    lines = [OcrLine(" ".join(t for t, _ in row), row[0][1]) for row in rows]
    return OcrPage(number=number, image=Image.new("L", (2480, 3508), 255), words=words,
                   lines=lines, header="", footer="", pdf=b"")


class FakeRegions:
    """Stands in for tesseract's re-read of a box: gives ``answers`` in call order, then "";
    a re-read of a code found in the page text gives ``text_reread``.

    Each character comes with confidence ``confidence`` (tesseract's 0..100) and ``rival``
    among its alternatives.
    """

    def __init__(self, *answers: str, confidence: float = 99.0, text_reread: str = "",
                 rival: tuple[str, float] | None = None) -> None:
        self.answers = list(answers)
        self.confidence = confidence
        self.rival = rival  # a choice tesseract also weighed, for every character
        self.text_reread = text_reread  # the answer to re-reads of a code in the page text
        self.whitelists: list[str | None] = []
        self.languages: list[str] = []

    def __call__(self, image: Image.Image, box: Box, *, whitelist: str | None, psm: int = 7,
                 settings: OcrSettings, dpi: int = 300, call: str = "") -> RegionRead:
        self.whitelists.append(whitelist)
        self.languages.append(settings.languages)
        if call == extract.TEXT_REREAD:
            text = self.text_reread
        else:
            text = self.answers.pop(0) if self.answers else ""
        chars = tuple((c, self.confidence) for c in text if c != " ")
        return RegionRead(text, chars, tuple((self.rival,) if self.rival else () for _ in chars))


LABEL_BOX = (200, 1000, 520, 1030)
VALUE_BOX = (210, 1060, 560, 1110)


def _form_page(value_as_read: str, elsewhere: str = "") -> OcrPage:
    rows = [[("Hakemus", (200, 300, 400, 340))],
            [("Henkilötunnus", LABEL_BOX), ("Puhelinnumero", (1250, 1000, 1600, 1030))],
            [(value_as_read, VALUE_BOX), ("040", (1260, 1060, 1330, 1110))]]
    if elsewhere:
        rows.append([("Lapsen", (200, 2000, 350, 2040)), (elsewhere, (400, 2000, 750, 2040))])
    return _page(rows)


def test_the_labelled_box_re_read_wins_over_a_wrong_check_character_in_the_page_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN full-page OCR misread the check character (no valid code there) and both
    whitelisted re-reads of the box under "Henkilötunnus" read the code right, its century
    sign confidently WHEN the hetu is looked for THEN the re-read code is taken."""
    right = make_code("120385", "U", "934")
    fake = FakeRegions(right, right)
    monkeypatch.setattr(extract, "read_region", fake)
    finding = find_hetu([_form_page(right[:-1] + "?")], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method, finding.candidates_seen) == (right, "label_box", 1)
    assert fake.whitelists == [extract.REGION_WHITELIST] * 2
    assert fake.languages == [OcrSettings().languages, extract.ENHANCED_LANGUAGE]


def test_the_page_text_showing_another_century_sign_than_the_box_reads_gives_no_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN full-page OCR read the century sign U as V (another person's valid code: the
    checksum does not cover the sign) and both re-reads of the box read U
    WHEN the hetu is looked for THEN no code, "uncertain_century_sign": the reads disagree on
    the very character that tells the two people apart."""
    right = make_code("120385", "U", "934")
    wrong = right[:6] + "V" + right[7:]
    monkeypatch.setattr(extract, "read_region", FakeRegions(right, right))
    finding = find_hetu([_form_page(wrong)], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method, finding.candidates_seen) == (
        None, "uncertain_century_sign", 2)


def test_two_reads_of_the_box_giving_different_valid_codes_give_no_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN the box by "Henkilötunnus" read as scanned gives a C-century code and the enhanced
    read the same code with D (both valid: the checksum does not cover the sign)
    WHEN the hetu is looked for THEN no code, method "ambiguous", even though the page text
    and the page's other code would offer one: a wrong code attaches to another person."""
    with_c = make_code("170511", "C", "977")
    with_d = with_c[:6] + "D" + with_c[7:]
    monkeypatch.setattr(extract, "read_region", FakeRegions(with_c, with_d))
    finding = find_hetu([_form_page(with_c, elsewhere=CODE_1900)], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method) == (None, "ambiguous")
    assert finding.candidates_seen == 3


def test_one_read_of_the_box_is_confirmed_by_the_page_text_by_the_label(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN the enhanced re-read finds nothing and the as-scanned one a code
    WHEN the full-page text under the label holds the same code THEN it is accepted."""
    monkeypatch.setattr(extract, "read_region", FakeRegions(CODE_2000, "-"))
    finding = find_hetu([_form_page(CODE_2000)], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method) == (CODE_2000, "label_box")


def test_one_read_contradicted_by_the_page_text_by_the_label_gives_no_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with_e = make_code("161202", "E", "953")
    with_f = with_e[:6] + "F" + with_e[7:]
    monkeypatch.setattr(extract, "read_region", FakeRegions("", with_f))
    finding = find_hetu([_form_page(with_e)], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method) == (None, "ambiguous")


def test_a_code_read_by_the_label_once_and_never_confirmed_gives_no_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN one re-read of the labelled box gives a code, the other re-read and the page text
    by the label give none WHEN the hetu is looked for THEN no code ("unconfirmed"), and the
    search does not fall back to another code elsewhere on the page."""
    monkeypatch.setattr(extract, "read_region", FakeRegions(CODE_2000))
    finding = find_hetu([_form_page("Puhelin", elsewhere=CODE_1900)], OcrSettings(),
                        today=TODAY)
    assert (finding.code, finding.method) == (None, "unconfirmed")


def test_a_code_split_at_the_century_sign_by_ocr_is_still_a_witness(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN the page text reads the code as two words ("020516 C903K") and one re-read gives
    the code THEN the split page text confirms it."""
    monkeypatch.setattr(extract, "read_region", FakeRegions(CODE_2000, ""))
    split = [(CODE_2000[:6], (210, 1060, 400, 1110)), (CODE_2000[6:], (420, 1060, 560, 1110))]
    page = _page([[("Henkilötunnus", LABEL_BOX)], split])
    assert find_hetu([page], OcrSettings(), today=TODAY).code == CODE_2000


def test_the_label_text_is_used_when_the_re_read_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN no re-read of the label's boxes gives a code, the page text by the label does, and
    a re-read of that code's words shows its century sign confidently THEN that code."""
    monkeypatch.setattr(extract, "read_region", FakeRegions(text_reread=CODE_2000))
    finding = find_hetu([_form_page(CODE_2000, elsewhere=CODE_1900)], OcrSettings(), today=TODAY)
    assert finding == extract.HetuFinding(CODE_2000, "label_text", 2)


def test_without_a_label_the_first_code_on_the_first_page_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(extract, "read_region", FakeRegions(text_reread=CODE_2000))
    first = _page([[("Tiliote", (200, 300, 400, 340)), (CODE_2000, (500, 300, 800, 340))]])
    second = _page([[("Liite", (200, 300, 400, 340)), (CODE_1900, (500, 300, 800, 340))]], 2)
    finding = find_hetu([first, second], OcrSettings(), today=TODAY)
    assert finding == extract.HetuFinding(CODE_2000, "text", 2)


def test_a_corrected_code_in_plain_text_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "read_region", FakeRegions(text_reread=CODE_1900))
    page = _page([[("Asiakas", (200, 300, 400, 340)), ("O10594Y9032", (500, 300, 800, 340))]])
    assert find_hetu([page], OcrSettings(), today=TODAY).method == "corrected"


def test_an_invalid_code_by_the_label_gives_none_and_is_not_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN the only code on the page fails its checksum, both as read and as re-read
    WHEN the hetu is looked for THEN none is returned, and no log line holds the digits."""
    wrong = CODE_1900[:-1] + "4"
    monkeypatch.setattr(extract, "read_region", FakeRegions(wrong, wrong, wrong))
    with caplog.at_level(logging.DEBUG, logger="scanner_agent.extract"):
        finding = find_hetu([_form_page(wrong)], OcrSettings(), today=TODAY)
    assert finding == extract.HetuFinding(None, "none", 0)
    assert CODE_1900[:6] not in caplog.text


def test_a_found_code_is_logged_masked_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(extract, "read_region", FakeRegions(CODE_1900, CODE_1900))
    with caplog.at_level(logging.DEBUG, logger="scanner_agent.extract"):
        assert find_hetu([_form_page(CODE_1900)], OcrSettings(), today=TODAY).code == CODE_1900
    assert "010594Y***2" in caplog.text
    assert CODE_1900 not in caplog.text


def test_no_code_anywhere_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract, "read_region", FakeRegions())
    page = _page([[("Vuokrasopimus", (200, 300, 600, 340))]])
    assert find_hetu([page], OcrSettings(), today=TODAY) == extract.HetuFinding(None, "none", 0)


# --- the century sign: accepted only on a confident read of that very character --------------


def test_two_agreeing_reads_with_a_doubtful_century_sign_give_no_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN both re-reads of the labelled box give the same valid code, but tesseract's
    confidence in its century sign is low (a handwritten W read as U comes out like this)
    WHEN the hetu is looked for THEN no code, "uncertain_century_sign"."""
    doubtful = extract.MIN_SIGN_CONFIDENCE - 5
    monkeypatch.setattr(extract, "read_region",
                        FakeRegions(CODE_1900, CODE_1900, confidence=doubtful))
    finding = find_hetu([_form_page(CODE_1900)], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method) == (None, "uncertain_century_sign")


@pytest.mark.parametrize(("rival", "taken"), [(("V", 80.0), False), (("9", 95.0), True),
                                             (("V", 56.0), True)])
def test_a_century_sign_tesseract_weighed_another_sign_for_is_not_taken(
    monkeypatch: pytest.MonkeyPatch, rival: tuple[str, float], taken: bool
) -> None:
    """GIVEN both re-reads give the code with Y at 99, and tesseract's choices for that
    character include ``rival`` WHEN the hetu is looked for THEN it is taken only when the
    rival is no century sign, or one far behind (a right faint Y: taken at 98, V at 56)."""
    monkeypatch.setattr(extract, "read_region", FakeRegions(CODE_1900, CODE_1900, rival=rival))
    finding = find_hetu([_form_page(CODE_1900)], OcrSettings(), today=TODAY)
    assert finding.code == (CODE_1900 if taken else None)


def test_a_century_sign_reached_only_by_correction_is_not_a_confident_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN one re-read shows the code with its U, the other shows "0" in the sign's place
    (the correction rule makes that U) WHEN the hetu is looked for THEN no code: the second
    read never saw a U."""
    code = make_code("120385", "U", "934")
    as_zero = code[:6] + "0" + code[7:]
    monkeypatch.setattr(extract, "read_region", FakeRegions(code, as_zero))
    finding = find_hetu([_form_page(code)], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method) == (None, "uncertain_century_sign")


def test_a_code_in_plain_text_whose_re_read_shows_another_sign_gives_no_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """GIVEN a letter's text holds a valid code (no label), and the re-read of its words reads
    the century sign otherwise (W for V) WHEN the hetu is looked for THEN no code."""
    with_v = make_code("230967", "V", "904")
    with_w = with_v[:6] + "W" + with_v[7:]
    monkeypatch.setattr(extract, "read_region", FakeRegions(text_reread=with_w))
    page = _page([[("Asiakas", (200, 300, 400, 340)), (with_v, (500, 300, 800, 340))]])
    finding = find_hetu([page], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method) == (None, "uncertain_century_sign")


def test_a_code_in_plain_text_that_cannot_be_re_read_gives_no_code(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(extract, "read_region", FakeRegions())
    page = _page([[("Asiakas", (200, 300, 400, 340)), (CODE_1900, (500, 300, 800, 340))]])
    finding = find_hetu([page], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method) == (None, "uncertain_century_sign")


class CrashingFirstRead(FakeRegions):
    """The as-scanned re-read dies as tesseract 5.3 does on some crops; later reads answer."""

    def __call__(self, image: Image.Image, box: Box, *, whitelist: str | None, psm: int = 7,
                 settings: OcrSettings, dpi: int = 300, call: str = "") -> RegionRead:
        if not self.whitelists:
            self.whitelists.append(whitelist)
            raise InputRejected(RejectCode.OCR_FAILED,
                                f"{call}: tesseract killed by SIGFPE (Line cannot be recognized!!)")
        return super().__call__(image, box, whitelist=whitelist, psm=psm, settings=settings,
                                dpi=dpi, call=call)


def test_a_crashing_box_read_costs_that_witness_only(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """GIVEN tesseract dies on the as-scanned re-read of the labelled box, and the enhanced
    re-read and the page text by the label agree WHEN the hetu is looked for
    THEN the code is found, and the log says which reading failed and why."""
    monkeypatch.setattr(extract, "read_region", CrashingFirstRead(CODE_2000))
    with caplog.at_level(logging.WARNING, logger="scanner_agent.extract"):
        finding = find_hetu([_form_page(CODE_2000)], OcrSettings(), today=TODAY)
    assert (finding.code, finding.method) == (CODE_2000, "label_box")
    assert "hetu box re-read (as scanned) failed" in caplog.text
    assert "SIGFPE" in caplog.text
