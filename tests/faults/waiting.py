"""Waiting in fault tests: poll until something is true, never measure how long it took."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

# Only a guard against a hung test; a loaded 2-core machine may need most of it.
DEADLINE_S = 600.0


def wait_until(what: str, condition: Callable[[], bool], *,
               trouble: Callable[[], str | None] = lambda: None,
               context: Callable[[], str] = lambda: "",
               deadline_s: float = DEADLINE_S) -> None:
    """Poll ``condition`` until it is true. Fail at once when ``trouble`` returns a message
    (a process or thread died), or naming ``what`` after ``deadline_s``; ``context`` adds
    what helps to read the failure (log tails)."""
    deadline = time.monotonic() + deadline_s
    while not condition():
        problem = trouble()
        if problem is not None:
            pytest.fail(f"{problem} while waiting for: {what}\n{context()}")
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}\n{context()}")
        time.sleep(0.2)
