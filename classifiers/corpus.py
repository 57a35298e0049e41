"""Generate a labelled synthetic corpus: every catalogue form, the attachment kinds, and
documents that are no form (letters, bills, manuals, and letters and guides that *mention* a
form code), scanned with seeded degradations. Same seed → byte-identical files and labels.csv.

Per class K documents: each catalogue entry (code, variant) and each attachment kind gets K;
"unknown" gets K letters, K bills, K manuals/guides and 2K code mentions, the hard case.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from multiprocessing import get_context
from pathlib import Path

from PIL import Image

from aspa_contract.hetu import CENTURY_SIGNS
from classifiers.catalogue import Catalogue, Form, load_catalogue
from classifiers.dataset import Sample, load_dataset, write_labels
from classifiers.errors import DatasetError
from classifiers.synth import (
    ATTACHMENT_KINDS,
    HetuRequest,
    Rendered,
    render_attachment,
    render_form,
    render_letter,
    test_hetu,
)
from classifiers.synth.bills import render_bill
from classifiers.synth.canvas import DEJAVU_DIR
from classifiers.synth.layout import printed_code
from classifiers.synth.manuals import render_manual
from classifiers.synth.scanning import ScanEffects, apply_effects, draw_effects

TRAINING_FONTS = tuple(DEJAVU_DIR / name for name in
                       ("DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansCondensed.ttf"))
_LIBERATION = Path("/usr/share/fonts/truetype/liberation")
_FREEFONT = Path("/usr/share/fonts/truetype/freefont")
HELD_OUT_FONTS = (_LIBERATION / "LiberationSans-Regular.ttf",
                  _LIBERATION / "LiberationSerif-Regular.ttf",
                  _FREEFONT / "FreeSans.ttf", _FREEFONT / "FreeSerif.ttf")
PAGES_DIR = "pages"
# Out-of-catalogue kinds and their share of K; a quarter of the code mentions are in a guide.
UNKNOWN_KINDS = (("letter", 1), ("bill", 1), ("manual", 1), ("mention", 2))
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Plan:
    """One document to render, decided from the seed before any pixel is drawn."""

    kind: str  # form, attachment, letter, bill, manual, guide, mention_letter, mention_guide
    label: str  # the dataset label: form code, attachment kind or "unknown"
    form: Form | None
    language: str
    pages: int
    hetu: HetuRequest
    mention: str | None  # the form code as written in running text
    font: Path
    effects: ScanEffects
    seed: int


def generate_corpus(out: Path, *, per_class: int, seed: int, dpi: int = 300,
                    fonts: Sequence[Path] | None = None,
                    progress: Progress | None = None) -> int:
    """Render the corpus into ``out`` (``pages/`` + ``labels.csv``); return the document count.

    ``fonts`` defaults to the DejaVu training faces; pass :data:`HELD_OUT_FONTS` for a
    held-out set. Raises :class:`DatasetError` when ``out`` is not empty or a font is missing.
    """
    faces = tuple(fonts or TRAINING_FONTS)
    check_target(out, faces)
    plans = plan_corpus(load_catalogue(), per_class=per_class, seed=seed, fonts=faces)
    (out / PAGES_DIR).mkdir(parents=True, exist_ok=True)
    samples = []
    # Documents are independent (each has its own seed), so worker processes change no byte.
    # Spawned, not forked: the caller may run threads (a progress bar) that fork would copy.
    with ProcessPoolExecutor(os.cpu_count() or 1, mp_context=get_context("spawn")) as pool:
        numbers = range(1, len(plans) + 1)
        for sample in pool.map(write_document, repeat(out), numbers, plans, repeat(dpi)):
            samples.append(sample)
            if progress:
                progress(len(samples), len(plans))
    write_labels(out, samples)  # last: an interrupted run leaves no labels.csv
    return len(samples)


def check_target(out: Path, fonts: Sequence[Path]) -> None:
    """Refuse a non-empty ``out`` or a missing font with a :class:`DatasetError` saying why."""
    if out.exists() and any(out.iterdir()):
        raise DatasetError(f"{out} is not empty; choose a new folder (or delete this one) so "
                           "the corpus holds only what this seed generates")
    missing = [str(f) for f in fonts if not f.is_file()]
    if missing:
        raise DatasetError(f"font file(s) missing: {', '.join(missing)}; install "
                           "fonts-dejavu-core, fonts-liberation and fonts-freefont-ttf")


def plan_corpus(catalogue: Catalogue, *, per_class: int, seed: int,
                fonts: Sequence[Path]) -> list[Plan]:
    """Every document of the corpus, in order, decided from ``seed`` alone."""
    planner = _Planner(random.Random(f"corpus:{seed}"), seed, catalogue, fonts)
    plans = []
    for n, form in enumerate(catalogue.forms):
        plans += [planner.form(form, _language(n + i)) for i in range(per_class)]
    for n, kind in enumerate(ATTACHMENT_KINDS):
        plans += [planner.attachment(kind, _language(n + i)) for i in range(per_class)]
    for n, (kind, share) in enumerate(UNKNOWN_KINDS):
        plans += [planner.unknown(kind, i, _language(n + i)) for i in range(per_class * share)]
    return plans


def _language(i: int) -> str:
    # Alternating, offset per class: both languages appear even when K is 1.
    return ("fi", "sv")[i % 2]


class _Planner:
    """Draws each document's choices from one random stream, in a fixed order."""

    def __init__(self, rng: random.Random, seed: int, catalogue: Catalogue,
                 fonts: Sequence[Path]) -> None:
        self._rng = rng
        self._fonts = fonts
        self._signs = seed  # century signs are handed out in turn: all 13 appear
        self._codes = list(catalogue.codes())
        rng.shuffle(self._codes)
        self._mentions = 0

    def form(self, form: Form, language: str) -> Plan:
        hetu = self._hetu(valid=0.75, invalid=0.10)
        return self._plan("form", form.code, language, self._rng.randint(1, 3), hetu, form=form)

    def attachment(self, kind: str, language: str) -> Plan:
        hetu = None if kind == "attachment/bank_statement" else self._hetu(0.6, 0.1)
        return self._plan("attachment", kind, language, 1, hetu)

    def unknown(self, kind: str, index: int, language: str) -> Plan:
        if kind == "mention":
            kind = "mention_guide" if index % 4 == 3 else "mention_letter"
        elif kind == "manual" and index % 2:
            kind = "guide"
        hetu = self._hetu(0.35, 0.05) if kind in ("letter", "bill", "mention_letter") else None
        pages = self._rng.randint(1, 3) if kind in ("manual", "guide", "mention_guide") else 1
        mention = self._mention(language) if kind.startswith("mention") else None
        return self._plan(kind, "unknown", language, pages, hetu, mention=mention)

    def _plan(self, kind: str, label: str, language: str, pages: int, hetu: HetuRequest, *,
              form: Form | None = None, mention: str | None = None) -> Plan:
        rng = self._rng
        return Plan(kind, label, form, language, pages, hetu, mention, rng.choice(self._fonts),
                    draw_effects(rng, pages), rng.randrange(2**31))

    def _hetu(self, valid: float, invalid: float) -> HetuRequest:
        """A valid test code (share ``valid``), an invalid one (share ``invalid``) or none."""
        draw = self._rng.random()
        if draw < valid:
            self._signs += 1
            return test_hetu(self._rng, CENTURY_SIGNS[self._signs % len(CENTURY_SIGNS)])
        return "invalid" if draw < valid + invalid else None

    def _mention(self, language: str) -> str:
        """Catalogue codes in turn, written as people write them: "TO 1", "TO1", "TO 1r"."""
        code = self._codes[self._mentions % len(self._codes)]
        self._mentions += 1
        return self._rng.choice((code, code.replace(" ", ""), printed_code(code, language)))


