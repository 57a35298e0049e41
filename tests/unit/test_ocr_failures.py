"""A failed tesseract reading costs its clue, not the page: full-page retries, strips from the
page's lines, and error details that say which reading failed and why (tesseract faked here;
tests/integration/test_ocr_failures.py runs a real dying process)."""

from __future__ import annotations

import pytest
from PIL import Image

from scanner_agent import ocr
from scanner_agent.config import OcrSettings
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.ocr import ocr_page, parse_hocr_chars
from scanner_agent.pages import PreparedPage
from scanner_agent.tesseract import TesseractCrashed, exit_reason

TSV_HEADER = ("level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\t"
              "height\tconf\ttext\n")
TSV = TSV_HEADER + "5\t1\t1\t1\t1\t1\t100\t50\t200\t40\t95.0\tHakemus\n"
CRASH = "tesseract killed by SIGFPE (Line cannot be recognized!!)"


class FakeTesseract:
    """Answers ``run_tesseract``: dies on the calls whose name contains one of ``dies_on``."""

    def __init__(self, *dies_on: str) -> None:
        self.dies_on = dies_on
        self.calls: list[str] = []

    def __call__(self, image: Image.Image, dpi: int, args: list[str], settings: OcrSettings,
                 *, outputs: tuple[str, ...] = (), call: str = "") -> dict[str, bytes]:
        self.calls.append(call)
        if any(part in call for part in self.dies_on):
            raise TesseractCrashed(RejectCode.OCR_FAILED, f"{call}: {CRASH}")
        return {"stdout": b"", "tsv": TSV.encode()}


def _page() -> PreparedPage:
    return PreparedPage(image=Image.new("L", (400, 600), 255), number=2, dpi=300)


@pytest.mark.parametrize(("code", "stderr", "reason"), [
    (-8, "Warning...\nLine cannot be recognized!!\n", CRASH),
    (-11, "", "tesseract killed by SIGSEGV (no message)"),
    (1, "Error: could not open image\n\n", "tesseract exited with 1 (Error: could not open image)"),
])
def test_the_reason_says_how_tesseract_ended_and_its_last_words(code: int, stderr: str,
                                                                 reason: str) -> None:
    assert exit_reason(code, stderr) == reason


def test_a_full_page_crash_is_retried_and_the_page_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeTesseract("(psm 3)")
    monkeypatch.setattr(ocr, "run_tesseract", fake)
    page = ocr_page(_page(), OcrSettings())
    assert page.text == "Hakemus"
    assert page.warnings == ["ocr_retried:psm_6"]
    assert fake.calls[:2] == ["page 2 full-page reading (psm 3)",
                              "page 2 full-page reading (psm 6)"]


def test_a_page_every_try_fails_on_names_each_try(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "run_tesseract", FakeTesseract("full-page"))
    with pytest.raises(InputRejected) as caught:
        ocr_page(_page(), OcrSettings())
    assert caught.value.detail == "every full-page try failed: " + "; ".join(
        f"page 2 full-page reading ({name}): {CRASH}"
        for name in ("psm 3", "psm 6", "cleaned copy"))


def test_a_timeout_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    """A timeout would only cost the same minutes again: the page is rejected at once."""
    def timing_out(*args: object, call: str = "", **kwargs: object) -> dict[str, bytes]:
        raise InputRejected(RejectCode.OCR_FAILED, f"{call}: tesseract timed out after 120 s")
    monkeypatch.setattr(ocr, "run_tesseract", timing_out)
    with pytest.raises(InputRejected) as caught:
        ocr_page(_page(), OcrSettings())
    assert caught.value.detail == (
        "page 2 full-page reading (psm 3): tesseract timed out after 120 s")


def test_failed_strips_are_taken_from_the_page_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "run_tesseract", FakeTesseract("header/footer"))
    page = ocr_page(_page(), OcrSettings())
    assert page.header == "Hakemus"  # the line lies in the top 15% of the page
    assert page.warnings == ["strips_unread"]


def test_hocr_gives_each_character_with_its_confidence() -> None:
    hocr = (
        "<html><body><div class='ocr_page'><span class='ocr_line'>"
        "<span class='ocrx_word' title='bbox 1 2 3 4; x_wconf 90'>"
        "<span class='ocrx_cinfo' title='x_bboxes 1 2 3 4; x_conf 99.5'>0</span>"
        "<span class='ocrx_cinfo' title='x_bboxes 1 2 3 4; x_conf 71.25'>&#45;</span>"
        "</span> <span class='ocrx_word' title='bbox 5 2 7 4; x_wconf 80'>"
        "<span class='ocrx_cinfo' title='x_bboxes 5 2 7 4; x_conf 80'>W</span>"
        "</span></span></div></body></html>")
    read = parse_hocr_chars(hocr)
    assert read.text == "0- W"
    assert read.chars == (("0", 99.5), ("-", 71.25), ("W", 80.0))


def test_hocr_choices_give_each_character_its_rivals() -> None:
    """GIVEN hOCR with LSTM choices (lstm_choice_mode=2) THEN each character's rivals are the
    choices other than the one taken, with their confidences."""
    hocr = (
        "<span class='ocrx_word' title='bbox 1 2 3 4; x_wconf 29'>"
        "<span class='ocrx_cinfo' title='x_bboxes 1 2 3 4; x_conf 89.97'>Y</span>"
        "<span class='ocrx_cinfo' id='lstm_choices_1_1_7'>"
        "<span class='ocrx_cinfo' id='choice_1_1_22' title='x_confs 79.87'>Y</span>"
        "<span class='ocrx_cinfo' id='choice_1_1_23' title='x_confs 73.57'>9</span>"
        "<span class='ocrx_cinfo' id='choice_1_1_24' title='x_confs 56.85'>V</span></span>"
        "<span class='ocrx_cinfo' title='x_bboxes 5 2 7 4; x_conf 99'>9</span>"
        "</span>")
    read = parse_hocr_chars(hocr)
    assert read.chars == (("Y", 89.97), ("9", 99.0))
    assert read.rivals == ((("9", 73.57), ("V", 56.85)), ())
