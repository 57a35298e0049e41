"""Object keys of the exchange between agent and ingest. No key ever carries a hetu."""

from __future__ import annotations

import re

# Use fullmatch: `$` lets a trailing newline through. At most 128 bits (first digit 0-7).
BUNDLE_ID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
POINT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


def incoming_key(point_id: str, bundle_id: str) -> str:
    """Where the agent puts a bundle: ``incoming/{point_id}/{bundle_id}.zip``."""
    return f"incoming/{_checked(point_id, bundle_id)}.zip"


def receipt_key(point_id: str, bundle_id: str) -> str:
    """Where the ingest puts the receipt the agent polls for."""
    return f"receipts/{_checked(point_id, bundle_id)}.json"


def quarantine_key(point_id: str, bundle_id: str) -> str:
    """Where a rejected bundle is kept, next to a ``.reason.json``."""
    return f"quarantine/{_checked(point_id, bundle_id)}.zip"


def archive_key(point_id: str, bundle_id: str) -> str:
    """Where a registered bundle's zip moves after its receipt is written."""
    return f"archive/{_checked(point_id, bundle_id)}.zip"


def parse_incoming_key(key: str) -> tuple[str, str] | None:
    """``incoming/p/ID.zip`` → ``(p, ID)``; anything else → None."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "incoming" or not parts[2].endswith(".zip"):
        return None
    point_id, bundle_id = parts[1], parts[2][: -len(".zip")]
    if not (POINT_ID.fullmatch(point_id) and BUNDLE_ID.fullmatch(bundle_id)):
        return None
    return point_id, bundle_id


def _checked(point_id: str, bundle_id: str) -> str:
    if not POINT_ID.fullmatch(point_id):
        raise ValueError(f"point id {point_id!r} is not a lower-case slug")
    if not BUNDLE_ID.fullmatch(bundle_id):
        raise ValueError(f"bundle id {bundle_id!r} is not a ULID")
    return f"{point_id}/{bundle_id}"
