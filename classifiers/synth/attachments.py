"""Render the attachments customers bring without a Kela code: bank statement, rental
agreement, pay slip. Each names its kind in its own words, never a form code."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from classifiers.synth.canvas import LABEL_INK, Canvas, Fonts
from classifiers.synth.layout import BODY_PT, MARGIN_MM, RIGHT_MM, VALUE_PT
from classifiers.synth.people import Person, make_person, random_date
from classifiers.synth.rendered import HetuRequest, Rendered, resolve_hetu
from classifiers.synth.wording import check_language

_Drawer = Callable[[Canvas, str, random.Random, Person, str], None]
# Euro ranges of the five statement rows: salary, rent, groceries, electricity, benefit.
_RANGES = ((1500, 2800), (350, 900), (15, 120), (20, 90), (150, 450))
_PT = 11  # attachments are printed by banks and employers in plain 10-11 pt


def _t(language: str, fi: str, sv: str) -> str:
    return sv if language == "sv" else fi


def _money(amount: float) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",")


def _row(canvas: Canvas, y: float, label: str, value: str, *, bold: bool = False) -> float:
    """A label left and its value right-aligned, as on a statement; return the next y."""
    canvas.text(MARGIN_MM, y, label, _PT, bold=bold)
    canvas.text(RIGHT_MM, y, value, _PT, bold=bold, align="right")
    return y + 6.5


def _letterhead(canvas: Canvas, issuer: str, title: str) -> float:
    canvas.text(MARGIN_MM, 16, issuer, 16, bold=True)
    canvas.text(RIGHT_MM, 17, title, 15, bold=True, align="right")
    canvas.hline(MARGIN_MM, 27, RIGHT_MM - MARGIN_MM)
    return 33.0


def _bank_statement(canvas: Canvas, lang: str, rng: random.Random, who: Person, hetu: str) -> None:
    y = _letterhead(
        canvas,
        _t(lang, "Esimerkkipankki Oyj", "Exempelbanken Abp"),
        _t(lang, "TILIOTE", "KONTOUTDRAG"),
    )
    y = canvas.text(
        MARGIN_MM, y, f"{_t(lang, 'Tilinomistaja', 'Kontohavare')}: {who.full_name}", _PT
    )
    y = canvas.text(MARGIN_MM, y, f"{_t(lang, 'Tili', 'Konto')}: {who.iban}", _PT)
    month = rng.randint(1, 11)
    period = f"1.{month}.2024 - {28 if month == 2 else 30}.{month}.2024"
    y = canvas.text(MARGIN_MM, y, f"{_t(lang, 'Ajanjakso', 'Period')}: {period}", _PT) + 6
    y = canvas.text(MARGIN_MM, y, _t(lang, "Tilitapahtumat", "Kontohändelser"), 12, bold=True) + 1
    balance = rng.randint(200, 3000) + rng.randint(0, 99) / 100
    y = _row(canvas, y, _t(lang, "Alkusaldo", "Ingående saldo"), _money(balance))
    payees = _t(
        lang,
        "PALKKA|VUOKRA|K-MARKET|SÄHKÖYHTIÖ|KELA ASUMISTUKI",
        "LÖN|HYRA|K-MARKET|ELBOLAGET|FPA BOSTADSBIDRAG",
    ).split("|")
    for i, payee in enumerate(payees):
        amount = rng.randint(*_RANGES[i]) + rng.randint(0, 99) / 100
        amount = amount if i in (0, 4) else -amount  # salary and benefit come in
        balance += amount
        kind = _t(lang, "pano", "insättning") if amount > 0 else _t(lang, "otto", "uttag")
        day = f"{3 + 5 * i}.{month}."
        label = f"{day} {_t(lang, 'arvopäivä', 'valutadag')} {day} {payee} ({kind})"
        y = _row(canvas, y, label, f"{amount:+,.2f}".replace(",", " ").replace(".", ","))
    _row(canvas, y + 2, _t(lang, "Loppusaldo", "Utgående saldo"), _money(balance), bold=True)


def _rental_agreement(
    canvas: Canvas, lang: str, rng: random.Random, who: Person, hetu: str
) -> None:
    y = _letterhead(
        canvas,
        _t(lang, "Vuokrataloyhtiö Esimerkki Oy", "Hyreshusbolaget Exempel Ab"),
        _t(lang, "VUOKRASOPIMUS", "HYRESAVTAL"),
    )
    landlord = make_person(rng, lang)
    sections = [
        (_t(lang, "1 Vuokranantaja", "1 Hyresvärd"), [landlord.full_name, landlord.town]),
        (
            _t(lang, "2 Vuokralainen", "2 Hyresgäst"),
            [who.full_name]
            + ([f"{_t(lang, 'Henkilötunnus', 'Personbeteckning')}: {hetu}"] if hetu else []),
        ),
        (
            _t(lang, "3 Vuokrakohde", "3 Hyresobjekt"),
            [f"{who.street}, {who.town}", f"2h+k, {rng.randint(30, 80)} m²"],
        ),
        (
            _t(lang, "4 Vuokran määrä", "4 Hyrans belopp"),
            [f"{_money(rng.randint(350, 1100))} € " + _t(lang, "kuukaudessa", "per månad")],
        ),
        (
            _t(lang, "5 Sopimuskausi", "5 Avtalsperiod"),
            [
                _t(lang, "Toistaiseksi voimassa, alkaen ", "Gäller tills vidare från och med ")
                + random_date(rng)
            ],
        ),
    ]
    for heading, lines in sections:
        y = canvas.text(MARGIN_MM, y, heading, 12, bold=True)
        for line in lines:
            y = canvas.text(MARGIN_MM + 6, y, line, _PT)
        y += 4
    canvas.text(MARGIN_MM, y + 6, _t(lang, "Vuokranantaja", "Hyresvärd"), BODY_PT, ink=LABEL_INK)
    canvas.text(110, y + 6, _t(lang, "Vuokralainen", "Hyresgäst"), BODY_PT, ink=LABEL_INK)


def _pay_slip(canvas: Canvas, lang: str, rng: random.Random, who: Person, hetu: str) -> None:
    y = _letterhead(
        canvas,
        _t(lang, "Esimerkki Oy", "Exempel Ab"),
        _t(lang, "PALKKALASKELMA", "LÖNESPECIFIKATION"),
    )
    y = canvas.text(MARGIN_MM, y, f"{_t(lang, 'Palkansaaja', 'Löntagare')}: {who.full_name}", _PT)
    if hetu:
        y = canvas.text(
            MARGIN_MM, y, f"{_t(lang, 'Henkilötunnus', 'Personbeteckning')}: {hetu}", VALUE_PT
        )
    month = rng.randint(1, 11)
    y = (
        canvas.text(
            MARGIN_MM,
            y,
            f"{_t(lang, 'Palkkakausi', 'Löneperiod')}: 1.{month}. - "
            f"{28 if month == 2 else 30}.{month}.2024",
            _PT,
        )
        + 6
    )
    gross = rng.randint(1800, 4200)
    tax = round(gross * rng.uniform(0.1, 0.3), 2)
    pension = round(gross * 0.0715, 2)
    unemployment = round(gross * 0.0079, 2)
    rows = [
        (_t(lang, "Kuukausipalkka", "Månadslön"), gross),
        (_t(lang, "Bruttopalkka", "Bruttolön"), gross),
        (_t(lang, "Ennakonpidätys", "Förskottsinnehållning"), -tax),
        (_t(lang, "Työntekijän eläkemaksu", "Arbetstagarens pensionsavgift"), -pension),
        (_t(lang, "Työttömyysvakuutusmaksu", "Arbetslöshetsförsäkringspremie"), -unemployment),
    ]
    for label, amount in rows:
        y = _row(canvas, y, label, _money(amount))
    y = _row(
        canvas,
        y + 2,
        _t(lang, "Nettopalkka", "Nettolön"),
        _money(gross - tax - pension - unemployment),
        bold=True,
    )
    canvas.text(
        MARGIN_MM, y + 6, f"{_t(lang, 'Maksettu tilille', 'Betalt till konto')} {who.iban}", BODY_PT
    )


_DRAWERS: dict[str, _Drawer] = {
    "attachment/bank_statement": _bank_statement,
    "attachment/rental_agreement": _rental_agreement,
    "attachment/pay_slip": _pay_slip,
}
ATTACHMENT_KINDS = tuple(_DRAWERS)


def render_attachment(
    kind: str,
    language: str,
    *,
    seed: int,
    hetu: HetuRequest = None,
    dpi: int = 300,
    font_path: Path | None = None,
) -> Rendered:
    """Render one page of an attachment of ``kind`` (see ``ATTACHMENT_KINDS``).

    Bank statements never show a hetu; rental agreements and pay slips show one when ``hetu``
    asks for it (same values as for forms; default none).
    """
    check_language(language)
    if kind not in _DRAWERS:
        raise ValueError(f"kind must be one of {ATTACHMENT_KINDS}, not {kind!r}")
    rng = random.Random(f"attachment:{kind}:{language}:{seed}")
    printed, truth = resolve_hetu(rng, hetu)
    if kind == "attachment/bank_statement":
        printed, truth = "", None
    canvas = Canvas(dpi, Fonts.from_path(font_path))
    _DRAWERS[kind](canvas, language, rng, make_person(rng, language), printed)
    return Rendered([canvas.image], kind, None, language, truth, [canvas.ground_truth()])
