"""The fixed Finnish and Swedish wording printed on synthetic Kela pages."""

from __future__ import annotations

from typing import Final

# key -> (fi, sv)
_WORDS: Final[dict[str, tuple[str, str]]] = {
    "brand": ("Kela", "FPA"),
    "agency": ("Kansaneläkelaitos", "Folkpensionsanstalten"),
    "arrived": ("Saapunut", "Inkommit"),
    "instructions": (
        "Täytä lomake huolellisesti. Ohjeet ovat lomakkeen lopussa.",
        "Fyll i blanketten omsorgsfullt. Anvisningarna finns i slutet av blanketten.",
    ),
    "applicant": ("Hakijan tiedot", "Sökandens uppgifter"),
    "patient": ("Potilaan tiedot", "Patientens uppgifter"),
    "last_name": ("Sukunimi", "Efternamn"),
    "first_names": ("Etunimet", "Förnamn"),
    "hetu": ("Henkilötunnus", "Personbeteckning"),
    "phone": ("Puhelinnumero", "Telefonnummer"),
    "street": ("Lähiosoite", "Näraddress"),
    "town": ("Postinumero ja postitoimipaikka", "Postnummer och postanstalt"),
    "benefit": ("Haettava etuus", "Förmån som söks"),
    "findings": ("Lausunnon sisältö", "Utlåtandets innehåll"),
    "from_date": ("Haen etuutta alkaen", "Jag ansöker om förmånen från och med"),
    "account": ("Tilinumero", "Kontonummer"),
    "iban": ("Tilinumero (IBAN)", "Kontonummer (IBAN)"),
    "income": ("Tulot", "Inkomster"),
    "expenses": ("Menot", "Utgifter"),
    "salary": ("Palkkatulot kuukaudessa", "Löneinkomster per månad"),
    "other_income": ("Muut tulot kuukaudessa", "Övriga inkomster per månad"),
    "rent": ("Vuokra kuukaudessa", "Hyra per månad"),
    "more": ("Lisätiedot", "Tilläggsuppgifter"),
    "signature": ("Allekirjoitus", "Underskrift"),
    "date": ("Päiväys", "Datum"),
    "declare": (
        "Vakuutan antamani tiedot oikeiksi.",
        "Jag försäkrar att uppgifterna är riktiga.",
    ),
    "return": (
        "Palauta lomake liitteineen: Kela, PL 10, 00056 KELA",
        "Returnera blanketten med bilagor: FPA, PB 10, 00056 FPA",
    ),
    "page": ("Sivu", "Sida"),
    "web": ("www.kela.fi", "www.kela.fi"),
    "yes": ("Kyllä", "Ja"),
    "no": ("Ei", "Nej"),
    "attachment": ("Liite", "Bilaga"),
}


def word(key: str, language: str) -> str:
    """The printed text for ``key`` in ``language`` (``fi`` or ``sv``)."""
    fi, sv = _WORDS[key]
    return sv if language == "sv" else fi


def check_language(language: str) -> None:
    """Refuse anything but the two languages Kela prints its forms in."""
    if language not in ("fi", "sv"):
        raise ValueError(f"language must be 'fi' or 'sv', not {language!r}")
