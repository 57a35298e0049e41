"""Choose the classifier the agent runs: a configured model, else the shipped default model,
else the rules alone."""

from __future__ import annotations

import logging
from pathlib import Path

from classifiers.base import Classifier
from classifiers.catalogue import load_catalogue
from classifiers.errors import ModelIncompatible
from classifiers.rules import RuleClassifier

log = logging.getLogger(__name__)


def load_classifier(catalogue: Path | None = None, model: Path | None = None, *,
                    default_model: Path | None = None) -> Classifier:
    """The classifier over ``catalogue`` (default: the shipped ``config/forms.toml``).

    ``model`` given: that model; a missing or incompatible file raises
    :class:`ModelIncompatible` (the agent refuses to start with a broken configured model).
    ``model`` None: the shipped default model (``default_model`` overrides its path, for tests)
    when present and usable; a broken default logs a warning and the rules answer alone.
    """
    from classifiers.modelfile import DEFAULT_MODEL_PATH, load_model

    forms = load_catalogue(catalogue)
    if model is not None:
        return load_model(model, forms)
    default = default_model or DEFAULT_MODEL_PATH
    if not default.exists():
        return RuleClassifier(forms)
    try:
        return load_model(default, forms)
    except ModelIncompatible as exc:
        log.warning("default model unusable, classifying by rules alone: %s", exc)
        return RuleClassifier(forms)
