"""Case references a clerk can read over the phone: ``ASPA-2026-11-28-00042-7``.

Arrival date (Europe/Helsinki), the day's running number, and a Damm check digit. The digit
catches every single mistyped digit and every swap of two neighbours, so a mistyped reference
is refused instead of opening another customer's case.
"""

from __future__ import annotations

import re
from datetime import date

from ingest.db.errors import MalformedCaseRef

PREFIX = "ASPA"
_REF = re.compile(r"^ASPA-(\d{4})-(\d{2})-(\d{2})-(\d{5,})-(\d)$")

# The Damm quasigroup of order 10 (totally anti-symmetric).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_digit(digits: str) -> str:
    """The Damm check digit of a string of decimal digits (``"572"`` → ``"4"``)."""
    interim = 0
    for ch in digits:
        interim = _DAMM[interim][int(ch)]
    return str(interim)


def format_case_ref(arrival: date, sequence: int) -> str:
    """The reference of the ``sequence``-th case (from 1) that arrived on ``arrival``."""
    if sequence < 1:
        raise ValueError("case sequence numbers start at 1")
    body = f"{arrival:%Y-%m-%d}-{sequence:05d}"
    return f"{PREFIX}-{body}-{damm_digit(body.replace('-', ''))}"


def parse_case_ref(text: str) -> tuple[date, int]:
    """``(arrival date, sequence)`` of a reference typed by a person; spaces and case ignored.

    Raises :class:`MalformedCaseRef` when it is not shaped like one or its check digit is wrong.
    """
    ref = "".join(text.split()).upper()
    match = _REF.match(ref)
    if not match:
        raise MalformedCaseRef(f"{text!r} is not a case reference like ASPA-2026-11-28-00042-7")
    year, month, day, seq, check = match.groups()
    if damm_digit(f"{year}{month}{day}{seq}") != check:
        raise MalformedCaseRef(f"{ref} has a wrong check digit: it was probably mistyped")
    try:
        arrival = date(int(year), int(month), int(day))
    except ValueError:
        raise MalformedCaseRef(f"{ref} names no real date") from None
    return arrival, int(seq)


def normalise_case_ref(text: str) -> str:
    """The canonical spelling of a typed reference (validated, upper-case, no spaces)."""
    arrival, sequence = parse_case_ref(text)
    return format_case_ref(arrival, sequence)
