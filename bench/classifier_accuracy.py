"""Classifier accuracy against the issue-4 goals on a held-out synthetic set.

Generates (once; reused on later runs, OCR cached too) a corpus with a seed and fonts the
shipped default model never saw (``generate_corpus(..., fonts=HELD_OUT_FONTS)``), reads it as
the agent does, and runs the default model and the rule classifier alone over it. Prints one
Markdown table: each goal beside the values reached.

    .venv/bin/python bench/classifier_accuracy.py --per-class 3 --seed 1001
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifiers.base import Classifier
from classifiers.catalogue import load_catalogue
from classifiers.corpus import HELD_OUT_FONTS, generate_corpus
from classifiers.dataset import LABELS_FILE
from classifiers.evaluate import predict_documents, read_dataset
from classifiers.metrics import compute_metrics, goal_met
from classifiers.modelfile import DEFAULT_MODEL_PATH, load_model
from classifiers.rules import RuleClassifier
from classifiers.tables import HEADLINE, fmt, goal_text

ROOT = Path(__file__).resolve().parents[1]


def held_out_set(folder: Path, per_class: int, seed: int) -> Path:
    """``folder`` holding the held-out corpus; generated only when it has no labels.csv yet."""
    if not (folder / LABELS_FILE).is_file():
        started = time.monotonic()
        count = generate_corpus(folder, per_class=per_class, seed=seed, fonts=HELD_OUT_FONTS)
        print(f"generated {count} documents in {time.monotonic() - started:.0f} s",
              file=sys.stderr)
    return folder


def measure(dataset: Path, classifiers: dict[str, Classifier]) -> dict[str, dict[str, Any]]:
    """Metrics of each classifier on ``dataset`` (pages read once, through the OCR cache)."""
    started = time.monotonic()
    samples, documents = read_dataset(dataset)
    print(f"read {len(samples)} documents in {time.monotonic() - started:.0f} s",
          file=sys.stderr)
    return {name: compute_metrics(predict_documents(c, samples, documents))
            for name, c in classifiers.items()}


def table(results: dict[str, dict[str, Any]]) -> str:
    """Markdown: one row per headline metric, the goal, then each classifier's value."""
    names = list(results)
    lines = [f"| metric | goal | {' | '.join(names)} |", "|---|---|" + "---|" * len(names)]
    for key, title, kind in HEADLINE:
        cells = []
        for name in names:
            value = results[name].get(key)
            met = goal_met(key, value)
            cells.append(fmt(value, kind) + ("" if met is None else " ✓" if met else " ✗"))
        lines.append(f"| {title} | {goal_text(key)} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1001,
                        help="held-out seed; the default model was trained with seed 1")
    parser.add_argument("--dir", type=Path, default=None,
                        help="held-out set folder (default var/bench/heldout-s<seed>-k<K>)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    args = parser.parse_args()
    folder = args.dir or ROOT / "var" / "bench" / f"heldout-s{args.seed}-k{args.per_class}"
    catalogue = load_catalogue()
    model = load_model(args.model, catalogue)
    results = measure(held_out_set(folder, args.per_class, args.seed),
                      {f"model ({model.version})": model,
                       "rules only": RuleClassifier(catalogue)})
    print(f"held-out set {folder}: seed {args.seed}, {args.per_class} per class, fonts "
          f"{', '.join(f.stem for f in HELD_OUT_FONTS)}; threshold {model.threshold:.2f}")
    print(table(results))


if __name__ == "__main__":
    main()
