"""``aspa-classifiers explain``: why one document got its answer, as tables for a person.

The document's pages are read as the agent reads them (decode → prepare → OCR → hetu), then the
tables show the answer, the model's three most probable labels, the rule classifier's evidence
and the model features that pushed hardest towards the answer.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from aspa_contract.hetu import mask
from classifiers.base import Classification, Classifier, DocumentText
from classifiers.errors import AdminError
from classifiers.evaluate import resolve_classifier
from classifiers.model import ModelClassifier
from classifiers.ocr_cache import OcrCache, ReadDocument
from classifiers.rules import RuleClassifier
from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.errors import InputRejected

_TOP_LABELS = 3
_WIDTH = 110


def explain_command(files: Sequence[Path], model: Path | None) -> int:
    """Read the page ``files`` of ONE document, classify it and print the evidence. Returns 0.

    Raises :class:`AdminError` for a missing or unreadable page file or an unusable model.
    """
    classifier, _ = resolve_classifier(model)
    print(explanation(classifier, read_document(files)), end="")
    return 0


def read_document(files: Sequence[Path]) -> ReadDocument:
    """The document of these page files, read as the agent reads it (nothing is cached)."""
    for path in files:
        if not path.is_file():
            raise AdminError(f"page file {path} does not exist; give the page images of one "
                             "document in page order")
    with tempfile.TemporaryDirectory(prefix="aspa-explain-") as scratch:
        try:
            return OcrCache(Path(scratch), OcrSettings(), PrepareSettings()).read(tuple(files))
        except InputRejected as exc:
            raise AdminError(f"cannot read {', '.join(p.name for p in files)} ({exc.code}: "
                             f"{exc.detail}); give page images or PDFs") from exc


def explanation(classifier: Classifier, document: ReadDocument) -> str:
    """The explain tables for ``document`` under ``classifier``, as plain text."""
    answer = classifier.classify(document.text)
    tables = [_answer_table(classifier, answer, document)]
    rule: Classification | None = answer if isinstance(classifier, RuleClassifier) else None
    if isinstance(classifier, ModelClassifier):
        tables.append(_labels_table(classifier, document.text))
        rule = classifier.rule_answer(document.text)
    if rule is not None:
        tables.append(_evidence_table(rule))
    if isinstance(classifier, ModelClassifier):
        tables.append(_features_table(classifier, document.text))
    out = io.StringIO()
    console = Console(file=out, width=_WIDTH, no_color=True, highlight=False)
    for table in tables:
        console.print(table)
    return out.getvalue()


def _answer_table(classifier: Classifier, answer: Classification, document: ReadDocument
                  ) -> Table:
    table = Table("", "", title="Answer", show_header=False, title_justify="left")
    what = answer.form_code if answer.kind == "form" else answer.kind
    if answer.form_variant:
        what = f"{what} ({answer.form_variant})"
    table.add_row("answer", str(what))
    table.add_row("confidence", f"{answer.confidence:.3f}")
    table.add_row("language", answer.language)
    table.add_row("decided by", f"{answer.classified_by} ({classifier.version})")
    threshold = getattr(classifier, "threshold", None)
    if threshold is not None:
        table.add_row("abstain threshold", f"{threshold:.2f}")
    for item in answer.evidence:
        if item.kind == "abstain":
            table.add_row("abstained because", item.detail)
    table.add_row("pages read", str(len(document.text.pages)))
    table.add_row("hetu found", mask(document.hetu) or "none")
    return table


def _labels_table(model: ModelClassifier, text: DocumentText) -> Table:
    probs = model.probabilities(text)
    table = Table("label", "probability", title="Most probable labels", title_justify="left")
    for label in sorted(probs, key=lambda name: probs[name], reverse=True)[:_TOP_LABELS]:
        table.add_row(label, f"{probs[label]:.3f}")
    return table


def _evidence_table(rule: Classification) -> Table:
    answer = rule.form_code if rule.kind == "form" else rule.kind
    table = Table("evidence", "detail", "weight", title_justify="left",
                  title=f"Rule classifier: {answer} (confidence {rule.confidence:.2f})")
    for item in rule.evidence:
        table.add_row(item.kind, item.detail, f"{item.weight:.2f}")
    if not rule.evidence:
        table.add_row("none", "no form code, title or attachment keyword was read", "")
    return table


def _features_table(model: ModelClassifier, text: DocumentText) -> Table:
    table = Table("feature kind", "feature = value", "pushes by", title_justify="left",
                  title="Model: strongest features for its best label")
    for item in model.explain(text):
        table.add_row(item.kind, item.detail, f"{item.weight:+.3f}")
    return table
