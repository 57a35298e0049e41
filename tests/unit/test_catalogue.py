"""The form catalogue: the shipped file is complete and valid; broken files are refused clearly."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from classifiers.catalogue import (
    CatalogueError,
    default_catalogue_path,
    load_catalogue,
    normalise_code,
)

DOMAIN_CODES = (
    "TO 1", "TO 2", "TO 4", "AT 1", "AT 5", "AE 1", "OT 1", "OT 2", "OT 15", "KM 1", "TT 1",
    "TT 2", "SV 8", "SV 4", "SV 178", "SV 28", "LL 1", "SV 9", "SV 89", "WH 1", "EV 258",
    "KU 101", "KU 112", "SV 6", "SV 7", "EV 256", "Y 121",
)  # fmt: skip

GOOD_FORM = """
[[form]]
code = "TO 1"
title_fi = "Hakemus – Perustoimeentulotuki"
title_sv = "Ansökan om grundläggande utkomststöd"
keywords_fi = ["Toimeentulotu"]
keywords_sv = ["utkomststöd"]
pages = 4
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "forms.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalogue_lists_every_domain_form_once_in_order() -> None:
    catalogue = load_catalogue()
    assert sorted(catalogue.codes()) == sorted(DOMAIN_CODES)
    assert len(catalogue.codes()) == len(DOMAIN_CODES)


def test_shipped_catalogue_has_both_ev256_documents_told_apart_by_title() -> None:
    forms = load_catalogue().by_code("EV 256")
    assert {f.variant for f in forms} == {"hoitotuki", "c-lausunto"}
    assert len({f.title_fi for f in forms}) == 2
    assert len({f.title_sv for f in forms}) == 2


def test_shipped_catalogue_has_the_three_attachment_kinds_with_keywords() -> None:
    catalogue = load_catalogue()
    assert [a.kind for a in catalogue.attachments] == [
        "attachment/bank_statement",
        "attachment/rental_agreement",
        "attachment/pay_slip",
    ]
    pay_slip = catalogue.attachment("attachment/pay_slip")
    assert pay_slip is not None
    assert "palkkatodistus" in pay_slip.keywords_fi
    assert "löneintyg" in pay_slip.keywords_sv


def test_every_shipped_form_has_both_titles_keywords_and_pages() -> None:
    for form in load_catalogue().forms:
        assert form.title_fi and form.title_sv, form.code
        assert form.keywords_fi and form.keywords_sv, form.code
        assert form.pages >= 1, form.code


def test_digest_is_first_12_hex_of_the_file_sha256() -> None:
    path = default_catalogue_path()
    expected = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    assert load_catalogue(path).digest == expected


def test_digest_changes_when_the_file_changes(tmp_path: Path) -> None:
    first = load_catalogue(_write(tmp_path, GOOD_FORM)).digest
    second = load_catalogue(_write(tmp_path, GOOD_FORM + "\n# edited\n")).digest
    assert first != second


def test_keywords_are_stored_lower_case(tmp_path: Path) -> None:
    form = load_catalogue(_write(tmp_path, GOOD_FORM)).forms[0]
    assert form.keywords_fi == ("toimeentulotu",)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TO1", "TO 1"),
        ("TO 1", "TO 1"),
        ("to 1r", "TO 1"),
        ("SV178", "SV 178"),
        ("Y121r", "Y 121"),
        ("AT 1e", "AT 1"),
        (" ev 256 ", "EV 256"),
        ("TOI", None),  # OCR confusion is the classifier's business, not the normaliser's
        ("AE10923", None),  # footer "AE1 09.23" run together must not become AE 109
        ("KELA", None),
        ("", None),
    ],
)
def test_normalise_code_accepts_written_variants_and_rejects_non_codes(
    raw: str, expected: str | None
) -> None:
    assert normalise_code(raw) == expected


def test_by_code_normalises_its_argument() -> None:
    assert [f.code for f in load_catalogue().by_code("sv178r")] == ["SV 178"]
    assert load_catalogue().by_code("ZZ 9") == ()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (GOOD_FORM.replace('"TO 1"', '"TO1"'), "one space"),
        (GOOD_FORM.replace('"TO 1"', '"TO 1r"'), "no language suffix"),
        (GOOD_FORM.replace('title_sv = "Ansökan om grundläggande utkomststöd"', 'title_sv = ""'),
         "title_sv"),
        (GOOD_FORM.replace("pages = 4", "pages = 0"), "pages"),
        (GOOD_FORM + GOOD_FORM, "listed twice"),
        (GOOD_FORM + GOOD_FORM.replace('code = "TO 1"', 'code = "TO 1"\nvariant = "b"'),
         "give every one a variant"),
        ("", "no forms"),
        ("[[form]\n", "not valid"),
        (GOOD_FORM + '[[attachment]]\nkind = "attachment/invoice"\ntitle_fi = "Lasku"\n'
         'title_sv = "Faktura"\n', "classifiers.base.Kind"),
    ],
)  # fmt: skip
def test_broken_catalogue_is_refused_with_a_message_that_names_the_fix(
    tmp_path: Path, text: str, complaint: str
) -> None:
    with pytest.raises(CatalogueError, match=complaint):
        load_catalogue(_write(tmp_path, text))


def test_missing_catalogue_file_is_a_catalogue_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "absent.toml")
