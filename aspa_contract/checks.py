"""The result of one ``doctor`` check and how both sides print a list of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table


@dataclass(frozen=True)
class Check:
    """One thing ``doctor`` looked at: empty ``problems`` = fine; each problem says the fix."""

    name: str
    problems: list[str]
    required: bool = True  # a failing optional check warns but does not fail doctor

    @property
    def ok(self) -> bool:
        return not self.problems


def print_checks(checks: Sequence[Check]) -> int:
    """Print the checks as a table; return how many required ones failed."""
    table = Table("check", "result")
    failed = 0
    for check in checks:
        if check.ok:
            table.add_row(check.name, "[green]ok[/]")
            continue
        failed += int(check.required)
        label = "[red]FAIL[/]" if check.required else "[yellow]warn[/]"
        table.add_row(check.name, label + " " + "; ".join(check.problems))
    Console().print(table)
    return failed
