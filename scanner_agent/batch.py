"""``aspa-agent bundle``: files or folders → bundles in a folder, no inbox, no upload."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aspa_contract.durable import write_atomic
from aspa_contract.hetu import mask
from aspa_contract.names import public_name
from classifiers.loading import load_classifier
from scanner_agent.bundle import Bundle, Handover
from scanner_agent.config import AgentConfig
from scanner_agent.decode import decode_file
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.intake.folder import folder_documents
from scanner_agent.pipeline import Agent, SourceDocument, make_bundle


def bundle_paths(paths: list[Path], out: Path, config: AgentConfig) -> dict[str, Any]:
    """One bundle per path (a file = one document, a folder = its files in name order)."""
    classifier = load_classifier(config.classifier.catalogue, config.classifier.model)
    agent = Agent.start(config, classifier)
    bundles: list[dict[str, Any]] = []
    rejected: list[dict[str, str]] = []
    try:
        for path in paths:
            try:
                made = make_bundle(_documents(path, config), _handover(path, config), agent)
            except InputRejected as exc:
                rejected.append({"path": str(path.parent / public_name(path)),
                                 "code": exc.code.value,
                                 "reason": exc.reason_text().splitlines()[2]})
                continue
            target = out / f"{made.bundle_id}.zip"
            write_atomic(target, made.data)
            bundles.append(describe(made, target))
    finally:
        agent.close()
    return {"bundles": bundles, "rejected": rejected}


def describe(bundle: Bundle, path: Path) -> dict[str, Any]:
    """The summary of one bundle a person or a script reads: no full hetu."""
    manifest = bundle.manifest
    return {
        "path": str(path),
        "bundle_id": bundle.bundle_id,
        "hetu": mask(manifest["customer"]["hetu"]),
        "documents": [
            {key: doc[key] for key in ("source", "form_code", "kind", "language", "confidence",
                                       "pages")}
            for doc in manifest["documents"]
        ],
    }


def _documents(path: Path, config: AgentConfig) -> list[SourceDocument]:
    if not path.exists():
        raise InputRejected(RejectCode.UNREADABLE_IMAGE,
                            f"{public_name(path)}: no such file or folder")
    files = folder_documents(path) if path.is_dir() else (path,)
    if not files:
        raise InputRejected(RejectCode.EMPTY_FOLDER, public_name(path))
    limits = {"max_pixels": config.prepare.max_pixels,
              "max_pages": config.prepare.max_pages_per_document}
    return [(f.name, decode_file(f, **limits)) for f in files]


def _handover(path: Path, config: AgentConfig) -> Handover:
    now = datetime.now(UTC)
    return Handover(config.point.point_id, config.point.clerk_id, handed_in_at=now,
                    scanned_at=now)
