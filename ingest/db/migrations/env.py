"""Alembic environment: runs on the connection ``upgrade_database`` hands over, or, from the
``alembic -c ingest/db/alembic.ini`` command line, on ``-x db_url=…`` or the ingest's db_url.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from ingest.db.engine import make_engine
from ingest.db.migrate import migration_transaction
from ingest.db.models import Base


def _run(connection: Connection) -> None:
    # Batch mode lets later migrations alter tables on SQLite, which has no ALTER COLUMN.
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def _url_from_command_line() -> str:
    url = context.get_x_argument(as_dictionary=True).get("db_url")
    if url:
        return url
    from ingest.settings import load_ingest_config

    return load_ingest_config().db_url


def main() -> None:
    """Run the migrations Alembic asked for; offline (SQL script) mode is not supported."""
    if context.is_offline_mode():
        raise SystemExit("offline migrations are not supported: run against a database")
    handed_over = context.config.attributes.get("connection")
    if handed_over is not None:
        _run(handed_over)
        return
    if context.config.config_file_name:
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)
    engine = make_engine(_url_from_command_line())
    try:
        with migration_transaction(engine) as connection:
            _run(connection)
    finally:
        engine.dispose()


main()
