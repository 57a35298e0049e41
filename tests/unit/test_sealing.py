"""Sealing a bundle (aspa_contract.sealing): encrypted to Kela, signed by its point; what the
ingest refuses and with which code; the keys' files and the validity rules of point keys."""

from __future__ import annotations

import stat
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pyrage import x25519

from aspa_contract.keys import (
    Identity,
    UnusableKey,
    create_identity,
    create_signing_key,
    load_identities,
    load_signing_key,
    parse_public_key,
)
from aspa_contract.sealing import (
    META_RECIPIENT,
    META_SIGNATURE,
    META_SIGNER,
    SealCode,
    SealedBundle,
    SealRejected,
    unseal,
)
from ingest.keyring import PointKeyView, key_refusal
from scanner_agent.config import load_config
from scanner_agent.sealing import check_sealing
from tests.bundles import kela_identity, point_signing_key, seal

REPO = Path(__file__).resolve().parents[2]
POINT, BUNDLE = "hki-kallio", "01JDK3H5N4Q6W8Y0A2C4E6G8J0"
ZIP = b"PK\x03\x04 a bundle's bytes"
KELA = {kela_identity().key_id: kela_identity()}
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def registered(point_id: str = POINT) -> Mapping[str, Ed25519PublicKey]:
    """Key id → public key of the point keys the ingest knows: the test key of ``point_id``."""
    key = point_signing_key(point_id)
    return {key.key_id: parse_public_key(key.public_text)}


def open_it(sealed: SealedBundle, *, metadata: Mapping[str, str] | None = None,
            data: bytes | None = None, point_id: str = POINT, bundle_id: str = BUNDLE,
            known: Mapping[str, Ed25519PublicKey] | None = None,
            identities: Mapping[str, Identity] = KELA) -> bytes:
    keys = registered() if known is None else known

    def lookup(point: str, key_id: str) -> Ed25519PublicKey:
        if key_id not in keys:
            raise SealRejected(SealCode.UNKNOWN_KEY, f"{key_id} not registered for {point}")
        return keys[key_id]

    return unseal(sealed.data if data is None else data,
                  sealed.metadata if metadata is None else metadata, point_id=point_id,
                  bundle_id=bundle_id, signer_key=lookup, identities=identities)


