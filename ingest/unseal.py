"""Unseal stage of the ingest: a sealed object in, the bundle's zip out, or a rejection.

    discover ─► head ─► get ─► unseal ─► verify ─► register

The object must carry a seal (:mod:`aspa_contract.sealing`) whose signature matches a key
registered for the point in the key's prefix, valid when the object arrived; only then is it
decrypted with the one of Kela's identities its metadata names. Everything after this stage
sees the plain zip; the store keeps only the sealed object (archive/ and quarantine/ too).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine

from aspa_contract.keys import Identity
from aspa_contract.layout import parse_incoming_key
from aspa_contract.sealing import SealRejected, unseal
from aspa_contract.storage.base import StoredObject
from ingest.errors import BundleRejected, RejectCode
from ingest.keyring import signer_lookup


def unseal_bundle(key: str, stored: StoredObject, arrival: datetime, engine: Engine,
                  identities: Mapping[str, Identity]) -> bytes:
    """The plain zip of the sealed object ``stored`` at ``key``, which arrived at ``arrival``
    (the store's clock); :class:`BundleRejected` with the seal's reason code otherwise."""
    parsed = parse_incoming_key(key)
    if parsed is None:
        return stored.data  # a key naming no point and bundle: verify rejects it as bad_key
    point_id, bundle_id = parsed
    try:
        return unseal(stored.data, stored.metadata, point_id=point_id, bundle_id=bundle_id,
                      signer_key=signer_lookup(engine, arrival), identities=identities)
    except SealRejected as rejection:
        raise BundleRejected(RejectCode(rejection.code.value), rejection.reason) from None
