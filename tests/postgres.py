"""PostgreSQL for tests: each test gets its own fresh database on the machine's server.

Register with ``pytest_plugins = ["tests.postgres"]``. The server is the local PostgreSQL 15
(trust auth); ``ASPA_TEST_PG_ADMIN_URL`` points elsewhere. If it is not running, the fixture
starts the Debian cluster once, and fails with a message saying what to do if that is not enough.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("ASPA_TEST_PG_ADMIN_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_START_WAIT_S = 20.0
_state: dict[str, str | None] = {}


def _dsn(url: str) -> str:
    """A libpq connection string for a SQLAlchemy URL."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _connects() -> str | None:
    """None when the admin database accepts a connection, else why not."""
    try:
        with psycopg.connect(_dsn(ADMIN_URL), connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip()


def _start_cluster() -> str:
    versions = sorted(p.name for p in Path("/etc/postgresql").glob("*")) if Path(
        "/etc/postgresql").is_dir() else []
    if not versions:
        return "no cluster under /etc/postgresql to start"
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    return f"`{' '.join(command)}` exited {done.returncode}: {done.stderr.strip()}"


def _ensure_server() -> None:
    """Connect, or start the local cluster once and wait for it; fail the test saying why."""
    if "error" not in _state:
        problem = _connects()
        if problem is not None:
            started = _start_cluster()
            deadline = time.monotonic() + _START_WAIT_S
            while problem is not None and time.monotonic() < deadline:
                time.sleep(0.5)
                problem = _connects()
            if problem is not None:
                problem = f"{problem}; tried to start it: {started}"
        _state["error"] = problem
    if _state["error"] is not None:
        pytest.fail(f"PostgreSQL at {make_url(ADMIN_URL).render_as_string()} is not usable: "
                    f"{_state['error']}. Start it (e.g. `pg_ctlcluster 15 main start`) or set "
                    "ASPA_TEST_PG_ADMIN_URL.", pytrace=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """SQLAlchemy URL of a new, empty database that is dropped after the test."""
    _ensure_server()
    with fresh_database(ADMIN_URL, "aspa_test") as url:
        yield url


@contextmanager
def fresh_database(admin_url: str, prefix: str) -> Iterator[str]:
    """A new empty database named ``{prefix}_<random>``, dropped on leaving; yields its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(_dsn(admin_url), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(_dsn(admin_url), autocommit=True) as admin:
            # FORCE: a test that failed may have left a pooled connection open.
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                          .format(sql.Identifier(name)))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each backend in turn: a SQLite file under tmp_path, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ingest.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
