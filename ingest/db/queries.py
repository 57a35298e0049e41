"""What the backoffice reads: case lists, one case (access logged), the exceptions list.

Views carry the identity code masked only: the full code never leaves the database through
here, so no view can end up in a log or a terminal scrollback with it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Select, select
from sqlalchemy.orm import Session, selectinload

from aspa_contract.hetu import mask
from aspa_contract.layout import BUNDLE_ID
from ingest.db.case_ref import normalise_case_ref
from ingest.db.engine import write_lock_first
from ingest.db.errors import CaseNotFound
from ingest.db.models import AccessLogEntry, BundleException, Case
from ingest.db.register import Clock, utc_now


@dataclass(frozen=True)
class DocumentView:
    """One document of a case as the backoffice lists it."""

    position: int
    file: str
    form_code: str | None
    form_variant: str | None
    kind: str
    pages: int
    language: str
    confidence: float
    classified_by: str


@dataclass(frozen=True)
class CaseView:
    """A case with its documents; ``hetu`` is masked (``010594Y***2``)."""

    case_ref: str
    bundle_id: str
    point_id: str
    clerk_id: str
    status: str
    hetu: str | None
    handed_in_at: datetime
    scanned_at: datetime
    received_at: datetime
    arrival_date: date
    registered_at: datetime
    documents: tuple[DocumentView, ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: instants as ``…Z`` strings, dates as ``YYYY-MM-DD``."""
        return _jsonable(asdict(self))


@dataclass(frozen=True)
class ExceptionView:
    """One rejected bundle and why."""

    detected_at: datetime
    code: str
    reason: str
    object_key: str
    bundle_id: str | None
    quarantine_key: str | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return _jsonable(asdict(self))


def list_cases(engine: Engine, *, point_id: str | None = None, limit: int = 50) -> list[CaseView]:
    """The newest ``limit`` cases by arrival, optionally of one service point."""
    query = _cases().order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)
    if point_id is not None:
        query = query.where(Case.point_id == point_id)
    with Session(engine) as session:
        return [_case_view(case) for case in session.scalars(query)]


def show_case(engine: Engine, ref_or_bundle_id: str, *, viewer: str, channel: str,
              clock: Clock = utc_now) -> CaseView:
    """The case with this reference or bundle id; records that ``viewer`` looked at it.

    The view and its access-log row commit together: no case is shown without a trace
    (tiedonhallintalaki 906/2019 §17). Raises :class:`CaseNotFound`, or
    :class:`MalformedCaseRef` for a mistyped reference.
    """
    with Session(write_lock_first(engine)) as session, session.begin():
        case = session.scalars(_cases().where(_matches(ref_or_bundle_id))).one_or_none()
        if case is None:
            raise CaseNotFound(f"no case {ref_or_bundle_id.strip()!r}")
        session.add(AccessLogEntry(case_id=case.id, viewer=viewer, action="view",
                                   channel=channel, accessed_at=clock()))
        return _case_view(case)


def access_log(engine: Engine, case_ref: str) -> list[tuple[str, str, str, datetime]]:
    """``(viewer, action, channel, accessed_at)`` for every look at ``case_ref``, oldest first."""
    query = (select(AccessLogEntry.viewer, AccessLogEntry.action, AccessLogEntry.channel,
                    AccessLogEntry.accessed_at)
             .join(Case, Case.id == AccessLogEntry.case_id)
             .where(Case.case_ref == case_ref)
             .order_by(AccessLogEntry.id))
    with engine.connect() as connection:
        return [(r.viewer, r.action, r.channel, r.accessed_at) for r in connection.execute(query)]


def list_exceptions(engine: Engine, *, limit: int = 100) -> list[ExceptionView]:
    """The newest ``limit`` rejected bundles."""
    query = (select(BundleException)
             .order_by(BundleException.detected_at.desc(), BundleException.id.desc())
             .limit(limit))
    with Session(engine) as session:
        return [ExceptionView(e.detected_at, e.code, e.reason, e.object_key, e.bundle_id,
                              e.quarantine_key) for e in session.scalars(query)]


def _cases() -> Select[Case]:
    return select(Case).options(selectinload(Case.documents))


def _matches(ref_or_bundle_id: str) -> Any:
    text = ref_or_bundle_id.strip().upper()
    if BUNDLE_ID.fullmatch(text):
        return Case.bundle_id == text
    return Case.case_ref == normalise_case_ref(text)


def _case_view(case: Case) -> CaseView:
    documents = tuple(
        DocumentView(d.position, d.file, d.form_code, d.form_variant, d.kind, d.pages,
                     d.language, d.confidence, d.classified_by)
        for d in case.documents)
    return CaseView(case.case_ref, case.bundle_id, case.point_id, case.clerk_id, case.status,
                    mask(case.hetu), case.handed_in_at, case.scanned_at, case.received_at,
                    case.arrival_date, case.registered_at, documents)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value
