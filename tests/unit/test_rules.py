"""The rule classifier on OCR-like strings: codes read through OCR confusions, the code's
position and the title as evidence, attachments by keywords, and "unknown" rather than a guess."""

from __future__ import annotations

import pytest

from classifiers.base import Classification, DocumentText, PageText
from classifiers.catalogue import load_catalogue
from classifiers.codes import find_codes
from classifiers.language import detect_language
from classifiers.rules import RuleClassifier
from classifiers.titles import words

CATALOGUE = load_catalogue()
KNOWN = frozenset(CATALOGUE.codes())


@pytest.fixture(scope="module")
def rules() -> RuleClassifier:
    return RuleClassifier(CATALOGUE)


def form_page(header: str, title: str, footer: str, *, swedish: bool = False) -> PageText:
    """A first page as the OCR stage hands it over: strips read apart, body in the text."""
    body = ("Fyll i blanketten omsorgsfullt. Anvisningarna finns i slutet av blanketten.\n"
            "1 Sökandens uppgifter\nEfternamn Förnamn\nPersonbeteckning Telefonnummer"
            if swedish else
            "Täytä lomake huolellisesti. Ohjeet ovat lomakkeen lopussa.\n"
            "1 Hakijan tiedot\nSukunimi Etunimet\nHenkilötunnus Puhelinnumero")
    agency = "Folkpensionsanstalten Inkommit" if swedish else "Kansaneläkelaitos Saapunut"
    head = f"{header}\n{agency}\n{title}"
    return PageText(text=f"{head}\n{body}\n{footer}", header=head, footer=footer)


def classify(rules: RuleClassifier, *pages: PageText) -> Classification:
    return rules.classify(DocumentText(pages))


# --- reading codes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "code", "suffix"),
    [
        ("Kela TO 1", "TO 1", None),
        ("TO1", "TO 1", None),
        ("T O 1", "TO 1", None),
        ("TOI", "TO 1", None),  # I for 1
        ("T0 1", "TO 1", None),  # 0 for O
        ("TO1r", "TO 1", "r"),
        ("Yl21r", "Y 121", "r"),  # l for 1
        ("Y121r", "Y 121", "r"),
        ("5V 89", "SV 89", None),  # 5 for S
        ("SV 8", "SV 8", None),
        ("EV256r", "EV 256", "r"),
        ("KU1O1", "KU 101", None),  # O for 0 in the number
        ("AT 1e", "AT 1", "e"),
        ("SV Ar", "SV 4", "r"),  # A for 4
        ("Z", None, None),
        ("Sivu 1 (4)", None, None),
        ("XY 1", None, None),  # shaped like a code, but not in the catalogue
    ],
)
def test_codes_are_read_through_ocr_confusions(line: str, code: str | None,
                                               suffix: str | None) -> None:
    hits = find_codes(line, KNOWN)
    assert [(h.code, h.suffix) for h in hits] == ([] if code is None else [(code, suffix)])


@pytest.mark.parametrize(
    ("line", "code"),
    [("AE10923", "AE 1"), ("AE1 09.23", "AE 1"), ("AE109.23", "AE 1"),
     ("SV80115 www.kela.fi", "SV 8"), ("SV890115", "SV 89"), ("SV17801.23", "SV 178")],
)
def test_a_version_date_glued_to_the_code_is_not_part_of_the_number(line: str, code: str) -> None:
    """GIVEN a footer "AE1 09.23" read without its space (TOOLCHAIN.md's trap)
    WHEN codes are read, even with "AE 109" in the catalogue THEN it is AE 1 (of 09/23)."""
    assert [h.code for h in find_codes(line, KNOWN | {"AE 109", "SV 801"})] == [code]


def test_a_code_read_through_a_confusion_is_marked_corrected() -> None:
    assert [h.corrected for h in find_codes("TOI TT 2", KNOWN)] == [True, False]


# --- classifying forms --------------------------------------------------------------------------


def test_header_footer_and_title_agreeing_give_the_form_with_high_confidence(
    rules: RuleClassifier,
) -> None:
    result = classify(rules, form_page("Kela TO 1", "Hakemus - Perustoimeentulotuki",
                                       "TO 1 01.23 www.kela.fi Sivu 1 (4)"))
    assert (result.kind, result.form_code, result.language) == ("form", "TO 1", "fi")
    assert result.classified_by == "rule"
    assert result.confidence >= 0.9
    assert {e.kind for e in result.evidence} == {"header_code", "footer_code", "title"}


