"""Render a catalogue form as Kela-style A4 pages, filled in for a made-up customer."""

from __future__ import annotations

import random
from pathlib import Path

from classifiers.catalogue import Form
from classifiers.synth.canvas import Canvas, Fonts
from classifiers.synth.layout import (
    BODY_PT,
    CONTENT_MM,
    MARGIN_MM,
    Field,
    draw_choice,
    draw_fields,
    draw_footer,
    draw_header,
    draw_section,
    draw_signature,
    version_stamp,
)
from classifiers.synth.people import Person, make_person, random_date
from classifiers.synth.rendered import HetuRequest, Rendered, resolve_hetu
from classifiers.synth.wording import check_language, word

# Catalogue keywords may be stems ("toimeentulotu" matches -tuki and -tuen); a printed form
# shows whole words, so complete the last word by its ending. Longest endings first.
_COMPLETIONS = (
    ("ammatillise", "ammatillisen"),
    ("osallistu", "osallistuminen"),
    ("toiminn", "toiminnan"),
    ("korvau", "korvaus"),
    ("korot", "korotus"),
    ("vakuu", "vakuus"),
    ("etuu", "etuudet"),
    ("nnu", "nnukset"),
    ("kun", "kunta"),
    ("tu", "tuki"),
    ("ra", "raha"),
)
_MEDICAL = {("SV 6", None), ("SV 7", None), ("EV 256", "c-lausunto")}


def printable_keyword(keyword: str) -> str:
    """A catalogue keyword as whole words, first letter capitalised."""
    for stem, whole in _COMPLETIONS:
        if keyword.endswith(stem):
            keyword = keyword[: -len(stem)] + whole
            break
    return keyword[:1].upper() + keyword[1:]


def render_form(
    form: Form,
    language: str,
    *,
    seed: int,
    pages: int | None = None,
    hetu: HetuRequest = "random",
    dpi: int = 300,
    font_path: Path | None = None,
) -> Rendered:
    """Render ``form`` in ``language`` ("fi" or "sv") as ``pages`` pages (default: the form's).

    ``hetu`` is "random" (a valid test code), "invalid" (wrong check character), None (the box
    left empty) or a code to print. The same arguments always give the same pixels.
    """
    check_language(language)
    count = pages or form.pages
    if count < 1:
        raise ValueError(f"pages must be 1 or more, not {count}")
    rng = random.Random(f"form:{form.code}:{form.variant}:{language}:{seed}")
    printed, truth = resolve_hetu(rng, hetu)
    person = make_person(rng, language)
    version = version_stamp(rng)
    fonts = Fonts.from_path(font_path)
    canvases = []
    for number in range(1, count + 1):
        canvas = Canvas(dpi, fonts)
        if number == 1:
            _first_page(canvas, form, language, rng, person, printed, last=count == 1)
        elif number < count:
            _middle_page(canvas, language, rng, first_section=2 * number)
        else:
            _last_page(canvas, form, language, rng, first_section=2 * number)
        draw_footer(canvas, form.code, version, number, count, language)
        canvases.append(canvas)
    return Rendered(
        pages=[c.image for c in canvases],
        label=form.code,
        variant=form.variant,
        language=language,
        hetu=truth,
        texts=[c.ground_truth() for c in canvases],
    )


def _first_page(
    canvas: Canvas,
    form: Form,
    language: str,
    rng: random.Random,
    person: Person,
    hetu: str,
    *,
    last: bool,
) -> None:
    title = form.title_sv if language == "sv" else form.title_fi
    y = draw_header(canvas, form.code, title, language)
    medical = (form.code, form.variant) in _MEDICAL
    y = _person_section(canvas, y, language, person, hetu, medical=medical)
    y = draw_section(canvas, y, 2, word("findings" if medical else "benefit", language))
    y = canvas.text(MARGIN_MM, y, f"{word('from_date', language)} {random_date(rng)}", BODY_PT)
    keywords = form.keywords_sv if language == "sv" else form.keywords_fi
    ticked = rng.randrange(len(keywords)) if keywords else -1
    for i, keyword in enumerate(keywords):
        y = draw_choice(canvas, y + 0.5, printable_keyword(keyword), checked=i == ticked)
    y += 3
    if last:
        draw_signature(canvas, y, rng, language, random_date(rng))
        return
    if not medical:
        y = draw_section(canvas, y, 3, word("account", language))
        draw_fields(canvas, y, [Field(word("iban", language), person.iban, CONTENT_MM * 0.6)])


def _person_section(
    canvas: Canvas, y: float, language: str, person: Person, hetu: str, *, medical: bool
) -> float:
    y = draw_section(canvas, y, 1, word("patient" if medical else "applicant", language))
    half = CONTENT_MM / 2
    rows = [
        [
            Field(word("last_name", language), person.last_name, half),
            Field(word("first_names", language), person.first_names, half),
        ],
        [
            Field(word("hetu", language), hetu, half),
            Field(word("phone", language), person.phone, half),
        ],
        [
            Field(word("street", language), person.street, half),
            Field(word("town", language), person.town, half),
        ],
    ]
    for row in rows:
        y = draw_fields(canvas, y, row)
    return y + 2


def _middle_page(canvas: Canvas, language: str, rng: random.Random, first_section: int) -> None:
    y = draw_section(canvas, 20, first_section, word("income", language))
    half = CONTENT_MM / 2
    y = draw_fields(
        canvas,
        y,
        [
            Field(word("salary", language), _euros(rng, 800, 3500), half),
            Field(word("other_income", language), _euros(rng, 0, 600), half),
        ],
    )
    y = draw_section(canvas, y + 4, first_section + 1, word("expenses", language))
    draw_fields(canvas, y, [Field(word("rent", language), _euros(rng, 350, 1100), half)])


def _last_page(
    canvas: Canvas, form: Form, language: str, rng: random.Random, first_section: int
) -> None:
    y = draw_section(canvas, 20, first_section, word("more", language))
    title = form.title_sv if language == "sv" else form.title_fi
    y = canvas.wrapped(MARGIN_MM, y, _free_text(language, title, rng), BODY_PT, CONTENT_MM)
    y = draw_section(canvas, y + 6, first_section + 1, word("signature", language))
    y = draw_signature(canvas, y, rng, language, random_date(rng))
    canvas.text(MARGIN_MM, y + 4, word("return", language), BODY_PT)


def _free_text(language: str, title: str, rng: random.Random) -> str:
    topic = title.split("–")[-1].strip().lower()
    if language == "sv":
        return f"Jag har bifogat de uppgifter som behövs för {topic}. Jag nås bäst per telefon."
    months = rng.choice(("tammikuussa", "maaliskuussa", "syyskuussa"))
    return (
        f"Liitteenä tiedot, joita tarvitaan asiassa: {topic}. "
        f"Muutin nykyiseen osoitteeseen {months}."
    )


def _euros(rng: random.Random, low: int, high: int) -> str:
    amount = rng.randint(low * 100, high * 100) / 100
    return f"{amount:,.2f} €".replace(",", " ").replace(".", ",")
