"""Ingest configuration: defaults, the documented example, environment override, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.settings import IngestConfig, IngestConfigError, load_ingest_config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_ingest_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("ASPA_INGEST_")]:
        monkeypatch.delenv(name)


def test_defaults_are_embedded_sqlite_and_a_local_store(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no config/ingest.toml here
    config = load_ingest_config()
    assert (config.db_url, config.storage_url, config.queue_url) == (
        "sqlite:///var/ingest.db", "file:var/store", None)


def test_the_documented_example_loads_with_the_defaults() -> None:
    example = load_ingest_config(REPO / "config" / "ingest.toml")
    assert example.model_dump() == IngestConfig().model_dump()


def test_environment_overrides_the_file_at_top_level_and_in_sections(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = tmp_path / "ingest.toml"
    file.write_text('db_url = "sqlite:///from-file.db"\n[sqs]\nwait_time_s = 10\n'
                    'max_messages = 5\n')
    monkeypatch.setenv("ASPA_INGEST_DB_URL", "postgresql+psycopg://aspa@db:5432/aspa")
    monkeypatch.setenv("ASPA_INGEST_SQS__WAIT_TIME_S", "2")
    monkeypatch.setenv("ASPA_INGEST_STORAGE__ENDPOINT_URL", "http://127.0.0.1:9000")
    config = load_ingest_config(file)
    assert config.db_url == "postgresql+psycopg://aspa@db:5432/aspa"
    assert (config.sqs.wait_time_s, config.sqs.max_messages) == (2, 5)
    assert config.storage.endpoint_url == "http://127.0.0.1:9000"


def test_explicit_overrides_win_over_the_environment(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASPA_INGEST_WORKERS", "3")
    (tmp_path / "ingest.toml").write_text("workers = 2\n")
    config = load_ingest_config(tmp_path / "ingest.toml", workers=5, sqs__max_messages=1)
    assert (config.workers, config.sqs.max_messages) == (5, 1)


@pytest.mark.parametrize(
    ("text", "key", "env"),
    [
        ('db_url = "mysql://kela@db/aspa"\n', "db_url", "ASPA_INGEST_DB_URL"),
        ('db_url = "not a url"\n', "db_url", "ASPA_INGEST_DB_URL"),
        ('storage_url = "ftp://store"\n', "storage_url", "ASPA_INGEST_STORAGE_URL"),
        ('[sqs]\nwait_time_s = 30\n', "sqs.wait_time_s", "ASPA_INGEST_SQS__WAIT_TIME_S"),
        ('reconcile_interval = 60\n', "reconcile_interval", "ASPA_INGEST_RECONCILE_INTERVAL"),
    ],
)
def test_a_bad_value_fails_naming_the_key_and_its_variable(tmp_path: Path, text: str, key: str,
                                                           env: str) -> None:
    file = tmp_path / "ingest.toml"
    file.write_text(text)
    with pytest.raises(IngestConfigError) as caught:
        load_ingest_config(file)
    assert f"`{key}`" in str(caught.value) and env in str(caught.value)


def test_a_password_in_a_bad_database_url_is_not_echoed(tmp_path: Path) -> None:
    file = tmp_path / "ingest.toml"
    file.write_text('db_url = "mysql://kela:s3cret@db/aspa"\n')
    with pytest.raises(IngestConfigError) as caught:
        load_ingest_config(file)
    assert "s3cret" not in str(caught.value)


def test_a_missing_config_file_says_how_to_name_one(tmp_path: Path) -> None:
    with pytest.raises(IngestConfigError, match="--config"):
        load_ingest_config(tmp_path / "absent.toml")
