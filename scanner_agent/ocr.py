"""Read prepared pages with tesseract: words with boxes, header/footer strips, a searchable page.

One full-page tesseract run yields the TSV (words, lines); the page's invisible text layer is
drawn from those words line by line (:mod:`scanner_agent.text_layer`), which keeps lines whole
for text extractors where tesseract's own text-only PDF did not. The header (top 15%) and
footer (bottom 10%) strips are stacked into one small image and read in a second run with
``--psm 6``: a large isolated form code that full-page layout analysis drops is found there.
:class:`OcrPool` runs pages in parallel, one tesseract per core.

Tesseract sometimes dies on an image (SIGFPE, "Line cannot be recognized!!"). A failed
auxiliary reading (the strips, a region) costs that clue only: the strips fall back to the
full-page lines and the page carries a warning. A failed full-page reading is retried with
other settings (:data:`FULL_PAGE_TRIES`) before the page, and so its document, is rejected with
a detail naming every try and why it failed.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import subprocess
from concurrent.futures import Future, ThreadPoolExecutor
from html.parser import HTMLParser

from PIL import Image, ImageFilter

from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.pages import (
    Box,
    Choice,
    OcrLine,
    OcrPage,
    OcrWord,
    PreparedPage,
    RawPage,
    RegionRead,
)
from scanner_agent.prepare import prepare_page
from scanner_agent.searchable_pdf import build_page_pdf
from scanner_agent.tesseract import TesseractCrashed, run_tesseract, tesseract_env

log = logging.getLogger(__name__)

HEADER_SHARE = 0.15
FOOTER_SHARE = 0.10
STRIP_GAP_PX = 40  # white space between the stacked strips so no line spans both
REGION_PAD_PX = 12  # tesseract reads a tight crop badly; give it some paper around the text
_X_CONF = re.compile(r"x_conf ([0-9.]+)")
_X_CONFS = re.compile(r"x_confs ([0-9.]+)")


def ocr_page(page: PreparedPage, settings: OcrSettings) -> OcrPage:
    """Words, lines, header, footer and a one-page searchable PDF for ``page``.

    Raises ``InputRejected(OCR_FAILED)`` when every full-page try fails, or tesseract exceeds
    ``settings.timeout_s``, is missing or lacks a language.
    """
    warnings = list(page.warnings)
    words, lines = read_full_page(page, settings, warnings)
    header, footer = (_strips_or_lines(page, lines, settings, warnings) if settings.read_strips
                      else strips_from_lines(lines, page.image.height))
    return OcrPage(number=page.number, image=page.image, words=words, lines=lines,
                   header=header, footer=footer,
                   pdf=build_page_pdf(page.image, page.dpi, words, layer=settings.image_layer),
                   warnings=warnings)


# (name, extra tesseract arguments, read a cleaned copy): tried in turn while tesseract dies.
FULL_PAGE_TRIES: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("psm 3", (), False),
    ("psm 6", ("--psm", "6"), False),
    ("cleaned copy", ("--psm", "4"), True),
)


def read_full_page(page: PreparedPage, settings: OcrSettings,
                   warnings: list[str]) -> tuple[list[OcrWord], list[OcrLine]]:
    """Words and lines of the whole page; on a crash, the next of :data:`FULL_PAGE_TRIES`.

    A try that is not the first adds the warning ``ocr_retried:<name>``. Raises
    ``InputRejected(OCR_FAILED)`` naming each try and its failure when all crash.
    """
    failures: list[str] = []
    for name, extra, cleaned in FULL_PAGE_TRIES:
        image = _cleaned(page.image) if cleaned else page.image
        call = f"page {page.number} full-page reading ({name})"
        try:
            out = run_tesseract(image, page.dpi, ["-l", settings.languages, *extra], settings,
                                outputs=("tsv",), call=call)
        except TesseractCrashed as exc:
            log.warning("%s; trying other settings", exc.detail)
            failures.append(exc.detail)
            continue
        if failures:
            warnings.append(f"ocr_retried:{name.replace(' ', '_')}")
        return parse_tsv(out["tsv"].decode("utf-8", "replace"))
    raise InputRejected(RejectCode.OCR_FAILED, "every full-page try failed: "
                        + "; ".join(failures))


def _cleaned(image: Image.Image) -> Image.Image:
    """``image`` in grey with specks up to 2 px removed: the noise tesseract choked on."""
    return image.convert("L").filter(ImageFilter.MedianFilter(3))


def _strips_or_lines(page: PreparedPage, lines: list[OcrLine], settings: OcrSettings,
                     warnings: list[str]) -> tuple[str, str]:
    """The strips read on their own; if that reading fails, taken from the full-page lines."""
    try:
        return read_strips(page, settings)
    except InputRejected as exc:
        log.warning("%s; header and footer taken from the full-page text", exc.detail)
        warnings.append("strips_unread")
        return strips_from_lines(lines, page.image.height)


def read_strips(page: PreparedPage, settings: OcrSettings) -> tuple[str, str]:
    """Text of the header and footer strips, read together in one tesseract run."""
    width, height = page.image.size
    header_h, footer_h = round(height * HEADER_SHARE), round(height * FOOTER_SHARE)
    stacked = Image.new("L", (width, header_h + STRIP_GAP_PX + footer_h), 255)
    stacked.paste(page.image.crop((0, 0, width, header_h)), (0, 0))
    stacked.paste(page.image.crop((0, height - footer_h, width, height)),
                  (0, header_h + STRIP_GAP_PX))
    out = run_tesseract(stacked, page.dpi, ["-l", settings.languages, "--psm", "6"], settings,
                        outputs=("tsv",), call=f"page {page.number} header/footer reading")
    _, lines = parse_tsv(out["tsv"].decode("utf-8", "replace"))
    boundary = header_h + STRIP_GAP_PX // 2
    header = [line.text for line in lines if line.box[1] < boundary]
    footer = [line.text for line in lines if line.box[1] >= boundary]
    return "\n".join(header), "\n".join(footer)


def strips_from_lines(lines: list[OcrLine], height: int) -> tuple[str, str]:
    """Header and footer text from full-page lines lying in the top 15% and bottom 10%."""
    header = [line.text for line in lines if line.box[3] <= height * HEADER_SHARE]
    footer = [line.text for line in lines if line.box[1] >= height * (1 - FOOTER_SHARE)]
    return "\n".join(header), "\n".join(footer)


def ocr_region(image: Image.Image, box: Box, *, whitelist: str | None, psm: int = 7,
               settings: OcrSettings, dpi: int = 300) -> str:
    """Re-read the small ``box`` of ``image``, optionally only with ``whitelist`` characters."""
    return read_region(image, box, whitelist=whitelist, psm=psm, settings=settings,
                       dpi=dpi).text


def read_region(image: Image.Image, box: Box, *, whitelist: str | None, psm: int = 7,
                settings: OcrSettings, dpi: int = 300,
                call: str = "region reading") -> RegionRead:
    """Re-read the small ``box`` of ``image``: its words, each character's confidence and the
    alternatives tesseract weighed for it (hOCR with character boxes and LSTM choices, in the
    same run)."""
    crop = image.crop(box).convert("L")
    padded = Image.new("L", (crop.width + 2 * REGION_PAD_PX, crop.height + 2 * REGION_PAD_PX), 255)
    padded.paste(crop, (REGION_PAD_PX, REGION_PAD_PX))
    args = ["-l", settings.languages, "--psm", str(psm), "-c", "hocr_char_boxes=1",
            "-c", "lstm_choice_mode=2"]
    if whitelist:
        args += ["-c", f"tessedit_char_whitelist={whitelist}"]
    out = run_tesseract(padded, dpi, args, settings, outputs=("hocr",), call=call)
    return parse_hocr_chars(out["hocr"].decode("utf-8", "replace"))


def parse_hocr_chars(hocr: str) -> RegionRead:
    """The words of an hOCR page (joined by spaces), its characters with confidences, and each
    character's rival choices when the hOCR has them (``lstm_choice_mode=2``)."""
    parser = _CharParser()
    parser.feed(hocr)
    words = ["".join(c for c, _ in word) for word in parser.words]
    chars = tuple(pair for word in parser.words for pair in word)
    rivals = tuple(tuple(choice for choice in choices if choice[0] != char[0])
                   for char, choices in zip(chars, parser.choices, strict=True))
    return RegionRead(text=" ".join(w for w in words if w), chars=chars, rivals=rivals)


