"""The evaluation report folder: files, links, order of mistakes, escaping and masking."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import img2pdf
import numpy as np
import pytest
from PIL import Image, ImageDraw

from classifiers.confusion_image import CELL, draw_confusion
from classifiers.metrics import Prediction, compute_metrics
from classifiers.report import thumbnail, worst_mistakes, write_report

HETU = "010594Y9032"  # a test code (individual number 903)


def _page(path: Path, text: str) -> Path:
    image = Image.new("L", (620, 877), 255)  # A4 proportions at 75 dpi: small and fast
    ImageDraw.Draw(image).text((40, 40), text, fill=0)
    image.save(path)
    return path


def _result(predictions: list[Prediction]) -> dict[str, Any]:
    return {"dataset": "/data/<set>", "classifier": "rules/1+forms:abc", "threshold": None,
            "evaluated_at": "2024-06-01T10:00:00+00:00", **compute_metrics(predictions),
            "goals_met": False}


@pytest.fixture
def predictions(tmp_path: Path) -> list[Prediction]:
    """Two right, one wrong at 0.6, one wrong at 0.9, one abstention, one unreadable page."""
    pages = tmp_path / "pages"
    pages.mkdir()
    odd = _page(pages / "a<b>&.png", "odd name")
    broken = pages / "broken.png"
    broken.write_bytes(b"not an image")

    def files(name: str) -> tuple[Path, ...]:
        return (_page(pages / f"{name}-1.png", name), _page(pages / f"{name}-2.png", name))

    return [
        Prediction("TO 1", "TO 1", 0.95, HETU, HETU, files("right1"), 1),
        Prediction("AT 1", "AT 1", 0.90, None, None, files("right2"), 2),
        Prediction("SV 4", "TO 1", 0.60, None, None, files("wrong60"), 3),
        Prediction("unknown", "AT 1", 0.90, None, HETU, (odd,), 4,
                   evidence=("<script>alert(1)</script>", f"keyword: hetu {HETU}")),
        Prediction("TO 2", "unknown", 0.30, HETU, None, files("abstained"), 5),
        Prediction("KM 1", "TO 1", 0.40, None, None, (broken,), 6),
    ]


def test_worst_mistakes_put_confident_wrong_answers_first_then_abstentions(
    predictions: list[Prediction],
) -> None:
    """GIVEN wrong answers at 0.9, 0.6 and 0.4 and one abstention WHEN the worst are picked
    THEN wrong answers come most confident first, abstentions last, right answers never."""
    assert [p.row for p in worst_mistakes(predictions, 10)] == [4, 3, 6, 5]
    assert [p.row for p in worst_mistakes(predictions, 2)] == [4, 3]


def test_the_report_folder_holds_summaries_confusion_and_linked_thumbnails(
    tmp_path: Path, predictions: list[Prediction],
) -> None:
    """GIVEN predictions with page files WHEN the report is written THEN the folder holds
    summary.md, summary.html, confusion.png, and one thumbnail per mistake with readable pages,
    each linked from summary.md in worst-first order."""
    folder = tmp_path / "report"
    html_path = write_report(folder, _result(predictions), predictions)
    assert html_path == folder / "summary.html"
    with Image.open(folder / "confusion.png") as confusion:
        assert confusion.format == "PNG"
    md = (folder / "summary.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\((mistakes/[^)]+\.png)\)", md)
    assert links[::2] == ["mistakes/01-row4.png", "mistakes/02-row3.png",
                          "mistakes/04-row5.png"]  # #3 (row 6) has no preview
    assert sorted(p.name for p in (folder / "mistakes").iterdir()) == [
        "01-row4.png", "02-row3.png", "04-row5.png"]
    with Image.open(folder / "mistakes" / "02-row3.png") as thumb:
        assert thumb.width > 1.3 * thumb.height  # both A4 pages side by side (one is 0.7)
    assert "no preview" in md
    assert "| accuracy (answered in-catalogue) | 50.00% | ≥ 99.50% | MISSED |" in md


def test_the_html_summary_is_escaped_and_self_contained(
    tmp_path: Path, predictions: list[Prediction],
) -> None:
    """GIVEN a file name and OCR evidence holding markup WHEN the HTML summary is written
    THEN the markup is escaped, and every image is inlined so the page stands alone."""
    write_report(tmp_path / "r", _result(predictions), predictions)
    page = (tmp_path / "r" / "summary.html").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a&lt;b&gt;&amp;.png" in page and "/data/&lt;set&gt;" in page
    sources = re.findall(r'src="([^"]*)"', page)
    assert len(sources) == 4  # confusion matrix + three thumbnails
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert "http://" not in page and "https://" not in page


def test_no_full_identity_code_appears_in_the_summaries(
    tmp_path: Path, predictions: list[Prediction],
) -> None:
    """GIVEN evidence and hetu mistakes holding a full code WHEN the report is written
    THEN summary.md and summary.html show it masked only."""
    write_report(tmp_path / "r", _result(predictions), predictions)
    for name in ("summary.md", "summary.html"):
        text = (tmp_path / "r" / name).read_text(encoding="utf-8")
        assert HETU not in text, name
        assert "010594Y***2" in text, name
        assert "Hetu mistakes (2)" in text, name  # row 4 found one that is not there, row 5 missed


def test_the_confusion_image_has_a_cell_per_label_pair_coloured_by_right_and_wrong() -> None:
    """GIVEN 35 labels WHEN the matrix is drawn THEN every label pair gets a full cell (plus a
    total column) on an image that still fits a screen, right answers green and errors red."""
    labels = [f"X {i}" for i in range(34)] + ["unknown"]
    counts = [[5 if i == j else (1 if j == i + 1 else 0) for j in range(35)] for i in range(35)]
    image = draw_confusion(labels, counts)
    assert 36 * CELL < image.width < 2000 and 35 * CELL < image.height < 2000
    r, g, b = (np.asarray(image).astype(int)[..., i] for i in range(3))
    greens = int(((g > r + 60) & (g > b + 60)).sum())
    reds = int(((r > g + 60) & (r > b + 60)).sum())
    assert greens > 35 * (CELL - 10) ** 2 / 2  # 35 diagonal cells, mostly green
    assert reds > 34 * (CELL - 10) ** 2 / 2    # 34 error cells, mostly red


def test_a_document_given_as_a_two_page_pdf_gets_a_preview_of_both_pages(tmp_path: Path) -> None:
    """GIVEN a mistake whose document is one two-page PDF (as a backoffice export may give)
    WHEN its thumbnail is made THEN both pages show side by side."""
    pages = [_page(tmp_path / f"p{n}.png", f"page {n}") for n in (1, 2)]
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(img2pdf.convert([str(p) for p in pages]))
    sheet = thumbnail((pdf,))
    assert sheet is not None and sheet.width > 1.3 * sheet.height
