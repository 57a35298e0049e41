"""`aspa-agent demo` (what `./dev.sh demo` runs) on the embedded default, sealed end to end.

GIVEN an empty var/ folder
WHEN the demo runs to the end of its samples, twice
THEN the first run makes the point's signing key and Kela's stand-in identity and registers the
     point's key, the second reuses them (no new key, no second registration); every sample
     bundle becomes a pending case with a receipt both times, and the folder store holds only
     sealed objects.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from aspa_contract.keys import load_signing_key
from ingest.db.models import Case, PointKey
from scanner_agent.config import load_config
from scanner_agent.demo import run_demo

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_seals_with_keys_it_makes_once(tmp_path: Path) -> None:
    var = tmp_path / "var"
    config = load_config(REPO / "config" / "agent.toml", paths__var_dir=var,
                         intake__quiet_s=0.3, intake__folder_quiet_s=1.0,
                         intake__undecodable_grace_s=2.0)
    key_ids, bundles = [], 0
    for _ in range(2):
        outcomes = run_demo(config, once=True)
        bundles += sum(1 for o in outcomes if o.bundle is not None)
        key_ids.append(load_signing_key(var / "keys" / "point-signing.pem").key_id)
        assert len(list((var / "keys" / "ingest").glob("*.age"))) == 1
    assert key_ids[0] == key_ids[1] and bundles == 6

    engine = create_engine(f"sqlite:///{var / 'ingest.db'}")
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Case)).scalar_one() == 6
        assert connection.execute(select(PointKey.point_id, PointKey.key_id)).all() == [
            ("demo-point", key_ids[0])]
    engine.dispose()
    archived = list((var / "store" / "archive").rglob("*.zip"))
    assert len(archived) == 6
    assert all(b"manifest.json" not in path.read_bytes() for path in archived)
