"""The one instant format of manifests and receipts: UTC, ISO 8601, ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(instant: datetime) -> str:
    """``2026-11-27T22:30:05Z`` (microseconds kept when there are any)."""
    if instant.tzinfo is None:
        raise ValueError("naive datetime: give instants with a time zone")
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
