"""`aspa-classifiers evaluate / compare / threshold` as an admin runs them: the real CLI, real
tesseract, the rule classifier, on a three-document dataset (one page each)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from classifiers.catalogue import load_catalogue
from classifiers.dataset import Sample, write_labels
from classifiers.synth import render_attachment, render_form, render_letter

pytestmark = pytest.mark.integration

CLI = Path(sys.executable).parent / "aspa-classifiers"
HETU = "010594Y9032"  # a test code (individual number 903)


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=240, check=False)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """TO 1 (Finnish, with a hetu), a Swedish pay slip, and a letter that names TO 1."""
    folder = tmp_path_factory.mktemp("dataset")
    to1 = next(f for f in load_catalogue().forms if f.code == "TO 1")
    documents = [
        ("to1.png", render_form(to1, "fi", seed=3, pages=1, hetu=HETU)),
        ("payslip.png", render_attachment("attachment/pay_slip", "sv", seed=3)),
        ("letter.png", render_letter("fi", seed=3, mention_code="TO 1")),
    ]
    samples = []
    for row, (name, rendered) in enumerate(documents, start=1):
        rendered.pages[0].save(folder / name)
        samples.append(Sample((folder / name,), rendered.label, rendered.language,
                              rendered.hetu, row))
    write_labels(folder, samples)
    return folder


@pytest.fixture(scope="module")
def evaluated(dataset: Path, tmp_path_factory: pytest.TempPathFactory
              ) -> tuple[dict[str, Any], Path]:
    """One `evaluate --json --report` run (it fills the OCR cache the other tests reuse)."""
    report = tmp_path_factory.mktemp("out") / "report"
    done = run_cli("evaluate", dataset, "--model", "rules", "--json", "--report", report)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), report


def test_evaluate_json_is_one_object_with_the_metrics_of_the_dataset(
    evaluated: tuple[dict[str, Any], Path],
) -> None:
    """GIVEN a form, an attachment and a letter naming a form code, read by tesseract
    WHEN `evaluate --model rules --json` runs THEN stdout is one JSON object whose counts match
    the dataset and whose rates say every document was judged right."""
    result, _ = evaluated
    assert result["classifier"].startswith("rules/")
    assert (result["documents"], result["in_catalogue"], result["out_of_catalogue"]) == (3, 2, 1)
    assert (result["accuracy"], result["coverage"]) == (1.0, 1.0)
    assert (result["confidently_wrong_rate"], result["unknown_as_form_rate"]) == (0.0, 0.0)
    assert (result["hetu_recall"], result["hetu_precision"]) == (1.0, 1.0)
    assert set(result["per_class"]) == {"TO 1", "attachment/pay_slip", "unknown"}
    assert result["per_class"]["TO 1"] == {"precision": 1.0, "recall": 1.0, "support": 1,
                                           "predicted": 1}


def test_evaluate_with_report_writes_the_summaries_and_confusion_matrix(
    evaluated: tuple[dict[str, Any], Path],
) -> None:
    """GIVEN `evaluate --json --report DIR` WHEN it has run THEN DIR holds summary.md,
    summary.html and a confusion.png, and the Markdown shows the headline numbers."""
    _, report = evaluated
    assert {p.name for p in report.iterdir()} >= {"summary.md", "summary.html",
                                                 "confusion.png", "mistakes"}
    md = (report / "summary.md").read_text(encoding="utf-8")
    assert "| documents | 3 |" in md
    assert "| accuracy (answered in-catalogue) | 100.00% | ≥ 99.50% | met |" in md


def test_evaluate_without_json_writes_a_dated_report_in_the_dataset(
    dataset: Path, evaluated: tuple[dict[str, Any], Path],
) -> None:
    """GIVEN the dataset already read once WHEN `evaluate` runs without --json or --report
    THEN it prints the summary and where it wrote DATASET/report-<time>/ with the summaries."""
    done = run_cli("evaluate", dataset, "--model", "rules")
    assert done.returncode == 0, done.stderr
    reports = sorted(dataset.glob("report-*"))
    assert len(reports) == 1
    assert f"report: {reports[0] / 'summary.html'}" in done.stdout
    assert "accuracy (answered in-catalogue)" in done.stdout
    assert (reports[0] / "summary.md").is_file() and (reports[0] / "confusion.png").is_file()


def test_compare_puts_the_models_side_by_side(
    dataset: Path, evaluated: tuple[dict[str, Any], Path],
) -> None:
    """GIVEN the same classifier twice WHEN `compare` runs THEN the table has a column per model
    and a delta of zero, and no document is answered differently."""
    done = run_cli("compare", dataset, "--model", "rules", "--model", "rules")
    assert done.returncode == 0, done.stderr
    accuracy = next(line for line in done.stdout.splitlines() if line.startswith("accuracy"))
    assert accuracy.split()[-4:] == ["100.00%", "100.00%", "+0.00", "pp"]
    assert "0 documents answered differently" in done.stdout


def test_threshold_prints_one_row_per_threshold(
    dataset: Path, evaluated: tuple[dict[str, Any], Path],
) -> None:
    """GIVEN the rule classifier WHEN `threshold` runs THEN it prints rows 0.00 … 0.99 and
    names the smallest threshold meeting every goal (0.00: all three are right)."""
    done = run_cli("threshold", dataset, "--model", "rules")
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.strip()[:4] in ("0.00", "0.99")]
    assert len(rows) == 2
    assert "smallest threshold meeting every goal: 0.00" in done.stdout


def test_a_missing_model_file_is_refused_with_the_fix(dataset: Path) -> None:
    """GIVEN --model naming no file WHEN evaluate runs THEN it exits 2 with one line saying
    what to give instead, and nothing on stdout."""
    done = run_cli("evaluate", dataset, "--model", dataset / "nope.joblib", "--json")
    assert done.returncode == 2
    assert done.stdout == ""
    assert "does not exist" in done.stderr and "aspa-classifiers train" in done.stderr