def render_plan(plan: Plan, dpi: int) -> Rendered:
    """The clean pages of one planned document, with their truth."""
    seed, font = plan.seed, plan.font
    if plan.form is not None:
        return render_form(plan.form, plan.language, seed=seed, pages=plan.pages,
                           hetu=plan.hetu, dpi=dpi, font_path=font)
    if plan.kind == "attachment":
        return render_attachment(plan.label, plan.language, seed=seed, hetu=plan.hetu,
                                 dpi=dpi, font_path=font)
    if plan.kind == "bill":
        return render_bill(plan.language, seed=seed, hetu=plan.hetu, dpi=dpi, font_path=font)
    if plan.kind in ("manual", "guide", "mention_guide"):
        return render_manual(plan.language, seed=seed, pages=plan.pages,
                             guide=plan.kind != "manual", mention_code=plan.mention, dpi=dpi,
                             font_path=font)
    return render_letter(plan.language, seed=seed, mention_code=plan.mention, hetu=plan.hetu,
                         dpi=dpi, font_path=font)


def write_document(out: Path, number: int, plan: Plan, dpi: int) -> Sample:
    """Render, scan and save one document's pages; its labels.csv row."""
    rendered = render_plan(plan, dpi)
    scanned = apply_effects(rendered.pages, plan.effects, seed=plan.seed, language=plan.language)
    slug = plan.label.replace("attachment/", "").replace(" ", "")
    if plan.label == "unknown":
        slug = plan.kind
    if rendered.variant:
        slug += f"-{rendered.variant}"
    files = []
    for page_number, page in enumerate(scanned, start=1):
        path = out / PAGES_DIR / f"{number:05d}-{slug}-{plan.language}-p{page_number}"
        files.append(_save(page, path, plan.effects.jpeg_quality))
    extra = (("kind", plan.kind), ("degradations", " ".join(plan.effects.names())),
             ("font", plan.font.stem))
    return Sample(tuple(files), rendered.label, plan.language, rendered.hetu, number,
                  rendered.variant, extra)


