"""The key commands as an operator uses them: `aspa-agent keys init` on the workstation,
`aspa-ingest keys init | add-point | list | retire | revoke` at Kela (SQLite register)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from aspa_contract.keys import load_signing_key
from ingest.cli import app as ingest_app
from ingest.cli import exit_code
from ingest.keyring import KeyringError
from scanner_agent.cli import app as agent_app

pytestmark = pytest.mark.integration


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"ASPA_INGEST_DB_URL": f"sqlite:///{tmp_path / 'ingest.db'}",
            "ASPA_INGEST_SEALING__IDENTITIES_DIR": str(tmp_path / "kela"),
            "ASPA_PATHS__VAR_DIR": str(tmp_path / "var"),
            "ASPA_POINT__POINT_ID": "hki-kallio"}


def ingest(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(ingest_app, list(args), env=env)


def test_a_point_key_goes_from_the_workstation_to_kelas_register(
        env: dict[str, str], tmp_path: Path) -> None:
    """GIVEN a new workstation WHEN `aspa-agent keys init` runs twice THEN one key file (0600)
    and the same line to send Kela both times; WHEN Kela runs that line THEN `keys list`
    shows the key for the point, valid from now, and running it again changes nothing."""
    first = CliRunner().invoke(agent_app, ["keys", "init"], env=env)
    second = CliRunner().invoke(agent_app, ["keys", "init"], env=env)
    assert first.exit_code == second.exit_code == 0, first.output
    line = first.stdout.strip().splitlines()[-1]
    assert line == second.stdout.strip().splitlines()[-1]
    path = tmp_path / "var" / "keys" / "point-signing.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = load_signing_key(path)
    assert line == f"aspa-ingest keys add-point hki-kallio {key.public_text}"
    assert "PRIVATE" not in first.output

    assert ingest(env, "db", "upgrade").exit_code == 0
    for _ in range(2):
        added = ingest(env, *line.split()[1:])
        assert added.exit_code == 0, added.output
        assert key.key_id in added.stdout
    listed = json.loads(ingest(env, "keys", "list", "--json").stdout)
    [point_key] = listed["points"]
    assert (point_key["point_id"], point_key["key_id"], point_key["public_key"]) == (
        "hki-kallio", key.key_id, key.public_text)
    assert point_key["valid_until"] is None and point_key["revoked_at"] is None


def test_kelas_identity_is_made_once_and_a_rotation_adds_a_second(
        env: dict[str, str], tmp_path: Path) -> None:
    """GIVEN no identity WHEN `keys init` runs twice THEN one identity file (0600) and the same
    age1… printed; WHEN `keys init --new` THEN a second one; `keys list` shows both, and never
    a secret."""
    first, again = ingest(env, "keys", "init"), ingest(env, "keys", "init")
    assert first.exit_code == again.exit_code == 0, first.output
    recipient = first.stdout.strip()
    assert recipient.startswith("age1") and again.stdout.strip() == recipient
    [file] = (tmp_path / "kela").iterdir()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    rotated = ingest(env, "keys", "init", "--new")
    assert rotated.exit_code == 0 and rotated.stdout.strip() != recipient
    assert ingest(env, "db", "upgrade").exit_code == 0
    listed = ingest(env, "keys", "list", "--json")
    assert {i["recipient"] for i in json.loads(listed.stdout)["kela"]} == {
        recipient, rotated.stdout.strip()}
    assert "AGE-SECRET-KEY" not in listed.output + first.output + rotated.output


def test_retire_and_revoke_are_recorded_and_bad_input_is_refused_with_the_fix(
        env: dict[str, str]) -> None:
    """GIVEN a registered key WHEN retired at an instant and then revoked THEN `keys list`
    shows both; a malformed key, an unknown key id or a time without zone is refused."""
    assert CliRunner().invoke(agent_app, ["keys", "init"], env=env).exit_code == 0
    ingest(env, "db", "upgrade")
    key = load_signing_key(Path(env["ASPA_PATHS__VAR_DIR"]) / "keys" / "point-signing.pem")
    assert ingest(env, "keys", "add-point", "hki-kallio", key.public_text).exit_code == 0
    retired = ingest(env, "keys", "retire", key.key_id, "--at", "2027-01-31T00:00:00Z")
    assert retired.exit_code == 0, retired.output
    assert ingest(env, "keys", "revoke", key.key_id).exit_code == 0
    [row] = json.loads(ingest(env, "keys", "list", "--json").stdout)["points"]
    assert row["valid_until"] == "2027-01-31T00:00:00Z" and row["revoked_at"]

    for args, message in (
            (("keys", "add-point", "hki-kallio", "ed25519:short"), "aspa-agent keys init"),
            (("keys", "add-point", "tku-keskusta", key.public_text), "already registered"),
            (("keys", "revoke", "0000000000000000"), "keys list"),
            (("keys", "retire", key.key_id, "--at", "2027-01-31T00:00"), "time zone")):
        result = ingest(env, *args)
        assert isinstance(result.exception, KeyringError), (args, result.output)
        assert exit_code(result.exception) == 1 and message in str(result.exception)
