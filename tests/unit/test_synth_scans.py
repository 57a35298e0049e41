"""Synthetic non-forms (bills, manuals, guides), arrival stamps and the newer scan effects."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops

from classifiers.catalogue import load_catalogue
from classifiers.synth import degrade, render_form
from classifiers.synth.bills import reference_number, render_bill
from classifiers.synth.canvas import Fonts
from classifiers.synth.manuals import render_manual
from classifiers.synth.scanning import ScanEffects, apply_effects
from classifiers.synth.stamps import add_stamp, stamp_text

CATALOGUE = load_catalogue()
FORM_CODE = re.compile(r"\b(TO|AT|AE|OT|KM|TT|SV|LL|WH|EV|KU|Y) ?\d{1,3}r?\b")


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return render_form(CATALOGUE.by_code("TO 1")[0], "fi", seed=1, pages=1, dpi=100).pages[0]


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_bills_are_unknown_name_no_form_code_and_are_seeded(language: str) -> None:
    for seed in range(6):
        bill = render_bill(language, seed=seed, dpi=75)
        assert (bill.label, bill.language, len(bill.pages)) == ("unknown", language, 1)
        assert not FORM_CODE.search(bill.texts[0])
        titles = ("FAKTURA", "RÄKNING") if language == "sv" else ("LASKU",)
        assert any(title in bill.texts[0] for title in titles)
    again = render_bill(language, seed=3, dpi=75)
    assert ImageChops.difference(again.pages[0], render_bill(language, seed=3, dpi=75).pages[0]
                                 ).getbbox() is None


def test_only_the_patient_bill_shows_a_requested_hetu() -> None:
    bills = [render_bill("fi", seed=s, hetu="random", dpi=75) for s in range(12)]
    shown = [b for b in bills if "POTILASLASKU" in b.texts[0]]
    assert shown and all(b.hetu and b.hetu in b.texts[0] for b in shown)
    assert all(b.hetu is None for b in bills if b not in shown)


def test_reference_numbers_carry_the_finnish_7_3_1_check_digit() -> None:
    for seed in range(20):
        digits = reference_number(random.Random(seed)).replace(" ", "")
        weights = [7, 3, 1] * 10
        total = sum(int(d) * w for d, w in zip(reversed(digits[:-1]), weights, strict=False))
        assert int(digits[-1]) == (10 - total % 10) % 10


def test_a_guide_mentions_the_code_in_running_text_and_is_still_unknown() -> None:
    guide = render_manual("fi", seed=1, pages=2, guide=True, mention_code="AT1", dpi=75)
    assert (guide.label, len(guide.pages), guide.hetu) == ("unknown", 2, None)
    assert "lomakkeella AT1" in guide.texts[0].replace("\n", " ")
    assert "AT1" not in guide.texts[1]
    manual = render_manual("sv", seed=1, dpi=75)
    assert "bruksanvisning" in manual.texts[0] and not FORM_CODE.search(manual.texts[0])


def test_a_stamp_says_kela_saapunut_with_its_date_and_only_darkens(page: Image.Image) -> None:
    assert stamp_text("fi", "12.03.2024") == "KELA SAAPUNUT 12.03.2024"
    assert stamp_text("sv", "12.03.2024") == "FPA INKOMMIT 12.03.2024"
    stamped = add_stamp(page, seed=1, language="fi", date="12.03.2024")
    assert stamped.size == page.size and stamped.info["dpi"] == page.info["dpi"]
    before, after = np.asarray(page, np.int16), np.asarray(stamped, np.int16)
    assert (after <= before).all() and (after < before).sum() > 500
    assert ImageChops.difference(
        stamped, add_stamp(page, seed=1, language="fi", date="12.03.2024")).getbbox() is None


def test_uneven_light_darkens_one_side_and_speckle_adds_specks(page: Image.Image) -> None:
    lit = np.asarray(degrade(page, seed=1, uneven_light=0.3), np.float64)
    paper = np.asarray(page, np.float64)
    assert lit.min() >= 0 and (lit <= paper).all()
    assert paper.mean() - lit.mean() > 10
    specked = np.asarray(degrade(page, seed=1, speckle=1.0))
    assert 100 < ((specked < 128) & (np.asarray(page) > 200)).sum() < 5000


def test_apply_effects_turns_only_the_chosen_page(page: Image.Image) -> None:
    effects = ScanEffects(turn=90, turn_page=1)
    out = apply_effects([page, page], effects, seed=1, language="fi")
    assert out[0].size == page.size and out[1].size == (page.height, page.width)


def test_fonts_find_bold_faces_of_liberation_and_freefont() -> None:
    liberation = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf")
    free = Path("/usr/share/fonts/truetype/freefont/FreeSerif.ttf")
    assert Fonts.from_path(liberation).bold.name == "LiberationSans-Bold.ttf"
    assert Fonts.from_path(free).bold.name == "FreeSerifBold.ttf"
    assert Fonts.from_path(None).bold.name == "DejaVuSans-Bold.ttf"
