"""The ingest's configuration: a typed model read from TOML, overridden by ``ASPA_INGEST_*``.

Environment variables use ``__`` between section and key: ``ASPA_INGEST_DB_URL=…``,
``ASPA_INGEST_SQS__WAIT_TIME_S=5``. A bad value stops the ingest at start with a message that
names the key and says how to fix it (see :func:`load_ingest_config`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from aspa_contract.config_files import load_settings
from aspa_contract.storage import StorageConfigError, StorageSettings, parse_storage_url
from aspa_contract.storage.endpoints import queue_endpoint, queue_region
from ingest.errors import IngestError

DEFAULT_CONFIG_FILE = Path("config/ingest.toml")
ENV_PREFIX = "ASPA_INGEST_"
_DB_URL_EXAMPLES = "sqlite:///var/ingest.db or postgresql+psycopg://user@host:5432/aspa"


class IngestConfigError(IngestError):
    """The configuration cannot be used; the message names the key and the fix (exit 2)."""


class SqsSettings(BaseModel):
    """How to long-poll the SQS queue that carries the store's ObjectCreated events."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint_url: str | None = Field(
        default=None, description="SQS API endpoint; None = derived: the queue URL's own host "
        "when it is not AWS, else storage.endpoint_url (an emulator), else AWS.")
    region: str | None = Field(
        default=None, description="AWS region of the queue; None = derived: the region in an "
        "AWS queue URL, else storage.region, else the environment.")
    wait_time_s: int = Field(
        default=20, ge=0, le=20, description="Long-poll wait per receive call (SQS max 20).")
    max_messages: int = Field(
        default=10, ge=1, le=10, description="Messages per receive call (SQS max 10).")
    visibility_timeout_s: int = Field(
        default=300, ge=10, le=43_200,
        description="How long a taken message stays hidden from other workers; longer than "
        "the slowest verify + register of one bundle.")


class SealingSettings(BaseModel):
    """Where Kela's age identities are: the secret halves of the keys agents seal bundles to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    identities_dir: Path = Field(
        default=Path("var/keys/ingest"),
        description="Folder of Kela's identities, one `{key_id}.age` file each (mode 0600, "
        "made by `aspa-ingest keys init`). Several during a rotation; a bundle names the one "
        "it was sealed to. Read at start: restart the workers after adding one.")


class IngestConfig(BaseSettings):
    """Everything the ingest reads at start. ``config/ingest.toml`` is a documented example."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__",
                                      extra="forbid")

    storage_url: str = Field(
        default="file:var/store",
        description="The exchange store: file:///abs/dir, file:rel/dir or s3://bucket/prefix.")
    storage: StorageSettings = Field(
        default_factory=StorageSettings,
        description="Client settings of an s3: store (endpoint, region, profile, KMS key).")
    db_url: str = Field(
        default="sqlite:///var/ingest.db",
        description="SQLAlchemy URL of the case database: SQLite embedded, PostgreSQL at scale.")
    queue_url: str | None = Field(
        default=None,
        description="SQS queue URL with the store's ObjectCreated events; None = discover by "
        "listing incoming/ every reconcile_interval_s only.")
    sqs: SqsSettings = Field(default_factory=SqsSettings)
    sealing: SealingSettings = Field(default_factory=SealingSettings)
    reconcile_interval_s: float = Field(
        default=300.0, gt=0, le=86_400,
        description="How often a full listing of incoming/ catches bundles whose event was lost.")
    workers: int = Field(
        default=1, ge=1, le=64, description="Worker threads per `aspa-ingest run` process.")

    @field_validator("db_url")
    @classmethod
    def _db_url_parses(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError(f"not a database URL; write it as {_DB_URL_EXAMPLES}") from None
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"only SQLite and PostgreSQL are supported; {_DB_URL_EXAMPLES}")
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage_url_parses(cls, value: str) -> str:
        try:
            parse_storage_url(value)
        except StorageConfigError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("queue_url")
    @classmethod
    def _queue_url_parses(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                queue_endpoint(value, StorageSettings())
            except StorageConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _queue_follows_the_store(self) -> IngestConfig:
        """Fill in ``sqs.endpoint_url`` and ``sqs.region`` left out, from the queue URL and the
        store's settings: left to botocore, a moto or LocalStack queue would be asked for at
        AWS's public endpoint."""
        if self.queue_url is not None:
            self.sqs = self.sqs.model_copy(update={
                "endpoint_url": self.sqs.endpoint_url or queue_endpoint(self.queue_url,
                                                                        self.storage),
                "region": self.sqs.region or queue_region(self.queue_url, self.storage)})
        return self


def load_ingest_config(path: Path | None = None, **overrides: Any) -> IngestConfig:
    """Read ``path`` (or ``config/ingest.toml`` if present), apply ``ASPA_INGEST_*``, ``overrides``.

    Environment variables win over the file; ``overrides`` (from the CLI, ``section__key`` or a
    top-level name) win over both. Raises :class:`IngestConfigError` naming each bad key.
    """
    file = path if path is not None else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists()
                                          else None)
    return load_settings(IngestConfig, file, overrides, IngestConfigError,
                         what="ingest configuration")
