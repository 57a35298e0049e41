"""``aspa-ingest keys``: Kela's identities and the points' registered signing keys.

    aspa-ingest keys init                                   # Kela's age identity; prints age1…
    aspa-ingest keys add-point hki-kallio ed25519:…         # what `aspa-agent keys init` printed
    aspa-ingest keys list [--json]
    aspa-ingest keys retire KEY_ID --at 2027-01-31T00:00:00Z   # end of a rotation window
    aspa-ingest keys revoke KEY_ID                          # compromised: refuse from now on

Errors are raised as :class:`~ingest.errors.IngestError`s; ``ingest.cli`` maps them to exit codes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from aspa_contract.instants import utc_text
from aspa_contract.keys import create_identity
from ingest.db import make_engine, require_current
from ingest.keyring import (
    KeyringError,
    PointKeyView,
    add_point_key,
    list_point_keys,
    load_kela_identities,
    retire_key,
    revoke_key,
)
from ingest.settings import load_ingest_config

keys_app = typer.Typer(no_args_is_help=True,
                       help="Sealing keys: Kela's identities, the points' signing keys.")

ConfigOpt = Annotated[Path | None, typer.Option("--config", "-c", help="ingest.toml to read.")]
WhenOpt = Annotated[str | None, typer.Option(help="UTC instant, e.g. 2027-01-31T00:00:00Z.")]
KeyIdArg = Annotated[str, typer.Argument(help="The point key's id (`keys list`).")]


@keys_app.command("init")
def keys_init(
    new: Annotated[bool, typer.Option("--new", help="Add another identity (a rotation) even "
                                      "if one exists.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Create Kela's age identity in sealing.identities_dir (once) and print its public key
    for the agents' sealing.kela_recipient."""
    folder = load_ingest_config(config).sealing.identities_dir
    existing = load_kela_identities(folder)
    if existing and not new:
        identity = sorted(existing.values(), key=lambda i: str(i.path))[-1]
        typer.echo(f"an identity exists already ({identity.path}); --new adds another",
                   err=True)
    else:
        identity = create_identity(folder)
        typer.echo(f"wrote {identity.path} (mode 0600: keep it secret, back it up)", err=True)
    typer.echo(f"key id {identity.key_id}; agents set sealing.kela_recipient to:", err=True)
    typer.echo(identity.recipient)


@keys_app.command("add-point")
def keys_add_point(
    point: Annotated[str, typer.Argument(help="The service point's id, e.g. hki-kallio.")],
    public_key: Annotated[str, typer.Argument(help="ed25519:… as `aspa-agent keys init` "
                                              "printed it.")],
    valid_from: WhenOpt = None,
    valid_until: WhenOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Register a point's signing key (idempotent). Bundles it signs are accepted if they
    arrive from --valid-from (default now) until --valid-until (default open)."""
    with _database(config) as engine:
        key = add_point_key(engine, point, public_key, valid_from=_instant(valid_from),
                            valid_until=_instant(valid_until))
    typer.echo(f"point {key.point_id}: key {key.key_id} valid from {utc_text(key.valid_from)}"
               + (f" until {utc_text(key.valid_until)}" if key.valid_until else ""))


@keys_app.command("list")
def keys_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")] = False,
    config: ConfigOpt = None,
) -> None:
    """Kela's identities (public halves only) and every registered point key."""
    cfg = load_ingest_config(config)
    identities = load_kela_identities(cfg.sealing.identities_dir)
    with _database(config) as engine:
        points = list_point_keys(engine)
    if as_json:
        json.dump({"kela": [{"key_id": i.key_id, "recipient": i.recipient, "file": str(i.path)}
                            for i in identities.values()],
                   "points": [key.to_json() for key in points]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    console = Console()
    console.print(f"Kela's identities in {cfg.sealing.identities_dir}:")
    for identity in identities.values():
        console.print(f"  {identity.key_id}  {identity.recipient}")
    if not identities:
        console.print("  none: `aspa-ingest keys init` makes one")
    _print_point_keys(console, points)


@keys_app.command("retire")
def keys_retire(
    key_id: KeyIdArg,
    at: Annotated[str, typer.Option(help="UTC instant: bundles arriving from then on are "
                                    "refused, e.g. 2027-01-31T00:00:00Z.")],
    config: ConfigOpt = None,
) -> None:
    """End a point key's rotation window: bundles that arrived before --at are still taken."""
    when = _instant(at)
    assert when is not None
    with _database(config) as engine:
        key = retire_key(engine, key_id, when)
    typer.echo(f"key {key.key_id} of {key.point_id} retired at {utc_text(when)}")


@keys_app.command("revoke")
def keys_revoke(
    key_id: KeyIdArg,
    config: ConfigOpt = None,
) -> None:
    """Revoke a point key that may be in someone else's hands: nothing it signed is accepted
    from now on, whenever it arrived."""
    with _database(config) as engine:
        key = revoke_key(engine, key_id)
    assert key.revoked_at is not None
    typer.echo(f"key {key.key_id} of {key.point_id} revoked at {utc_text(key.revoked_at)}")


def _instant(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise KeyringError(f"{text!r} is not a time like 2027-01-31T00:00:00Z") from None
    if when.tzinfo is None:
        raise KeyringError(f"{text!r} has no time zone; end it with Z for UTC")
    return when


@contextmanager
def _database(config_path: Path | None) -> Iterator[Engine]:
    engine = make_engine(load_ingest_config(config_path).db_url)
    try:
        require_current(engine)
        yield engine
    finally:
        engine.dispose()


def _print_point_keys(console: Console, keys: list[PointKeyView]) -> None:
    table = Table(caption="times in UTC", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("point", "key id", "valid from", "valid until", "revoked"):
        table.add_column(name, no_wrap=True)
    for key in keys:
        table.add_row(key.point_id, key.key_id, utc_text(key.valid_from),
                      utc_text(key.valid_until) if key.valid_until else "—",
                      utc_text(key.revoked_at) if key.revoked_at else "—")
    console.print(table)
