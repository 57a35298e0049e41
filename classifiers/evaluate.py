"""Run a classifier over a labelled dataset and judge it: evaluate, compare, threshold.

The flow: labels.csv → pages read once through the OCR cache (as the agent reads them) →
each document classified → :class:`~classifiers.metrics.Prediction` → metrics → JSON, terminal
table or report folder. The commands return an exit code; library callers (training, the
bench) use :func:`read_dataset` with :func:`predict_documents` (pages read once, any number of
classifiers), or :func:`predict_dataset` with a cache of their own.
"""

from __future__ import annotations

import copy
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from classifiers.base import Classifier, DocumentText
from classifiers.catalogue import load_catalogue
from classifiers.dataset import Sample, load_dataset
from classifiers.errors import AdminError
from classifiers.loading import load_classifier
from classifiers.metrics import Prediction, compute_metrics, label_of, meets_goals, threshold_curve
from classifiers.ocr_cache import OcrCache, ReadDocument, default_cache_dir
from classifiers.report import write_report
from classifiers.rules import RuleClassifier
from classifiers.tables import compare_text, disagreements_text, summary_text, threshold_text
from scanner_agent.config import OcrSettings, PrepareSettings

RULES = "rules"  # `--model rules`: the rule classifier alone
_EVIDENCE_SHOWN = 3

ProgressFn = Callable[[int, int], None]


def evaluate_command(dataset: Path, model: Path | None, *, as_json: bool = False,
                     report_dir: Path | None = None) -> int:
    """``aspa-classifiers evaluate``: metrics as one JSON object (``--json``) and/or a report.

    Without ``--json`` a report folder is always written (``DATASET/report-<time>/`` unless
    ``--report`` names one) and a summary printed. Returns the exit code (0).
    """
    classifier, _ = resolve_classifier(model)
    samples, documents = read_dataset(dataset)
    predictions = predict_documents(classifier, samples, documents)
    result = evaluation(dataset, classifier, predictions)
    if report_dir is None and not as_json:
        report_dir = _new_report_dir(dataset)
    summary = write_report(report_dir, result, predictions) if report_dir else None
    print(json.dumps(result, ensure_ascii=False) if as_json else summary_text(result))
    if summary is not None:
        print(f"report: {summary}", file=sys.stderr if as_json else sys.stdout)
    return 0


def compare_command(dataset: Path, models: Sequence[Path]) -> int:
    """``aspa-classifiers compare``: metrics side by side and the documents answered apart."""
    if len(models) < 2:
        raise AdminError("compare needs two or more models: --model A --model B "
                         f"(a model file, or '{RULES}' for the rule classifier)")
    named = [resolve_classifier(m) for m in models]
    names = _unique_names([name for _, name in named], models)
    samples, documents = read_dataset(dataset)
    runs = [predict_documents(c, samples, documents) for c, _ in named]
    results = [evaluation(dataset, c, run) for (c, _), run in zip(named, runs, strict=True)]
    print(compare_text(names, results))
    print()
    print(disagreements_text(names, runs))
    return 0


def threshold_command(dataset: Path, model: Path | None) -> int:
    """``aspa-classifiers threshold``: coverage and errors at each abstain threshold 0…0.99."""
    classifier, name = resolve_classifier(model)
    samples, documents = read_dataset(dataset)
    answers = best_answers(classifier, [d.text for d in documents])
    probas = [(s.label, label, p) for s, (label, p) in zip(samples, answers, strict=True)]
    current = getattr(classifier, "threshold", None)
    print(f"classifier {classifier.version} ({name}) on {dataset}: {len(samples)} documents")
    print(threshold_text(threshold_curve(probas), current))
    if current is not None:
        print("to use another threshold, retrain with: aspa-classifiers train TRAINING_SET "
              "--out MODEL --threshold T")
    return 0


