"""The redrive policy's memory: how often handling one stored object failed unexpectedly.

An unexpected error (a bug, a store refusing one object for good) is retried, but not for ever:
the failures of one object version are counted here, in the database, so the count survives
restarts and is shared by every worker; an upsert increments it, so racing workers count each
failure once. The worker quarantines the object as ``internal_error`` at the limit.
"""

from __future__ import annotations

from sqlalchemy import Engine

from aspa_contract.hetu import redact
from ingest.db.models import FailedAttempt
from ingest.db.register import Clock, insert_for, utc_now

# Failures of one object version before it is quarantined (the agent's policy too).
MAX_ATTEMPTS = 3
MAX_ERROR_CHARS = 2000


def count_failure(engine: Engine, *, fingerprint: str, object_key: str, error: str,
                  clock: Clock = utc_now) -> int:
    """Record one more failure of the object version ``fingerprint``; return how many there
    have been. ``object_key`` is the key as shown (public names); ``error`` is redacted here."""
    now = clock()
    text = redact(error)[:MAX_ERROR_CHARS]
    table = FailedAttempt.__table__.c
    with engine.begin() as connection:
        statement = (
            insert_for(connection, FailedAttempt)
            .values(fingerprint=fingerprint, object_key=object_key, failures=1, last_error=text,
                    first_failed_at=now, last_failed_at=now)
            .on_conflict_do_update(index_elements=["fingerprint"],
                                   set_={"failures": table.failures + 1, "last_error": text,
                                         "last_failed_at": now})
            .returning(table.failures)
        )
        return int(connection.execute(statement).scalar_one())
