"""The trained form classifier: calibrated probabilities over catalogue labels, or ``unknown``.

Labels are form codes ("TO 1"; "EV 256/c-lausunto" where one code names two documents),
attachment kinds ("attachment/pay_slip") and "unknown" (out-of-catalogue examples). The model
reads the features of ``classifiers.features`` (text, header/footer tokens and the rule
classifier's evidence) with a logistic regression, calibrated by sigmoid on cross-validated
predictions. It answers ``unknown`` when:

- the best label's calibrated probability is below the abstain threshold;
- the best label is "unknown" (the document looks like the out-of-catalogue examples);
- the best label is a form but the rule classifier read one *other* catalogue code in both the
  header and the footer: printed codes and model disagree, so neither is trusted and a person
  decides (cheap in coverage, as both sources agree on nearly every real form, and it keeps
  confidently wrong answers down);
- the best label is no longer in the catalogue (a model trained on an older catalogue).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from classifiers.base import Classification, DocumentText, Evidence
from classifiers.catalogue import Catalogue
from classifiers.errors import DatasetError
from classifiers.features import Features, build_pipeline, document_features, evidence_code
from classifiers.rules import RuleClassifier

log = logging.getLogger(__name__)

MODEL_FORMAT = 1
UNKNOWN = "unknown"
# Sigmoid calibration is cautious with few examples a label (Platt's prior keeps a label seen 4
# times below ~0.8), so right answers of a model trained on the small default corpus score
# 0.3-0.8. At 0.3, 4-fold cross-validated coverage on that corpus was that of no threshold (at
# 0.4 it fell), while a kind of document never seen spread to <= 0.26 over four forms. Retune
# per model with `aspa-classifiers threshold` on a held-out set and `train --threshold`.
DEFAULT_THRESHOLD = 0.3
MAX_FOLDS = 3  # calibration folds; fewer when the rarest label has fewer examples
_REGULARISATION_C = 10.0  # TF-IDF rows are unit length: weak regularisation fits best
_TOP_FEATURES = 8

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ModelInfo:
    """Where a model came from, as recorded in its file."""

    catalogue_digest: str  # digest of the catalogue it was trained with
    training_hash: str  # classifiers.dataset.dataset_hash of its training data
    created_at: str = ""  # ISO 8601 UTC, set when saved
    sklearn_version: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)


class ModelClassifier:
    """A fitted pipeline behind the :class:`classifiers.base.Classifier` protocol.

    Build with :func:`train_model` or :func:`classifiers.modelfile.load_model`.
    """

    def __init__(self, pipeline: Pipeline, *, catalogue: Catalogue, info: ModelInfo,
                 threshold: float = DEFAULT_THRESHOLD) -> None:
        self.pipeline = pipeline
        self.catalogue = catalogue
        self.info = info
        self.threshold = threshold
        self.labels: tuple[str, ...] = tuple(str(c) for c in pipeline.classes_)
        self._rules = RuleClassifier(catalogue)
        self._codes = catalogue.codes()
        self._codes_longest_first = sorted(self._codes, key=len, reverse=True)
        self._allowed = allowed_labels(catalogue)

    @property
    def version(self) -> str:
        """``model/<format>+<training data hash[:8]>``, recorded in each bundle."""
        return f"model/{MODEL_FORMAT}+{self.info.training_hash[:8]}"

    def classify(self, document: DocumentText) -> Classification:
        """Form, attachment or ``unknown``; ``confidence`` is the answer's calibrated
        probability (for an abstention: the best label's, which was below the threshold)."""
        rule = self._rules.classify(document)
        probs = self._probs(self._features(document, rule))
        label = max(probs, key=lambda name: probs[name])
        p = probs[label]
        model_clue = Evidence("model", f"{label} p={p:.3f}", round(p, 3))
        evidence = (model_clue, *rule.evidence)
        reason = self._abstain_reason(label, p, rule)
        if reason is not None:
            return Classification(None, "unknown", rule.language, round(p, 4), "model",
                                  (Evidence("abstain", reason, 0.0), *evidence))
        code, _, variant = label.partition("/")
        if label.startswith("attachment/"):
            return Classification(None, label, rule.language, round(p, 4), "model",  # type: ignore[arg-type]
                                  evidence)
        return Classification(code, "form", rule.language, round(p, 4), "model", evidence,
                              form_variant=variant or self._variant(code, rule))

    def probabilities(self, document: DocumentText) -> dict[str, float]:
        """Calibrated probability of every label the model knows (they sum to 1)."""
        return self._probs(self._features(document, self._rules.classify(document)))

    def explain(self, document: DocumentText) -> list[Evidence]:
        """The features that pushed hardest towards the model's best label, strongest first:
        the top few overall, plus the strongest of each branch not among them (the rule
        features tend to fill the top, and the text clues are worth seeing too).

        ``kind`` is ``feature:<branch>`` (word, char, zone, rules); ``weight`` is the feature's
        value times its coefficient for that label; only features that pushed for it.
        """
        features = self._features(document, self._rules.classify(document))
        probs = self._probs(features)
        label = max(probs, key=lambda name: probs[name])
        row = self.pipeline[:-1].transform([features]).tocsr()
        coef = _coefficients(self.pipeline[-1])[self.labels.index(label)]
        names = [str(n) for n in self.pipeline[:-1].get_feature_names_out()]
        ranked = sorted(((float(row.data[k] * coef[i]), i) for k, i in enumerate(row.indices)),
                        reverse=True)
        chosen = ranked[:_TOP_FEATURES]
        for branch in {names[i].partition("__")[0] for _, i in ranked}:
            best = next(c for c in ranked if names[c[1]].startswith(f"{branch}__"))
            if best not in chosen:
                chosen.append(best)
        return [_feature_evidence(names[i], float(row[0, i]), value)
                for value, i in sorted(chosen, reverse=True) if value > 0]

    def rule_answer(self, document: DocumentText) -> Classification:
        """What the rule classifier inside this model answers (its evidence is a feature)."""
        return self._rules.classify(document)

    def _features(self, document: DocumentText, rule: Classification) -> Features:
        return document_features(document, rule, self._codes)

    def _probs(self, features: Features) -> dict[str, float]:
        row = self.pipeline.predict_proba([features])[0]
        return {label: float(p) for label, p in zip(self.labels, row, strict=True)}

    def _abstain_reason(self, label: str, p: float, rule: Classification) -> str | None:
        """Why the answer must be ``unknown`` (see the module docstring), or None."""
        if label == UNKNOWN:
            return "looks like the out-of-catalogue examples"
        if label not in self._allowed:
            return f"{label} is not in the form catalogue this agent uses"
        if p < self.threshold:
            return f"best label {label} p={p:.3f} is below the threshold {self.threshold:.2f}"
        printed = self._printed_code(rule)
        code = label.partition("/")[0]
        if printed is not None and printed != code and not label.startswith("attachment/"):
            return f"model says {code} but header and footer both read {printed}"
        return None

    def _printed_code(self, rule: Classification) -> str | None:
        """The one code the rule classifier read in both a header and a footer, if any."""
        seen: dict[str, set[str]] = {}
        for item in rule.evidence:
            code = evidence_code(item, self._codes_longest_first)
            if code is not None:
                seen.setdefault(code, set()).add(item.kind)
        both = [c for c, kinds in seen.items() if {"header_code", "footer_code"} <= kinds]
        return both[0] if len(both) == 1 else None

    def _variant(self, code: str, rule: Classification) -> str | None:
        """For a code-level label of a code with variants: the rule classifier's variant."""
        if rule.form_code == code:
            return rule.form_variant
        return None


def allowed_labels(catalogue: Catalogue) -> frozenset[str]:
    """Every label the catalogue allows: codes, code/variant pairs, attachments, unknown."""
    forms = {f.code for f in catalogue.forms}
    variants = {f"{f.code}/{f.variant}" for f in catalogue.forms if f.variant}
    return frozenset(forms | variants | {a.kind for a in catalogue.attachments} | {UNKNOWN})


def model_label(label: str, variant: str | None = None) -> str:
    """A dataset label (and its optional variant column) as a model label."""
    return f"{label}/{variant}" if variant and not label.startswith(("attachment/", UNKNOWN)) \
        else label


def train_model(docs: Sequence[DocumentText], labels: Sequence[str], *, catalogue: Catalogue,
                training_hash: str, progress: Progress | None = None,
                threshold: float = DEFAULT_THRESHOLD) -> ModelClassifier:
    """Fit a calibrated model on OCR'd documents and their model labels.

    Raises :class:`DatasetError` for a label outside the catalogue or fewer than two labels.
    """
    _check_labels(labels, catalogue)
    rules = RuleClassifier(catalogue)
    records = []
    for done, doc in enumerate(docs, start=1):
        records.append(document_features(doc, rules.classify(doc), catalogue.codes()))
        if progress:
            progress(done, len(docs))
    x, y, folds = _balance_for_folds(records, list(labels))
    calibrated = CalibratedClassifierCV(
        LogisticRegression(C=_REGULARISATION_C, max_iter=3000, class_weight="balanced"),
        method="sigmoid", ensemble=False,  # one regression, not one per fold: a smaller file
        cv=StratifiedKFold(folds, shuffle=True, random_state=0))
    pipeline = Pipeline([("features", build_pipeline()), ("classify", calibrated)])
    pipeline.fit(x, y)
    _shrink(calibrated)
    info = ModelInfo(catalogue_digest=catalogue.digest, training_hash=training_hash)
    return ModelClassifier(pipeline, catalogue=catalogue, info=info, threshold=threshold)


def _check_labels(labels: Sequence[str], catalogue: Catalogue) -> None:
    allowed = allowed_labels(catalogue)
    wrong = sorted(set(labels) - allowed)
    if wrong:
        raise DatasetError(f"labels not in the form catalogue: {', '.join(wrong)}; fix "
                           "labels.csv or add the forms to the catalogue")
    if len(set(labels)) < 2:
        raise DatasetError("a model needs examples of at least two labels; add documents of "
                           "other forms and out-of-catalogue documents labelled 'unknown'")


def _balance_for_folds(records: list[Features], labels: list[str]
                       ) -> tuple[list[Features], list[str], int]:
    """Records and labels with rare labels repeated so every calibration fold has each label.

    A label with fewer examples than folds gets optimistic probabilities: a warning says to
    add examples.
    """
    counts = Counter(labels)
    folds = max(2, min(MAX_FOLDS, min(counts.values())))
    rare = sorted(label for label, n in counts.items() if n < folds)
    if rare:
        log.warning("fewer than %d examples of %s: repeated for calibration; add examples",
                    folds, ", ".join(rare))
    x, y = list(records), list(labels)
    for record, label in zip(records, labels, strict=True):
        if counts[label] < folds:
            x += [record] * (folds - counts[label])
            y += [label] * (folds - counts[label])
    return x, y, folds


def _shrink(calibrated: CalibratedClassifierCV) -> None:
    """Store coefficients as float32: half the file size, no change in any decision that
    matters at three decimals."""
    for member in calibrated.calibrated_classifiers_:
        member.estimator.coef_ = member.estimator.coef_.astype(np.float32)


def _coefficients(calibrated: CalibratedClassifierCV) -> np.ndarray:
    """Coefficients per label (rows in ``classes_`` order), averaged over members."""
    coef = np.mean([m.estimator.coef_ for m in calibrated.calibrated_classifiers_], axis=0)
    if coef.shape[0] == 1:  # two labels: one row, for the second label
        coef = np.vstack([-coef[0], coef[0]])
    return np.asarray(coef)


def _feature_evidence(name: str, value: float, contribution: float) -> Evidence:
    """``word__hakemus`` → Evidence("feature:word", "'hakemus' = 0.21", 0.84)."""
    branch, _, feature = name.partition("__")
    return Evidence(f"feature:{branch}", f"{feature!r} = {value:.2f}",
                    round(float(contribution), 3))
