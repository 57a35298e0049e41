"""The service points' registered signing keys (sealed bundles).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    """Create point_keys."""
    op.create_table(
        "point_keys",
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("point_id", sa.String(63), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        _instant("valid_from"),
        _instant("valid_until", nullable=True),
        _instant("revoked_at", nullable=True),
        _instant("added_at"),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_point_keys")),
    )
    op.create_index(op.f("ix_point_keys_point_id"), "point_keys", ["point_id"])


def downgrade() -> None:
    """Drop point_keys."""
    op.drop_table("point_keys")
