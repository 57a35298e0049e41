"""Shared fixtures. SANE reads its private test config from tests/sane (set before any init)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scanner_agent.config import AgentConfig, load_config

pytest_plugins = ["tests.s3server", "tests.postgres", "tests.exchange"]

TESTS = Path(__file__).resolve().parent
LEAK_GRACE_S = 5.0
# Before python-sane's init anywhere in this process or its children: SANE's own `test`
# backend only, A4-capable, and no slow probing of network backends.
os.environ["SANE_CONFIG_DIR"] = str(TESTS / "sane")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a (non-daemon) thread running: a watcher, uploader or worker
    thread that outlives its stop() would keep a real agent from shutting down."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + LEAK_GRACE_S
    while True:
        leaked = [t for t in threading.enumerate()
                  if t not in before and t.is_alive() and not t.daemon]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"threads left running: {[t.name for t in leaked]}"


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """An empty scan folder for watcher tests."""
    path = tmp_path / "inbox"
    path.mkdir()
    return path


@pytest.fixture
def agent_config(tmp_path: Path) -> AgentConfig:
    """An agent working under tmp_path/var with short quiet periods for quick tests."""
    return load_config(
        TESTS.parent / "config" / "agent.toml",
        paths__var_dir=tmp_path / "var",
        intake__quiet_s=0.3,
        intake__folder_quiet_s=1.0,
        intake__undecodable_grace_s=2.0,
    )
