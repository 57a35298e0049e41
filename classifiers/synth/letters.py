"""Render pages that are no catalogue document: free letters (one may name a form code in its
running text, a classic distractor) and blank sheets from the feeder."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
from PIL import Image

from classifiers.synth.canvas import A4_MM, Canvas, Fonts
from classifiers.synth.layout import CONTENT_MM, MARGIN_MM, RIGHT_MM
from classifiers.synth.people import Person, make_person, random_date
from classifiers.synth.rendered import HetuRequest, Rendered, resolve_hetu
from classifiers.synth.wording import check_language

_PT = 11
# (subject, body) per language; a letter from the customer and one from a social office.
_LETTERS = {
    "fi": (
        (
            "Asia: Selvitys",
            "Lähetän pyytämänne selvityksen. Olin sairaana, minkä vuoksi vastaukseni "
            "viivästyi. Pyydän, että asiani käsitellään mahdollisimman pian.",
        ),
        (
            "Asia: Ohjaus Kelan palveluihin",
            "Olette asioineet sosiaalitoimistossa {date}. Kelan etuuksia haetaan "
            "ensisijaisesti Kelasta, ja palaamme asiaanne päätöksen saavuttua.",
        ),
    ),
    "sv": (
        (
            "Ärende: Utredning",
            "Jag skickar den utredning ni bad om. Jag var sjuk och därför blev mitt svar "
            "försenat. Jag ber att mitt ärende behandlas så snart som möjligt.",
        ),
        (
            "Ärende: Hänvisning till FPA:s tjänster",
            "Ni besökte socialbyrån {date}. FPA:s förmåner söks i första hand hos FPA, och vi "
            "återkommer till ert ärende när beslutet har kommit.",
        ),
    ),
}
_MENTION = {
    "fi": "Liitä hakemukseen {code} myös selvitys tuloistasi viimeiseltä kolmelta kuukaudelta.",
    "sv": "Bifoga till ansökan {code} också en utredning om dina inkomster för tre månader.",
}
_CLOSING = {"fi": "Ystävällisin terveisin", "sv": "Med vänliga hälsningar"}
_HETU_LINE = {"fi": "Henkilötunnus: {hetu}", "sv": "Personbeteckning: {hetu}"}


_OFFICE = {
    "fi": ("Esimerkkilän kaupunki, sosiaalipalvelut", "Sosiaaliohjaaja"),
    "sv": ("Exempelby stad, socialtjänsten", "Socialhandledare"),
}
_KELA_ADDRESS = {"fi": ("Kela", "PL 10", "00056 KELA"), "sv": ("FPA", "PB 10", "00056 FPA")}


def render_letter(
    language: str,
    *,
    seed: int,
    mention_code: str | None = None,
    hetu: HetuRequest = None,
    dpi: int = 300,
    font_path: Path | None = None,
) -> Rendered:
    """Render a one-page letter that is no Kela form (label "unknown").

    Either a customer writes to Kela, or a social office writes to a customer. With
    ``mention_code`` it is always the office, asking in running text to "Liitä hakemukseen TO 1
    ..." (the code printed as given), so a classifier that trusts any code it sees is caught
    out. ``hetu`` as for forms; default none.
    """
    check_language(language)
    rng = random.Random(f"letter:{language}:{mention_code}:{seed}")
    printed, truth = resolve_hetu(rng, hetu)
    customer = make_person(rng, language)
    from_office = bool(mention_code) or rng.random() < 0.5
    office, role = _OFFICE[language]
    official = make_person(rng, language).full_name
    sender = (office, customer.town) if from_office else _postal(customer)
    recipient = _postal(customer) if from_office else _KELA_ADDRESS[language]
    canvas = Canvas(dpi, Fonts.from_path(font_path))
    y = _addresses(canvas, sender, recipient, random_date(rng))
    subject, body = _LETTERS[language][1 if from_office else 0]
    y = canvas.text(MARGIN_MM, y + 10, subject, 12, bold=True) + 4
    sentences = [body.format(date=random_date(rng))]
    if mention_code:
        sentences.append(_MENTION[language].format(code=mention_code))
    if printed:
        sentences.append(_HETU_LINE[language].format(hetu=printed))
    y = canvas.wrapped(MARGIN_MM, y, " ".join(sentences), _PT, CONTENT_MM) + 8
    y = canvas.text(MARGIN_MM, y, _CLOSING[language], _PT) + 12
    canvas.text(MARGIN_MM, y, f"{role} {official}" if from_office else customer.full_name, _PT)
    return Rendered([canvas.image], "unknown", None, language, truth, [canvas.ground_truth()])


def _postal(person: Person) -> tuple[str, ...]:
    return (person.full_name, person.street, person.town)


def _addresses(
    canvas: Canvas, sender: tuple[str, ...], recipient: tuple[str, ...], date: str
) -> float:
    y = 20.0
    canvas.text(RIGHT_MM, y, date, _PT, align="right")
    for line in sender:
        y = canvas.text(MARGIN_MM, y, line, _PT)
    y += 10
    for line in recipient:
        y = canvas.text(MARGIN_MM, y, line, _PT)
    return y


def render_blank(dpi: int = 300, *, seed: int = 0) -> Image.Image:
    """A white A4 page with the faint uneven grain and few specks a scanner leaves on glass."""
    rng = np.random.default_rng(seed)
    rows, columns = round(A4_MM[1] * dpi / 25.4), round(A4_MM[0] * dpi / 25.4)
    # Coarse grain scaled up: looks like scanner unevenness and keeps the PNG small.
    coarse = Image.fromarray(
        rng.normal(248, 2.0, (rows // 8, columns // 8)).clip(0, 255).astype(np.uint8)
    )
    grain = np.asarray(coarse.resize((columns, rows), Image.Resampling.BILINEAR)).copy()
    specks = rng.random((rows, columns)) < 2e-5
    grain[specks] = rng.uniform(90, 200, int(specks.sum())).astype(np.uint8)
    image = Image.fromarray(grain)
    image.info["dpi"] = (dpi, dpi)
    return image
