"""What the clerk sees in the terminal: logs, one line per finished job, tables."""

from __future__ import annotations

import logging
from typing import Any

from rich.console import Console
from rich.table import Table

from aspa_contract.logs import setup_logging
from aspa_contract.names import public_name
from scanner_agent.pipeline import Outcome, summary_line

console = Console(stderr=True)


def setup(json_logs: bool, quiet: bool = False) -> None:
    setup_logging(json_logs, logging.WARNING if quiet else logging.INFO)


def outcome(result: Outcome) -> None:
    """One line per job: where its bundle went, or why it is in quarantine."""
    if result.bundle is not None:
        console.print(f"[green]✔[/] {public_name(result.name)} → bundle {result.bundle.bundle_id}: "
                      f"{summary_line(result.bundle)}", highlight=False)
    elif result.rejected is not None:
        console.print(f"[red]✘[/] {public_name(result.name)} → quarantine: "
                      f"{result.rejected.reason_text().splitlines()[0]}", highlight=False)


def status_table(facts: dict[str, Any]) -> None:
    table = Table("area", "items", "oldest")
    for area in ("inbox", "outbox", "quarantine"):
        age = facts[area]["oldest_age_s"]
        table.add_row(area, str(facts[area]["count"]), "-" if age is None else _age(age))
    Console().print(table)
    if facts["delivery"]:
        bundles = Table("bundle", "state", "attempts", "age", "case")
        for entry in facts["delivery"]:
            bundles.add_row(entry["bundle_id"], entry["state"], str(entry["attempts"]),
                            _age(entry["age_s"]), entry.get("case_ref") or "")
        Console().print(bundles)


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
