"""What a classifier's answers on a labelled dataset are worth: the numbers `evaluate` prints.

Definitions (the README's "Metrics" section says the same; change both together):

* A document is **in-catalogue** when its true label is not ``unknown`` (a form code or an
  attachment kind), **out-of-catalogue** otherwise.
* A document is **answered** when the prediction is not ``unknown``.
  ``attachment/other`` names no catalogue entry and counts as ``unknown`` (see
  :func:`label_of`).
* ``accuracy`` = right answers / answered in-catalogue documents. ``null`` when no in-catalogue
  document was answered.
* ``coverage`` = answered in-catalogue documents / in-catalogue documents. ``null`` when the
  dataset has no in-catalogue document.
* ``confidently_wrong_rate`` = (answered in-catalogue documents whose answer is wrong +
  out-of-catalogue documents given a form code or an attachment kind) / all documents: every
  answer above the abstain threshold that is wrong. ``null`` for an empty dataset.
* ``unknown_as_form_rate`` = out-of-catalogue documents given a form code or an attachment kind /
  out-of-catalogue documents. ``null`` when the dataset has no out-of-catalogue document: a rate
  of 0 would claim a goal was met that was never tested.
* ``hetu_recall`` = documents whose found hetu equals the true one / documents with a true hetu.
  ``hetu_precision`` = the same count / documents where a hetu was found (a code found on a
  document with none counts against it). Both ``null`` with an empty denominator. All 11
  characters must match.
* ``per_class[label]``: ``precision`` = documents predicted ``label`` that truly are / documents
  predicted ``label``; ``recall`` = documents of ``label`` predicted so / documents of ``label``;
  ``support`` = documents of ``label``; ``predicted`` = documents predicted ``label``. ``unknown``
  is a class too (its recall is the share of out-of-catalogue documents that came out unknown).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from classifiers.base import Classification

UNKNOWN = "unknown"
# The goals of issue 4, shown in reports and checked by `threshold` (never asserted in tests).
GOALS: dict[str, tuple[str, float]] = {
    "accuracy": (">=", 0.995),
    "coverage": (">=", 0.98),
    "confidently_wrong_rate": ("<=", 0.002),
    "unknown_as_form_rate": ("<=", 0.02),
    "hetu_recall": (">=", 0.98),
    "hetu_precision": (">=", 1.0),
    "classify_ms_mean": ("<=", 50.0),
}
THRESHOLDS = tuple(i / 100 for i in range(100))  # 0.00 … 0.99


@dataclass(frozen=True)
class Prediction:
    """One document's truth next to a classifier's answer.

    ``files``, ``row``, ``evidence`` and ``classify_ms`` are for reports only; they take no part
    in the metrics.
    """

    label: str  # truth label as in labels.csv: "TO 1", "attachment/pay_slip", "unknown"
    predicted: str  # the answer, in the same form
    confidence: float
    hetu_truth: str | None
    hetu_found: str | None
    files: tuple[Path, ...] = field(default=(), compare=False)
    row: int = field(default=0, compare=False)
    evidence: tuple[str, ...] = field(default=(), compare=False)
    classify_ms: float = field(default=0.0, compare=False)

    @property
    def in_catalogue(self) -> bool:
        return self.label != UNKNOWN

    @property
    def answered(self) -> bool:
        return self.predicted != UNKNOWN

    @property
    def correct(self) -> bool:
        return self.predicted == self.label

    @property
    def confidently_wrong(self) -> bool:
        """An answer given (not abstained) that is wrong: the error that costs most."""
        return self.answered and not self.correct


def label_of(classification: Classification) -> str:
    """The dataset label a classification amounts to: form code, attachment kind or unknown."""
    if classification.kind == "form" and classification.form_code:
        return classification.form_code
    if classification.kind.startswith("attachment/") and classification.kind != "attachment/other":
        return classification.kind
    return UNKNOWN


def compute_metrics(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """Every metric of the module docstring, plus the counts behind them, as JSON-ready data."""
    inside = [p for p in predictions if p.in_catalogue]
    outside = [p for p in predictions if not p.in_catalogue]
    answered = [p for p in inside if p.answered]
    right = sum(p.correct for p in answered)
    outside_answered = sum(p.answered for p in outside)
    wrong = len(answered) - right + outside_answered
    return {
        "documents": len(predictions),
        "in_catalogue": len(inside),
        "out_of_catalogue": len(outside),
        "answered": len(answered),
        "accuracy": ratio(right, len(answered)),
        "coverage": ratio(len(answered), len(inside)),
        "confidently_wrong": wrong,
        "confidently_wrong_rate": ratio(wrong, len(predictions)),
        "unknown_as_form_rate": ratio(outside_answered, len(outside)),
        **hetu_metrics(predictions),
        "per_class": per_class(predictions),
        **timing(predictions),
    }


def hetu_metrics(predictions: Sequence[Prediction]) -> dict[str, Any]:
    """``hetu_recall`` and ``hetu_precision`` with the counts behind them."""
    truths = sum(p.hetu_truth is not None for p in predictions)
    found = sum(p.hetu_found is not None for p in predictions)
    hits = sum(p.hetu_truth is not None and p.hetu_found == p.hetu_truth for p in predictions)
    return {
        "hetu_recall": ratio(hits, truths),
        "hetu_precision": ratio(hits, found),
        "hetu_documents": truths,
        "hetu_found": found,
        "hetu_right": hits,
    }


def per_class(predictions: Sequence[Prediction]) -> dict[str, dict[str, Any]]:
    """Precision, recall, support and predicted count for every label seen, in label order."""
    support = Counter(p.label for p in predictions)
    predicted = Counter(p.predicted for p in predictions)
    hits = Counter(p.label for p in predictions if p.correct)
    return {
        label: {
            "precision": ratio(hits[label], predicted[label]),
            "recall": ratio(hits[label], support[label]),
            "support": support[label],
            "predicted": predicted[label],
        }
        for label in sort_labels(support.keys() | predicted.keys())
    }


def timing(predictions: Sequence[Prediction]) -> dict[str, float | None]:
    """Mean and 95th percentile of the classification time per document (after OCR), in ms."""
    times = sorted(p.classify_ms for p in predictions)
    if not times:
        return {"classify_ms_mean": None, "classify_ms_p95": None}
    p95 = times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)]
    return {"classify_ms_mean": round(sum(times) / len(times), 3), "classify_ms_p95": round(p95, 3)}


def confusion(predictions: Sequence[Prediction]) -> tuple[list[str], list[list[int]]]:
    """Labels (truth and predicted, in :func:`sort_labels` order) and counts[truth][predicted]."""
    labels = sort_labels({p.label for p in predictions} | {p.predicted for p in predictions})
    index = {label: i for i, label in enumerate(labels)}
    counts = [[0] * len(labels) for _ in labels]
    for p in predictions:
        counts[index[p.label]][index[p.predicted]] += 1
    return labels, counts


def threshold_curve(
    probas: Sequence[tuple[str, str, float]], thresholds: Iterable[float] = THRESHOLDS
) -> list[dict[str, Any]]:
    """The metrics at each abstain threshold, from ``(truth, best label, its probability)``.

    At threshold ``t`` a document is answered with its best label when that label is not
    ``unknown`` and its probability is at least ``t``; otherwise it comes out ``unknown``.
    """
    rows = []
    for t in thresholds:
        at_t = [
            Prediction(truth, best if p >= t else UNKNOWN, p, None, None)
            for truth, best, p in probas
        ]
        m = compute_metrics(at_t)
        rows.append({"threshold": t, **{k: m[k] for k in (
            "answered", "coverage", "accuracy", "confidently_wrong_rate", "unknown_as_form_rate")}})
    return rows


def meets_goals(metrics: dict[str, Any]) -> bool:
    """True when every goal in :data:`GOALS` that could be measured is met.

    A ``null`` metric (e.g. no out-of-catalogue documents) cannot fail a goal; ``null`` accuracy
    comes with zero coverage, which fails its own goal.
    """
    return all(goal_met(name, metrics.get(name)) is not False for name in GOALS)


def goal_met(name: str, value: float | None) -> bool | None:
    """Whether ``value`` of metric ``name`` meets its goal; None when unmeasured or no goal."""
    if value is None or name not in GOALS:
        return None
    op, target = GOALS[name]
    return value >= target if op == ">=" else value <= target


def ratio(numerator: int, denominator: int) -> float | None:
    """``numerator / denominator``, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def sort_labels(labels: Iterable[str]) -> list[str]:
    """Form codes by family and number ("SV 4" before "SV 28"), then attachments, unknown last."""
    def key(label: str) -> tuple[int, str, int, str]:
        if label == UNKNOWN:
            return (2, "", 0, label)
        if label.startswith("attachment/"):
            return (1, label, 0, label)
        family, _, number = label.partition(" ")
        return (0, family, int(number) if number.isdigit() else 0, label)

    return sorted(labels, key=key)
