"""Configuration: file, environment override, and errors that name the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner_agent.config import load_config
from scanner_agent.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_the_documented_example_loads_with_its_defaults() -> None:
    config = load_config(REPO / "config" / "agent.toml")
    assert config.point.point_id == "demo-point"
    assert config.ocr.languages == "fin+swe"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "agent.toml"
    file.write_text('[point]\npoint_id = "from-file"\n[ocr]\nworkers = 1\n')
    monkeypatch.setenv("ASPA_OCR__WORKERS", "3")
    config = load_config(file)
    assert (config.point.point_id, config.ocr.workers) == ("from-file", 3)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[point]\npoint_id = "Kallio ASPA"\n', "point.point_id"),
        ('[ocr]\nlanguages = "eng"\n', "ocr.languages"),
        ('[intake]\nquiet = 2\n', "intake.quiet"),
    ],
)
def test_a_bad_value_fails_naming_key_and_fix(tmp_path: Path, text: str, key: str) -> None:
    file = tmp_path / "agent.toml"
    file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(file)
    message = str(caught.value)
    assert key in message
    assert "ASPA_" + key.replace(".", "__").upper() in message


def test_a_missing_or_malformed_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[point\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_a_relative_var_dir_is_made_absolute_so_watcher_and_pipeline_paths_agree(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None, paths__var_dir=Path("var"))
    assert config.paths.inbox == tmp_path / "var" / "inbox"


def test_the_documented_example_states_exactly_the_defaults(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A default changed in code but not in config/agent.toml (or back) is caught here."""
    for name in [n for n in __import__("os").environ if n.startswith("ASPA_")]:
        monkeypatch.delenv(name)
    from scanner_agent.config import AgentConfig

    assert load_config(REPO / "config" / "agent.toml") == AgentConfig()
