"""The case database of the ingest: register cases exactly once, record rejects, read them back.

    engine = make_engine(config.db_url)
    upgrade_database(engine)                       # at worker start; idempotent
    registration = register_case(engine, verified, object_key=key, received_at=last_modified)
"""

from ingest.db.case_ref import format_case_ref, parse_case_ref
from ingest.db.engine import make_engine, shown_url
from ingest.db.errors import (
    CaseNotFound,
    DatabaseError,
    DatabaseUnavailable,
    MalformedCaseRef,
    SchemaNotCurrent,
)
from ingest.db.migrate import require_current, upgrade_database
from ingest.db.queries import CaseView, ExceptionView, list_cases, list_exceptions, show_case
from ingest.db.register import Registration, arrival_date, record_exception, register_case

__all__ = [
    "CaseNotFound",
    "CaseView",
    "DatabaseError",
    "DatabaseUnavailable",
    "ExceptionView",
    "MalformedCaseRef",
    "Registration",
    "SchemaNotCurrent",
    "arrival_date",
    "format_case_ref",
    "list_cases",
    "list_exceptions",
    "make_engine",
    "parse_case_ref",
    "record_exception",
    "register_case",
    "require_current",
    "show_case",
    "shown_url",
    "upgrade_database",
]
