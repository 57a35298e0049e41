"""Case references: readable, numbered per arrival day, and a typo is caught, not followed."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest

from ingest.db.case_ref import damm_digit, format_case_ref, normalise_case_ref, parse_case_ref
from ingest.db.errors import MalformedCaseRef

DAY = date(2026, 11, 28)


def test_the_damm_digit_matches_the_published_example() -> None:
    assert damm_digit("572") == "4"


def test_a_reference_reads_date_number_and_check_digit() -> None:
    ref = format_case_ref(DAY, 42)
    assert ref.startswith("ASPA-2026-11-28-00042-")
    assert parse_case_ref(ref) == (DAY, 42)


def test_a_typed_reference_is_forgiven_case_and_spaces() -> None:
    ref = format_case_ref(DAY, 7)
    assert normalise_case_ref(" " + ref.lower().replace("-00007", " -00007") + " ") == ref


def test_every_single_wrong_digit_and_every_neighbour_swap_is_caught() -> None:
    """GIVEN a reference WHEN any one digit is changed or two neighbouring digits swapped
    THEN it does not parse: a mistyped reference never opens another customer's case."""
    ref = format_case_ref(DAY, 4711)
    digits = [i for i, ch in enumerate(ref) if ch.isdigit()]
    typos = {ref[:i] + d + ref[i + 1:] for i in digits for d in "0123456789"} - {ref}
    typos |= {ref[:i] + ref[j] + ref[i] + ref[j + 1:] for i, j in pairwise(digits)
              if j == i + 1 and ref[i] != ref[j]}
    for typo in typos:
        with pytest.raises(MalformedCaseRef):
            parse_case_ref(typo)


@pytest.mark.parametrize("text", ["", "ASPA-42", "KELA-2026-11-28-00042-1", "01JD…"])
def test_text_that_is_no_reference_is_refused(text: str) -> None:
    with pytest.raises(MalformedCaseRef, match="not a case reference"):
        parse_case_ref(text)


def test_a_reference_with_no_real_date_is_refused() -> None:
    body = "2026022900001"  # 29 February 2026 does not exist
    with pytest.raises(MalformedCaseRef, match="no real date"):
        parse_case_ref(f"ASPA-2026-02-29-00001-{damm_digit(body)}")


def test_numbers_past_99999_still_format_and_parse() -> None:
    assert parse_case_ref(format_case_ref(DAY, 123456)) == (DAY, 123456)
