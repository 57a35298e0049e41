"""Model files: one joblib file with what made the model, its metrics, and the fitted pipeline.

The file holds a dict of plain values (format, scikit-learn version, catalogue digest, training
data hash, creation time, threshold, labels, metrics) and the pipeline as nested joblib bytes,
so the header is read and checked before any scikit-learn object is unpickled: a file from
another format or another scikit-learn major.minor is refused with the command that retrains.
A file trained on another catalogue loads with a warning: catalogue edits are routine (a
keyword, a title), and answers outside the current catalogue come out ``unknown`` anyway.

SECURITY: joblib (pickle) files run code when loaded. Load only model files made by a trusted
admin (the shipped default, or one the admin trained and rolled out); never one that arrived
with documents or from a user.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import sklearn

from aspa_contract.durable import write_atomic
from classifiers.catalogue import Catalogue, load_catalogue
from classifiers.errors import ModelIncompatible
from classifiers.model import MODEL_FORMAT, ModelClassifier, ModelInfo

log = logging.getLogger(__name__)

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models" / "default.joblib"
RETRAIN = "retrain with: aspa-classifiers train DATASET --out MODEL"
_COMPRESS = 3  # zlib level: most of the file is vocabulary strings, which compress well

__all__ = ["DEFAULT_MODEL_PATH", "MODEL_FORMAT", "RETRAIN", "load_model", "save_model"]


def save_model(model: ModelClassifier, path: Path, metrics: dict[str, Any] | None = None
               ) -> None:
    """Write ``model`` (with ``metrics``, e.g. on its training set) to ``path`` atomically:
    a reader sees the old file or the new one, never a torn one."""
    pipeline = io.BytesIO()
    joblib.dump(model.pipeline, pipeline, compress=_COMPRESS)
    payload = {
        "format": MODEL_FORMAT,
        "sklearn_version": sklearn.__version__,
        "catalogue_digest": model.info.catalogue_digest,
        "training_data_hash": model.info.training_hash,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "threshold": model.threshold,
        "labels": list(model.labels),
        "metrics": metrics if metrics is not None else model.info.metrics,
        "pipeline": pipeline.getvalue(),
    }
    out = io.BytesIO()
    joblib.dump(payload, out)
    write_atomic(path, out.getvalue())


def load_model(path: Path, catalogue: Catalogue | None = None) -> ModelClassifier:
    """The model in ``path``, answering over ``catalogue`` (default: the shipped one).

    Raises :class:`ModelIncompatible` (the message says how to retrain) for a missing,
    unreadable, other-format or other-scikit-learn file. Only load trusted files (see module).
    """
    payload = read_header(path)
    _check_compatible(path, payload)
    catalogue = catalogue or load_catalogue()
    if payload["catalogue_digest"] != catalogue.digest:
        log.warning("model %s was trained with form catalogue %s, this agent uses %s: answers "
                    "outside the catalogue come out unknown; %s", path.name,
                    payload["catalogue_digest"], catalogue.digest, RETRAIN)
    try:
        pipeline = joblib.load(io.BytesIO(payload["pipeline"]))
    except Exception as exc:  # a damaged pickle can raise nearly anything
        raise ModelIncompatible(f"model file {path} is damaged ({exc}); {RETRAIN}") from exc
    info = ModelInfo(catalogue_digest=payload["catalogue_digest"],
                     training_hash=payload["training_data_hash"],
                     created_at=payload["created_at"], sklearn_version=payload["sklearn_version"],
                     metrics=payload["metrics"] or {})
    return ModelClassifier(pipeline, catalogue=catalogue, info=info,
                           threshold=float(payload["threshold"]))


def read_header(path: Path) -> dict[str, Any]:
    """The file's dict (the pipeline still as bytes); ModelIncompatible if it is none."""
    try:
        payload = joblib.load(path)
    except FileNotFoundError as exc:
        raise ModelIncompatible(f"model file {path} does not exist; check the path or "
                                f"{RETRAIN}") from exc
    except Exception as exc:  # not a joblib file, truncated, or from an unknown library
        raise ModelIncompatible(f"{path} is not a readable model file ({exc}); {RETRAIN}"
                                ) from exc
    if not isinstance(payload, dict) or "format" not in payload:
        raise ModelIncompatible(f"{path} is not an aspa-classifiers model file; {RETRAIN}")
    return payload


def _check_compatible(path: Path, payload: dict[str, Any]) -> None:
    if payload["format"] != MODEL_FORMAT:
        raise ModelIncompatible(f"{path} is model format {payload['format']!r}, this version "
                                f"reads format {MODEL_FORMAT}; {RETRAIN}")
    made_with = str(payload.get("sklearn_version", "?"))
    if _major_minor(made_with) != _major_minor(sklearn.__version__):
        raise ModelIncompatible(f"{path} was made with scikit-learn {made_with}, this agent has "
                                f"{sklearn.__version__}; {RETRAIN}")


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])
