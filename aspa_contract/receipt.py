"""The receipt: what Kela's ingest tells the agent about a registered bundle.

Stored at ``receipts/{point_id}/{bundle_id}.json``; the ingest writes it (``ingest.receipt``),
the agent reads it (``scanner_agent.delivery``). No identity code in it.

    {"schema": "aspa-receipt/1", "bundle_id": "01J…", "case_ref": "ASPA-2026-11-28-00042-7",
     "point_id": "hki-kallio", "received_at": "2026-11-27T22:30:05Z",
     "arrival_date": "2026-11-28",
     "documents": [{"file": "001.pdf", "form_code": "TO 1", "kind": "form", "pages": 2}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from aspa_contract.instants import utc_text
from aspa_contract.layout import receipt_key

SCHEMA = "aspa-receipt/1"


@dataclass(frozen=True)
class ReceiptDocument:
    """One registered document, in the clerk's scanning order."""

    file: str
    form_code: str | None
    kind: str
    pages: int


@dataclass(frozen=True)
class Receipt:
    """What the ingest tells the agent about one registered bundle. No identity code in it."""

    bundle_id: str
    case_ref: str
    point_id: str
    received_at: datetime
    arrival_date: date
    documents: tuple[ReceiptDocument, ...]

    @property
    def key(self) -> str:
        """Where the receipt is stored: ``receipts/{point_id}/{bundle_id}.json``."""
        return receipt_key(self.point_id, self.bundle_id)

    def to_json(self) -> dict[str, Any]:
        """The receipt document (``schema`` ``aspa-receipt/1``)."""
        return {
            "schema": SCHEMA,
            "bundle_id": self.bundle_id,
            "case_ref": self.case_ref,
            "point_id": self.point_id,
            "received_at": utc_text(self.received_at),
            "arrival_date": self.arrival_date.isoformat(),
            "documents": [{"file": d.file, "form_code": d.form_code, "kind": d.kind,
                           "pages": d.pages} for d in self.documents],
        }

    def to_bytes(self) -> bytes:
        """The stored form: UTF-8 JSON, fixed key order, so equal receipts are equal bytes."""
        return (json.dumps(self.to_json(), ensure_ascii=False, indent=2) + "\n").encode()