def _save(page: Image.Image, stem: Path, jpeg_quality: int | None) -> Path:
    """PNG, or JPEG at ``jpeg_quality``; no timestamps, so the same pixels give the same bytes."""
    dpi = page.info.get("dpi", (300, 300))
    if jpeg_quality is not None:
        path = stem.with_suffix(".jpg")
        page.convert("L").save(path, format="JPEG", quality=jpeg_quality, dpi=dpi)
    else:
        path = stem.with_suffix(".png")
        page.save(path, format="PNG", dpi=dpi)
    return path


def corpus_command(out: Path, *, per_class: int, seed: int, dpi: int,
                   held_out_fonts: bool) -> int:
    """``aspa-classifiers corpus``: generate with a progress bar, then one summary line."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    fonts = HELD_OUT_FONTS if held_out_fonts else TRAINING_FONTS
    check_target(out, fonts)  # before the bar is drawn: a refusal is then one clean line
    started = time.monotonic()
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("Rendering documents", total=None)
        generate_corpus(out, per_class=per_class, seed=seed, dpi=dpi, fonts=fonts,
                        progress=lambda done, total: bar.update(task, completed=done,
                                                                total=total))
    print(summary_line(out, load_dataset(out), time.monotonic() - started, seed, fonts))
    return 0


def summary_line(out: Path, samples: Sequence[Sample], seconds: float, seed: int,
                 fonts: Sequence[Path]) -> str:
    """``Wrote 72 documents (121 pages) to OUT in 30 s: 56 forms, ...; seed 1, fonts ...``."""
    kinds = Counter(dict(s.extra).get("kind", "") for s in samples)
    pages = sum(len(s.files) for s in samples)
    unknown = sum(1 for s in samples if s.label == "unknown")
    mentions = kinds["mention_letter"] + kinds["mention_guide"]
    with_hetu = sum(1 for s in samples if s.hetu)
    return (f"Wrote {len(samples)} documents ({pages} pages) to {out} in {seconds:.0f} s: "
            f"{kinds['form']} forms, {kinds['attachment']} attachments, {unknown} unknown "
            f"({mentions} mentioning a form code); {with_hetu} with a hetu; seed {seed}, fonts "
            f"{', '.join(f.stem for f in fonts)}")
