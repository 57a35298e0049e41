"""Bring a database to this code's schema (Alembic, run from code) and check that it is there.

Workers call :func:`upgrade_database` at start; it is idempotent, and workers that start
together migrate one after another instead of racing: PostgreSQL holds an advisory lock, SQLite
its write lock (taken at BEGIN, waited for up to the busy timeout), for the whole
(transactional) migration. The ``alembic`` command line migrates inside the same lock
(:func:`migration_transaction`), so it can run beside starting workers too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from ingest.db.engine import make_engine, shown_url, write_lock_first
from ingest.db.errors import DatabaseUnavailable, SchemaNotCurrent

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key held while migrating: "ASPA" in ASCII.
_MIGRATION_LOCK = 0x41535041


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for our migrations; with ``connection``, env.py runs on it."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration this code ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS}")
    return head


def upgrade_database(target: str | Engine) -> str:
    """Migrate the database at ``target`` (URL or engine) to the head revision; return it."""
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with migration_transaction(engine) as connection:
            command.upgrade(alembic_config(connection), "head")
    except OperationalError as exc:
        raise _unavailable(engine, exc) from exc
    finally:
        if isinstance(target, str):
            engine.dispose()
    return head_revision()


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction holding the migration lock, so concurrent migrations wait for each other.

    On SQLite a deferred transaction that reads (the revision) and then writes fails at once
    with "database is locked" when another one wrote in between; BEGIN IMMEDIATE instead waits
    for the write lock.
    """
    with write_lock_first(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                               {"key": _MIGRATION_LOCK})
        yield connection


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for an empty database."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise _unavailable(engine, exc) from exc


def require_current(engine: Engine) -> None:
    """Raise :class:`SchemaNotCurrent` unless the database is at this code's head revision."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise SchemaNotCurrent(
            f"database {shown_url(engine.url)} is at schema revision {current or '(empty)'}, "
            f"this code needs {head}: run `aspa-ingest db upgrade`")


def _unavailable(engine: Engine, exc: OperationalError) -> DatabaseUnavailable:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
    return DatabaseUnavailable(
        f"cannot use database {shown_url(engine.url)}: {detail}. Check db_url "
        "(ASPA_INGEST_DB_URL) and that the server is running")
