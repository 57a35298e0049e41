"""Sealing a bundle: encrypted to Kela (age, X25519) and signed by its point (Ed25519).

    sealed = seal(zip_bytes, point_id=p, bundle_id=b, recipient="age1…", signer=signing_key)
    store.put_new(key, sealed.data, sha256_hex=sealed.sha256, metadata=sealed.metadata)
    …
    zip_bytes = unseal(obj.data, obj.metadata, point_id=p, bundle_id=b,
                       signer_key=registered_key_of, identities=kela_identities)

The object is the age ciphertext of the zip; the object store and anyone on the way see only
that. Its metadata (S3 user metadata; a sidecar on the file backend) carries:

    aspa-seal        aspa-seal/1, the format
    aspa-signer      key id of the point's signing key
    aspa-recipient   key id of Kela's recipient the zip was encrypted to
    aspa-signature   Ed25519 signature (base64) over the statement below

The statement binds the ciphertext to its point, bundle id and recipient, so a sealed bundle
cannot be replayed under another point's or bundle's key:

    aspa-seal/1 \\n {point_id} \\n {bundle_id} \\n {recipient key id} \\n {sha256 of ciphertext}

:func:`unseal` checks the signature before it decrypts anything, and fails with a
:class:`SealRejected` whose :class:`SealCode` says why.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import pyrage
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from aspa_contract.keys import Identity, SigningKey, parse_recipient, recipient_key_id

SEAL_FORMAT = "aspa-seal/1"
META_SEAL = "aspa-seal"
META_SIGNER = "aspa-signer"
META_RECIPIENT = "aspa-recipient"
META_SIGNATURE = "aspa-signature"
_KEY_ID_CHARS = frozenset("0123456789abcdef")


class SealCode(StrEnum):
    """Why a sealed object cannot be opened. Stable: the ingest's reject codes reuse them."""

    NOT_SEALED = "not_sealed"  # no seal metadata, an unknown format, or malformed fields
    UNKNOWN_KEY = "unknown_key"  # the signer is not registered for the point, or the recipient
    #                              key id is not one of Kela's identities
    KEY_NOT_VALID = "key_not_valid"  # the signer's key is revoked or outside its validity
    BAD_SIGNATURE = "bad_signature"  # the signature does not match the bytes and ids
    CANNOT_DECRYPT = "cannot_decrypt"  # signed right, but the identity does not open it


class SealRejected(Exception):
    """A sealed object that must not be trusted. ``reason`` is English and names no secret."""

    def __init__(self, code: SealCode, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code.value}: {reason}")


@dataclass(frozen=True)
class SealedBundle:
    """The bytes to upload, their SHA-256 (hex) and the metadata to store with them."""

    data: bytes
    sha256: str
    metadata: dict[str, str]


@dataclass(frozen=True)
class SealLabel:
    """The seal metadata of an object, parsed."""

    signer: str
    recipient: str
    signature: bytes


# Looks up the registered public key of ``signer`` (a key id) for ``point_id``; raises
# SealRejected(UNKNOWN_KEY or KEY_NOT_VALID) when there is none that may sign now.
SignerLookup = Callable[[str, str], Ed25519PublicKey]


def seal(plain: bytes, *, point_id: str, bundle_id: str, recipient: str,
         signer: SigningKey) -> SealedBundle:
    """Encrypt ``plain`` to ``recipient`` (``age1…``) and sign it with the point's key."""
    ciphertext = pyrage.encrypt(plain, [parse_recipient(recipient)])
    digest = hashlib.sha256(ciphertext).hexdigest()
    recipient_id = recipient_key_id(recipient)
    signature = signer.private.sign(statement(point_id, bundle_id, recipient_id, digest))
    metadata = {META_SEAL: SEAL_FORMAT, META_SIGNER: signer.key_id,
                META_RECIPIENT: recipient_id,
                META_SIGNATURE: base64.b64encode(signature).decode("ascii")}
    return SealedBundle(ciphertext, digest, metadata)


def unseal(data: bytes, metadata: Mapping[str, str], *, point_id: str, bundle_id: str,
           signer_key: SignerLookup, identities: Mapping[str, Identity]) -> bytes:
    """The plaintext zip of a sealed object, after its signature was checked against the
    point's registered key; :class:`SealRejected` otherwise."""
    label = read_label(metadata)
    public = signer_key(point_id, label.signer)
    verify(data, label, public, point_id=point_id, bundle_id=bundle_id)
    identity = identities.get(label.recipient)
    if identity is None:
        raise SealRejected(SealCode.UNKNOWN_KEY,
                           f"sealed to recipient key {label.recipient}, which is not one of "
                           "the ingest's identities (retired, or never Kela's)")
    try:
        return pyrage.decrypt(data, [identity.secret])
    except Exception as exc:  # pyrage.DecryptError and its header parse errors
        raise SealRejected(SealCode.CANNOT_DECRYPT,
                           f"signed correctly but identity {label.recipient} cannot open it "
                           f"({type(exc).__name__})") from None


def read_label(metadata: Mapping[str, str]) -> SealLabel:
    """The seal fields of ``metadata`` (names compared case-insensitively, as S3 does)."""
    fields = {name.lower(): value for name, value in metadata.items()}
    if META_SEAL not in fields:
        raise SealRejected(SealCode.NOT_SEALED, "the object carries no seal (plain upload?)")
    if fields[META_SEAL] != SEAL_FORMAT:
        raise SealRejected(SealCode.NOT_SEALED,
                           f"seal format {fields[META_SEAL][:40]!r} is not {SEAL_FORMAT}")
    signer, recipient = fields.get(META_SIGNER, ""), fields.get(META_RECIPIENT, "")
    for name, value in ((META_SIGNER, signer), (META_RECIPIENT, recipient)):
        if len(value) != 16 or not set(value) <= _KEY_ID_CHARS:
            raise SealRejected(SealCode.NOT_SEALED, f"{name} is not a key id")
    try:
        signature = base64.b64decode(fields.get(META_SIGNATURE, ""), validate=True)
    except (binascii.Error, ValueError):
        signature = b""
    if len(signature) != 64:
        raise SealRejected(SealCode.NOT_SEALED, f"{META_SIGNATURE} is not an Ed25519 signature")
    return SealLabel(signer, recipient, signature)


def verify(data: bytes, label: SealLabel, public: Ed25519PublicKey, *, point_id: str,
           bundle_id: str) -> None:
    """Raise :class:`SealRejected` (bad_signature) unless ``label`` signs exactly ``data`` for
    this point, bundle and recipient."""
    digest = hashlib.sha256(data).hexdigest()
    try:
        public.verify(label.signature, statement(point_id, bundle_id, label.recipient, digest))
    except InvalidSignature:
        raise SealRejected(SealCode.BAD_SIGNATURE,
                           f"the signature of key {label.signer} does not match this object "
                           "(changed on the way, or signed for another point or bundle)") from None


def statement(point_id: str, bundle_id: str, recipient_id: str, sha256_hex: str) -> bytes:
    """What the point's key signs."""
    return f"{SEAL_FORMAT}\n{point_id}\n{bundle_id}\n{recipient_id}\n{sha256_hex}\n".encode()
