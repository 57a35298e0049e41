"""The synthetic corpus: what it covers, how its truth is labelled, and that a seed fixes its bytes.

The plan (no pixels) is checked for coverage on a K=2 corpus; files are rendered at 100 dpi on a
K=1 corpus to keep this fast.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from aspa_contract.hetu import CENTURY_SIGNS, is_valid
from classifiers.catalogue import load_catalogue
from classifiers.corpus import (
    HELD_OUT_FONTS,
    TRAINING_FONTS,
    Plan,
    generate_corpus,
    plan_corpus,
    summary_line,
)
from classifiers.dataset import load_dataset
from classifiers.errors import DatasetError
from classifiers.synth import ATTACHMENT_KINDS
from classifiers.synth.scanning import ScanEffects, draw_effects

CATALOGUE = load_catalogue()


@pytest.fixture(scope="module")
def plans() -> list[Plan]:
    return plan_corpus(CATALOGUE, per_class=2, seed=7, fonts=TRAINING_FONTS)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "k1"
    generate_corpus(out, per_class=1, seed=3, dpi=100)
    return out


def test_every_catalogue_entry_comes_in_finnish_and_swedish(plans: list[Plan]) -> None:
    seen = Counter((p.label, p.form.variant, p.language) for p in plans if p.form)
    for form in CATALOGUE.forms:
        assert seen[(form.code, form.variant, "fi")] == 1
        assert seen[(form.code, form.variant, "sv")] == 1


def test_both_languages_appear_even_with_one_document_per_class() -> None:
    one = plan_corpus(CATALOGUE, per_class=1, seed=1, fonts=TRAINING_FONTS)
    assert {p.language for p in one if p.form} == {"fi", "sv"}
    assert {p.language for p in one if p.label == "unknown"} == {"fi", "sv"}


def test_forms_have_one_to_three_pages_and_attachments_one(plans: list[Plan]) -> None:
    assert {p.pages for p in plans if p.form} == {1, 2, 3}
    assert {p.pages for p in plans if p.kind == "attachment"} == {1}


def test_hetus_span_all_century_signs_with_test_numbers_and_some_invalid_or_none(
    plans: list[Plan],
) -> None:
    """GIVEN a K=2 corpus plan
    THEN valid test codes (individual number 900-999) use all 13 century signs,
    and some documents ask for an invalid code or none."""
    codes = [p.hetu for p in plans if p.hetu not in (None, "invalid")]
    assert all(isinstance(c, str) and is_valid(c) and 900 <= int(c[7:10]) <= 999 for c in codes)
    assert {c[6] for c in codes if c} == set(CENTURY_SIGNS)
    requests = Counter("invalid" if p.hetu == "invalid" else p.hetu is None for p in plans)
    assert requests["invalid"] > 0 and requests[True] > 0


def test_out_of_catalogue_documents_are_unknown_with_many_code_mentions(
    plans: list[Plan],
) -> None:
    """GIVEN K=2: letters, bills, manuals/guides 2 each and code mentions 4
    THEN all are labelled unknown, and mentions name a catalogue code as people write it."""
    unknown = [p for p in plans if p.label == "unknown"]
    kinds = Counter(p.kind for p in unknown)
    assert kinds == {"letter": 2, "bill": 2, "manual": 1, "guide": 1, "mention_letter": 3,
                     "mention_guide": 1}
    mentions = [p.mention for p in unknown if p.mention]
    assert len(mentions) == 4
    assert all(CATALOGUE.by_code(m) for m in mentions if m)
    assert Counter(p.label for p in plans if p.kind == "attachment") == dict.fromkeys(
        ATTACHMENT_KINDS, 2)


def test_about_a_third_of_documents_are_clean_and_every_effect_occurs() -> None:
    rng = random.Random(1)
    drawn = [draw_effects(rng, 3) for _ in range(600)]
    clean = sum(1 for e in drawn if e == ScanEffects())
    assert 150 < clean < 250
    names = {"turn" if n.startswith("turn") else n for e in drawn for n in e.names()}
    assert names == {"skew", "turn", "blur", "speckle", "uneven_light", "jpeg", "dpi200",
                     "bilevel", "stamp"}
    assert not any("jpeg" in e.names() and "bilevel" in e.names() for e in drawn)


def test_held_out_fonts_are_none_of_the_training_fonts() -> None:
    held = plan_corpus(CATALOGUE, per_class=1, seed=1, fonts=HELD_OUT_FONTS)
    assert {p.font for p in held} <= set(HELD_OUT_FONTS)
    assert not set(HELD_OUT_FONTS) & set(TRAINING_FONTS)


def test_the_corpus_loads_as_a_dataset_whose_truth_matches_the_plan(corpus: Path) -> None:
    """GIVEN a generated K=1 corpus
    THEN labels.csv loads, each row's truth is consistent with its kind, and an invalid
    hetu or a bank statement leaves the hetu empty."""
    samples = load_dataset(corpus)
    plans = plan_corpus(CATALOGUE, per_class=1, seed=3, fonts=TRAINING_FONTS)
    assert len(samples) == len(plans)
    for sample, plan in zip(samples, plans, strict=True):
        assert (sample.label, sample.language, len(sample.files)) == (
            plan.label, plan.language, plan.pages)
        extra = dict(sample.extra)
        assert extra["kind"] == plan.kind and extra["font"] == plan.font.stem
        assert extra["degradations"] == " ".join(plan.effects.names())
        if plan.hetu in (None, "invalid") or plan.kind in ("manual", "guide"):
            assert sample.hetu is None
        elif plan.kind == "form":
            assert sample.hetu == plan.hetu
        if plan.form:
            assert sample.variant == plan.form.variant


def test_jpeg_scans_are_saved_as_jpeg_and_bilevel_as_black_and_white(corpus: Path) -> None:
    for sample in load_dataset(corpus):
        effects = dict(sample.extra)["degradations"].split()
        with Image.open(sample.files[0]) as image:
            assert image.format == ("JPEG" if "jpeg" in effects else "PNG")
            assert ("bilevel" in effects) == (image.mode == "1")


def test_the_same_seed_gives_byte_identical_files_and_labels(
    corpus: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    generate_corpus(again, per_class=1, seed=3, dpi=100)
    files = sorted(p.relative_to(corpus) for p in corpus.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for name in files:
        assert (corpus / name).read_bytes() == (again / name).read_bytes(), name


def test_another_seed_gives_another_corpus() -> None:
    one = plan_corpus(CATALOGUE, per_class=1, seed=1, fonts=TRAINING_FONTS)
    two = plan_corpus(CATALOGUE, per_class=1, seed=2, fonts=TRAINING_FONTS)
    assert [p.seed for p in one] != [p.seed for p in two]


def test_a_non_empty_target_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "old.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="not empty; choose a new folder"):
        generate_corpus(tmp_path, per_class=1, seed=1, dpi=100)


def test_the_summary_line_counts_what_was_written(corpus: Path) -> None:
    samples = load_dataset(corpus)
    line = summary_line(corpus, samples, 12.3, 3, TRAINING_FONTS)
    pages = sum(len(s.files) for s in samples)
    assert line.startswith(f"Wrote {len(samples)} documents ({pages} pages) to {corpus} in 12 s")
    assert "28 forms, 3 attachments, 5 unknown (2 mentioning a form code)" in line
