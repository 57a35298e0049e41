"""Every quarantined copy its own exception record; failures counted for the redrive policy.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Unique exceptions by (quarantine_key, code) instead of (object_key, code): two bundles
    rejected at one key are two records. Old rows stay unique: their copy's key was a function
    of the object key. A table counting unexpected failures per object version."""
    with op.batch_alter_table("exceptions") as batch:
        batch.drop_constraint("uq_exceptions_object_key_code", type_="unique")
        batch.create_unique_constraint("uq_exceptions_quarantine_key_code",
                                       ["quarantine_key", "code"])
    op.create_table(
        "failed_attempts",
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("object_key", sa.String(1024), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_failed_attempts")),
    )


def downgrade() -> None:
    """Back to one record per (object_key, code); fails if two copies share a key and code."""
    op.drop_table("failed_attempts")
    with op.batch_alter_table("exceptions") as batch:
        batch.drop_constraint("uq_exceptions_quarantine_key_code", type_="unique")
        batch.create_unique_constraint("uq_exceptions_object_key_code", ["object_key", "code"])