def test_the_swedish_suffix_gives_the_form_and_the_language(rules: RuleClassifier) -> None:
    result = classify(rules, form_page("FPA TO1r", "Ansökan om grundläggande utkomststöd",
                                       "TO 1r 01.23 www.kela.fi Sida 1 (4)", swedish=True))
    assert (result.form_code, result.language) == ("TO 1", "sv")


def test_the_suffix_alone_makes_a_page_with_few_words_swedish(rules: RuleClassifier) -> None:
    result = classify(rules, PageText(text="Y121r\n12.3.2024", header="Y121r"))
    assert (result.form_code, result.language) == ("Y 121", "sv")


@pytest.mark.parametrize(
    ("title", "swedish", "variant"),
    [("Hakemus - Eläkettä saavan hoitotuki", False, "hoitotuki"),
     ("C-lausunto", False, "c-lausunto"),
     ("Ansökan - Vårdbidrag för pensionstagare", True, "hoitotuki"),
     ("Läkarutlåtande C", True, "c-lausunto")],
)
def test_the_title_chooses_between_the_two_ev_256_documents(
    rules: RuleClassifier, title: str, swedish: bool, variant: str
) -> None:
    suffix = "r" if swedish else ""
    page = form_page(f"Kela EV 256{suffix}", title, f"EV 256{suffix} 01.23 www.kela.fi",
                     swedish=swedish)
    result = classify(rules, page)
    assert (result.form_code, result.form_variant) == ("EV 256", variant)


def test_a_dropped_code_is_recovered_from_the_title_with_less_confidence(
    rules: RuleClassifier,
) -> None:
    """GIVEN OCR lost the code in header and footer WHEN the title is read THEN the form is
    named from the title alone, less sure than with the code."""
    full = classify(rules, form_page("Kela SV 28", "Hakemus - Osasairauspäiväraha",
                                     "SV 28 01.23 www.kela.fi Sivu 1 (2)"))
    title_only = classify(rules, form_page("Kela", "Hakemus - Osasairauspäiväraha",
                                           "www.kela.fi Sivu 1 (2)"))
    assert (title_only.kind, title_only.form_code) == ("form", "SV 28")
    assert [e.kind for e in title_only.evidence] == ["title"]
    assert 0 < title_only.confidence < full.confidence


def test_a_similar_title_does_not_win_over_the_exact_one(rules: RuleClassifier) -> None:
    """Sairauspäivärahat (SV 8) and Osasairauspäiväraha (SV 28) differ by a few letters."""
    result = classify(rules, form_page("Kela", "Hakemus - Sairauspäivärahat", "www.kela.fi"))
    assert result.form_code == "SV 8"


def test_a_code_alone_gives_the_form_with_medium_confidence(rules: RuleClassifier) -> None:
    code_only = classify(rules, PageText(text="Kela\nKM 1\n...", header="Kela KM 1"))
    full = classify(rules, form_page("Kela KM 1", "Hakemus - Koulumatkatuki",
                                     "KM 1 05.16 www.kela.fi Sivu 1 (2)"))
    assert code_only.form_code == "KM 1"
    assert 0.3 <= code_only.confidence < full.confidence


def test_a_title_misread_by_a_letter_still_counts(rules: RuleClassifier) -> None:
    result = classify(rules, form_page("Kela", "Hakemus - Perustoimeentulotukl", "www.kela.fi"))
    assert result.form_code == "TO 1"


def test_the_footer_date_trap_does_not_invent_a_form(rules: RuleClassifier) -> None:
    result = classify(rules, form_page("Kela", "Hakemus - Eläkkeensaajan asumistuki",
                                       "AE10923 www.kela.fi Sivu 1 (4)"))
    assert result.form_code == "AE 1"
    assert any(e.kind == "footer_code" for e in result.evidence)


def test_a_code_only_in_the_page_text_counts_when_the_strips_are_empty(
    rules: RuleClassifier,
) -> None:
    text = "Kela TT 2\nIlmoitus työttömyysajasta\n" + "rivi\n" * 20 + "TT 2 03.21 www.kela.fi"
    result = classify(rules, PageText(text=text))
    assert result.form_code == "TT 2"
    assert {e.kind for e in result.evidence} >= {"header_code", "footer_code"}


