"""The synthetic page renderer: seeded, truthful about what it printed, and scanner-like."""

from __future__ import annotations

import functools
import importlib.util
import random
import re
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from PIL import Image, ImageChops
from pypdf import PdfReader

from aspa_contract.hetu import CENTURY_SIGNS, is_valid
from classifiers.catalogue import Form, load_catalogue, normalise_code
from classifiers.synth import (
    ATTACHMENT_KINDS,
    degrade,
    invalid_hetu,
    render_attachment,
    render_blank,
    render_form,
    render_letter,
    test_hetu,
)

CATALOGUE = load_catalogue()
HETU_SHAPE = re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b")
SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


def _form(code: str) -> Form:
    return CATALOGUE.by_code(code)[0]


def _same(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and a.mode == b.mode and a.tobytes() == b.tobytes()


def _codes_in(text: str) -> set[str]:
    """Catalogue codes written anywhere in ``text`` (with or without space or suffix)."""
    found = set()
    for token in re.findall(r"\b[A-Z]{1,3} ?\d{1,3}[reo]?\b", text):
        code = normalise_code(token)
        if code in CATALOGUE.codes():
            found.add(code)
    return found


# --- test hetus -------------------------------------------------------------------------------


@pytest.mark.parametrize("sign", list(CENTURY_SIGNS))
def test_test_hetu_is_valid_temporary_and_keeps_the_century_sign(sign: str) -> None:
    rng = random.Random(sign)
    for _ in range(40):
        code = test_hetu(rng, sign)
        assert is_valid(code), code
        assert code[6] == sign
        assert 900 <= int(code[7:10]) <= 999


def test_test_hetu_without_a_sign_spreads_over_signs() -> None:
    rng = random.Random(1)
    assert len({test_hetu(rng)[6] for _ in range(300)}) == len(CENTURY_SIGNS)


def test_test_hetu_refuses_an_unknown_century_sign() -> None:
    with pytest.raises(ValueError, match="century sign"):
        test_hetu(random.Random(1), "Z")


def test_invalid_hetu_differs_from_a_valid_code_only_in_its_check_character() -> None:
    rng = random.Random(3)
    for _ in range(50):
        code = invalid_hetu(rng)
        assert HETU_SHAPE.fullmatch(code)
        assert not is_valid(code)
        assert int(code[7:10]) >= 900


# --- forms ------------------------------------------------------------------------------------


def test_same_seed_gives_the_same_pixels_and_truth() -> None:
    a = render_form(_form("TO 1"), "fi", seed=5, pages=2)
    b = render_form(_form("TO 1"), "fi", seed=5, pages=2)
    assert all(_same(x, y) for x, y in zip(a.pages, b.pages, strict=True))
    assert (a.hetu, a.texts) == (b.hetu, b.texts)


def test_another_seed_gives_another_customer() -> None:
    a = render_form(_form("TO 1"), "fi", seed=5, pages=1)
    b = render_form(_form("TO 1"), "fi", seed=6, pages=1)
    assert a.hetu != b.hetu
    assert not _same(a.pages[0], b.pages[0])


def test_pages_are_grey_a4_at_the_requested_resolution() -> None:
    page = render_form(_form("SV 8"), "fi", seed=1, pages=1).pages[0]
    assert (page.mode, page.size, page.info["dpi"]) == ("L", (2480, 3508), (300, 300))
    small = render_form(_form("SV 8"), "fi", seed=1, pages=1, dpi=150).pages[0]
    assert small.size == (1240, 1754)


def test_finnish_page_shows_code_in_header_and_footer_with_page_numbers() -> None:
    rendered = render_form(_form("SV 178"), "fi", seed=2, pages=2)
    assert rendered.label == "SV 178" and rendered.language == "fi"
    assert rendered.texts[0].splitlines()[0] == "Kela SV 178"
    assert re.fullmatch(
        r"SV 178 \d\d\.\d\d www\.kela\.fi Sivu 1 \(2\)", rendered.texts[0].splitlines()[-1]
    )
    assert rendered.texts[1].splitlines()[-1].endswith("Sivu 2 (2)")
    assert "Henkilötunnus" in rendered.texts[0]


def test_swedish_page_prints_the_r_variant_code_and_swedish_labels() -> None:
    rendered = render_form(_form("TO 1"), "sv", seed=2, pages=1)
    lines = rendered.texts[0].splitlines()
    assert lines[0] == "FPA TO 1r"
    assert "Folkpensionsanstalten" in lines[1]
    assert lines[-1].startswith("TO 1r ") and lines[-1].endswith("Sida 1 (1)")
    assert "Personbeteckning" in rendered.texts[0]
    assert rendered.label == "TO 1"


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_catalogue_form_prints_its_title_and_all_its_keywords(language: str) -> None:
    """GIVEN each catalogue entry WHEN rendered THEN a keyword classifier has its evidence."""
    for form in CATALOGUE.forms:
        rendered = render_form(form, language, seed=0, pages=1)
        flat = " ".join(rendered.texts[0].split()).lower()
        title = form.title_sv if language == "sv" else form.title_fi
        assert title.lower() in flat, form
        keywords = form.keywords_sv if language == "sv" else form.keywords_fi
        assert all(k in flat for k in keywords), (form.code, keywords)
        assert _codes_in(rendered.texts[0]) == {form.code}
        assert (rendered.label, rendered.variant) == (form.code, form.variant)


def test_default_page_count_is_the_catalogue_s() -> None:
    form = _form("SV 9")
    rendered = render_form(form, "fi", seed=1)
    assert len(rendered.pages) == len(rendered.texts) == form.pages


def test_random_hetu_is_printed_in_the_box_and_reported() -> None:
    rendered = render_form(_form("AT 1"), "fi", seed=4, pages=1)
    assert rendered.hetu is not None and is_valid(rendered.hetu)
    assert HETU_SHAPE.findall(rendered.texts[0]) == [rendered.hetu]


def test_invalid_hetu_is_printed_but_not_reported() -> None:
    rendered = render_form(_form("AT 1"), "fi", seed=4, pages=1, hetu="invalid")
    printed = HETU_SHAPE.findall(rendered.texts[0])
    assert len(printed) == 1 and not is_valid(printed[0])
    assert rendered.hetu is None


def test_empty_hetu_box_prints_no_code() -> None:
    rendered = render_form(_form("AT 1"), "fi", seed=4, pages=1, hetu=None)
    assert rendered.hetu is None
    assert HETU_SHAPE.findall(rendered.texts[0]) == []
    assert "Henkilötunnus" in rendered.texts[0]


def test_given_hetu_is_printed_as_is() -> None:
    rendered = render_form(_form("LL 1"), "fi", seed=4, pages=1, hetu="010594Y9032")
    assert rendered.hetu == "010594Y9032"
    assert "010594Y9032" in rendered.texts[0]


def test_ev256_variants_differ_by_title_only_in_code() -> None:
    care, c_statement = CATALOGUE.by_code("EV 256")
    a = render_form(care, "sv", seed=1, pages=1)
    b = render_form(c_statement, "sv", seed=1, pages=1)
    assert a.label == b.label == "EV 256"
    assert {a.variant, b.variant} == {"hoitotuki", "c-lausunto"}
    assert "Läkarutlåtande C" in b.texts[0] and "Läkarutlåtande C" not in a.texts[0]


def test_another_font_changes_pixels_not_text() -> None:
    a = render_form(_form("TO 2"), "fi", seed=1, pages=1)
    b = render_form(_form("TO 2"), "fi", seed=1, pages=1, font_path=SERIF)
    assert a.texts == b.texts
    assert not _same(a.pages[0], b.pages[0])


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError, match="language"):
        render_form(_form("TO 1"), "en", seed=1)


