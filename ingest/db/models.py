"""The case database: cases, their documents, rejected bundles and who looked at what.

The schema is created and changed by the Alembic migrations in ``migrations/versions``; these
models describe it for queries and must match it (a test compares the two).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so later migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An instant: only tz-aware datetimes go in, tz-aware UTC datetimes come out.

    PostgreSQL keeps it as ``timestamptz``; SQLite has no time zones, so UTC is stored naive
    and the zone is put back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored as an instant; give it a tz")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only
Json = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention and type map."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(),
                                                     dict[str, Any]: Json}


class CaseStatus(StrEnum):
    """Where a case is in the backoffice. Registration makes it pending (vireillä)."""

    PENDING = "pending"


class Case(Base):
    """One registered bundle: one customer, one application or delivery, pending from arrival."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(32), unique=True)
    bundle_id: Mapped[str] = mapped_column(String(26), unique=True)
    point_id: Mapped[str] = mapped_column(String(63), index=True)
    clerk_id: Mapped[str] = mapped_column(String(63))
    # Full code: the backoffice works with it. Every list view and log masks it.
    hetu: Mapped[str | None] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(16), default=CaseStatus.PENDING.value)
    handed_in_at: Mapped[datetime]
    scanned_at: Mapped[datetime]
    # The object store's clock: the legal arrival instant (laki 13/2003 §10).
    received_at: Mapped[datetime] = mapped_column(index=True)
    arrival_date: Mapped[date] = mapped_column(Date, index=True)  # in Europe/Helsinki
    registered_at: Mapped[datetime]
    object_key: Mapped[str] = mapped_column(String(1024))
    manifest: Mapped[dict[str, Any]]

    documents: Mapped[list[Document]] = relationship(
        back_populates="case", order_by="Document.position", cascade="all, delete-orphan")


class Document(Base):
    """One PDF of a case, in the order the clerk scanned it."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # 1-based
    file: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    form_code: Mapped[str | None] = mapped_column(String(8), index=True)
    form_variant: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(3))
    confidence: Mapped[float] = mapped_column(Float)
    classified_by: Mapped[str] = mapped_column(String(8))

    case: Mapped[Case] = relationship(back_populates="documents")

    __table_args__ = (UniqueConstraint("case_id", "position"),)


class BundleException(Base):
    """A bundle that could not be registered, kept for a person to look at (once per cause)."""

    __tablename__ = "exceptions"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    bundle_id: Mapped[str | None] = mapped_column(String(26), index=True)  # None: bad key
    object_key: Mapped[str] = mapped_column(String(1024))
    code: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)  # English, hetu-free
    detected_at: Mapped[datetime]
    quarantine_key: Mapped[str | None] = mapped_column(String(1024))

    # One record per quarantined copy and cause (the copy's key is unique per object version).
    __table_args__ = (UniqueConstraint("quarantine_key", "code"),)


class FailedAttempt(Base):
    """How often handling one object version failed unexpectedly (the redrive policy)."""

    __tablename__ = "failed_attempts"

    # sha256 of the object's key, ETag, size and store time: a new upload counts afresh.
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    object_key: Mapped[str] = mapped_column(String(1024))  # as shown: public names only
    failures: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text)  # one line or a trace, hetu-free
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]


class AccessLogEntry(Base):
    """Who viewed which case, when, and through what (tiedonhallintalaki 906/2019 §17)."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    # No cascade: deleting a case must not silently erase the record of who saw it.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    viewer: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))  # "cli", later "web", "api"
    accessed_at: Mapped[datetime]


class CaseRefCounter(Base):
    """The last case number given out per arrival date; its row lock orders a day's numbers."""

    __tablename__ = "case_ref_counters"

    arrival_date: Mapped[date] = mapped_column(Date, primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)


class PointKey(Base):
    """A public key a service point signs its bundles with (see aspa_contract.sealing).

    Several per point during a rotation. A key is accepted for a bundle that arrived (store
    clock) in [valid_from, valid_until) and only while it is not revoked; revoking is for a
    key that may be in someone else's hands, so it refuses even bundles that arrived before.
    """

    __tablename__ = "point_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    point_id: Mapped[str] = mapped_column(String(63), index=True)
    public_key: Mapped[str] = mapped_column(String(64))  # ed25519:… as the agent prints it
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    added_at: Mapped[datetime]
