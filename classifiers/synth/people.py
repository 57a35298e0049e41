"""Made-up people for synthetic pages: names, addresses, account numbers and test hetus.

Identity codes use only the temporary range 900-999, so no rendered page names a real person.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from aspa_contract.hetu import CENTURY_SIGNS, CHECK_CHARS, check_character, is_valid

# Years each century sign may stand for, kept inside plausible living (or historical) ages.
_YEARS = {"+": (1850, 1899), "-": (1920, 1999), "A": (2000, 2023)}
for _sign in "YXWVU":
    _YEARS[_sign] = _YEARS["-"]
for _sign in "BCDEF":
    _YEARS[_sign] = _YEARS["A"]

_FIRST = {
    "fi": ("Aino", "Eero", "Helmi", "Juha", "Kaisa", "Matti", "Sanna", "Ville", "Liisa", "Onni"),
    "sv": ("Anna", "Björn", "Elsa", "Henrik", "Ida", "Johan", "Karin", "Lars", "Maja", "Nils"),
}
_LAST = {
    "fi": ("Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Heikkinen", "Järvinen", "Laine"),
    "sv": ("Lindqvist", "Holmström", "Nyberg", "Sjöberg", "Åkerlund", "Backman", "Grönroos"),
}
_STREET = {
    "fi": ("Esimerkkikatu", "Koivutie", "Rantapolku", "Myllykatu", "Kuusikuja"),
    "sv": ("Exempelgatan", "Björkvägen", "Strandstigen", "Kvarngatan", "Granbacken"),
}
_TOWN = {
    "fi": ("00100 HELSINKI", "33100 TAMPERE", "20100 TURKU", "90100 OULU", "40100 JYVÄSKYLÄ"),
    "sv": ("65100 VASA", "68600 JAKOBSTAD", "10600 EKENÄS", "06100 BORGÅ", "22100 MARIEHAMN"),
}


@dataclass(frozen=True)
class Person:
    """A fictional customer as a form would list them."""

    first_names: str
    last_name: str
    street: str
    town: str
    phone: str
    iban: str

    @property
    def full_name(self) -> str:
        return f"{self.first_names} {self.last_name}"


def test_hetu(rng: random.Random, century_sign: str | None = None) -> str:
    """A valid temporary hetu (individual number 900-999) with a real date for its century."""
    sign = century_sign or rng.choice(CENTURY_SIGNS)
    if sign not in _YEARS:
        raise ValueError(f"century sign must be one of {CENTURY_SIGNS!r}, not {sign!r}")
    first, last = _YEARS[sign]
    start = dt.date(first, 1, 1)
    born = start + dt.timedelta(days=rng.randrange((dt.date(last, 12, 31) - start).days + 1))
    digits = f"{born:%d%m}{born.year % 100:02d}{rng.randint(900, 999)}"
    code = f"{digits[:6]}{sign}{digits[6:]}{check_character(digits)}"
    assert is_valid(code), code  # guards the generator itself, not input
    return code


# Not a test: keeps pytest from collecting this helper when a test module imports it.
test_hetu.__test__ = False  # type: ignore[attr-defined]


def invalid_hetu(rng: random.Random) -> str:
    """A hetu-shaped test code whose check character is wrong."""
    valid = test_hetu(rng)
    wrong = rng.choice([c for c in CHECK_CHARS if c != valid[-1]])
    return valid[:-1] + wrong


def fi_iban(rng: random.Random) -> str:
    """A Finnish IBAN with correct check digits, printed in groups of four."""
    bban = "".join(str(rng.randint(0, 9)) for _ in range(14))
    # ISO 13616: move "FI00" to the end, letters to numbers (F=15, I=18), 98 - mod 97.
    check = 98 - int(bban + "151800") % 97
    compact = f"FI{check:02d}{bban}"
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def make_person(rng: random.Random, language: str) -> Person:
    """A person with a name and address typical of the language's region."""
    return Person(
        first_names=rng.choice(_FIRST[language]),
        last_name=rng.choice(_LAST[language]),
        street=f"{rng.choice(_STREET[language])} {rng.randint(1, 60)} {rng.choice('ABC')} "
        f"{rng.randint(1, 40)}",
        town=rng.choice(_TOWN[language]),
        phone=f"040 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
        iban=fi_iban(rng),
    )


def random_date(rng: random.Random, year: int = 2024) -> str:
    """A date in Finnish/Swedish print style, ``d.m.yyyy``."""
    day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    return f"{day.day}.{day.month}.{day.year}"
