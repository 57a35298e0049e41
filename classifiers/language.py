"""Tell a Finnish document from a Swedish one by its common words, its å and the code suffix."""

from __future__ import annotations

from collections.abc import Iterable

from classifiers.base import Language

# Frequent words on Kela forms and letters that the other language never uses.
_FINNISH = frozenset({
    "ja", "on", "tai", "ei", "jos", "että", "kun", "sinun", "olen", "ovat", "hakemus",
    "henkilötunnus", "päivämäärä", "allekirjoitus", "sivu", "osoite", "nimi", "lomake", "kyllä",
    "hakijan", "tiedot", "mukaan", "liite", "ilmoitus", "kansaneläkelaitos", "tulot", "puhelin",
    "myös", "sekä", "mutta", "oli", "olin", "minä", "minun", "teidän", "asia", "vuoksi", "kanssa",
    "tämä", "ystävällisin", "terveisin", "yhteensä", "päivä", "kuukausi",
})
_SWEDISH = frozenset({
    "och", "är", "att", "om", "eller", "för", "med", "på", "av", "det", "som", "inte", "till",
    "ansökan", "personbeteckning", "datum", "underskrift", "sida", "adress", "namn", "blankett",
    "nej", "sökandens", "uppgifter", "bilaga", "anmälan", "enligt", "folkpensionsanstalten", "fpa",
    "också", "jag", "ni", "vi", "har", "mitt", "min", "den", "ett", "vänliga", "hälsningar",
    "ärende", "totalt", "dag", "månad",
})
_HINT_WEIGHT = 5  # a code suffix or a matched title outweighs a few stray words
_MARGIN = 1.5  # the winner needs this many times the loser's count


def detect_language(tokens: Iterable[str], hints: Iterable[Language] = ()) -> Language:
    """"fi", "sv", "en" or "und" from lower-case ``tokens`` and ``hints`` (code suffix, title).

    An "en" hint (the ``e`` suffix) decides on its own: English forms carry Finnish furniture.
    """
    hint_list = list(hints)
    if "en" in hint_list:
        return "en"
    fi = sv = 0
    for token in tokens:
        fi += token in _FINNISH
        sv += (token in _SWEDISH) + ("å" in token)
    fi += _HINT_WEIGHT * hint_list.count("fi")
    sv += _HINT_WEIGHT * hint_list.count("sv")
    if fi >= 2 and fi >= _MARGIN * sv:
        return "fi"
    if sv >= 2 and sv >= _MARGIN * fi:
        return "sv"
    return "und"
