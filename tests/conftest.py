"""Shared fixtures. SANE reads its private test config from tests/sane (set before any init)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanner_agent.config import AgentConfig, load_config

pytest_plugins = ["tests.s3server", "tests.postgres", "tests.exchange"]

TESTS = Path(__file__).resolve().parent
# Before python-sane's init anywhere in this process or its children: SANE's own `test`
# backend only, A4-capable, and no slow probing of network backends.
os.environ["SANE_CONFIG_DIR"] = str(TESTS / "sane")
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


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
