"""The agent's configuration: a typed model read from TOML, overridden by ``ASPA_*`` variables.

Environment variables use ``__`` between section and key: ``ASPA_OCR__WORKERS=4``,
``ASPA_POINT__POINT_ID=hki-kallio``. A bad value stops the agent at start with a message that
names the key and says how to fix it (see :func:`load_config`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from aspa_contract.config_files import load_settings
from aspa_contract.storage import StorageConfigError, StorageSettings, parse_storage_url
from scanner_agent.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("config/agent.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PointSettings(_Section):
    point_id: str = Field("demo-point", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
                          description="This service point's id, a lower-case slug given by Kela.")
    clerk_id: str = Field("clerk", pattern=r"^[a-z0-9][a-z0-9-]{0,62}$",
                          description="Default clerk id when the scan does not name one.")


class PathSettings(_Section):
    var_dir: Path = Field(Path("var"), validate_default=True,
                          description="Root of the agent's working folders.")

    @field_validator("var_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Relative to where the agent starts; absolute from then on, so that paths from the
        # watcher and from the config always compare equal.
        return value.expanduser().absolute()

    @property
    def inbox(self) -> Path:
        return self.var_dir / "inbox"

    @property
    def outbox(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def done(self) -> Path:
        return self.var_dir / "done"

    @property
    def quarantine(self) -> Path:
        return self.var_dir / "quarantine"

    @property
    def work(self) -> Path:
        return self.var_dir / "work"


class IntakeSettings(_Section):
    polling: bool = Field(False, description="Poll the inbox instead of inotify (network shares).")
    poll_interval_s: float = Field(1.0, gt=0, le=60)
    quiet_s: float = Field(2.0, ge=0, le=600,
                           description="A file is taken after its size and mtime held this long.")
    folder_quiet_s: float = Field(10.0, ge=0, le=3600,
                                  description="A sub-folder closes after this long with no change "
                                  "(or at once when it holds a `.done` file).")
    undecodable_grace_s: float = Field(30.0, ge=0, le=3600,
                                       description="How long a stable file that does not decode is "
                                       "waited for before it goes to quarantine.")


class ScannerSettings(_Section):
    device: str = Field("", description="SANE device name as `scanimage -L` shows it; "
                        "empty = the first device.")
    source: Literal["Flatbed", "ADF"] = "ADF"
    mode: Literal["Gray", "Color", "Lineart"] = "Gray"
    resolution: int = Field(300, ge=150, le=600)
    max_pages: int = Field(50, ge=1, le=500, description="Cap on pages in one scan job.")
    page_timeout_s: float = Field(120.0, gt=0, le=3600,
                                  description="A page not read in this long (lamp warm-up "
                                  "and paper feed included) is cancelled and the job fails: "
                                  "a scanner that stops answering must not block the scan.")
    extra_options: dict[str, str | int | float] = Field(
        default_factory=dict,
        description="Vendor options passed to the device as is, by SANE option name "
        "(`scanimage --help -d DEVICE` lists them), e.g. {\"swdeskew\" = 1}; set after the "
        "standard ones.")


class PrepareSettings(_Section):
    max_pixels: int = Field(60_000_000, ge=1_000_000,
                            description="Larger images are refused (A4 at 600 dpi is 35 Mpx).")
    min_dpi: int = Field(200, ge=50, description="Below this a page carries a warning.")
    blank_ink_ratio: float = Field(0.00015, gt=0, lt=0.2,
                                   description="A page with less dark-pixel share is blank. "
                                   "Measured on a 75 dpi copy inside a 16 mm margin; one "
                                   "short line of text is about 0.001, thirty dust specks "
                                   "0.00004.")
    osd_dpi: int = Field(150, ge=75, le=300,
                         description="Orientation detection runs on a copy at this dpi "
                         "(100 dpi gave wrong answers; 300 dpi costs 50% more).")
    osd_min_confidence: float = Field(2.5, ge=0,
                                      description="Turn a page only when tesseract OSD is at "
                                      "least this confident (a two-line page scores ~3).")
    max_light_spread: int = Field(24, ge=0, le=255,
                                  description="Paper whose brightness varies more than this "
                                  "(0-255, shadow to lit) across the page is evened out "
                                  "before OSD and OCR.")
    max_pages_per_document: int = Field(200, ge=1, le=500)


ImageLayer = Literal["bilevel", "jpeg"]


class OcrSettings(_Section):
    languages: str = Field("fin+swe", description="Tesseract languages; never `eng` alone.")
    workers: int = Field(0, ge=0, le=64, description="Pages OCR'd at once; 0 = one per core.")
    tesseract_cmd: str = "tesseract"
    timeout_s: float = Field(120.0, gt=0, description="Per tesseract call.")
    read_strips: bool = Field(True, description="Read the header (top 15%) and footer (bottom "
                              "10%) in a second tesseract run (+0.25–0.35 s a page, 15–30%); "
                              "false = take them from the full-page words.")
    image_layer: ImageLayer = Field("bilevel", description="How page images are stored in the "
                                    "searchable PDF: `bilevel` = CCITT G4 (≈ 10–40 kB a text "
                                    "page), `jpeg` = greyscale JPEG q60 (150–500 kB a page).")

    @field_validator("languages")
    @classmethod
    def _keep_nordic_letters(cls, value: str) -> str:
        if value.strip() == "eng":
            raise ValueError("`eng` alone loses å/ä/ö; use `fin+swe`")
        return value

    def worker_count(self) -> int:
        return self.workers or os.cpu_count() or 1


class ClassifierSettings(_Section):
    catalogue: Path | None = Field(None, description="Form catalogue TOML; None = "
                                   "config/forms.toml shipped with the agent.")
    model: Path | None = Field(None, description="Trained model file (only files from a "
                               "trusted admin: loading runs code); None = the shipped "
                               "classifiers/models/default.joblib, or rules alone without it.")


class DeliverySettings(_Section):
    storage_url: str = Field("", description="Where bundles go: `s3://bucket/prefix` or "
                             "`file:///dir`; empty = no delivery (bundles wait in the outbox).")
    storage: StorageSettings = Field(default_factory=StorageSettings,
                                     description="S3 client settings (endpoint, region, "
                                     "profile, KMS key, timeouts); ignored by `file:`.")
    outbox_poll_s: float = Field(2.0, gt=0, le=600,
                                 description="How often the outbox is looked at for new bundles.")
    receipt_poll_s: float = Field(30.0, gt=0, le=3600,
                                  description="How often receipts of uploaded bundles are asked "
                                  "for.")
    receipt_timeout_s: float = Field(4 * 3600.0, gt=0,
                                     description="An uploaded bundle with no receipt after this "
                                     "long is flagged for a person (never deleted).")
    backoff_base_s: float = Field(1.0, gt=0, le=600,
                                  description="First back-off after the store failed; doubles "
                                  "with each failure in a row (full jitter).")
    backoff_cap_s: float = Field(60.0, gt=0, le=3600,
                                 description="Longest back-off between tries while the store "
                                 "is down.")

    @field_validator("storage_url")
    @classmethod
    def _usable_url(cls, value: str) -> str:
        if value:
            try:
                parse_storage_url(value)
            except StorageConfigError as exc:
                raise ValueError(str(exc)) from None
        return value

    @property
    def enabled(self) -> bool:
        """False when no store is configured: bundles stay in the outbox."""
        return bool(self.storage_url)


class SealingSettings(_Section):
    signing_key: Path | None = Field(None, description="This point's Ed25519 signing key (PEM, "
                                     "mode 0600), made by `aspa-agent keys init`; None = "
                                     "{paths.var_dir}/keys/point-signing.pem.")
    kela_recipient: str = Field("", description="Kela's public key (age1…, from `aspa-ingest "
                                "keys init`) every bundle is encrypted to; needed for delivery.")

    @field_validator("kela_recipient")
    @classmethod
    def _age_recipient(cls, value: str) -> str:
        if value and not value.startswith("age1"):
            raise ValueError("Kela's public key looks like age1…; copy it from Kela")
        return value


class AgentConfig(BaseSettings):
    """Everything the agent reads at start. See ``config/agent.toml`` for a documented example."""

    model_config = SettingsConfigDict(env_prefix="ASPA_", env_nested_delimiter="__",
                                      extra="forbid")

    point: PointSettings = PointSettings()
    paths: PathSettings = PathSettings()
    intake: IntakeSettings = IntakeSettings()
    scanner: ScannerSettings = ScannerSettings()
    prepare: PrepareSettings = PrepareSettings()
    ocr: OcrSettings = OcrSettings()
    classifier: ClassifierSettings = ClassifierSettings()
    delivery: DeliverySettings = DeliverySettings()
    sealing: SealingSettings = SealingSettings()

    @property
    def signing_key_path(self) -> Path:
        """Where this point's signing key is (``sealing.signing_key`` or its default)."""
        return self.sealing.signing_key or self.paths.var_dir / "keys" / "point-signing.pem"


def load_config(path: Path | None = None, **overrides: Any) -> AgentConfig:
    """Read ``path`` (or ``config/agent.toml`` if present), apply ``ASPA_*`` and ``overrides``.

    Environment variables win over the file; explicit ``overrides`` (``section__key``, from the
    CLI) win over both. Raises :class:`ConfigError` naming each bad key and its fix.
    """
    file = path if path is not None else (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists()
                                          else None)
    return load_settings(AgentConfig, file, overrides, ConfigError)
