"""Bundle stage: documents + customer + hand-in facts → manifest.json and the zip bytes."""

from __future__ import annotations

import hashlib
import io
import json
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ulid import ULID

from aspa_contract import MANIFEST_NAME, SCHEMA_ID, validate_manifest
from aspa_contract.hetu import redact
from aspa_contract.instants import utc_text
from aspa_contract.names import public_name
from classifiers.base import Classification

AGENT_VERSION = "aspa-agent/0.1.0"


@dataclass
class DocumentResult:
    """One document, read and understood: its searchable PDF and what it is."""

    source: str  # file name as scanned (redacted of anything hetu-shaped)
    pdf: bytes
    pages: int
    classification: Classification
    dropped_blank_pages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Handover:
    """Who handed what in, where and when: the facts that make the case pending on time."""

    point_id: str
    clerk_id: str
    handed_in_at: datetime
    scanned_at: datetime
    visit_reason: str | None = None


@dataclass
class Bundle:
    bundle_id: str
    manifest: dict[str, Any]
    data: bytes  # the zip


def new_bundle_id() -> str:
    """A ULID: sortable by creation time, unique across workstations without coordination."""
    return str(ULID())


def build_bundle(
    documents: list[DocumentResult],
    handover: Handover,
    hetu: str | None,
    classifier_version: str,
    bundle_id: str | None = None,
) -> Bundle:
    """Make the manifest, check it against the shared schema, and zip it with the PDFs."""
    bundle_id = bundle_id or new_bundle_id()
    manifest = {
        "schema": SCHEMA_ID,
        "bundle_id": bundle_id,
        "point_id": handover.point_id,
        "clerk_id": handover.clerk_id,
        "agent_version": AGENT_VERSION,
        "classifier_version": classifier_version,
        "handed_in_at": utc_text(handover.handed_in_at),
        "scanned_at": utc_text(handover.scanned_at),
        "customer": {"hetu": hetu},
        "visit": _visit(handover),
        "documents": [_document_entry(i, d) for i, d in enumerate(documents, start=1)],
    }
    validate_manifest(manifest)  # a bug here must not reach Kela as a rejected bundle
    return Bundle(bundle_id, manifest, _zip(manifest, documents))


def document_file_name(position: int) -> str:
    return f"{position:03d}.pdf"


def _visit(handover: Handover) -> dict[str, str] | None:
    if handover.visit_reason is None:
        return None
    return {
        "reason": _one_line(handover.visit_reason),
        "started_at": utc_text(handover.handed_in_at),
        "ended_at": utc_text(handover.scanned_at),
    }


def _one_line(text: str) -> str:
    # Activity data, never personal data: a code typed into the reason is masked, and the line
    # fits the schema (one line, at most 200 characters) whatever the clerk typed.
    line = " ".join(text.split())
    return redact("".join(ch for ch in line if unicodedata.category(ch)[0] != "C"))[:200]


def _document_entry(position: int, doc: DocumentResult) -> dict[str, Any]:
    c = doc.classification
    return {
        "file": document_file_name(position),
        "sha256": hashlib.sha256(doc.pdf).hexdigest(),
        "pages": doc.pages,
        "form_code": c.form_code,
        "form_variant": c.form_variant,
        "kind": c.kind,
        "language": c.language,
        "confidence": round(c.confidence, 4),
        "classified_by": c.classified_by,
        "source": public_name(doc.source),  # no hetu, valid UTF-8, within the schema's 255
        "dropped_blank_pages": doc.dropped_blank_pages,
        "warnings": doc.warnings,
    }


def _zip(manifest: dict[str, Any], documents: list[DocumentResult]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            MANIFEST_NAME,
            json.dumps(manifest, ensure_ascii=False, indent=2),
            compress_type=zipfile.ZIP_DEFLATED,
        )
        for position, doc in enumerate(documents, start=1):
            # PDFs are already compressed images: storing them saves CPU and keeps ratios sane.
            archive.writestr(document_file_name(position), doc.pdf,
                             compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()
