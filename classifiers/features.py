"""What the trained model sees of a document: text n-grams, header/footer tokens, rule evidence.

A document becomes one :class:`Features` record: the lower-cased full text (digits kept: codes
and version dates matter), the words of its header and footer zones as tokens of their own
(``H:hakemus``, ``F:sivu``, ``H:#TO_1`` for a catalogue code read there), and the rule
classifier's answer and evidence kinds. :func:`build_pipeline` turns records into one sparse
matrix: TF-IDF of word 1–2-grams and char 3–5-grams over the text, binary TF-IDF of zone
tokens, and the rule features as they are. The model file pickles this pipeline, so the classes
here must stay importable under these names (a rename needs a new model format).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline

from classifiers.base import Classification, DocumentText, Evidence, PageText
from classifiers.codes import find_codes
from classifiers.titles import words

# Vocabulary caps keep the model file small (coefficients are classes x features floats) and
# prediction fast; the synthetic corpus and real forms share most of their words anyway.
# A term must occur in MIN_DOCUMENTS documents to be kept, so one customer's name or identity
# code in a training scan never becomes part of the model file.
MIN_DOCUMENTS = 2
WORD_FEATURES = 3000
CHAR_FEATURES = 4000
ZONE_FEATURES = 1500
_EDGE_LINES = 3  # lines of page text standing in for a strip OCR did not read on its own
# Evidence kinds of the rule classifier that become features (code-independent and per code).
EVIDENCE_KINDS = ("header_code", "footer_code", "title", "mentioned_code", "keyword")


@dataclass(frozen=True)
class Features:
    """One document as the pipeline reads it."""

    text: str  # full text, lower-cased
    zones: str  # space-separated zone tokens
    rules: dict[str, float]  # rule classifier's answer and evidence


def document_features(
    document: DocumentText, rule: Classification, known_codes: Iterable[str]
) -> Features:
    """The :class:`Features` of ``document``, given the rule classifier's answer ``rule``."""
    known = frozenset(known_codes)
    return Features(
        text=document.full_text.lower(),
        zones=" ".join(_zone_tokens(document.pages, known)),
        rules=rule_features(rule, known),
    )


def rule_label(rule: Classification) -> str:
    """The rule answer as a model label: ``"TO 1"``, ``"EV 256/c-lausunto"``, kind otherwise."""
    if rule.kind == "form" and rule.form_code:
        return f"{rule.form_code}/{rule.form_variant}" if rule.form_variant else rule.form_code
    return rule.kind


def rule_features(rule: Classification, known_codes: Iterable[str]) -> dict[str, float]:
    """One-hot rule answer, its confidence, and which kinds of evidence were seen for which code.

    ``ev:header_code`` counts for any code; ``ev:header_code=TO 1`` ties the clue to its code,
    and ``agree:header+footer`` marks the strongest printed evidence for the rule's answer.
    """
    known = tuple(sorted(known_codes, key=len, reverse=True))
    out: dict[str, float] = {f"rule={rule_label(rule)}": 1.0, "rule_confidence": rule.confidence}
    kinds_by_code: dict[str, set[str]] = {}
    for item in rule.evidence:
        if item.kind not in EVIDENCE_KINDS:
            continue
        out[f"ev:{item.kind}"] = out.get(f"ev:{item.kind}", 0.0) + 1.0
        code = evidence_code(item, known)
        if code is not None:
            out[f"ev:{item.kind}={code}"] = 1.0
            kinds_by_code.setdefault(code, set()).add(item.kind)
    printed = kinds_by_code.get(rule.form_code or "", set())
    if rule.form_code and {"header_code", "footer_code"} <= printed:
        out["agree:header+footer"] = 1.0
    return out


def evidence_code(item: Evidence, known_codes: Sequence[str]) -> str | None:
    """The catalogue code a rule clue is about (its detail starts with it), or None.

    ``known_codes`` longest first, so "SV 178 read as …" is SV 178 and not SV 1.
    """
    for code in known_codes:
        rest = item.detail[len(code):len(code) + 1]
        if item.detail.startswith(code) and rest in (" ", ":"):
            return code
    return None


def _zone_tokens(pages: Sequence[PageText], known: frozenset[str]) -> list[str]:
    """``H:``/``F:`` words and catalogue codes of every page's header and footer."""
    tokens: list[str] = []
    for page in pages:
        lines = [ln for ln in page.text.splitlines() if ln.strip()]
        header = page.header or "\n".join(lines[:_EDGE_LINES])
        footer = page.footer or "\n".join(lines[-_EDGE_LINES:])
        for prefix, zone in (("H", header), ("F", footer)):
            tokens += [f"{prefix}:{w}" for w in words(zone)]
            for line in zone.splitlines():
                tokens += [f"{prefix}:#{hit.code.replace(' ', '_')}"
                           for hit in find_codes(line, known)]
    return tokens


class Take(TransformerMixin, BaseEstimator):
    """Pick one field of each :class:`Features` record (the head of each feature branch)."""

    def __init__(self, field: str) -> None:
        self.field = field

    def fit(self, records: Sequence[Features], y: Any = None) -> Take:
        """Nothing to learn."""
        return self

    def transform(self, records: Sequence[Features]) -> list[Any]:
        """The field's value for every record, in order."""
        return [getattr(r, self.field) for r in records]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The field's name (the vectorizer after it names the real features)."""
        return np.asarray([self.field], dtype=object)


def build_pipeline() -> FeatureUnion:
    """The unfitted feature pipeline: records in, one sparse row per document out."""
    return FeatureUnion([
        ("word", _tfidf("text", token_pattern=r"(?u)\b\w+\b", ngram_range=(1, 2),
                        max_features=WORD_FEATURES, sublinear_tf=True)),
        ("char", _tfidf("text", analyzer="char_wb", ngram_range=(3, 5),
                        max_features=CHAR_FEATURES, sublinear_tf=True)),
        ("zone", _tfidf("zones", token_pattern=r"\S+", ngram_range=(1, 2), binary=True,
                        max_features=ZONE_FEATURES)),
        ("rules", Pipeline([("take", Take("rules")), ("dict", DictVectorizer())])),
    ])


def _tfidf(field: str, **options: Any) -> Pipeline:
    """One TF-IDF branch over a text field (already lower-cased where it matters).

    float32: half the memory of float64, and plenty for TF-IDF weights.
    """
    vectorizer = TfidfVectorizer(lowercase=False, min_df=MIN_DOCUMENTS, dtype=np.float32,
                                 **options)
    return Pipeline([("take", Take(field)), ("tfidf", vectorizer)])