def test_codes_outside_the_catalogue_do_not_count(rules: RuleClassifier) -> None:
    result = classify(rules, PageText(text="Kela XY 12\nlorem\nXY 12 01.23", header="Kela XY 12"))
    assert result.kind == "unknown"
    assert result.form_code is None


# --- mentions, attachments, unknown -------------------------------------------------------------

LETTER = (
    "Matti Järvinen 12.7.2024\nKuusikuja 30 A 14\n90100 OULU\nKela\nPL 10\n00056 KELA\n"
    "Asia: Selvitys\nLähetän pyytämänne selvityksen. Olin sairaana, minkä vuoksi vastaukseni\n"
    "viivästyi. Liitä hakemukseen TO 1 myös selvitys tuloistasi viimeiseltä kolmelta\n"
    "kuukaudelta.\nYstävällisin terveisin\nMatti Järvinen"
)


def test_a_code_mentioned_in_a_letter_does_not_make_it_that_form(rules: RuleClassifier) -> None:
    result = classify(rules, PageText(text=LETTER))
    assert (result.kind, result.form_code, result.language) == ("unknown", None, "fi")
    assert [e.kind for e in result.evidence] == ["mentioned_code"]


@pytest.mark.parametrize(
    "line",
    ["Liitä hakemukseen TO 1 myös selvitys tuloistasi.",
     "Lähetä meille TO 1 allekirjoitettuna.",
     "Bifoga till ansökan TO 1r också en utredning om dina inkomster.",
     "TO 1 -lomake"],
)
def test_a_sentence_naming_a_code_in_the_header_strip_is_a_mention(
    rules: RuleClassifier, line: str
) -> None:
    result = classify(rules, PageText(text=f"{line}\nrivi\nrivi\nrivi", header=line))
    assert result.kind == "unknown"


@pytest.mark.parametrize(
    ("text", "kind", "language"),
    [("Osuuspankki\nTILIOTE 1.1.2024 - 31.1.2024\nTilitapahtumat\nArvopäivä Selite Määrä\n"
      "Saldo 1 234,00", "attachment/bank_statement", "fi"),
     ("Hyresavtal\nHyresvärd: Bostads Ab\nHyresgäst: Anna Nyberg\nHyrans belopp 650 €",
      "attachment/rental_agreement", "sv"),
     ("Palkkalaskelma 3/2024\nBruttopalkka 2 800,00\nEnnakonpidätys -560,00\n"
      "Nettopalkka 2 040,00", "attachment/pay_slip", "fi")],
)
def test_attachments_are_named_by_their_keywords_without_a_form_code(
    rules: RuleClassifier, text: str, kind: str, language: str
) -> None:
    result = classify(rules, PageText(text=text))
    assert (result.kind, result.form_code, result.language) == (kind, None, language)
    assert all(e.kind == "keyword" for e in result.evidence)
    assert 0.5 <= result.confidence <= 0.9


def test_one_stray_keyword_is_not_an_attachment(rules: RuleClassifier) -> None:
    result = classify(rules, PageText(text="Muistilappu\nSaldo tarkistettava huomenna"))
    assert result.kind == "unknown"


def test_an_empty_document_is_unknown(rules: RuleClassifier) -> None:
    assert rules.classify(DocumentText(())).kind == "unknown"


def test_the_version_names_the_rules_and_the_catalogue(rules: RuleClassifier) -> None:
    assert rules.version == f"rules/1+forms:{CATALOGUE.digest}"


def test_a_later_page_footer_supports_the_first_page_code(rules: RuleClassifier) -> None:
    first = PageText(text="Kela OT 2\n...", header="Kela OT 2")
    second = PageText(text="...\nOT 2 08.19 www.kela.fi Sivu 2 (2)",
                      footer="OT 2 08.19 www.kela.fi Sivu 2 (2)")
    one_page = classify(rules, first)
    two_pages = classify(rules, first, second)
    assert two_pages.form_code == "OT 2"
    assert two_pages.confidence > one_page.confidence


# --- language -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [("Täytä lomake ja palauta se, jos tiedot ovat muuttuneet.", "fi"),
     ("Fyll i blanketten och returnera den om uppgifterna har ändrats.", "sv"),
     ("Gå till", "sv"),  # one word with å and one common word
     ("12.3.2024 040 123 4567", "und")],
)
def test_language_is_told_by_common_words_and_the_letter_a_ring(text: str, language: str) -> None:
    assert detect_language(words(text)) == language
