"""Render bills customers hand in with their papers: electricity, phone, a hospital's patient bill.

No bill is a Kela form or attachment kind (label "unknown"), yet each looks form-like: ruled
boxes, a bank transfer slip with labels, an IBAN, a reference number, sometimes a hetu.
"""

from __future__ import annotations

import random
from pathlib import Path

from classifiers.synth.canvas import LABEL_INK, Canvas, Fonts
from classifiers.synth.layout import CONTENT_MM, MARGIN_MM, RIGHT_MM, VALUE_PT
from classifiers.synth.people import Person, fi_iban, make_person, random_date
from classifiers.synth.rendered import HetuRequest, Rendered, resolve_hetu
from classifiers.synth.wording import check_language

_PT = 10
# issuer, (fi, sv) title, line items (fi, sv, euro range)
_ISSUERS = (
    (("Esimerkin Sähkö Oy", "Exempel El Ab"), ("SÄHKÖLASKU", "ELRÄKNING"),
     (("Perusmaksu", "Grundavgift", (3, 9)), ("Energia", "Energi", (20, 140)),
      ("Siirtomaksu", "Överföringsavgift", (15, 60)))),
    (("Puhelin Oyj", "Telefon Abp"), ("LASKU", "FAKTURA"),
     (("Liittymän kuukausimaksu", "Abonnemangets månadsavgift", (9, 40)),
      ("Puhelut ja viestit", "Samtal och meddelanden", (0, 15)))),
    (("Esimerkkilän sairaanhoitopiiri", "Exempelby sjukvårdsdistrikt"),
     ("POTILASLASKU", "PATIENTRÄKNING"),
     (("Poliklinikkamaksu", "Poliklinikavgift", (41, 41)),
      ("Sarjahoitomaksu", "Serievårdsavgift", (0, 12)))),
)


def _t(language: str, pair: tuple[str, str]) -> str:
    return pair[1] if language == "sv" else pair[0]


def reference_number(rng: random.Random) -> str:
    """A Finnish bank reference number with its 7-3-1 check digit, in groups of five."""
    base = str(rng.randint(10_000, 99_999_999))
    weights = (7, 3, 1)
    total = sum(int(d) * weights[i % 3] for i, d in enumerate(reversed(base)))
    digits = base + str((10 - total % 10) % 10)
    head = len(digits) % 5 or 5  # groups counted from the right, as banks print them
    return " ".join([digits[:head]] + [digits[i:i + 5] for i in range(head, len(digits), 5)])


def render_bill(
    language: str,
    *,
    seed: int,
    hetu: HetuRequest = None,
    dpi: int = 300,
    font_path: Path | None = None,
) -> Rendered:
    """Render a one-page bill (label "unknown"); the hospital bill shows a requested hetu."""
    check_language(language)
    rng = random.Random(f"bill:{language}:{seed}")
    printed, truth = resolve_hetu(rng, hetu)
    kind = rng.randrange(len(_ISSUERS))
    issuer, title, items = _ISSUERS[kind]
    if kind != 2:  # only the patient bill names the customer by hetu
        printed, truth = "", None
    customer = make_person(rng, language)
    canvas = Canvas(dpi, Fonts.from_path(font_path))
    canvas.text(MARGIN_MM, 14, _t(language, issuer), 16, bold=True)
    canvas.text(RIGHT_MM, 15, _t(language, title), 15, bold=True, align="right")
    canvas.hline(MARGIN_MM, 25, CONTENT_MM)
    y = _customer(canvas, language, customer, printed)
    reference, due = reference_number(rng), random_date(rng)
    y = _details(canvas, y, language, rng, reference, due)
    total, y = _items(canvas, y + 6, language, rng, items)
    _transfer_slip(canvas, language, _t(language, issuer), customer, reference, due, total)
    return Rendered([canvas.image], "unknown", None, language, truth, [canvas.ground_truth()])


def _customer(canvas: Canvas, language: str, who: Person, hetu: str) -> float:
    y = 32.0
    for line in (who.full_name, who.street, who.town):
        y = canvas.text(MARGIN_MM, y, line, _PT + 1)
    if hetu:
        label = _t(language, ("Henkilötunnus", "Personbeteckning"))
        y = canvas.text(MARGIN_MM, y + 2, f"{label}: {hetu}", VALUE_PT)
    return y + 6


def _details(canvas: Canvas, y: float, language: str, rng: random.Random, reference: str,
             due: str) -> float:
    rows = (
        (("Laskun numero", "Fakturanummer"), str(rng.randint(100_000, 999_999))),
        (("Laskun päivä", "Fakturadatum"), random_date(rng)),
        (("Asiakasnumero", "Kundnummer"), str(rng.randint(10_000, 99_999))),
        (("Viitenumero", "Referensnummer"), reference),
        (("Eräpäivä", "Förfallodag"), due),
    )
    for label, value in rows:
        canvas.text(110, y, _t(language, label), _PT, ink=LABEL_INK)
        y = canvas.text(RIGHT_MM, y, value, _PT, align="right")
    return y


def _items(canvas: Canvas, y: float, language: str, rng: random.Random,
           items: tuple[tuple[str, str, tuple[int, int]], ...]) -> tuple[str, float]:
    canvas.text(MARGIN_MM, y, _t(language, ("Erittely", "Specifikation")), 12, bold=True)
    y += 7
    total = 0.0
    for fi, sv, (low, high) in items:
        amount = rng.randint(low * 100, high * 100) / 100
        total += amount
        canvas.text(MARGIN_MM, y, sv if language == "sv" else fi, _PT)
        y = canvas.text(RIGHT_MM, y, _euros(amount), _PT, align="right") + 1
    canvas.hline(110, y, RIGHT_MM - 110)
    label = _t(language, ("Yhteensä (sis. alv 25,5 %)", "Totalt (inkl. moms 25,5 %)"))
    canvas.text(MARGIN_MM, y + 2, label, _PT + 1, bold=True)
    y = canvas.text(RIGHT_MM, y + 2, _euros(total), _PT + 1, bold=True, align="right")
    return _euros(total), y


def _transfer_slip(canvas: Canvas, language: str, payee: str, payer: Person, reference: str,
                   due: str, total: str) -> None:
    """The bank transfer slip (tilisiirto / girering) across the bottom third of the page."""
    top = 200.0
    canvas.hline(MARGIN_MM, top - 4, CONTENT_MM, weight_mm=0.2)
    half = CONTENT_MM / 2
    boxes = (
        (("Saajan tilinumero", "Mottagarens kontonummer"), fi_iban(random.Random(payee)), 0, 0),
        (("Saaja", "Mottagare"), payee, 0, 1),
        (("Maksaja", "Betalare"), payer.full_name, 0, 2),
        (("Viitenumero", "Ref. nr"), reference, 1, 0),
        (("Eräpäivä", "Förfallodag"), due, 1, 1),
        (("Euro", "Euro"), total, 1, 2),
    )
    for label, value, column, row in boxes:
        x, y = MARGIN_MM + column * half, top + row * 14
        canvas.rect(x, y, half, 14)
        canvas.text(x + 1.5, y + 1, _t(language, label), 7, ink=LABEL_INK)
        canvas.text(x + 2.5, y + 6, value, _PT + 1)
    canvas.text(MARGIN_MM, top + 46, _t(language, ("TILISIIRTO", "GIRERING")), 9, bold=True)


def _euros(amount: float) -> str:
    return f"{amount:,.2f} €".replace(",", " ").replace(".", ",")
