"""``aspa-agent keys``: this service point's signing key.

    aspa-agent keys init                   # once per workstation: prints ed25519:… for Kela
    aspa-agent keys init --key NEW_PATH    # a rotation: a second key beside the first

Errors are raised as :class:`~scanner_agent.errors.AgentError`s; ``scanner_agent.cli`` maps
them to exit codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aspa_contract.keys import UnusableKey, create_signing_key
from scanner_agent.config import load_config
from scanner_agent.errors import ConfigError

keys_app = typer.Typer(no_args_is_help=True, help="This point's key for signing bundles.")


@keys_app.command("init")
def keys_init(
    key: Annotated[Path | None, typer.Option("--key", help="Where to write the key; default "
                                             "sealing.signing_key.")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c",
                                                help="agent.toml to read.")] = None,
) -> None:
    """Create this point's signing key (mode 0600; an existing one is kept) and print its
    public key: Kela registers it with `aspa-ingest keys add-point POINT KEY`."""
    cfg = load_config(config)
    path = key or cfg.signing_key_path
    existed = path.exists()
    try:
        signing = create_signing_key(path)
    except UnusableKey as exc:
        raise ConfigError(f"sealing.signing_key: {exc}") from None
    typer.echo(f"{'kept the existing' if existed else 'wrote a new'} key {path} "
               f"(key id {signing.key_id}); send Kela this line:", err=True)
    typer.echo(f"aspa-ingest keys add-point {cfg.point.point_id} {signing.public_text}")
