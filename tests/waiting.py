"""Waiting in tests for something another process or thread does, with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

DEADLINE_S = 60.0  # only a guard against a hung test; nothing asserts how fast it happens


def wait_until(what: str, condition: Callable[[], bool], timeout_s: float = DEADLINE_S) -> None:
    """Poll ``condition`` until true; fail naming ``what`` if it never becomes true."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"never happened: {what}")
        time.sleep(0.2)
