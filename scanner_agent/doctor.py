"""``aspa-agent doctor``: every check the agent needs to do its job, each with a fix."""

from __future__ import annotations

import os
import tempfile

from aspa_contract.checks import Check
from aspa_contract.storage import StorageError, open_storage, redact_url
from scanner_agent.config import AgentConfig
from scanner_agent.intake.sane_source import check_scanner
from scanner_agent.ocr import check_tesseract
from scanner_agent.sealing import check_sealing


def run_checks(config: AgentConfig) -> list[Check]:
    """Config validity is implied: ``config`` was loaded, or we never got here."""
    return [
        Check("config", []),
        Check("tesseract", check_tesseract(config.ocr)),
        Check("scanner", check_scanner(config.scanner), required=bool(config.scanner.device)),
        Check("folders", check_folders(config)),
        Check("catalogue", check_catalogue(config)),
        Check("storage", check_storage(config), required=config.delivery.enabled),
        Check("sealing", check_sealing(config), required=config.delivery.enabled),
    ]


def check_folders(config: AgentConfig) -> list[str]:
    """Each working folder exists (or can be made) and accepts a file."""
    problems = []
    paths = config.paths
    for folder in (paths.inbox, paths.outbox, paths.done, paths.quarantine):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
                pass
        except OSError as exc:
            problems.append(f"{folder}: not writable ({exc.strerror}); fix its permissions "
                            f"or set ASPA_PATHS__VAR_DIR")
    free = _free_mb(paths.var_dir)
    if free is not None and free < 200:
        problems.append(f"{paths.var_dir}: only {free} MB free; bundles need room")
    return problems


def check_catalogue(config: AgentConfig) -> list[str]:
    from classifiers.catalogue import CatalogueError, load_catalogue

    try:
        load_catalogue(config.classifier.catalogue)
    except (CatalogueError, OSError) as exc:
        return [f"form catalogue: {exc}"]
    return []


def check_storage(config: AgentConfig) -> list[str]:
    """The delivery store answers and lets us write (or: none is configured)."""
    if not config.delivery.enabled:
        return ["no delivery.storage_url set: bundles stay in the outbox"]
    try:
        open_storage(config.delivery.storage_url, config.delivery.storage).check()
    except StorageError as exc:
        return [f"{redact_url(config.delivery.storage_url)}: {exc}"]
    return []


def _free_mb(folder: os.PathLike[str]) -> int | None:
    try:
        stat = os.statvfs(folder)
    except OSError:
        return None
    return stat.f_bavail * stat.f_frsize // (1 << 20)