def refused(code: SealCode, sealed: SealedBundle, **kwargs: object) -> str:
    with pytest.raises(SealRejected) as caught:
        open_it(sealed, **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == code, caught.value
    return caught.value.reason


# --- round trip ------------------------------------------------------------------------------

def test_a_sealed_bundle_opens_to_its_exact_bytes_and_hides_them_on_the_way() -> None:
    """GIVEN a zip sealed by its point to Kela WHEN the ingest opens it with the point's
    registered key and Kela's identity THEN it gets the exact zip back; the sealed bytes
    contain nothing of it, and the metadata names both keys."""
    sealed = seal(POINT, BUNDLE, ZIP)
    assert open_it(sealed) == ZIP
    assert ZIP not in sealed.data and b"PK" not in sealed.data[:2]
    assert sealed.metadata[META_SIGNER] == point_signing_key(POINT).key_id
    assert sealed.metadata[META_RECIPIENT] == kela_identity().key_id


def test_sealing_twice_gives_different_ciphertexts_that_both_open() -> None:
    first, second = seal(POINT, BUNDLE, ZIP), seal(POINT, BUNDLE, ZIP)
    assert first.data != second.data
    assert open_it(first) == open_it(second) == ZIP


# --- refusals --------------------------------------------------------------------------------

def test_a_plain_upload_is_refused_as_not_sealed() -> None:
    sealed = seal(POINT, BUNDLE, ZIP)
    refused(SealCode.NOT_SEALED, sealed, metadata={}, data=ZIP)


@pytest.mark.parametrize("field", [META_SIGNER, META_RECIPIENT, META_SIGNATURE])
def test_a_seal_missing_a_field_is_refused_as_not_sealed(field: str) -> None:
    sealed = seal(POINT, BUNDLE, ZIP)
    refused(SealCode.NOT_SEALED, sealed,
            metadata={k: v for k, v in sealed.metadata.items() if k != field})


def test_one_changed_byte_of_the_ciphertext_is_a_bad_signature_not_a_decryption() -> None:
    """GIVEN a sealed bundle changed on the way (one byte) WHEN opened THEN the signature
    check refuses it before anything is decrypted."""
    sealed = seal(POINT, BUNDLE, ZIP)
    tampered = bytearray(sealed.data)
    tampered[-5] ^= 0x01
    refused(SealCode.BAD_SIGNATURE, sealed, data=bytes(tampered))


def test_a_bundle_moved_to_another_bundle_id_or_point_is_a_bad_signature() -> None:
    """The signature covers point and bundle id: a copy under another key does not verify."""
    sealed = seal(POINT, BUNDLE, ZIP)
    refused(SealCode.BAD_SIGNATURE, sealed, bundle_id="01JDK3H5N4Q6W8Y0A2C4E6G8J1")
    other = point_signing_key("tku-keskusta")
    both = {**registered(), **registered("tku-keskusta")}
    forged = {**sealed.metadata, META_SIGNER: other.key_id}
    refused(SealCode.BAD_SIGNATURE, sealed, metadata=forged, point_id="tku-keskusta",
            known=both)


def test_a_bundle_signed_with_another_points_key_is_an_unknown_key() -> None:
    """GIVEN a bundle of hki-kallio signed with tku-keskusta's key WHEN opened as hki-kallio's
    THEN the signer is not one of hki-kallio's keys."""
    sealed = seal(POINT, BUNDLE, ZIP, signer=point_signing_key("tku-keskusta"))
    refused(SealCode.UNKNOWN_KEY, sealed)


def test_a_forged_signature_claiming_the_points_key_id_is_a_bad_signature() -> None:
    """GIVEN someone with another key who writes the point's key id into the metadata
    WHEN opened THEN the point's registered key does not verify the signature."""
    sealed = seal(POINT, BUNDLE, ZIP, signer=point_signing_key("intruder"))
    forged = {**sealed.metadata, META_SIGNER: point_signing_key(POINT).key_id}
    refused(SealCode.BAD_SIGNATURE, sealed, metadata=forged)


def test_a_bundle_sealed_to_a_recipient_the_ingest_does_not_hold_is_an_unknown_key() -> None:
    """GIVEN a bundle sealed to an age key that is not (or no longer) one of Kela's
    identities WHEN opened THEN it is refused naming that key id."""
    other = create_identity_in_memory()
    sealed = seal(POINT, BUNDLE, ZIP, recipient=other.recipient)
    reason = refused(SealCode.UNKNOWN_KEY, sealed)
    assert other.key_id in reason


def test_a_wrong_identity_under_the_right_key_id_cannot_decrypt() -> None:
    """GIVEN the ingest's identity file for a key id replaced by another key WHEN a bundle
    sealed to the real key is opened THEN it is signed right but cannot be decrypted."""
    sealed = seal(POINT, BUNDLE, ZIP)
    wrong = {kela_identity().key_id: create_identity_in_memory()}
    refused(SealCode.CANNOT_DECRYPT, sealed, identities=wrong)


def create_identity_in_memory() -> Identity:
    return Identity(x25519.Identity.generate())


# --- rotation: several identities, several point keys -----------------------------------------

def test_during_a_rotation_bundles_sealed_to_the_old_and_the_new_kela_key_both_open() -> None:
    """GIVEN the ingest holding Kela's old and new identity WHEN one bundle is sealed to each
    THEN each opens with the identity its metadata names."""
    new = create_identity_in_memory()
    both = {**KELA, new.key_id: new}
    assert open_it(seal(POINT, BUNDLE, ZIP), identities=both) == ZIP
    assert open_it(seal(POINT, BUNDLE, ZIP, recipient=new.recipient), identities=both) == ZIP


def test_during_a_rotation_bundles_signed_by_the_old_and_the_new_point_key_both_open() -> None:
    old, new = point_signing_key(POINT), point_signing_key(f"{POINT}-2027")
    known = {old.key_id: parse_public_key(old.public_text),
             new.key_id: parse_public_key(new.public_text)}
    for signer in (old, new):
        assert open_it(seal(POINT, BUNDLE, ZIP, signer=signer), known=known) == ZIP


def view(valid_from: datetime = T0, valid_until: datetime | None = None,
         revoked_at: datetime | None = None) -> PointKeyView:
    key = point_signing_key(POINT)
    return PointKeyView(key.key_id, POINT, key.public_text, valid_from, valid_until,
                        revoked_at, T0)


def test_a_retired_key_vouches_for_bundles_that_arrived_before_its_end_only() -> None:
    """GIVEN a key retired at T0+1d (end of a rotation window) THEN a bundle that arrived
    before then is accepted whenever it is handled, one that arrived at or after it is not."""
    retired = view(valid_until=T0 + timedelta(days=1))
    assert key_refusal(retired, T0 + timedelta(hours=23)) is None
    assert "retired" in (key_refusal(retired, T0 + timedelta(days=1)) or "")


def test_a_key_not_yet_valid_refuses_earlier_arrivals() -> None:
    assert "valid only from" in (key_refusal(view(), T0 - timedelta(seconds=1)) or "")
    assert key_refusal(view(), T0) is None


def test_a_revoked_key_refuses_every_bundle_whenever_it_arrived() -> None:
    revoked = view(revoked_at=T0 + timedelta(days=10))
    assert "revoked" in (key_refusal(revoked, T0 + timedelta(days=1)) or "")


# --- key files ---------------------------------------------------------------------------------

def test_a_new_signing_key_is_private_to_its_owner_and_init_twice_keeps_it(
        tmp_path: Path) -> None:
    """GIVEN no key WHEN keys init runs twice THEN one key file, mode 0600, the same key and
    public text both times, readable back."""
    path = tmp_path / "keys" / "point-signing.pem"
    first = create_signing_key(path)
    second = create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.public_text == second.public_text == load_signing_key(path).public_text
    assert [p.name for p in path.parent.iterdir()] == ["point-signing.pem"]
    assert first.public_text.startswith("ed25519:") and len(first.key_id) == 16


def test_kela_identities_are_files_by_key_id_private_to_their_owner(tmp_path: Path) -> None:
    first, second = create_identity(tmp_path), create_identity(tmp_path)
    loaded = load_identities(tmp_path)
    assert set(loaded) == {first.key_id, second.key_id}
    assert loaded[first.key_id].recipient == first.recipient
    assert first.path is not None and stat.S_IMODE(first.path.stat().st_mode) == 0o600
    assert load_identities(tmp_path / "missing") == {}


@pytest.mark.parametrize("text", ["", "ed25519:", "ed25519:AAAA", "ssh-ed25519 AAAAC3Nz",
                                  "age1qqqq"])
def test_a_public_key_that_is_not_one_is_refused_with_the_fix(text: str) -> None:
    with pytest.raises(UnusableKey, match="aspa-agent keys init"):
        parse_public_key(text)


def test_a_missing_or_foreign_signing_key_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(UnusableKey, match="aspa-agent keys init"):
        load_signing_key(tmp_path / "none.pem")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(UnusableKey, match="not an unencrypted PEM"):
        load_signing_key(tmp_path / "junk.pem")


def test_doctor_says_what_is_missing_for_sealing_and_passes_when_it_is_there(
        tmp_path: Path) -> None:
    """GIVEN an agent without Kela's key or its own WHEN doctor checks sealing THEN it names
    the setting or the command to run; a key readable by others is flagged; set up, none."""
    config = load_config(REPO / "config" / "agent.toml", paths__var_dir=tmp_path / "var")
    assert "sealing.kela_recipient" in check_sealing(config)[0]
    config = config.model_copy(update={"sealing": config.sealing.model_copy(
        update={"kela_recipient": kela_identity().recipient})})
    assert "aspa-agent keys init" in check_sealing(config)[0]
    create_signing_key(config.signing_key_path)
    assert check_sealing(config) == []
    config.signing_key_path.chmod(0o644)
    assert "chmod 600" in check_sealing(config)[0]
