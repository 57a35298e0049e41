"""OCR throughput and accuracy: the agent's image → searchable PDF path against OCRmyPDF.

Renders N synthetic Kela form pages (A4, 300 dpi, known text), packs them into one image-only
PDF, then in the same run:

* agent: decode → prepare (blank check, OSD) → OCR (full page + header/footer strips) →
  searchable PDF, pages in parallel with :class:`scanner_agent.ocr.OcrPool`;
* ``ocrmypdf --jobs <cores> --output-type pdf -l fin+swe`` on the same PDF.

Each text layer is read back with ``pdftotext`` and scored against the rendered text:
character accuracy = 1 − Levenshtein / length (whitespace collapsed). Prints one Markdown row.

    .venv/bin/python bench/ocr_throughput.py -n 6
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import img2pdf
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.catalogue import load_catalogue
from classifiers.synth import degrade, render_form
from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.decode import decode_file
from scanner_agent.ocr import OcrPool
from scanner_agent.searchable_pdf import build_document_pdf

CODES = ("TO 1", "AT 1", "SV 8", "TT 1", "OT 1", "KM 1")


@dataclass
class Result:
    seconds: float
    pdf: Path | None
    note: str = ""

    def pages_per_s(self, pages: int) -> float | None:
        return pages / self.seconds if self.pdf is not None else None


def render_pages(count: int, noise: float) -> tuple[list[Image.Image], list[str]]:
    """``count`` page images of assorted forms (fi and sv) and their printed text."""
    catalogue = load_catalogue()
    images: list[Image.Image] = []
    texts: list[str] = []
    for index in range(count):
        form = catalogue.by_code(CODES[index % len(CODES)])[0]
        language = "fi" if index % 2 == 0 else "sv"
        rendered = render_form(form, language, seed=index, pages=2)
        page = index // len(CODES) % 2  # first pages, then second pages
        image = rendered.pages[page]
        if noise:
            image = degrade(image, seed=index, noise=noise, blur=0.6)
        images.append(image)
        texts.append(rendered.texts[page])
    return images, texts


def image_pdf(images: list[Image.Image], path: Path) -> None:
    """An image-only PDF of ``images`` (lossless PNG inside), as a scan-to-folder would write."""
    blobs = []
    for image in images:
        out = io.BytesIO()
        image.save(out, format="PNG", dpi=(300, 300))
        blobs.append(out.getvalue())
    path.write_bytes(img2pdf.convert(blobs))


def run_agent(source: Path, target: Path, workers: int) -> Result:
    start = time.perf_counter()
    prepare, ocr = PrepareSettings(), OcrSettings(workers=workers)
    raws = decode_file(source, max_pixels=prepare.max_pixels, max_pages=500)
    with OcrPool(ocr, prepare) as pool:
        futures = [pool.submit_raw(raw) for raw in raws]
        pages = [page for page in (f.result() for f in futures) if page is not None]
    target.write_bytes(build_document_pdf(pages))
    return Result(time.perf_counter() - start, target)


def run_ocrmypdf(source: Path, target: Path, workers: int) -> Result:
    binary = shutil.which("ocrmypdf") or str(Path(sys.executable).with_name("ocrmypdf"))
    if not Path(binary).exists():
        return Result(0.0, None, "ocrmypdf not installed")
    command = [binary, "--jobs", str(workers), "--output-type", "pdf", "-l", "fin+swe",
               str(source), str(target)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "OMP_THREAD_LIMIT": "1"}, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        return Result(seconds, None, f"ocrmypdf failed: {done.stderr.strip()[-200:]}")
    return Result(seconds, target)


def page_texts(pdf: Path, count: int) -> list[str]:
    """Each page's text layer as pdftotext reads it."""
    return [subprocess.run(["pdftotext", "-f", str(n), "-l", str(n), str(pdf), "-"],
                           capture_output=True, text=True, check=True).stdout
            for n in range(1, count + 1)]


def accuracy(found: list[str], truth: list[str]) -> float:
    """1 − (summed edit distance / summed truth length), whitespace collapsed."""
    distance = sum(levenshtein(_squash(f), _squash(t)) for f, t in zip(found, truth, strict=True))
    return 1 - distance / max(1, sum(len(_squash(t)) for t in truth))


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one numpy row at a time (pages are a few thousand characters)."""
    if not a or not b:
        return len(a) + len(b)
    target = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    steps = np.arange(len(b) + 1)
    row = steps.copy()
    for i, char in enumerate(a, start=1):
        cost = (target != ord(char)).astype(np.int64)
        best = np.empty_like(row)
        best[0] = i
        best[1:] = np.minimum(row[1:] + 1, row[:-1] + cost)  # deletion, substitution
        # Insertion chains along the row: new[j] = min_k (best[k] + j - k).
        row = np.minimum.accumulate(best - steps) + steps
    return int(row[-1])


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--pages", type=int, default=6)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--noise", type=float, default=0.02,
                        help="scanner grain (0 = clean rendering)")
    args = parser.parse_args()
    images, truth = render_pages(args.pages, args.noise)
    with tempfile.TemporaryDirectory(prefix="aspa-bench-") as tmp:
        source = Path(tmp) / "scan.pdf"
        image_pdf(images, source)
        agent = run_agent(source, Path(tmp) / "agent.pdf", args.workers)
        ocrmypdf = run_ocrmypdf(source, Path(tmp) / "ocrmypdf.pdf", args.workers)
        print(_header())
        print(_row(args, agent, ocrmypdf, truth))


def _header() -> str:
    return ("| pages | cores | agent pages/s | agent kB/page | agent char acc | ocrmypdf pages/s "
            "| ocrmypdf kB/page | ocrmypdf char acc | agent / ocrmypdf speed |\n"
            "|---|---|---|---|---|---|---|---|---|")


def _row(args: argparse.Namespace, agent: Result, other: Result, truth: list[str]) -> str:
    n = len(truth)
    cells = [str(n), str(args.workers), *_cells(agent, truth), *_cells(other, truth)]
    ours, theirs = agent.pages_per_s(n), other.pages_per_s(n)
    cells.append(f"{ours / theirs:.2f}×" if ours and theirs else "n/a")
    return "| " + " | ".join(cells) + " |"


def _cells(result: Result, truth: list[str]) -> list[str]:
    if result.pdf is None:
        return [f"n/a ({result.note})", "n/a", "n/a"]
    n = len(truth)
    found = page_texts(result.pdf, n)
    return [f"{n / result.seconds:.2f} ({result.seconds:.1f} s)",
            f"{result.pdf.stat().st_size / n / 1000:.0f}",
            f"{accuracy(found, truth):.2%}"]


if __name__ == "__main__":
    main()