class _CharParser(HTMLParser):
    """Collects ``ocrx_cinfo`` characters (``x_conf``) per ``ocrx_word``, and the LSTM choices
    (``choice_*`` spans, ``x_confs``) that follow each character."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[list[Choice]] = []
        self.choices: list[list[Choice]] = []
        self._open: tuple[str, float] | None = None  # ("char" | "choice", confidence)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        kind, title = found.get("class"), found.get("title") or ""
        if kind == "ocrx_word":
            self.words.append([])
        elif kind == "ocrx_cinfo" and self.words and "x_bboxes" in title:
            self._open = ("char", _confidence(_X_CONF, title))
        elif kind == "ocrx_cinfo" and self.choices and (found.get("id") or "").startswith(
                "choice_"):
            self._open = ("choice", _confidence(_X_CONFS, title))

    def handle_endtag(self, tag: str) -> None:
        self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is None or not data.strip():
            return
        what, confidence = self._open
        if what == "char":
            self.words[-1].append((data.strip(), confidence))
            self.choices.append([])
        else:
            self.choices[-1].append((data.strip(), confidence))


def _confidence(pattern: re.Pattern[str], title: str) -> float:
    match = pattern.search(title)
    return float(match.group(1)) if match else 0.0


def parse_tsv(tsv: str) -> tuple[list[OcrWord], list[OcrLine]]:
    """Words (level 5 rows) and the lines they form, both in tesseract's reading order."""
    line_index: dict[tuple[str, str, str, str], int] = {}
    grouped: list[list[tuple[str, Box, float]]] = []
    words: list[OcrWord] = []
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        text = (row.get("text") or "").strip()
        if row.get("level") != "5" or not text:
            continue
        left, top = int(row["left"]), int(row["top"])
        box = (left, top, left + int(row["width"]), top + int(row["height"]))
        key = (row["page_num"], row["block_num"], row["par_num"], row["line_num"])
        index = line_index.setdefault(key, len(grouped))
        if index == len(grouped):
            grouped.append([])
        grouped[index].append((text, box, float(row["conf"])))
        words.append(OcrWord(text=text, box=box, confidence=float(row["conf"]), line=index))
    lines = [OcrLine(text=" ".join(w[0] for w in group), box=union_box([w[1] for w in group]))
             for group in grouped]
    return words, lines


