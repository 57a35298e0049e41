"""Open the case database: one engine per process, SQLite or PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

# Statement parameters carry identity codes: keep them out of error messages and echo logs.
_COMMON: dict[str, Any] = {"hide_parameters": True}
_SQLITE_BEGIN = "aspa_sqlite_begin"  # execution option: the statement that opens a transaction
# Concurrent writers on SQLite wait this long for the write lock instead of failing at once.
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(url: str | URL) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created, WAL and foreign keys turned on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    # pre_ping: a worker outlives database restarts and idle-connection reaping.
    return create_engine(parsed, pool_pre_ping=True, **_COMMON)


def shown_url(url: str | URL) -> str:
    """``url`` safe for messages and logs: any password replaced by ``***``."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database
    in_memory = database in (None, "", ":memory:")
    if not in_memory:
        Path(str(database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **_COMMON)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling leaves DDL outside transactions; we BEGIN
        # ourselves (below), so migrations and every other transaction are atomic.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            # WAL: the backoffice CLI reads while the worker writes, without blocking it.
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get(_SQLITE_BEGIN, "BEGIN"))

    return engine


def write_lock_first(engine: Engine) -> Engine:
    """``engine`` whose transactions take SQLite's write lock at BEGIN (PostgreSQL: no change).

    A transaction that reads and then writes needs this on SQLite: begun deferred, it fails at
    once if another process commits between its read and its first write.
    """
    return engine.execution_options(**{_SQLITE_BEGIN: "BEGIN IMMEDIATE"})
