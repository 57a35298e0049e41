"""Verify stage of the ingest: an object key and its bytes in, a trusted bundle or a rejection out.

Nothing in a bundle is trusted. The checks run cheapest and most dangerous first: the key, the
size, the zip's headers (before anything is decompressed), the manifest, the ids against the
key, the entries against the manifest, each document's checksum, each PDF (parses, holds no
active content: :mod:`ingest.pdfsafety`), the identity code. The schema check also proves every
value the register stage converts (instants are real instants) and bounds every string and list.
A pure function: no storage, no clock, no database.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NoReturn

from aspa_contract import MANIFEST_NAME, ContractViolation, validate_manifest
from aspa_contract.hetu import is_valid, mask, redact
from aspa_contract.layout import parse_incoming_key
from ingest.errors import BundleRejected, RejectCode
from ingest.pdfsafety import check_pdf
from ingest.zipsafety import Limits, SafeZip, open_zip

__all__ = ["DEFAULT_LIMITS", "Limits", "VerifiedBundle", "VerifiedDocument", "verify_bundle"]

DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class VerifiedDocument:
    """One document of a verified bundle: its PDF matched its checksum and page count."""

    file: str
    sha256: str
    pages: int
    form_code: str | None
    form_variant: str | None
    kind: str
    language: str
    confidence: float
    classified_by: str


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle that passed every check. ``hetu`` is the full code: never log it, mask it."""

    bundle_id: str
    point_id: str
    manifest: dict[str, Any]
    documents: tuple[VerifiedDocument, ...]
    hetu: str | None


