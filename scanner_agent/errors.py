"""Errors of the scanner agent, each with a stable code and a message that says what to do.

    AgentError
    ├── ConfigError          bad configuration: names the key and the fix (exit 2)
    ├── EnvironmentProblem   tesseract, languages, SANE or folders missing (exit 3)
    ├── ScannerError         the SANE device failed or is missing (exit 4)
    └── InputRejected        one input cannot become a bundle: it goes to quarantine
                             with a reason a clerk can read in Finnish, Swedish and English

Clerk-facing texts are in Finnish and Swedish (and English for support); logs are English.
"""

from __future__ import annotations

from enum import StrEnum

from aspa_contract.names import public_text


class RejectCode(StrEnum):
    """Why an input went to quarantine. Stable: support scripts and reports match on these."""

    EMPTY_FILE = "empty_file"
    UNREADABLE_IMAGE = "unreadable_image"
    TRUNCATED = "truncated"
    NOT_A_SCAN = "not_a_scan"
    TOO_MANY_PIXELS = "too_many_pixels"
    ENCRYPTED_PDF = "encrypted_pdf"
    PDF_NO_PAGES = "pdf_no_pages"
    ALL_PAGES_BLANK = "all_pages_blank"
    PAGE_ALL_BLACK = "page_all_black"
    TOO_MANY_PAGES = "too_many_pages"
    OCR_FAILED = "ocr_failed"
    EMPTY_FOLDER = "empty_folder"
    NOT_A_REGULAR_FILE = "not_a_regular_file"
    TOO_MANY_DOCUMENTS = "too_many_documents"
    INTERNAL_ERROR = "internal_error"


