"""Receipt stage: the JSON the agent polls for at ``receipts/{point_id}/{bundle_id}.json``.

The receipt is the sender's proof of registration (hallintolaki 434/2003 §17-19): case
reference, the arrival instant by the store's clock, the arrival date in Finland, and what was
registered. It is built from the case row in the database, never from the worker's own view,
so whichever of several racing workers writes it, the bytes are the same; it is written
create-only, and one already there is the same receipt.

The format itself is part of the contract: ``aspa_contract.receipt``.
"""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, selectinload

from aspa_contract.receipt import Receipt, ReceiptDocument
from aspa_contract.storage import Storage
from ingest.db.models import Case


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