def resolve_classifier(model: Path | None) -> tuple[Classifier, str]:
    """The classifier ``--model`` names, and a short name for tables.

    None → the shipped default model, or rules when none is shipped; ``rules`` → the rule
    classifier alone; a path → that model file (an unusable file raises with the fix).
    """
    if model is None:
        return load_classifier(None, None), "default"
    if str(model) == RULES and not model.exists():
        return RuleClassifier(load_catalogue()), RULES
    if not model.is_file():
        raise AdminError(f"model file {model} does not exist; give a file written by "
                         f"'aspa-classifiers train', or '{RULES}' for the rule classifier")
    return load_classifier(None, model), model.stem


def read_dataset(dataset: Path) -> tuple[list[Sample], list[ReadDocument]]:
    """The dataset's samples and what the agent reads from each (through the OCR cache)."""
    samples = load_dataset(dataset)
    with progress_bar("reading pages") as progress:
        documents = open_cache(dataset).read_many(samples, progress)
    return samples, documents


def open_cache(dataset: Path) -> OcrCache:
    """The dataset's OCR cache, read with the agent's default OCR and prepare settings."""
    return OcrCache(default_cache_dir(dataset), OcrSettings(), PrepareSettings())


def predict_dataset(classifier: Classifier, samples: Sequence[Sample], cache: OcrCache,
                    progress: ProgressFn | None = None) -> list[Prediction]:
    """Read every sample through ``cache`` and classify it: one prediction per sample."""
    return predict_documents(classifier, samples, cache.read_many(samples, progress))


def predict_documents(classifier: Classifier, samples: Sequence[Sample],
                      documents: Sequence[ReadDocument]) -> list[Prediction]:
    """Classify documents already read: truth from ``samples``, answers timed one by one."""
    return [_predict(classifier, s, d) for s, d in zip(samples, documents, strict=True)]


def _predict(classifier: Classifier, sample: Sample, document: ReadDocument) -> Prediction:
    started = time.perf_counter()
    answer = classifier.classify(document.text)
    elapsed_ms = (time.perf_counter() - started) * 1000
    evidence = tuple(f"{e.kind}: {e.detail}" for e in answer.evidence[:_EVIDENCE_SHOWN])
    return Prediction(sample.label, label_of(answer), answer.confidence, sample.hetu,
                      document.hetu, files=sample.files, row=sample.row, evidence=evidence,
                      classify_ms=elapsed_ms)


def evaluation(dataset: Path, classifier: Classifier,
               predictions: Sequence[Prediction]) -> dict[str, Any]:
    """The ``evaluate --json`` object: what was judged, by which classifier, and the metrics."""
    metrics = compute_metrics(predictions)
    return {
        "dataset": str(dataset),
        "classifier": classifier.version,
        "threshold": getattr(classifier, "threshold", None),
        "evaluated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **metrics,
        "goals_met": meets_goals(metrics),
    }


def best_answers(classifier: Classifier, texts: Sequence[DocumentText]) -> list[tuple[str, float]]:
    """Each document's answer and confidence with the classifier's abstain threshold at 0.

    A model then still abstains for its other reasons (best label ``unknown``, printed code
    disagreeing), so the threshold curve shows what each threshold would really do. The rule
    classifier has no threshold: its own answers and confidences are used.
    """
    open_classifier = copy.copy(classifier)
    if hasattr(open_classifier, "threshold"):
        open_classifier.threshold = 0.0
    answers = [open_classifier.classify(text) for text in texts]
    return [(label_of(a), a.confidence) for a in answers]


@contextmanager
def progress_bar(description: str) -> Iterator[ProgressFn]:
    """A progress bar on stderr (stdout stays clean for JSON); yields ``update(done, total)``."""
    with Progress("{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _new_report_dir(dataset: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    folder, n = dataset / f"report-{stamp}", 1
    while folder.exists():  # two runs in the same second
        n += 1
        folder = dataset / f"report-{stamp}-{n}"
    return folder


def _unique_names(names: list[str], models: Sequence[Path]) -> list[str]:
    """Short names for table columns; full paths where two short names clash."""
    return [str(m) if names.count(n) > 1 else n for n, m in zip(names, models, strict=True)]