# (fi, sv, en). {detail} is filled with a short technical detail (never a hetu).
REJECT_TEXTS: dict[RejectCode, tuple[str, str, str]] = {
    RejectCode.EMPTY_FILE: (
        "Tiedosto on tyhjä (0 tavua). Skannaa asiakirja uudelleen.",
        "Filen är tom (0 byte). Skanna dokumentet på nytt.",
        "The file is empty (0 bytes). Scan the document again.",
    ),
    RejectCode.UNREADABLE_IMAGE: (
        "Tiedostoa ei voi lukea kuvana. Skannaa asiakirja uudelleen PDF-, PNG-, JPEG- tai "
        "TIFF-muodossa.",
        "Filen kan inte läsas som en bild. Skanna dokumentet på nytt som PDF, PNG, JPEG "
        "eller TIFF.",
        "The file cannot be read as an image. Scan again as PDF, PNG, JPEG or TIFF.",
    ),
    RejectCode.TRUNCATED: (
        "Kuvatiedosto on katkennut tai vioittunut. Skannaa asiakirja uudelleen.",
        "Bildfilen är avbruten eller skadad. Skanna dokumentet på nytt.",
        "The image file is truncated or damaged. Scan the document again.",
    ),
    RejectCode.NOT_A_SCAN: (
        "Tiedosto ei ole skannattu asiakirja (tiedostopääte ei vastaa sisältöä).",
        "Filen är inte ett skannat dokument (filändelsen motsvarar inte innehållet).",
        "The file is not a scanned document (its extension does not match its content).",
    ),
    RejectCode.TOO_MANY_PIXELS: (
        "Kuva on liian suuri käsiteltäväksi. Skannaa A4-koossa enintään 600 dpi:n tarkkuudella.",
        "Bilden är för stor. Skanna i A4-format med högst 600 dpi.",
        "The image is too large to process. Scan at A4 size, 600 dpi or less.",
    ),
    RejectCode.ENCRYPTED_PDF: (
        "PDF on salattu tai salasanasuojattu. Skannaa paperi uudelleen ilman salausta.",
        "PDF-filen är krypterad eller lösenordsskyddad. Skanna papperet på nytt utan kryptering.",
        "The PDF is encrypted or password protected. Scan the paper again without encryption.",
    ),
    RejectCode.PDF_NO_PAGES: (
        "PDF-tiedostossa ei ole yhtään sivua. Skannaa asiakirja uudelleen.",
        "PDF-filen har inga sidor. Skanna dokumentet på nytt.",
        "The PDF has no pages. Scan the document again.",
    ),
    RejectCode.ALL_PAGES_BLANK: (
        "Kaikki sivut olivat tyhjiä. Tarkista, että paperit ovat oikein päin syöttölaitteessa.",
        "Alla sidor var tomma. Kontrollera att papperen ligger rätt i matningen.",
        "Every page was blank. Check the papers face the right way in the feeder.",
    ),
    RejectCode.PAGE_ALL_BLACK: (
        "Sivu oli kokonaan musta, joten sen sisältö ei tallentunut (skannerin kansi auki tai "
        "skannerin vika). Tarkista skanneri ja skannaa asiakirja uudelleen; detail-rivi kertoo "
        "sivun.",
        "Sidan var helt svart, så dess innehåll kom inte med (skannerns lock öppet eller fel på "
        "skannern). Kontrollera skannern och skanna dokumentet på nytt; raden detail anger "
        "sidan.",
        "A page was entirely black, so its content was not captured (scanner lid open or a "
        "scanner fault). Check the scanner and scan the document again; the detail line names "
        "the page.",
    ),
    RejectCode.TOO_MANY_PAGES: (
        "Asiakirjassa on liikaa sivuja yhdeksi lähetykseksi. Jaa se osiin.",
        "Dokumentet har för många sidor för en försändelse. Dela upp det.",
        "The document has too many pages for one bundle. Split it.",
    ),
    RejectCode.OCR_FAILED: (
        "Tekstintunnistus epäonnistui; detail-rivi kertoo, mikä luku ja miksi. Asiakirja on "
        "tallessa. Skannaa se uudelleen (harmaasävy, 300 dpi); jos virhe toistuu, ota yhteys "
        "tukeen ja kerro detail-rivi.",
        "Textigenkänningen misslyckades; raden detail säger vilken läsning och varför. "
        "Dokumentet finns kvar. Skanna det på nytt (gråskala, 300 dpi); om felet upprepas, "
        "kontakta supporten och uppge raden detail.",
        "Text recognition failed; the detail line says which reading and why. The document is "
        "kept. Scan it again (greyscale, 300 dpi); if it happens again, contact support and "
        "quote the detail line.",
    ),
    RejectCode.EMPTY_FOLDER: (
        "Kansiossa ei ollut skannattuja sivuja.",
        "Mappen innehöll inga skannade sidor.",
        "The folder held no scanned pages.",
    ),
    RejectCode.NOT_A_REGULAR_FILE: (
        "Kohde on linkki, nimetty putki tai laite eikä tavallinen tiedosto, joten sitä ei lueta. "
        "Kopioi skannatut tiedostot itse saapuvien kansioon.",
        "Objektet är en länk, ett namngivet rör eller en enhet och inte en vanlig fil, så det "
        "läses inte. Kopiera själva de skannade filerna till inkorgen.",
        "A link, named pipe or device, not a regular file: it is not read. Copy the scanned "
        "files themselves into the inbox.",
    ),
    RejectCode.TOO_MANY_DOCUMENTS: (
        "Kansiossa on liian monta asiakirjaa yhdeksi lähetykseksi. Jaa tiedostot useampaan "
        "kansioon.",
        "Mappen innehåller för många dokument för en försändelse. Dela upp filerna i flera "
        "mappar.",
        "The folder holds too many documents for one bundle. Split the files into several "
        "folders.",
    ),
    RejectCode.INTERNAL_ERROR: (
        "Asiakirjan käsittely epäonnistui toistuvasti. Ota yhteys tukeen; asiakirja on tallessa.",
        "Behandlingen av dokumentet misslyckades upprepade gånger. Kontakta supporten; "
        "dokumentet finns kvar.",
        "Processing failed repeatedly. Contact support; the document is kept.",
    ),
}


class AgentError(Exception):
    """Base of every error the agent raises on purpose."""

    exit_code = 1


class ConfigError(AgentError):
    """Configuration is invalid; the message names the key and the fix."""

    exit_code = 2


class EnvironmentProblem(AgentError):
    """Something the agent needs on this machine is missing (tesseract language, folder)."""

    exit_code = 3


class ScannerError(AgentError):
    """The SANE device is missing, jammed or failed mid-job."""

    exit_code = 4


class InputRejected(AgentError):
    """One input file cannot become a bundle. ``detail`` is technical, English, hetu-free."""

    def __init__(self, code: RejectCode, detail: str = "") -> None:
        self.code = code
        # Details quote library messages, and those quote paths (Pillow names the file it
        # cannot identify): masked here, once, whoever raises.
        self.detail = public_text(detail)
        super().__init__(f"{code.value}: {self.detail}" if detail else code.value)

    def reason_text(self) -> str:
        """The text a clerk reads next to the quarantined file: Finnish, Swedish, English."""
        fi, sv, en = REJECT_TEXTS[self.code]
        lines = [fi, sv, en, "", f"code: {self.code.value}"]
        if self.detail:
            lines.append(f"detail: {self.detail}")
        return "\n".join(lines) + "\n"
