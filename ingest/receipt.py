"""Receipt stage: the JSON the agent polls for at ``receipts/{point_id}/{bundle_id}.json``.

The receipt is the sender's proof of registration (hallintolaki 434/2003 §17-19): case
reference, the arrival instant by the store's clock, the arrival date in Finland, and what was
registered. It is built from the case row in the database, never from the worker's own view,
so whichever of several racing workers writes it, the bytes are the same; it is written
create-only, and one already there is the same receipt.

    {"schema": "aspa-receipt/1", "bundle_id": "01J…", "case_ref": "ASPA-2026-11-28-00042-7",
     "point_id": "hki-kallio", "received_at": "2026-11-27T22:30:05Z",
     "arrival_date": "2026-11-28",
     "documents": [{"file": "001.pdf", "form_code": "TO 1", "kind": "form", "pages": 2}]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from aspa_contract.layout import receipt_key
from aspa_contract.storage import Storage
from ingest.db.models import Case

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


def load_receipt(engine: Engine, bundle_id: str) -> Receipt:
    """The receipt of the case registered for ``bundle_id``, read from its database row.

    Raises ``sqlalchemy.exc.NoResultFound`` if no case has that bundle id (call it only after
    ``register_case`` returned).
    """
    query = select(Case).options(selectinload(Case.documents)).where(Case.bundle_id == bundle_id)
    with Session(engine) as session:
        case = session.scalars(query).one()
        documents = tuple(ReceiptDocument(d.file, d.form_code, d.kind, d.pages)
                          for d in case.documents)
        return Receipt(case.bundle_id, case.case_ref, case.point_id, case.received_at,
                       case.arrival_date, documents)


def write_receipt(store: Storage, receipt: Receipt) -> bool:
    """Put ``receipt`` at its key unless it is there: True = written now, False = an earlier
    (or racing) worker wrote it. May raise the storage errors (``StorageUnavailable`` …)."""
    return store.put_new(receipt.key, receipt.to_bytes())


def utc_text(instant: datetime) -> str:
    """``2026-11-27T22:30:05Z`` (fraction kept when there is one): one instant format."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