# --- attachments and letters ------------------------------------------------------------------


@pytest.mark.parametrize("kind", ATTACHMENT_KINDS)
@pytest.mark.parametrize("language", ["fi", "sv"])
def test_attachments_carry_their_kind_words_and_no_form_code(kind: str, language: str) -> None:
    rendered = render_attachment(kind, language, seed=3)
    entry = CATALOGUE.attachment(kind)
    assert entry is not None
    text = rendered.texts[0].lower()
    title = entry.title_sv if language == "sv" else entry.title_fi
    assert title.lower() in text
    assert (rendered.label, rendered.hetu, len(rendered.pages)) == (kind, None, 1)
    assert _codes_in(rendered.texts[0]) == set()


def test_pay_slip_and_rental_agreement_show_a_requested_hetu_bank_statement_never() -> None:
    for kind in ("attachment/pay_slip", "attachment/rental_agreement"):
        rendered = render_attachment(kind, "fi", seed=3, hetu="random")
        assert rendered.hetu is not None and rendered.hetu in rendered.texts[0]
    statement = render_attachment("attachment/bank_statement", "fi", seed=3, hetu="random")
    assert statement.hetu is None and not HETU_SHAPE.search(statement.texts[0])


def test_unknown_attachment_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        render_attachment("attachment/invoice", "fi", seed=1)


@pytest.mark.parametrize(("language", "code"), [("fi", "TO 1"), ("sv", "TO 1r")])
def test_letter_naming_a_code_in_running_text_is_still_unknown(language: str, code: str) -> None:
    rendered = render_letter(language, seed=2, mention_code=code)
    assert rendered.label == "unknown"
    assert code in " ".join(rendered.texts[0].split())
    assert _codes_in(rendered.texts[0]) == {"TO 1"}


