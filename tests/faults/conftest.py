"""Fault tests: a seeded random generator (seed printed; rerun with it) and the long switch.

    pytest tests/faults                                # the short version (CI)
    pytest tests/faults --long-faults                  # >= 200 kills (tens of minutes)
    pytest tests/faults --fault-seed 1234              # replay a run's random choices
    ASPA_LONG_FAULTS=1 ASPA_FAULT_SEED=1234 pytest tests/faults   # the same by environment
"""

from __future__ import annotations

import os
import random
import secrets
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
LONG_TIMEOUT_S = 4 * 3600  # only a guard against a hung run


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faults", "fault injection (tests/faults)")
    group.addoption("--long-faults", action="store_true", default=False,
                    help="run the long fault versions (>= 200 kills); also ASPA_LONG_FAULTS=1")
    group.addoption("--fault-seed", type=int, default=None,
                    help="seed of the fault tests' random choices; also ASPA_FAULT_SEED")


def is_long(config: pytest.Config) -> bool:
    """True when the long versions were asked for (option or environment)."""
    return bool(config.getoption("--long-faults", default=False)
                or os.environ.get("ASPA_LONG_FAULTS", "") not in ("", "0"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long versions run for tens of minutes: lift the suite's hang guard for them."""
    if is_long(config):
        for item in items:
            if item.path.is_relative_to(HERE):
                item.add_marker(pytest.mark.timeout(LONG_TIMEOUT_S))


@pytest.fixture
def long_faults(request: pytest.FixtureRequest) -> bool:
    """True when the long versions were asked for."""
    return is_long(request.config)


@pytest.fixture
def fault_seed(request: pytest.FixtureRequest) -> int:
    """The seed of this test's random choices: given, or new and printed so it can be rerun."""
    given = (request.config.getoption("--fault-seed", default=None)
             or os.environ.get("ASPA_FAULT_SEED"))
    seed = int(given) if given else secrets.randbelow(2**31)
    print(f"\n{request.node.nodeid}: fault seed {seed} "
          f"(rerun: pytest '{request.node.nodeid}' --fault-seed {seed})")
    return seed


@pytest.fixture
def rng(fault_seed: int) -> random.Random:
    """A random generator seeded with :func:`fault_seed`."""
    return random.Random(fault_seed)
