"""Choose the classifier the agent runs: the trained model when one is configured, else rules."""

from __future__ import annotations

from pathlib import Path

from classifiers.base import Classifier
from classifiers.catalogue import load_catalogue
from classifiers.rules import RuleClassifier


def load_classifier(catalogue: Path | None = None, model: Path | None = None) -> Classifier:
    """The rule classifier over ``catalogue`` (default: the shipped ``config/forms.toml``)."""
    if model is not None:
        raise NotImplementedError("trained models arrive with the classifier issue")
    return RuleClassifier(load_catalogue(catalogue))
