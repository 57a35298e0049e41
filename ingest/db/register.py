"""Register stage: a verified bundle becomes a pending case, exactly once per bundle id.

"Exactly once" is the database's job, not ours: the case row is inserted with
``ON CONFLICT (bundle_id) DO NOTHING`` and, when nothing was inserted, the row that won is read.
Nothing here reads before it writes, so any number of workers can race on the same bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from aspa_contract.hetu import redact
from ingest.db.case_ref import format_case_ref
from ingest.db.models import BundleException, Case, CaseRefCounter, CaseStatus, Document
from ingest.verify import VerifiedBundle

HELSINKI = ZoneInfo("Europe/Helsinki")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current instant, tz-aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Registration:
    """What the receipt tells the agent. ``created`` is False when the bundle was already in."""

    case_ref: str
    bundle_id: str
    received_at: datetime
    arrival_date: date
    created: bool


def arrival_date(received_at: datetime) -> date:
    """The legal arrival date: the calendar day in Finland at the instant the store received it."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be tz-aware (the object store's UTC clock)")
    return received_at.astimezone(HELSINKI).date()


def register_case(engine: Engine, verified: VerifiedBundle, *, object_key: str,
                  received_at: datetime, clock: Clock = utc_now) -> Registration:
    """Make ``verified`` a pending case, or return the case an earlier delivery made.

    ``received_at`` is the object store's clock (the object's LastModified or the event time)
    and must be tz-aware. Safe to call any number of times, from any number of processes.
    """
    arrival = arrival_date(received_at)
    with engine.connect() as connection:
        sequence = _next_sequence(connection, arrival)
        row = _case_row(verified, object_key, received_at, arrival, clock())
        row["case_ref"] = format_case_ref(arrival, sequence)
        case_id = connection.execute(
            insert_for(connection, Case).values(row)
            .on_conflict_do_nothing(index_elements=["bundle_id"])
            .returning(Case.id)
        ).scalar_one_or_none()
        if case_id is None:
            # Another delivery won; rolling back also returns the number we took.
            connection.rollback()
            return _existing(connection, verified.bundle_id)
        connection.execute(insert_for(connection, Document), _document_rows(verified, case_id))
        connection.commit()
    return Registration(row["case_ref"], verified.bundle_id, row["received_at"], arrival, True)


def record_exception(engine: Engine, *, object_key: str, bundle_id: str | None, code: str,
                     reason: str, quarantine_key: str | None, clock: Clock = utc_now) -> bool:
    """Record that the bundle at ``object_key`` was rejected for ``code``; True if new.

    Once per ``(quarantine_key, code)``: a redelivered copy of one bad object does not pile up
    records, while each other object (another upload at the same key too) gets its own, as its
    quarantine copy has its own key. ``object_key`` and ``quarantine_key`` come as shown
    (:func:`ingest.quarantine.shown_key`): never a raw name.
    """
    row = {"object_key": object_key, "bundle_id": bundle_id, "code": str(code),
           "reason": redact(reason), "detected_at": clock(), "quarantine_key": quarantine_key}
    with engine.begin() as connection:
        inserted = connection.execute(
            insert_for(connection, BundleException).values(row)
            .on_conflict_do_nothing(index_elements=["quarantine_key", "code"])
            .returning(BundleException.id)
        ).scalar_one_or_none()
    return inserted is not None


def _next_sequence(connection: Connection, arrival: date) -> int:
    # The upsert locks the day's counter row until commit, so one day's numbers are handed out
    # one registration at a time: short transactions, and no two cases can get the same number.
    counter = CaseRefCounter.__table__.c
    statement = (
        insert_for(connection, CaseRefCounter)
        .values(arrival_date=arrival, last_sequence=1)
        .on_conflict_do_update(index_elements=["arrival_date"],
                               set_={"last_sequence": counter.last_sequence + 1})
        .returning(counter.last_sequence)
    )
    return int(connection.execute(statement).scalar_one())


def _existing(connection: Connection, bundle_id: str) -> Registration:
    case = connection.execute(
        select(Case.case_ref, Case.received_at, Case.arrival_date)
        .where(Case.bundle_id == bundle_id)
    ).one()
    connection.rollback()
    return Registration(case.case_ref, bundle_id, case.received_at, case.arrival_date, False)


def _case_row(verified: VerifiedBundle, object_key: str, received_at: datetime, arrival: date,
              registered_at: datetime) -> dict[str, Any]:
    manifest = verified.manifest
    return {
        "bundle_id": verified.bundle_id,
        "point_id": verified.point_id,
        "clerk_id": manifest["clerk_id"],
        "hetu": verified.hetu,
        "status": CaseStatus.PENDING.value,
        "handed_in_at": _instant(manifest["handed_in_at"]),
        "scanned_at": _instant(manifest["scanned_at"]),
        "received_at": received_at.astimezone(UTC),
        "arrival_date": arrival,
        "registered_at": registered_at,
        "object_key": object_key,
        "manifest": manifest,
    }


def _document_rows(verified: VerifiedBundle, case_id: int) -> list[dict[str, Any]]:
    return [
        {"case_id": case_id, "position": position, "file": doc.file, "sha256": doc.sha256,
         "pages": doc.pages, "form_code": doc.form_code, "form_variant": doc.form_variant,
         "kind": doc.kind, "language": doc.language, "confidence": doc.confidence,
         "classified_by": doc.classified_by}
        for position, doc in enumerate(verified.documents, start=1)
    ]


def _instant(text: str) -> datetime:
    # The schema admits only "…Z" instants; fromisoformat reads the Z as UTC.
    return datetime.fromisoformat(text).astimezone(UTC)


def insert_for(connection: Connection, model: Any) -> Any:
    """``INSERT`` with ``ON CONFLICT`` for the connection's dialect (both speak it alike)."""
    name = connection.dialect.name
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"the case database runs on SQLite or PostgreSQL, not {name}")
