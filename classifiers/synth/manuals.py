"""Render manuals and brochures that end up in the scanner: an appliance's instructions, a
municipality's guide to benefits. The guide may tell the reader to apply "lomakkeella AT 1":
a code in running text, and still no form (label "unknown")."""

from __future__ import annotations

import random
from pathlib import Path

from classifiers.synth.canvas import Canvas, Fonts
from classifiers.synth.layout import CONTENT_MM, FOOTER_PT, MARGIN_MM, RIGHT_MM
from classifiers.synth.rendered import Rendered
from classifiers.synth.wording import check_language

_PT = 10
# (title, [(heading, paragraph), ...]) per language and kind.
_MANUAL = {
    "fi": ("Pesukone – käyttöohje", (
        ("Turvallisuusohjeet", "Lue ohjeet ennen laitteen käyttöä. Älä anna lasten leikkiä "
         "laitteella. Irrota pistotulppa pistorasiasta ennen huoltoa."),
        ("Asennus", "Aseta kone tukevalle alustalle ja säädä jalat niin, että kone on "
         "vaakasuorassa. Kiinnitä tulovesiletku ja poistoletku huolellisesti."),
        ("Käyttö", "Valitse ohjelma valitsimella ja paina käynnistyspainiketta. Lämpötila ja "
         "linkousnopeus näkyvät näytössä."),
        ("Huolto ja puhdistus", "Puhdista nukkasihti kerran kuukaudessa. Pyyhi tiiviste "
         "kostealla liinalla ja jätä luukku raolleen pesun jälkeen."),
        ("Vianmääritys", "Jos kone ei käynnisty, tarkista että luukku on kiinni ja virtajohto "
         "kytketty. Vikakoodi E21 tarkoittaa, että vesi ei poistu koneesta."),
    )),
    "sv": ("Tvättmaskin – bruksanvisning", (
        ("Säkerhetsanvisningar", "Läs anvisningarna innan du använder apparaten. Låt inte "
         "barn leka med apparaten. Dra ut stickproppen före service."),
        ("Installation", "Ställ maskinen på ett stadigt underlag och justera fötterna så att "
         "maskinen står vågrätt. Anslut tilloppsslangen och avloppsslangen noga."),
        ("Användning", "Välj program med väljaren och tryck på startknappen. Temperatur och "
         "centrifugeringshastighet visas på displayen."),
        ("Skötsel och rengöring", "Rengör luddfiltret en gång i månaden. Torka av tätningen "
         "med en fuktig trasa och lämna luckan på glänt efter tvätten."),
        ("Felsökning", "Om maskinen inte startar, kontrollera att luckan är stängd och att "
         "sladden är ansluten. Felkoden E21 betyder att vattnet inte pumpas ut."),
    )),
}
_GUIDE = {
    "fi": ("Opas: tuet asumiseen ja toimeentuloon", (
        ("Kenelle opas on tarkoitettu", "Tämä opas kertoo, mistä saat apua asumiskuluihin ja "
         "arjen menoihin. Kunnan sosiaalitoimisto ja Kela neuvovat maksutta."),
        ("Näin haet tukea", "Hae tukea ensin Kelasta. Täytä hakemus verkossa tai paperilla ja "
         "liitä mukaan tositteet tuloistasi ja menoistasi."),
        ("Asiointipisteet", "Yhteispalvelupisteessä saat apua lomakkeiden täyttämiseen ja "
         "voit jättää paperit skannattavaksi. Ota henkilöllisyystodistus mukaan."),
        ("Käsittelyajat", "Hakemus käsitellään yleensä muutamassa viikossa. Päätös lähetetään "
         "sinulle kirjeenä tai OmaKelaan."),
    )),
    "sv": ("Guide: stöd för boende och utkomst", (
        ("Vem guiden är till för", "Den här guiden berättar var du får hjälp med boendekostnader "
         "och vardagens utgifter. Kommunens socialbyrå och FPA ger råd avgiftsfritt."),
        ("Så här söker du stöd", "Sök stöd först hos FPA. Fyll i ansökan på nätet eller på "
         "papper och bifoga verifikat över dina inkomster och utgifter."),
        ("Servicepunkter", "På en samservicepunkt får du hjälp med att fylla i blanketter och "
         "kan lämna in papper för skanning. Ta med ett identitetsbevis."),
        ("Handläggningstider", "Ansökan handläggs vanligen inom några veckor. Beslutet skickas "
         "till dig som brev eller till MittFPA."),
    )),
}
_MENTION = {
    "fi": "Esimerkiksi yleistä asumistukea haetaan lomakkeella {code}, ja muutoksista "
          "ilmoitetaan samalla tavalla.",
    "sv": "Till exempel allmänt bostadsbidrag söks med blankett {code}, och förändringar "
          "anmäls på samma sätt.",
}
_PAGE = {"fi": "Sivu", "sv": "Sida"}


def render_manual(
    language: str,
    *,
    seed: int,
    pages: int = 1,
    guide: bool = False,
    mention_code: str | None = None,
    dpi: int = 300,
    font_path: Path | None = None,
) -> Rendered:
    """Render an appliance manual, or with ``guide`` a benefits guide, as ``pages`` pages.

    ``mention_code`` (guides only) names a Kela form code in a paragraph of the first page.
    Label "unknown", no hetu.
    """
    check_language(language)
    if pages < 1:
        raise ValueError(f"pages must be 1 or more, not {pages}")
    rng = random.Random(f"manual:{language}:{guide}:{mention_code}:{seed}")
    title, sections = (_GUIDE if guide else _MANUAL)[language]
    fonts = Fonts.from_path(font_path)
    order = list(range(len(sections)))
    canvases = []
    for number in range(1, pages + 1):
        canvas = Canvas(dpi, fonts)
        y = canvas.text(MARGIN_MM, 18, title, 18 if number == 1 else 11, bold=number == 1) + 6
        rng.shuffle(order)
        for index in order[: rng.randint(2, 3)]:
            heading, body = sections[index]
            y = canvas.text(MARGIN_MM, y, heading, 13, bold=True) + 1
            y = canvas.wrapped(MARGIN_MM, y, body, _PT + rng.choice((0, 1)), CONTENT_MM) + 7
        if guide and mention_code and number == 1:
            canvas.wrapped(MARGIN_MM, y, _MENTION[language].format(code=mention_code), _PT,
                           CONTENT_MM)
        canvas.text(RIGHT_MM, 284, f"{_PAGE[language]} {number}", FOOTER_PT, align="right")
        canvases.append(canvas)
    return Rendered([c.image for c in canvases], "unknown", None, language, None,
                    [c.ground_truth() for c in canvases])
