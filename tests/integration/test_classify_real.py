"""The rule classifier on real tesseract output of synthetic pages: every catalogue form, in
Finnish and Swedish, is named right from a clean page 1, and a letter naming a code is not."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from classifiers.base import Classification, DocumentText, PageText
from classifiers.catalogue import Form, load_catalogue
from classifiers.rules import RuleClassifier
from classifiers.synth import render_form, render_letter
from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.ocr import ocr_page
from scanner_agent.pages import RawPage
from scanner_agent.prepare import prepare_page

pytestmark = pytest.mark.integration

CATALOGUE = load_catalogue()
LANGUAGES = ("fi", "sv")
CASES = [(form, lang) for form in CATALOGUE.forms for lang in LANGUAGES]
LETTERS = [("letter", lang) for lang in LANGUAGES]


def _case_id(case: tuple[Form, str]) -> str:
    form, lang = case
    return f"{form.code}{'/' + form.variant if form.variant else ''}-{lang}".replace(" ", "")


def _read(image: Image.Image) -> PageText:
    ocr = OcrSettings()
    prepared = prepare_page(RawPage(image=image, number=1, dpi=300), PrepareSettings(), ocr)
    assert prepared is not None
    return ocr_page(prepared, ocr).page_text()


def _render(case: tuple[Form | str, str]) -> Image.Image:
    what, lang = case
    if isinstance(what, Form):
        # Page 1 only: it carries header, title and footer, and keeps tesseract's bill low.
        return render_form(what, lang, seed=7, pages=1).pages[0]
    return render_letter(lang, seed=7, mention_code="TO 1").pages[0]


@pytest.fixture(scope="module")
def answers() -> dict[str, Classification]:
    """Every case rendered, OCR'd (one tesseract per core) and classified once."""
    cases: list[tuple[Form | str, str]] = [*CASES, *LETTERS]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        pages = list(pool.map(lambda case: _read(_render(case)), cases))
    rules = RuleClassifier(CATALOGUE)
    ids = [_case_id(c) if isinstance(c[0], Form) else f"letter-{c[1]}" for c in cases]
    return {i: rules.classify(DocumentText((page,))) for i, page in zip(ids, pages, strict=True)}


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_every_catalogue_form_is_named_from_a_clean_first_page(
    answers: dict[str, Classification], case: tuple[Form, str]
) -> None:
    """GIVEN page 1 of a form rendered in Finnish or Swedish, read by tesseract
    WHEN classified by rules THEN code, variant and language are right, and evidence agrees."""
    form, lang = case
    result = answers[_case_id(case)]
    assert (result.kind, result.form_code, result.form_variant, result.language) == (
        "form", form.code, form.variant, lang)
    assert result.confidence >= 0.6
    assert any(e.kind == "title" for e in result.evidence)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_letter_naming_to_1_in_its_text_is_unknown(
    answers: dict[str, Classification], lang: str
) -> None:
    """GIVEN a letter whose body says "Liitä hakemukseen TO 1 …" WHEN classified
    THEN it is unknown, with the code noted only as a mention."""
    result = answers[f"letter-{lang}"]
    assert (result.kind, result.form_code, result.language) == ("unknown", None, lang)
    assert all(e.kind == "mentioned_code" for e in result.evidence)
