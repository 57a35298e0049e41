"""``aspa-classifiers``: the admin's tools for the form catalogue and the classifiers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Tune the form classifiers: corpus, train, evaluate, compare, explain.")

ModelOpt = Annotated[Path | None, typer.Option("--model", help="Model file; default: shipped.")]


@app.command()
def corpus(
    out: Annotated[Path, typer.Argument(help="Folder to write the labelled scans to.")],
    per_class: Annotated[int, typer.Option("--per-class", min=1)] = 10,
    seed: Annotated[int, typer.Option("--seed")] = 1,
    dpi: Annotated[int, typer.Option("--dpi", min=150, max=600)] = 300,
    held_out_fonts: Annotated[bool, typer.Option(
        "--held-out-fonts", help="Use fonts never used for training (for held-out sets).")] = False,
) -> None:
    """Render labelled synthetic scans of every catalogue form, attachment and non-form."""
    from classifiers.corpus import corpus_command

    raise typer.Exit(corpus_command(out, per_class=per_class, seed=seed, dpi=dpi,
                                    held_out_fonts=held_out_fonts))


@app.command()
def train(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder with labels.csv.")],
    out: Annotated[Path, typer.Option("--out", help="Model file to write.")],
    threshold: Annotated[float | None, typer.Option(
        "--threshold", min=0.0, max=1.0,
        help="Abstain below this probability (default: DEFAULT_THRESHOLD in "
        "classifiers/model.py); pick one with `threshold`.")] = None,
) -> None:
    """Train a calibrated model on a dataset and write it atomically."""
    from classifiers.training import train_command

    raise typer.Exit(train_command(dataset, out, threshold=threshold))


@app.command()
def evaluate(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder with labels.csv.")],
    model: ModelOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    report: Annotated[Path | None, typer.Option("--report", help="Report folder.")] = None,
) -> None:
    """Accuracy, coverage, errors and hetu recall of a model on a dataset."""
    from classifiers.evaluate import evaluate_command

    raise typer.Exit(evaluate_command(dataset, model, as_json=as_json, report_dir=report))


@app.command()
def compare(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder with labels.csv.")],
    model: Annotated[list[Path], typer.Option("--model", help="Two or more model files.")],
) -> None:
    """The same dataset through several models, side by side."""
    from classifiers.evaluate import compare_command

    raise typer.Exit(compare_command(dataset, model))


@app.command()
def explain(
    files: Annotated[list[Path], typer.Argument(help="Page images of ONE document, in order.")],
    model: ModelOpt = None,
) -> None:
    """The evidence behind one answer."""
    from classifiers.explain import explain_command

    raise typer.Exit(explain_command(files, model))


@app.command()
def threshold(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder with labels.csv.")],
    model: ModelOpt = None,
) -> None:
    """Coverage against error for each abstain threshold, to pick one."""
    from classifiers.evaluate import threshold_command

    raise typer.Exit(threshold_command(dataset, model))


def main() -> None:
    """Console entry point: known errors print one line and exit non-zero, no traceback."""
    from classifiers.errors import AdminError

    try:
        app()
    except AdminError as exc:
        print(f"aspa-classifiers: {exc}", file=sys.stderr)
        sys.exit(2)
