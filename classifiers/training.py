"""``aspa-classifiers train``: dataset → OCR (cached) → fitted, calibrated model file.

The metrics stored in the file are measured on the training set itself: they show the model
learnt its data, not how it does on new scans (evaluate a held-out set for that).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from classifiers.catalogue import load_catalogue
from classifiers.dataset import dataset_hash
from classifiers.evaluate import evaluation, predict_documents, progress_bar, read_dataset
from classifiers.model import DEFAULT_THRESHOLD, ModelClassifier, model_label, train_model
from classifiers.modelfile import save_model
from classifiers.tables import fmt


def train_command(dataset: Path, out: Path, *, threshold: float | None = None) -> int:
    """Train on ``dataset`` and write the model to ``out`` atomically; print a summary.

    Raises :class:`~classifiers.errors.DatasetError` for an unusable dataset. Returns 0.
    """
    started = time.monotonic()
    samples, documents = read_dataset(dataset)
    catalogue = load_catalogue()
    with progress_bar("training") as progress:
        model = train_model([d.text for d in documents],
                            [model_label(s.label, s.variant) for s in samples],
                            catalogue=catalogue, training_hash=dataset_hash(samples),
                            progress=progress,
                            threshold=DEFAULT_THRESHOLD if threshold is None else threshold)
    metrics = {"on": "training set",
               **evaluation(dataset, model, predict_documents(model, samples, documents))}
    save_model(model, out, metrics)
    print(summary(model, out, metrics, time.monotonic() - started))
    return 0


def summary(model: ModelClassifier, out: Path, metrics: dict[str, Any], seconds: float) -> str:
    """What was written, from what, and how it does on its own training data."""
    size_kb = out.stat().st_size / 1024
    return "\n".join([
        f"wrote {out} ({size_kb:.0f} KiB) in {seconds:.0f} s: {model.version}, "
        f"{len(model.labels)} labels, threshold {model.threshold:.2f}",
        f"  training documents {metrics['documents']}, catalogue {model.info.catalogue_digest}",
        f"  on the training set: accuracy {fmt(metrics['accuracy'], 'rate')}, "
        f"coverage {fmt(metrics['coverage'], 'rate')}, confidently wrong "
        f"{fmt(metrics['confidently_wrong_rate'], 'rate')}, out-of-catalogue given a form "
        f"{fmt(metrics['unknown_as_form_rate'], 'rate')}",
        "  (training-set numbers are optimistic: evaluate a held-out set with "
        f"aspa-classifiers evaluate DATASET --model {out})",
    ])