def union_box(boxes: list[Box]) -> Box:
    """The smallest box holding all of ``boxes``."""
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


class OcrPool:
    """OCR pages in parallel as they arrive: one tesseract process per worker thread.

    Threads suffice: the work happens in tesseract processes. Use as a context manager::

        with OcrPool(settings.ocr, settings.prepare) as pool:
            futures = [pool.submit_raw(raw) for raw in scanner.pages()]
            pages = [f.result() for f in futures]
    """

    def __init__(self, settings: OcrSettings, prepare: PrepareSettings) -> None:
        self._settings = settings
        self._prepare = prepare
        self._executor = ThreadPoolExecutor(max_workers=settings.worker_count(),
                                            thread_name_prefix="ocr")

    def submit(self, page: PreparedPage) -> Future[OcrPage]:
        """Queue a prepared page; its future gives the OcrPage or raises InputRejected."""
        return self._executor.submit(ocr_page, page, self._settings)

    def submit_raw(self, raw: RawPage) -> Future[OcrPage | None]:
        """Queue a raw page for prepare + OCR; its future gives None for a blank page."""
        return self._executor.submit(self._prepare_and_read, raw)

    def _prepare_and_read(self, raw: RawPage) -> OcrPage | None:
        prepared = prepare_page(raw, self._prepare, self._settings)
        return None if prepared is None else ocr_page(prepared, self._settings)

    def close(self, *, cancel: bool = False) -> None:
        """Wait for queued pages (or drop those not started when ``cancel``) and stop."""
        self._executor.shutdown(wait=True, cancel_futures=cancel)

    def __enter__(self) -> OcrPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(cancel=exc[0] is not None)


def check_tesseract(settings: OcrSettings) -> list[str]:
    """Problems with this machine's tesseract for ``settings`` (empty when all is well)."""
    try:
        done = subprocess.run([settings.tesseract_cmd, "--list-langs"], env=tesseract_env(),
                              capture_output=True, text=True, timeout=30, check=False)
    except (FileNotFoundError, PermissionError):
        return [f"tesseract not found ({settings.tesseract_cmd!r}): install tesseract-ocr"]
    except subprocess.TimeoutExpired:
        return ["`tesseract --list-langs` did not answer in 30 s"]
    if done.returncode != 0:
        return [f"`tesseract --list-langs` failed: {done.stderr.strip()[-200:]}"]
    installed = {line.strip() for line in done.stdout.splitlines()[1:]}
    # osd: page orientation; eng: the hetu extractor's second, independent read of the box.
    needed = [*settings.languages.split("+"), "osd", "eng"]
    return [f"tesseract language `{lang}` missing: install tesseract-ocr-{lang}"
            for lang in needed if lang not in installed]
