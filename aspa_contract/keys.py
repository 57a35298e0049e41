"""The keys of sealing: a point's Ed25519 signing key and Kela's age (X25519) identities.

    key = create_signing_key(path)          # aspa-agent keys init: a new key, file mode 0600
    print(key.public_text, key.key_id)      # ed25519:…  →  aspa-ingest keys add-point
    identity = create_identity(folder)      # aspa-ingest keys init: AGE-SECRET-KEY-1… (0600)
    print(identity.recipient)               # age1…      →  the agents' sealing.kela_recipient

A key id is the first 8 bytes of the SHA-256 of the public key, in hex (16 characters): short
enough for object metadata and listings, and it names a key without revealing anything secret.
Private keys are written create-only, readable by the owner only from the first byte on, and
never printed or logged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pyrage import x25519

from aspa_contract.durable import TEMP_PREFIX, fsync_dir

PUBLIC_KEY_PREFIX = "ed25519:"
IDENTITY_SUFFIX = ".age"
KEY_FILE_MODE = 0o600


class UnusableKey(Exception):
    """A key file or key text cannot be used; the message says which and how to fix it."""


@dataclass(frozen=True)
class SigningKey:
    """A point's Ed25519 private key, with its public half as text and its key id."""

    private: Ed25519PrivateKey
    path: Path | None = None

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def public_text(self) -> str:
        """``ed25519:`` + the raw public key in URL-safe base64: what Kela registers."""
        return public_key_text(self.public)

    @property
    def key_id(self) -> str:
        return signing_key_id(self.public)


@dataclass(frozen=True)
class Identity:
    """One of Kela's age identities (the secret) and its recipient (the public key)."""

    secret: x25519.Identity
    path: Path | None = None

    @property
    def recipient(self) -> str:
        return str(self.secret.to_public())

    @property
    def key_id(self) -> str:
        return recipient_key_id(self.recipient)


# --- ids and public key text -----------------------------------------------------------------


def signing_key_id(public: Ed25519PublicKey) -> str:
    """The key id of an Ed25519 public key."""
    return _key_id(public.public_bytes(serialization.Encoding.Raw,
                                       serialization.PublicFormat.Raw))


def recipient_key_id(recipient: str) -> str:
    """The key id of an age recipient (``age1…``)."""
    return _key_id(str(parse_recipient(recipient)).encode("ascii"))


def _key_id(public: bytes) -> str:
    return hashlib.sha256(public).digest()[:8].hex()


def public_key_text(public: Ed25519PublicKey) -> str:
    """``ed25519:<43 characters>``: one word, safe on a command line and in a TOML file."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_KEY_PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """The public key written by :func:`public_key_text`; :class:`UnusableKey` if it is not one."""
    body = text.strip().removeprefix(PUBLIC_KEY_PREFIX)
    if not text.strip().startswith(PUBLIC_KEY_PREFIX):
        raise UnusableKey(f"a point's public key starts with {PUBLIC_KEY_PREFIX!r} (as "
                        "`aspa-agent keys init` prints it)")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if len(raw) != 32:
            raise ValueError(f"{len(raw)} bytes, not 32")
        return Ed25519PublicKey.from_public_bytes(raw)
    except (ValueError, binascii.Error) as exc:
        raise UnusableKey(f"not an Ed25519 public key ({exc}); copy it again from "
                        "`aspa-agent keys init`") from None


def parse_recipient(text: str) -> x25519.Recipient:
    """Kela's public key ``age1…``; :class:`UnusableKey` if it is not one."""
    try:
        return x25519.Recipient.from_str(text.strip())
    except Exception as exc:  # pyrage raises plain ValueError-like errors of its own
        raise UnusableKey(f"not an age X25519 recipient ({exc}); it looks like age1… as "
                        "`aspa-ingest keys init` prints it") from None


# --- the point's signing key -----------------------------------------------------------------


def create_signing_key(path: Path) -> SigningKey:
    """A new signing key written to ``path`` (0600). An existing file is kept and returned:
    a key is never overwritten, so running ``keys init`` twice is harmless."""
    if path.exists():
        return load_signing_key(path)
    key = SigningKey(Ed25519PrivateKey.generate(), path)
    if not save_signing_key(key, path):  # another process made one in the meantime: use that
        return load_signing_key(path)
    return key


def save_signing_key(key: SigningKey, path: Path) -> bool:
    """Write ``key`` to ``path`` as unencrypted PKCS#8 PEM, 0600; False if ``path`` exists."""
    pem = key.private.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    return write_secret(path, pem)


def load_signing_key(path: Path) -> SigningKey:
    """The signing key in ``path``; :class:`UnusableKey` naming the fix if it cannot be used."""
    try:
        pem = path.read_bytes()
    except FileNotFoundError:
        raise UnusableKey(f"no signing key at {path}; create one with `aspa-agent keys init` "
                        "and have Kela register its public key") from None
    except OSError as exc:
        raise UnusableKey(f"cannot read the signing key {path}: {exc.strerror}") from None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise UnusableKey(f"{path} is not an unencrypted PEM private key; create a new one with "
                        "`aspa-agent keys init --key NEW_PATH`") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise UnusableKey(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return SigningKey(key, path)


# --- Kela's identities -----------------------------------------------------------------------


def create_identity(folder: Path) -> Identity:
    """A new age identity in ``folder`` as ``{key_id}.age`` (0600), in age-keygen's format."""
    return save_identity(Identity(x25519.Identity.generate()), folder)


def save_identity(identity: Identity, folder: Path) -> Identity:
    """Write ``identity`` to ``folder`` as ``{key_id}.age`` (0600) unless it is there."""
    created = datetime.now(UTC).isoformat(timespec="seconds")
    text = f"# created: {created}\n# public key: {identity.recipient}\n{identity.secret}\n"
    path = folder / f"{identity.key_id}{IDENTITY_SUFFIX}"
    write_secret(path, text.encode("ascii"))
    return Identity(identity.secret, path)


def load_identities(folder: Path) -> dict[str, Identity]:
    """Every identity in ``folder`` (``*.age``), by key id; empty if there is no folder."""
    found: dict[str, Identity] = {}
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob(f"*{IDENTITY_SUFFIX}")):
        if path.name.startswith("."):
            continue
        for identity in _identities_in(path):
            found[identity.key_id] = identity
    return found


def _identities_in(path: Path) -> list[Identity]:
    try:
        lines = path.read_text("ascii").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UnusableKey(f"cannot read the identity file {path}: {exc}") from None
    identities = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            identities.append(Identity(x25519.Identity.from_str(line), path))
        except Exception:  # pyrage's own error type; the line is a secret: never quote it
            raise UnusableKey(f"{path} holds a line that is not an age X25519 identity "
                            "(AGE-SECRET-KEY-1…)") from None
    return identities


# --- writing secrets -------------------------------------------------------------------------


def write_secret(path: Path, data: bytes) -> bool:
    """Create ``path`` with ``data``, mode 0600 from the first byte, fsynced; False (nothing
    written) if it exists. Like :func:`aspa_contract.durable.write_atomic` with exclusive=True,
    but the temp file is never readable by others, even for an instant."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{path.name}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    fsync_dir(path.parent)
    return True
