"""The keys the ingest trusts: the points' signing keys (database) and Kela's identities (files).

    add_point_key(engine, "hki-kallio", "ed25519:…")       # aspa-ingest keys add-point
    lookup = signer_lookup(engine, arrival=info.last_modified)
    zip_bytes = unseal(…, signer_key=lookup, identities=load_kela_identities(folder))

Point keys are public and live in the ``point_keys`` table, so every worker on every host reads
one list and a revocation applies to all of them at once. Kela's age identities are secrets and
live only in files (``sealing.identities_dir``, mode 0600), never in the database: a copy of
the case register must not open the bundles.

Rotation: a point gets a new key registered beside the old one; the old one is retired at the
end of the window (``retire``: bundles that *arrived* before that instant, by the store's clock,
are still accepted, even if a backlog is worked through later). ``revoke`` is for a key that
may be in someone else's hands: from then on nothing signed by it is accepted, whenever it
arrived.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, insert, select, update

from aspa_contract.instants import utc_text
from aspa_contract.keys import (
    Identity,
    UnusableKey,
    load_identities,
    parse_public_key,
    public_key_text,
    signing_key_id,
)
from aspa_contract.layout import POINT_ID
from aspa_contract.sealing import SealCode, SealRejected, SignerLookup
from ingest.db.models import PointKey
from ingest.errors import IngestError
from ingest.settings import IngestConfigError

Clock = Callable[[], datetime]
_COLUMNS = (PointKey.key_id, PointKey.point_id, PointKey.public_key, PointKey.valid_from,
            PointKey.valid_until, PointKey.revoked_at, PointKey.added_at)


def utc_now() -> datetime:
    return datetime.now(UTC)


class KeyringError(IngestError):
    """A key command cannot be done as asked; the message says why (exit 1)."""


@dataclass(frozen=True)
class PointKeyView:
    """One registered point key, for ``keys list``."""

    key_id: str
    point_id: str
    public_key: str
    valid_from: datetime
    valid_until: datetime | None
    revoked_at: datetime | None
    added_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {"key_id": self.key_id, "point_id": self.point_id, "public_key": self.public_key,
                "valid_from": utc_text(self.valid_from),
                "valid_until": utc_text(self.valid_until) if self.valid_until else None,
                "revoked_at": utc_text(self.revoked_at) if self.revoked_at else None,
                "added_at": utc_text(self.added_at)}


def add_point_key(engine: Engine, point_id: str, public_text: str, *,
                  valid_from: datetime | None = None, valid_until: datetime | None = None,
                  clock: Clock = utc_now) -> PointKeyView:
    """Register ``public_text`` (``ed25519:…``) as a signing key of ``point_id``.

    Adding the same key to the same point again changes nothing (returns the registered
    row); a key registered for another point is refused.
    """
    if not POINT_ID.fullmatch(point_id):
        raise KeyringError(f"point id {point_id!r} is not a lower-case slug like hki-kallio")
    try:
        public = parse_public_key(public_text)
    except UnusableKey as exc:
        raise KeyringError(str(exc)) from None
    now = clock()
    start = valid_from or now
    if valid_until is not None and valid_until <= start:
        raise KeyringError("valid_until must be after valid_from")
    key_id = signing_key_id(public)
    with engine.begin() as connection:
        row = connection.execute(select(*_COLUMNS).where(PointKey.key_id == key_id)).first()
        if row is not None:
            if row.point_id != point_id:
                raise KeyringError(f"key {key_id} is already registered for point "
                                   f"{row.point_id}; a key signs for one point only")
            return _view(row)
        connection.execute(insert(PointKey).values(
            key_id=key_id, point_id=point_id, public_key=public_key_text(public),
            valid_from=start, valid_until=valid_until, revoked_at=None, added_at=now))
    return _view(_get(engine, key_id))


def retire_key(engine: Engine, key_id: str, at: datetime) -> PointKeyView:
    """End ``key_id``'s validity at ``at``: bundles that arrived before it are still accepted."""
    _get(engine, key_id)
    with engine.begin() as connection:
        connection.execute(update(PointKey).where(PointKey.key_id == key_id)
                           .values(valid_until=at))
    return _view(_get(engine, key_id))


def revoke_key(engine: Engine, key_id: str, clock: Clock = utc_now) -> PointKeyView:
    """Refuse everything signed by ``key_id`` from now on, whenever it arrived (idempotent)."""
    if _get(engine, key_id).revoked_at is None:
        with engine.begin() as connection:
            connection.execute(update(PointKey).where(PointKey.key_id == key_id)
                               .values(revoked_at=clock()))
    return _view(_get(engine, key_id))


def list_point_keys(engine: Engine, point_id: str | None = None) -> list[PointKeyView]:
    """Registered point keys, by point then by start of validity."""
    query = select(*_COLUMNS).order_by(PointKey.point_id, PointKey.valid_from)
    if point_id is not None:
        query = query.where(PointKey.point_id == point_id)
    with engine.connect() as connection:
        return [_view(row) for row in connection.execute(query)]


def signer_lookup(engine: Engine, arrival: datetime) -> SignerLookup:
    """The lookup :func:`aspa_contract.sealing.unseal` uses for a bundle that arrived at
    ``arrival`` (the store's clock)."""

    def lookup(point_id: str, key_id: str) -> Ed25519PublicKey:
        with engine.connect() as connection:
            row = connection.execute(select(*_COLUMNS).where(PointKey.key_id == key_id)).first()
        if row is None or row.point_id != point_id:
            raise SealRejected(SealCode.UNKNOWN_KEY,
                               f"signing key {key_id} is not registered for point {point_id}")
        refusal = key_refusal(_view(row), arrival)
        if refusal:
            raise SealRejected(SealCode.KEY_NOT_VALID, f"signing key {key_id}: {refusal}")
        return parse_public_key(row.public_key)

    return lookup


def key_refusal(key: PointKeyView, arrival: datetime) -> str | None:
    """Why ``key`` may not vouch for a bundle that arrived at ``arrival``; None if it may."""
    if key.revoked_at is not None:
        return f"revoked at {utc_text(key.revoked_at)}"
    if arrival < key.valid_from:
        return f"valid only from {utc_text(key.valid_from)}, bundle arrived {utc_text(arrival)}"
    if key.valid_until is not None and arrival >= key.valid_until:
        return (f"retired at {utc_text(key.valid_until)}, bundle arrived "
                f"{utc_text(arrival)}")
    return None


def load_kela_identities(folder: Path) -> dict[str, Identity]:
    """Kela's identities in ``folder`` by key id; :class:`IngestConfigError` if one cannot be
    read."""
    try:
        return load_identities(folder)
    except UnusableKey as exc:
        raise IngestConfigError(f"sealing.identities_dir: {exc}") from None


def _get(engine: Engine, key_id: str) -> PointKeyView:
    with engine.connect() as connection:
        row = connection.execute(select(*_COLUMNS).where(PointKey.key_id == key_id)).first()
    if row is None:
        raise KeyringError(f"no point key {key_id} is registered; `aspa-ingest keys list` "
                           "shows them")
    return _view(row)


def _view(row: Any) -> PointKeyView:
    return PointKeyView(row.key_id, row.point_id, row.public_key, row.valid_from,
                        row.valid_until, row.revoked_at, row.added_at)
