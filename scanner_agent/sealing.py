"""The agent's half of sealing: its point's signing key and Kela's public key, from the config.

    sealer = load_sealer(config)          # at start: a missing key stops the agent (exit 2)
    sealed = sealer.seal(zip_bytes, point_id, bundle_id)

The outbox keeps the plain zip (the scans it was made from wait in ``done/`` unencrypted for
as long anyway, and the crash recovery reads it); a bundle is sealed each time it is uploaded,
so one that waited through a rotation of Kela's key goes out to the current key. See
:mod:`aspa_contract.sealing` for the format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from aspa_contract.keys import SigningKey, UnusableKey, load_signing_key, parse_recipient
from aspa_contract.sealing import SealedBundle, seal
from scanner_agent.config import AgentConfig
from scanner_agent.errors import ConfigError


class BundleSealer(Protocol):
    """What the deliverer needs: seal one bundle's zip for upload."""

    def seal(self, plain: bytes, point_id: str, bundle_id: str) -> SealedBundle: ...


@dataclass(frozen=True)
class Sealer:
    """Seals bundles to ``recipient`` (Kela, ``age1…``) with this point's ``signing_key``."""

    signing_key: SigningKey
    recipient: str

    def seal(self, plain: bytes, point_id: str, bundle_id: str) -> SealedBundle:
        """``plain`` encrypted to Kela and signed by this point."""
        return seal(plain, point_id=point_id, bundle_id=bundle_id, recipient=self.recipient,
                    signer=self.signing_key)


def load_sealer(config: AgentConfig) -> Sealer:
    """The sealer of ``config``; :class:`ConfigError` naming the fix if a key is missing."""
    recipient = config.sealing.kela_recipient
    if not recipient:
        raise ConfigError("sealing.kela_recipient (ASPA_SEALING__KELA_RECIPIENT) is empty: "
                          "set it to Kela's public key (age1…) before delivering bundles")
    try:
        parse_recipient(recipient)
        return Sealer(load_signing_key(config.signing_key_path), recipient)
    except UnusableKey as exc:
        raise ConfigError(f"sealing: {exc}") from None


def check_sealing(config: AgentConfig) -> list[str]:
    """For ``doctor``: the signing key and Kela's public key are there and usable."""
    try:
        sealer = load_sealer(config)
    except ConfigError as exc:
        return [str(exc)]
    if sealer.signing_key.path is not None and sealer.signing_key.path.stat().st_mode & 0o077:
        return [f"{sealer.signing_key.path} is readable by other users; chmod 600 it"]
    return []
