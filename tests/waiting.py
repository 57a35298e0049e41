"""Waiting in tests for something another process or thread does, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

DEADLINE_S = 60.0  # only a guard against a hung test; nothing asserts how fast it happens


def wait_until(what: str, condition: Callable[[], bool], timeout_s: float = DEADLINE_S, *,
               trouble: Callable[[], str | None] = lambda: None,
               context: Callable[[], str] = lambda: "") -> None:
    """Poll ``condition`` until true. Fail at once when ``trouble`` returns a message (a process
    or thread died), or naming ``what`` after ``timeout_s``; ``context`` adds what helps to read
    the failure (log tails)."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        problem = trouble()
        if problem is not None:
            pytest.fail(f"{problem} while waiting for: {what}\n{context()}")
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}\n{context()}")
        time.sleep(0.2)
