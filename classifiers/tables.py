"""Metrics as text: the headline rows every view shows, and the terminal tables of evaluate,
compare and threshold."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aspa_contract.hetu import redact
from classifiers.metrics import GOALS, Prediction, goal_met, meets_goals

# (key, title, kind): the rows of the summary, in the order a reader wants them.
HEADLINE: tuple[tuple[str, str, str], ...] = (
    ("documents", "documents", "count"),
    ("in_catalogue", "in-catalogue documents", "count"),
    ("out_of_catalogue", "out-of-catalogue documents", "count"),
    ("accuracy", "accuracy (answered in-catalogue)", "rate"),
    ("coverage", "coverage (in-catalogue answered)", "rate"),
    ("confidently_wrong_rate", "confidently wrong", "rate"),
    ("unknown_as_form_rate", "out-of-catalogue given a form", "rate"),
    ("hetu_recall", "hetu recall", "rate"),
    ("hetu_precision", "hetu precision", "rate"),
    ("classify_ms_mean", "classification ms/document (mean)", "ms"),
    ("classify_ms_p95", "classification ms/document (p95)", "ms"),
)
_MAX_DISAGREEMENTS = 200


def fmt(value: Any, kind: str) -> str:
    """``0.9951`` as ``99.51%`` for a rate, ``12.3`` for ms, counts as they are; null as n/a."""
    if value is None:
        return "n/a"
    if kind == "rate":
        return f"{100 * value:.2f}%"
    if kind == "ms":
        return f"{value:.1f}"
    return str(value)


def goal_text(key: str) -> str:
    """``≥ 99.50%`` for a goal of metric ``key``, empty when it has none."""
    if key not in GOALS:
        return ""
    op, target = GOALS[key]
    kind = "ms" if key.startswith("classify_ms") else "rate"
    sign = "=" if (op, target) == (">=", 1.0) else ("≥" if op == ">=" else "≤")
    return f"{sign} {fmt(target, kind)}"


def verdict(key: str, value: Any) -> str:
    """``met`` / ``MISSED`` / empty (no goal, or not measurable on this dataset)."""
    met = goal_met(key, value)
    return "" if met is None else ("met" if met else "MISSED")


def summary_text(result: dict[str, Any]) -> str:
    """The evaluate command's terminal summary: headline metrics against the goals."""
    lines = [f"classifier {result['classifier']} on {result['dataset']}"]
    for key, title, kind in HEADLINE:
        lines.append(f"  {title:<36} {fmt(result.get(key), kind):>9}  "
                     f"{goal_text(key):<10} {verdict(key, result.get(key))}".rstrip())
    return "\n".join(lines)


def compare_text(names: Sequence[str], results: Sequence[dict[str, Any]]) -> str:
    """One column per model, then each model's change against the first (Δ in points)."""
    deltas = [f"Δ {n}" for n in names[1:]]
    header = f"{'metric':<36}" + "".join(f"{n:>14}" for n in [*names, *deltas])
    lines = [header, "-" * len(header)]
    for key, title, kind in HEADLINE:
        values = [r.get(key) for r in results]
        cells = [fmt(v, kind) for v in values]
        cells += [_delta(values[0], v, kind) for v in values[1:]]
        lines.append(f"{title:<36}" + "".join(f"{c:>14}" for c in cells))
    return "\n".join(lines)


def _delta(base: Any, other: Any, kind: str) -> str:
    if base is None or other is None:
        return "n/a"
    if kind == "rate":
        return f"{100 * (other - base):+.2f} pp"
    return f"{other - base:+.1f}" if kind == "ms" else f"{other - base:+d}"


def disagreements_text(names: Sequence[str], runs: Sequence[Sequence[Prediction]]) -> str:
    """The documents the models answer differently: row, file, truth and every answer."""
    rows = [docs for docs in zip(*runs, strict=True)
            if len({p.predicted for p in docs}) > 1]
    lines = [f"{len(rows)} documents answered differently"]
    for docs in rows[:_MAX_DISAGREEMENTS]:
        first = docs[0]
        answers = "  ".join(f"{n}: {p.predicted} ({p.confidence:.2f}){_mark(p)}"
                            for n, p in zip(names, docs, strict=True))
        lines.append(f"  row {first.row:<5} {_file(first):<40} truth {first.label:<22} {answers}")
    if len(rows) > _MAX_DISAGREEMENTS:
        lines.append(f"  … and {len(rows) - _MAX_DISAGREEMENTS} more")
    return "\n".join(lines)


def _mark(p: Prediction) -> str:
    return " ✓" if p.correct else (" ✗" if p.answered else "")


def _file(p: Prediction) -> str:
    return redact(p.files[0].name if p.files else "?") + (" …" if len(p.files) > 1 else "")


def threshold_text(rows: Sequence[dict[str, Any]], current: float | None) -> str:
    """The coverage/error table; ◀ marks the smallest threshold that meets every goal."""
    best = next((r["threshold"] for r in rows if meets_goals(r)), None)
    cols = ("coverage", "accuracy", "confidently_wrong_rate", "unknown_as_form_rate")
    titles = ("coverage", "accuracy", "confidently wrong", "unknown as form")
    lines = [f"{'threshold':>9} {'coverage':>9} {'accuracy':>9} {'conf.wrong':>10} "
             f"{'unk.→form':>9}"]
    for row in rows:
        cells = " ".join(f"{fmt(row[c], 'rate'):>{w}}" for c, w in zip(cols, (9, 9, 10, 9),
                                                                         strict=True))
        marks = ("  ◀ smallest meeting the goals" if row["threshold"] == best else "") + (
            "  (model's current threshold)" if current is not None
            and abs(row["threshold"] - current) < 1e-9 else "")
        lines.append(f"{row['threshold']:>9.2f} {cells}{marks}")
    goals = ", ".join(f"{t} {goal_text(k)}" for k, t in zip(cols, titles, strict=True))
    lines.append(f"goals: {goals}")
    lines.append(f"smallest threshold meeting every goal: {best:.2f}" if best is not None
                 else "no threshold meets every goal on this dataset")
    if rows and rows[0]["unknown_as_form_rate"] is None:
        lines.append("note: no out-of-catalogue documents here, so unknown-as-form is untested")
    return "\n".join(lines)
