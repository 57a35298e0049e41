"""The evaluation report folder an admin opens or mails on: everything about one run.

    summary.md      headline metrics against the goals, per-class table, the worst mistakes
    summary.html    the same, self-contained (images inlined, no external files or scripts)
    confusion.png   truth × answer counts
    mistakes/       page thumbnails of the worst mistakes, confidently wrong first

Free text from the dataset and OCR (file names, evidence) is redacted of identity codes and
escaped; hetu mistakes show masked codes only.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from aspa_contract.durable import write_atomic
from aspa_contract.hetu import mask, redact
from classifiers.confusion_image import draw_confusion
from classifiers.metrics import Prediction, confusion
from classifiers.tables import HEADLINE, fmt, goal_text, verdict
from scanner_agent.config import PrepareSettings
from scanner_agent.decode import decode_file
from scanner_agent.errors import InputRejected

MAX_MISTAKES = 20
THUMB_HEIGHT = 420
THUMB_PAGES = 3
MAX_HETU_ROWS = 50
_STYLE = """
body{font-family:sans-serif;margin:2em;max-width:1400px;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px}
td.n{text-align:right}.MISSED{color:#b00;font-weight:bold}.met{color:#070}
img{max-width:100%;border:1px solid #ccc}.mistake{margin:1.5em 0}
"""


@dataclass(frozen=True)
class Mistake:
    """One of the worst mistakes, with its thumbnail's name under ``mistakes/`` (or None)."""

    number: int
    prediction: Prediction
    thumbnail: str | None

    @property
    def title(self) -> str:
        p = self.prediction
        said = f"answered as {p.predicted}" if p.answered else "came out unknown"
        return f"row {p.row}: {p.label} {said} (confidence {p.confidence:.2f})"


def write_report(folder: Path, result: dict[str, Any], predictions: Sequence[Prediction],
                 *, max_mistakes: int = MAX_MISTAKES) -> Path:
    """Write the report folder for one evaluation; returns the path of ``summary.html``."""
    (folder / "mistakes").mkdir(parents=True, exist_ok=True)
    labels, counts = confusion(predictions)
    image = draw_confusion(labels, counts, f"Confusion matrix: {len(predictions)} documents")
    write_atomic(folder / "confusion.png", _png(image))
    mistakes = [_save_mistake(folder, n, p)
                for n, p in enumerate(worst_mistakes(predictions, max_mistakes), start=1)]
    wrong_total = sum(1 for p in predictions if not p.correct)
    write_atomic(folder / "summary.md",
                 markdown(result, mistakes, wrong_total, predictions).encode("utf-8"))
    write_atomic(folder / "summary.html",
                 html_page(result, mistakes, wrong_total, predictions, folder).encode("utf-8"))
    return folder / "summary.html"


def worst_mistakes(predictions: Sequence[Prediction], limit: int) -> list[Prediction]:
    """Wrong answers, most confident first; then in-catalogue documents that were abstained on."""
    wrong = sorted((p for p in predictions if p.confidently_wrong),
                   key=lambda p: (-p.confidence, p.row))
    missed = [p for p in predictions if p.in_catalogue and not p.answered]
    return (wrong + missed)[:limit]


def thumbnail(files: Sequence[Path], height: int = THUMB_HEIGHT) -> Image.Image | None:
    """The document's first pages side by side at ``height`` px; None if none can be opened.

    Pages are decoded as the agent decodes them, so PDFs and multi-page TIFFs from a
    backoffice export preview too.
    """
    pages: list[Image.Image] = []
    for path in files:
        pages += [_small(page, height) for page in _decode(path, THUMB_PAGES - len(pages))]
        if len(pages) == THUMB_PAGES:
            break
    if not pages:
        return None
    gap = 8
    sheet = Image.new("L", (sum(p.width for p in pages) + gap * (len(pages) - 1), height), 255)
    x = 0
    for page in pages:
        sheet.paste(page, (x, 0))
        x += page.width + gap
    return sheet


def _decode(path: Path, wanted: int) -> list[Image.Image]:
    limits = PrepareSettings()
    images: list[Image.Image] = []
    try:  # pages decode as they are taken: damage deep in a file shows only then
        for page in decode_file(path, max_pixels=limits.max_pixels,
                                max_pages=limits.max_pages_per_document):
            if len(images) == wanted:
                break
            images.append(page.image)
    except InputRejected:
        pass  # the pages read so far, or no preview, rather than no report
    return images


def _small(page: Image.Image, height: int) -> Image.Image:
    gray = page.convert("L")
    gray.thumbnail((max(1, gray.width * height // gray.height), height))
    return gray


def _save_mistake(folder: Path, number: int, prediction: Prediction) -> Mistake:
    sheet = thumbnail(prediction.files)
    if sheet is None:
        return Mistake(number, prediction, None)
    name = f"{number:02d}-row{prediction.row}.png"
    write_atomic(folder / "mistakes" / name, _png(sheet))
    return Mistake(number, prediction, name)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _files(p: Prediction) -> str:
    return redact("; ".join(f.name for f in p.files)) or "?"


def _headline_rows(result: dict[str, Any]) -> list[list[str]]:
    return [[title, fmt(result.get(k), kind), goal_text(k), verdict(k, result.get(k))]
            for k, title, kind in HEADLINE]


def _per_class_rows(result: dict[str, Any]) -> list[list[str]]:
    return [[label, str(c["support"]), str(c["predicted"]), fmt(c["precision"], "rate"),
             fmt(c["recall"], "rate")] for label, c in result["per_class"].items()]


def _hetu_misses(predictions: Sequence[Prediction]) -> list[Prediction]:
    return [p for p in predictions if p.hetu_found != p.hetu_truth]


# ---- Markdown ---------------------------------------------------------------------------

def markdown(result: dict[str, Any], mistakes: Sequence[Mistake], wrong_total: int,
             predictions: Sequence[Prediction]) -> str:
    """summary.md: headline, per class, confusion image, worst mistakes, hetu mistakes."""
    out = ["# Classifier evaluation", "",
           f"- dataset: `{_md(result['dataset'])}`",
           f"- classifier: `{_md(result['classifier'])}`"
           + (f" (abstain threshold {result['threshold']:.2f})"
              if result.get("threshold") is not None else ""),
           f"- evaluated at: {result['evaluated_at']}",
           f"- every goal met: {'yes' if result['goals_met'] else 'no'}", "",
           "| metric | value | goal | |", "|---|---:|---|---|"]
    out += ["| " + " | ".join(row) + " |" for row in _headline_rows(result)]
    out += ["", "## Per class", "", "| label | documents | answered as | precision | recall |",
            "|---|---:|---:|---:|---:|"]
    out += ["| " + " | ".join(map(_md, row)) + " |" for row in _per_class_rows(result)]
    out += ["", "## Confusion matrix", "", "![confusion matrix](confusion.png)", "",
            f"## Worst mistakes ({len(mistakes)} of {wrong_total} wrong or abstained)", ""]
    for m in mistakes:
        out += [f"### {m.number}. {_md(m.title)}", "", f"- files: {_md(_files(m.prediction))}"]
        out += [f"- evidence: {_md(redact(e))}" for e in m.prediction.evidence]
        out += ["", f"[![row {m.prediction.row}](mistakes/{m.thumbnail})](mistakes/{m.thumbnail})"
                if m.thumbnail else "(no preview: the page file could not be opened)", ""]
    out += _hetu_markdown(predictions)
    return "\n".join(out) + "\n"


def _hetu_markdown(predictions: Sequence[Prediction]) -> list[str]:
    misses = _hetu_misses(predictions)
    out = [f"## Hetu mistakes ({len(misses)})", ""]
    if misses:
        out += ["| row | files | truth | found |", "|---:|---|---|---|"]
        out += [f"| {p.row} | {_md(_files(p))} | {mask(p.hetu_truth) or '—'} | "
                f"{mask(p.hetu_found) or '—'} |" for p in misses[:MAX_HETU_ROWS]]
    return out


def _md(text: str) -> str:
    """Escape what Markdown would read as markup (tables, emphasis, links, HTML)."""
    return "".join("\\" + c if c in "\\`*_[]|<>#" else c for c in text)


# ---- HTML -------------------------------------------------------------------------------

def html_page(result: dict[str, Any], mistakes: Sequence[Mistake], wrong_total: int,
              predictions: Sequence[Prediction], folder: Path) -> str:
    """summary.html: the Markdown's content as one self-contained, escaped page."""
    e = html.escape
    threshold = (f" (abstain threshold {result['threshold']:.2f})"
                 if result.get("threshold") is not None else "")
    head = [f"<p>dataset <code>{e(result['dataset'])}</code><br>classifier "
            f"<code>{e(result['classifier'])}</code>{threshold}<br>evaluated at "
            f"{e(result['evaluated_at'])}<br>every goal met: "
            f"{'yes' if result['goals_met'] else 'no'}</p>"]
    body = [
        "<h1>Classifier evaluation</h1>", *head,
        _table(["metric", "value", "goal", ""], _headline_rows(result)),
        "<h2>Per class</h2>",
        _table(["label", "documents", "answered as", "precision", "recall"],
               _per_class_rows(result)),
        "<h2>Confusion matrix</h2>",
        _image(folder / "confusion.png", "confusion.png", "confusion matrix"),
        f"<h2>Worst mistakes ({len(mistakes)} of {wrong_total} wrong or abstained)</h2>",
        *(_html_mistake(m, folder) for m in mistakes),
        *_hetu_html(predictions),
    ]
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Classifier evaluation</title><style>{_STYLE}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def _html_mistake(m: Mistake, folder: Path) -> str:
    e = html.escape
    evidence = "".join(f"<li>{e(redact(item))}</li>" for item in m.prediction.evidence)
    picture = (_image(folder / "mistakes" / m.thumbnail, f"mistakes/{m.thumbnail}",
                      f"row {m.prediction.row}") if m.thumbnail
               else "<p>(no preview: the page file could not be opened)</p>")
    return (f"<div class=\"mistake\"><h3>{m.number}. {e(m.title)}</h3><p>files: "
            f"{e(_files(m.prediction))}</p><ul>{evidence}</ul>{picture}</div>")


def _hetu_html(predictions: Sequence[Prediction]) -> list[str]:
    misses = _hetu_misses(predictions)
    out = [f"<h2>Hetu mistakes ({len(misses)})</h2>"]
    if misses:
        rows = [[str(p.row), _files(p), mask(p.hetu_truth) or "—", mask(p.hetu_found) or "—"]
                for p in misses[:MAX_HETU_ROWS]]
        out.append(_table(["row", "files", "truth", "found"], rows))
    return out


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    e = html.escape
    head = "".join(f"<th>{e(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td{_css(c)}>{e(c)}</td>" for c in row) + "</tr>"
        for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _css(cell: str) -> str:
    """The cell's class attribute: goal verdicts coloured, numbers right-aligned."""
    if cell in ("met", "MISSED"):
        return f' class="{cell}"'
    return ' class="n"' if cell[:1].isdigit() or cell == "n/a" else ""


def _image(path: Path, link: str, alt: str) -> str:
    """The image inlined as a data URI (the page stays whole when mailed), linked to its file."""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return (f"<a href=\"{html.escape(link)}\"><img alt=\"{html.escape(alt)}\" "
            f"src=\"data:image/png;base64,{data}\"></a>")
