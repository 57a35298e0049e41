"""Errors of the case database, each with a message that says what to do.

    IngestError (ingest.errors)
    └── DatabaseError
        ├── DatabaseUnavailable   cannot connect or the server refused (exit 3)
        ├── SchemaNotCurrent      tables missing or older than this code (exit 3)
        ├── CaseNotFound          no case has that reference or bundle id (exit 1)
        └── MalformedCaseRef      not a case reference, or a wrong check digit: a typo (exit 1)
"""

from __future__ import annotations

from ingest.errors import IngestError


class DatabaseError(IngestError):
    """Base of the case database's deliberate errors."""


class DatabaseUnavailable(DatabaseError):
    """The database cannot be reached; the message names the (password-free) URL."""


class SchemaNotCurrent(DatabaseError):
    """The database is not migrated to this code's schema: run ``aspa-ingest db upgrade``."""


class CaseNotFound(DatabaseError):
    """No case has the reference or bundle id asked for."""


class MalformedCaseRef(DatabaseError, ValueError):
    """Text that is not a case reference, or one whose check digit is wrong (a typo)."""