def test_plain_letters_name_no_form_code() -> None:
    for seed in range(6):
        for language in ("fi", "sv"):
            rendered = render_letter(language, seed=seed)
            assert _codes_in(rendered.texts[0]) == set()
            assert rendered.hetu is None


def test_blank_page_is_near_white_with_some_grain() -> None:
    page = render_blank(dpi=100)
    low, high = page.getextrema()  # type: ignore[misc]
    assert page.mode == "L" and page.size == (827, 1169)
    assert low < high
    assert np.asarray(page).mean() > 240


# --- degrade ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def page() -> Image.Image:
    return render_form(_form("TO 1"), "fi", seed=1, pages=1, dpi=150).pages[0]


@pytest.mark.parametrize(
    "kwargs",
    [{"skew_deg": 2.0}, {"noise": 0.05}, {"blur": 1.0}, {"jpeg_quality": 40}],
)
def test_degrading_keeps_size_and_resolution_but_changes_pixels(
    page: Image.Image, kwargs: dict[str, float]
) -> None:
    out = degrade(page, seed=1, **kwargs)  # type: ignore[arg-type]
    assert (out.size, out.mode, out.info["dpi"]) == (page.size, "L", (150, 150))
    assert not _same(out, page)


def test_rotate_turns_the_sheet_counter_clockwise(page: Image.Image) -> None:
    turned = degrade(page, seed=1, rotate=90)
    assert turned.size == (page.height, page.width)
    assert _same(turned, page.transpose(Image.Transpose.ROTATE_90))
    assert _same(degrade(turned, seed=1, rotate=270), page)
    assert degrade(page, seed=1, rotate=180).size == page.size


def test_rotate_refuses_other_angles(page: Image.Image) -> None:
    with pytest.raises(ValueError, match="rotate"):
        degrade(page, seed=1, rotate=45)


def test_noise_is_seeded(page: Image.Image) -> None:
    assert _same(degrade(page, seed=3, noise=0.05), degrade(page, seed=3, noise=0.05))
    assert not _same(degrade(page, seed=3, noise=0.05), degrade(page, seed=4, noise=0.05))


def test_bilevel_gives_pure_black_and_white(page: Image.Image) -> None:
    out = degrade(page, seed=1, bilevel=True)
    assert out.mode == "1" and out.size == page.size
    assert set(np.unique(np.asarray(out.convert("L"))).tolist()) == {0, 255}


def test_scale_dpi_resamples_and_records_the_new_resolution(page: Image.Image) -> None:
    out = degrade(page, seed=1, scale_dpi=75)
    assert out.size == (round(page.width / 2), round(page.height / 2))
    assert out.info["dpi"] == (75, 75)


def test_no_degradation_returns_an_equal_copy(page: Image.Image) -> None:
    out = degrade(page, seed=1)
    assert _same(out, page) and out is not page
    assert ImageChops.difference(out, page).getbbox() is None


# --- scenarios --------------------------------------------------------------------------------


@functools.cache
def _scenarios() -> ModuleType:
    path = Path(__file__).resolve().parents[1] / "fixtures" / "render_scenarios.py"
    spec = importlib.util.spec_from_file_location("render_scenarios", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _page_count(path: Path) -> int:
    if path.suffix == ".pdf":
        return len(PdfReader(path).pages)
    with Image.open(path) as image:
        return getattr(image, "n_frames", 1)


def test_every_scenario_writes_a_readable_file_with_the_truth_s_page_count(
    tmp_path: Path,
) -> None:
    scenarios = _scenarios()
    for name in scenarios.SCENARIOS:
        (path,) = scenarios.render_scenario(name, tmp_path)
        assert path.name == scenarios.SCENARIOS[name].filename
        assert _page_count(path) == len(scenarios.scenario_truth(name).pages), name


def test_scenario_truths_match_their_names() -> None:
    truth = _scenarios().scenario_truth
    assert truth("clean_to1r_sv").language == "sv"
    assert truth("invalid_checksum_hetu").hetu is None
    assert truth("letter_mentions_to1").label == "unknown"
    assert truth("attachment_pay_slip_fi").label == "attachment/pay_slip"
    assert truth("degraded_hetu_skew_noise_jpeg").hetu[6] == "A"  # type: ignore[index]
    assert truth("ev256_c_lausunto_sv").variant == "c-lausunto"


def test_command_line_renders_only_the_named_scenarios(tmp_path: Path) -> None:
    assert _scenarios().main([str(tmp_path), "--only", "blank_page", "rotated_90"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blank_page.png", "rotated_90.png"]
