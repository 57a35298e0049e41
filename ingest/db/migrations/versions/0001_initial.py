"""Cases, their documents, rejected-bundle exceptions, access log and case number counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the model types: a migration must not change when models.py does.
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _instant(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create the five tables of the register stage."""
    op.create_table(
        "case_ref_counters",
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("arrival_date", name=op.f("pk_case_ref_counters")),
    )
    op.create_table(
        "cases",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_ref", sa.String(32), nullable=False),
        sa.Column("bundle_id", sa.String(26), nullable=False),
        sa.Column("point_id", sa.String(63), nullable=False),
        sa.Column("clerk_id", sa.String(63), nullable=False),
        sa.Column("hetu", sa.String(11), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _instant("handed_in_at"),
        _instant("scanned_at"),
        _instant("received_at"),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        _instant("registered_at"),
        sa.Column("object_key", sa.String(1024), nullable=False),
        sa.Column("manifest", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("bundle_id", name=op.f("uq_cases_bundle_id")),
        sa.UniqueConstraint("case_ref", name=op.f("uq_cases_case_ref")),
    )
    for column in ("arrival_date", "point_id", "received_at"):
        op.create_index(op.f(f"ix_cases_{column}"), "cases", [column])
    op.create_table(
        "documents",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("form_code", sa.String(8), nullable=True),
        sa.Column("form_variant", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("language", sa.String(3), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("classified_by", sa.String(8), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], ondelete="CASCADE",
                                name=op.f("fk_documents_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("case_id", "position", name=op.f("uq_documents_case_id_position")),
    )
    op.create_index(op.f("ix_documents_form_code"), "documents", ["form_code"])
    op.create_table(
        "exceptions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("bundle_id", sa.String(26), nullable=True),
        sa.Column("object_key", sa.String(1024), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _instant("detected_at"),
        sa.Column("quarantine_key", sa.String(1024), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exceptions")),
        sa.UniqueConstraint("object_key", "code", name=op.f("uq_exceptions_object_key_code")),
    )
    op.create_index(op.f("ix_exceptions_bundle_id"), "exceptions", ["bundle_id"])
    op.create_table(
        "access_log",
        sa.Column("id", _ID, nullable=False),
        sa.Column("case_id", _ID, nullable=False),
        sa.Column("viewer", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        _instant("accessed_at"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name=op.f("fk_access_log_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_log")),
    )
    op.create_index(op.f("ix_access_log_case_id"), "access_log", ["case_id"])


def downgrade() -> None:
    """Drop them, dependants first."""
    for table in ("access_log", "exceptions", "documents", "cases", "case_ref_counters"):
        op.drop_table(table)
