"""Sealed bundles through the real ingest: moto's S3 + SQS, the worker, PostgreSQL.

Only a bundle sealed to Kela and signed by a key registered for its point becomes a case; every
other object becomes an exception record with the seal's reason code (and a quarantined copy),
never a case, and the worker goes on with the next bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pyrage import x25519

from aspa_contract.keys import Identity
from aspa_contract.layout import archive_key, incoming_key, quarantine_key
from aspa_contract.sealing import META_SIGNER, SealedBundle
from aspa_contract.storage import Storage
from ingest.db import list_cases, list_exceptions, make_engine
from ingest.errors import RejectCode
from ingest.keyring import add_point_key, retire_key, revoke_key
from ingest.worker import Outcome, WorkerContext, process_key
from tests.bundles import open_sealed, point_signing_key, seal, valid_bundle
from tests.exchange import Exchange, running_worker
from tests.waiting import wait_until

pytestmark = pytest.mark.integration

POINT = "hki-kallio"


def put(store: Storage, key: str, sealed: SealedBundle) -> None:
    assert store.put_new(key, sealed.data, metadata=sealed.metadata)


def _tampered(sealed: SealedBundle) -> SealedBundle:
    changed = bytearray(sealed.data)
    changed[len(changed) // 2] ^= 0x40
    return SealedBundle(bytes(changed), sealed.sha256, sealed.metadata)


def _plain(data: bytes) -> SealedBundle:
    return SealedBundle(data, "", {})


def _to_a_stranger(bundle_id: str, data: bytes) -> SealedBundle:
    stranger = Identity(x25519.Identity.generate())
    return seal(POINT, bundle_id, data, recipient=stranger.recipient)


def _forged_key_id(bundle_id: str, data: bytes) -> SealedBundle:
    sealed = seal(POINT, bundle_id, data, signer=point_signing_key("intruder"))
    return SealedBundle(sealed.data, sealed.sha256,
                        {**sealed.metadata, META_SIGNER: point_signing_key(POINT).key_id})


BAD_SEALS: dict[str, tuple[Callable[[str, bytes], SealedBundle], RejectCode]] = {
    "signed_by_another_points_key": (
        lambda b, d: seal(POINT, b, d, signer=point_signing_key("tku-keskusta")),
        RejectCode.UNKNOWN_KEY),
    "tampered_on_the_way": (lambda b, d: _tampered(seal(POINT, b, d)), RejectCode.BAD_SIGNATURE),
    "plain_zip_not_sealed": (lambda b, d: _plain(d), RejectCode.NOT_SEALED),
    "sealed_to_a_key_kela_does_not_hold": (_to_a_stranger, RejectCode.UNKNOWN_KEY),
    "forged_signature_under_the_points_key_id": (_forged_key_id, RejectCode.BAD_SIGNATURE),
}


def test_a_sealed_bundle_becomes_a_case_and_the_store_keeps_only_ciphertext(
        exchange: Exchange) -> None:
    """GIVEN a running worker WHEN a bundle sealed by its point arrives THEN it is a pending
    case, and the archived object is still the sealed one, with its seal metadata."""
    store = exchange.store
    bundle_id, data = valid_bundle(POINT, documents=2)
    sealed = seal(POINT, bundle_id, data)
    with running_worker(exchange.config):
        put(store, incoming_key(POINT, bundle_id), sealed)
        wait_until("archived", lambda: store.head(archive_key(POINT, bundle_id)) is not None)
    engine = make_engine(exchange.config.db_url)
    assert [(c.bundle_id, c.status) for c in list_cases(engine)] == [(bundle_id, "pending")]
    engine.dispose()
    archived = store.get_object(archive_key(POINT, bundle_id))
    assert archived.data == sealed.data and dict(archived.metadata) == sealed.metadata
    assert open_sealed(archived.data) == data


@pytest.mark.parametrize("bad", list(BAD_SEALS), ids=list(BAD_SEALS))
def test_a_badly_sealed_bundle_is_an_exception_record_never_a_case(
        exchange: Exchange, bad: str) -> None:
    """GIVEN a running worker WHEN a bundle whose seal is wrong in one way arrives, then a
    good one THEN the first is an exception record with the seal's code and a quarantined
    copy, no case; the good one is registered."""
    make, code = BAD_SEALS[bad]
    store = exchange.store
    bad_id, bad_data = valid_bundle(POINT, documents=1)
    good_id, good_data = valid_bundle(POINT, documents=1)
    with running_worker(exchange.config):
        put(store, incoming_key(POINT, bad_id), make(bad_id, bad_data))
        put(store, incoming_key(POINT, good_id), seal(POINT, good_id, good_data))
        wait_until("incoming/ is empty", lambda: list(store.list("incoming/")) == [])
    engine = make_engine(exchange.config.db_url)
    assert [case.bundle_id for case in list_cases(engine)] == [good_id]
    [record] = list_exceptions(engine)
    engine.dispose()
    assert (record.bundle_id, record.code) == (bad_id, code.value)
    kept = record.quarantine_key
    assert kept is not None and kept.startswith(quarantine_key(POINT, bad_id).removesuffix(".zip"))
    assert store.head(kept) is not None


# --- key validity: revocation and the rotation window --------------------------------------


def _upload_and_process(context: WorkerContext, point: str) -> tuple[str, Outcome,
                                                                     RejectCode | None]:
    bundle_id, data = valid_bundle(point, documents=1)
    key = incoming_key(point, bundle_id)
    put(context.store, key, seal(point, bundle_id, data))
    result = process_key(key, context)
    return bundle_id, result.outcome, result.code


def test_a_revoked_point_key_is_refused_and_the_points_new_key_is_taken(
        exchange_context: WorkerContext) -> None:
    """GIVEN oulu-keskusta's key revoked and a new key registered for it WHEN bundles signed
    by each arrive THEN the old key's is refused as key_not_valid, the new key's registered."""
    context = exchange_context
    old = point_signing_key("oulu-keskusta")
    revoke_key(context.engine, old.key_id)
    _, outcome, code = _upload_and_process(context, "oulu-keskusta")
    assert (outcome, code) == (Outcome.REJECTED, RejectCode.KEY_NOT_VALID)

    new = point_signing_key("oulu-keskusta-2027")
    add_point_key(context.engine, "oulu-keskusta", new.public_text,
                  valid_from=datetime(2000, 1, 1, tzinfo=UTC))
    bundle_id, data = valid_bundle("oulu-keskusta", documents=1)
    key = incoming_key("oulu-keskusta", bundle_id)
    put(context.store, key, seal("oulu-keskusta", bundle_id, data, signer=new))
    assert process_key(key, context).outcome == Outcome.REGISTERED


def test_a_retired_key_is_taken_until_the_end_of_its_window_by_the_stores_clock(
        exchange_context: WorkerContext) -> None:
    """GIVEN tku-keskusta's key retiring in an hour WHEN a bundle signed by it arrives now
    THEN it is registered; GIVEN the key retired an hour ago THEN the next one is refused."""
    context = exchange_context
    key_id = point_signing_key("tku-keskusta").key_id
    now = datetime.now(UTC)
    retire_key(context.engine, key_id, now + timedelta(hours=1))
    assert _upload_and_process(context, "tku-keskusta")[1] == Outcome.REGISTERED
    retire_key(context.engine, key_id, now - timedelta(hours=1))
    _, outcome, code = _upload_and_process(context, "tku-keskusta")
    assert (outcome, code) == (Outcome.REJECTED, RejectCode.KEY_NOT_VALID)