def verify_bundle(key: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> VerifiedBundle:
    """Check the bundle stored at ``key`` against the contract; raise BundleRejected if it fails.

    ``key`` is the object key ``incoming/{point_id}/{bundle_id}.zip``; ``data`` is the object.
    """
    point_id, bundle_id = _parse_key(key)
    if len(data) > limits.max_bundle_bytes:
        raise BundleRejected(RejectCode.TOO_LARGE,
                             f"zip is {len(data)} bytes, limit {limits.max_bundle_bytes}")
    with open_zip(data, limits) as archive:
        manifest = _read_manifest(archive, limits)
        _check_ids(manifest, point_id, bundle_id)
        _check_entries(archive.names, manifest)
        documents = tuple(_verify_document(archive, entry) for entry in manifest["documents"])
    hetu = _check_hetu(manifest["customer"]["hetu"])
    return VerifiedBundle(bundle_id, point_id, _masked_free_text(manifest), documents, hetu)


def _parse_key(key: str) -> tuple[str, str]:
    parsed = parse_incoming_key(key)
    if parsed is None:
        raise BundleRejected(RejectCode.BAD_KEY,
                             f"key {key[:200]!r} is not incoming/{{point_id}}/{{bundle_id}}.zip")
    return parsed


def _read_manifest(archive: SafeZip, limits: Limits) -> dict[str, Any]:
    if MANIFEST_NAME not in archive.names:
        raise BundleRejected(RejectCode.MANIFEST_MISSING, f"zip has no {MANIFEST_NAME}")
    if archive.size(MANIFEST_NAME) > limits.max_manifest_bytes:
        raise BundleRejected(RejectCode.MANIFEST_TOO_LARGE,
                             f"{MANIFEST_NAME} is {archive.size(MANIFEST_NAME)} bytes, limit "
                             f"{limits.max_manifest_bytes}")
    raw = archive.read(MANIFEST_NAME)
    try:
        manifest = json.loads(raw.decode("utf-8"), parse_constant=_no_constant,
                              object_pairs_hook=_unique_keys)
        _check_text(manifest)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise BundleRejected(RejectCode.MANIFEST_NOT_JSON,
                             f"{MANIFEST_NAME} is not UTF-8 JSON: {exc}") from exc
    try:
        validate_manifest(manifest)
    except ContractViolation as exc:
        raise BundleRejected(RejectCode.SCHEMA_VIOLATION, str(exc)) from exc
    repeated = _repeated(doc["file"] for doc in manifest["documents"])
    if repeated:
        raise BundleRejected(RejectCode.SCHEMA_VIOLATION,
                             f"manifest lists {', '.join(repeated)} more than once")
    return manifest


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python keeps the last of two equal keys, another reader the first: with `hetu` twice the
    # two would file the case on two different people. JSON that can be read two ways is refused.
    keys = [key for key, _ in pairs]
    repeated = _repeated(keys)
    if repeated:
        raise ValueError(f"key {repeated[0][:40]!r} appears more than once in one object")
    return dict(pairs)


def _check_text(value: object) -> None:
    """Refuse a ``\\ud800`` escape: a lone surrogate is not text and no database stores it."""
    if isinstance(value, str):
        value.encode("utf-8")  # UnicodeEncodeError is a ValueError
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


def _masked_free_text(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest as the register stores it. Only ``customer.hetu`` may hold a code; the free
    text (file names, the visit reason, warnings) holds any other code masked."""
    masked = copy.deepcopy(manifest)
    if masked.get("visit"):
        masked["visit"]["reason"] = redact(masked["visit"]["reason"])
    for document in masked["documents"]:
        if "source" in document:
            document["source"] = redact(document["source"])
        if "warnings" in document:
            document["warnings"] = [redact(w) for w in document["warnings"]]
    return masked


def _no_constant(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity; JSON does not, and NaN passes every numeric bound
    # of the schema (all comparisons with it are false).
    raise ValueError(f"{name} is not a JSON number")


def _check_ids(manifest: dict[str, Any], point_id: str, bundle_id: str) -> None:
    if manifest["point_id"] != point_id:
        raise BundleRejected(RejectCode.POINT_MISMATCH,
                             f"manifest point_id {manifest['point_id']!r} is not the key's "
                             f"point {point_id!r}")
    if manifest["bundle_id"] != bundle_id:
        raise BundleRejected(RejectCode.BUNDLE_ID_MISMATCH,
                             f"manifest bundle_id {manifest['bundle_id']!r} is not the key's "
                             f"{bundle_id!r}")


def _check_entries(names: list[str], manifest: dict[str, Any]) -> None:
    listed = {doc["file"] for doc in manifest["documents"]}
    present = set(names) - {MANIFEST_NAME}
    if present - listed:
        raise BundleRejected(RejectCode.UNEXPECTED_ENTRY,
                             f"entries not listed in the manifest: {_some(present - listed)}")
    if listed - present:
        raise BundleRejected(RejectCode.MISSING_DOCUMENT,
                             f"documents missing from the zip: {_some(listed - present)}")


def _verify_document(archive: SafeZip, entry: dict[str, Any]) -> VerifiedDocument:
    name = entry["file"]
    pdf = archive.read(name)
    digest = hashlib.sha256(pdf).hexdigest()
    if digest != entry["sha256"]:
        raise BundleRejected(RejectCode.CHECKSUM_MISMATCH,
                             f"{name} has sha256 {digest[:12]}…, the manifest says "
                             f"{entry['sha256'][:12]}…")
    pages = check_pdf(pdf, name)
    if pages != entry["pages"]:
        raise BundleRejected(RejectCode.PAGE_COUNT_MISMATCH,
                             f"{name} has {pages} pages, the manifest says {entry['pages']}")
    return VerifiedDocument(
        file=name, sha256=digest, pages=pages, form_code=entry["form_code"],
        form_variant=entry.get("form_variant"), kind=entry["kind"], language=entry["language"],
        confidence=float(entry["confidence"]), classified_by=entry["classified_by"],
    )


def _check_hetu(hetu: str | None) -> str | None:
    if hetu is not None and not is_valid(hetu):
        raise BundleRejected(RejectCode.INVALID_HETU,
                             f"customer identity code {mask(hetu)} has a wrong date or check "
                             f"character")
    return hetu


def _repeated(items: Iterable[str]) -> list[str]:
    return sorted(item for item, count in Counter(items).items() if count > 1)


def _some(names: set[str]) -> str:
    shown = sorted(names)[:5]
    more = f" and {len(names) - len(shown)} more" if len(names) > len(shown) else ""
    return ", ".join(repr(n) for n in shown) + more
