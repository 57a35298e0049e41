"""Fuzzing the ingest's trust boundary: the seal, the manifest validator and the zip verifier.

GIVEN arbitrary mutations of a valid bundle (manifest fields set to any JSON, zip bytes flipped,
cut or spliced, entries of any name and kind added) and arbitrary bytes and JSON
THEN verify_bundle, open_zip and validate_manifest raise nothing but their designed rejection
(BundleRejected, ContractViolation), and nothing malformed is ever accepted: an accepted
manifest passes an independent, stricter reading of the contract written here. A sealed bundle
with forged metadata or changed bytes never opens (SealRejected only).

Bounded (derandomized, a few hundred examples, a per-example deadline) so it runs in CI in
seconds; raise FUZZ_EXAMPLES to search longer.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from datetime import datetime
from functools import cache
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aspa_contract import ContractViolation, validate_manifest
from aspa_contract.hetu import is_valid
from aspa_contract.layout import incoming_key
from aspa_contract.sealing import (
    META_RECIPIENT,
    META_SEAL,
    META_SIGNATURE,
    META_SIGNER,
    SealCode,
    SealRejected,
    unseal,
)
from ingest.errors import BundleRejected
from ingest.verify import verify_bundle
from ingest.zipsafety import Limits, open_zip
from tests.bundles import (
    entries,
    kela_identity,
    manifest_of,
    point_signing_key,
    seal,
    valid_bundle,
    with_document,
    with_entry,
    with_manifest,
)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
POINT = "hki-kallio"


@cache
def _base() -> tuple[str, bytes]:
    bundle_id, data = valid_bundle(POINT, documents=2)
    return bundle_id, data


# --- an independent, strict reading of the contract -----------------------------------------

_ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_TOP = {"schema", "bundle_id", "point_id", "clerk_id", "agent_version", "classifier_version",
        "handed_in_at", "scanned_at", "customer", "documents"}
_KINDS = {"form", "attachment/bank_statement", "attachment/rental_agreement",
          "attachment/pay_slip", "attachment/other", "unknown"}


def problems(manifest: Any) -> list[str]:
    """Why ``manifest`` is malformed; [] when it honours the contract's intent."""
    if not isinstance(manifest, dict):
        return ["not an object"]
    found = []
    if not _TOP <= set(manifest) <= _TOP | {"visit"}:
        found.append(f"keys {sorted(set(manifest) ^ _TOP)}")
    checks = {
        "schema": lambda v: v == "aspa-bundle/1",
        "bundle_id": lambda v: _text(v) and _ULID.fullmatch(v),
        "point_id": lambda v: _text(v) and _SLUG.fullmatch(v),
        "clerk_id": lambda v: _text(v) and _SLUG.fullmatch(v),
        "agent_version": lambda v: _text(v) and 1 <= len(v) <= 64,
        "classifier_version": lambda v: _text(v) and 1 <= len(v) <= 128,
        "handed_in_at": _instant,
        "scanned_at": _instant,
        "customer": lambda v: isinstance(v, dict) and set(v) == {"hetu"} and (
            v["hetu"] is None or (_text(v["hetu"]) and is_valid(v["hetu"]))),
        "documents": lambda v: isinstance(v, list) and 1 <= len(v) <= 200 and all(
            not _document_problems(d) for d in v),
    }
    found += [name for name, check in checks.items() if name in manifest
              and not check(manifest[name])]
    if "visit" in manifest and manifest["visit"] is not None:
        visit = manifest["visit"]
        if not (isinstance(visit, dict) and set(visit) == {"reason", "started_at", "ended_at"}
                and _text(visit["reason"]) and len(visit["reason"]) <= 200
                and _instant(visit["started_at"]) and _instant(visit["ended_at"])):
            found.append("visit")
    return found


def _text(value: Any) -> bool:
    return isinstance(value, str) and "\x00" not in value


def _instant(value: Any) -> bool:
    if not (_text(value) and _INSTANT.fullmatch(value)):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _document_problems(doc: Any) -> list[str]:
    if not isinstance(doc, dict):
        return ["not an object"]
    required = {"file", "sha256", "pages", "form_code", "kind", "language", "confidence",
                "classified_by", "dropped_blank_pages"}
    optional = {"form_variant", "source", "warnings"}
    found = [] if required <= set(doc) <= required | optional else ["keys"]
    number = (int, float)
    checks = {
        "file": lambda v: _text(v) and re.fullmatch(r"\d{3}\.pdf", v),
        "sha256": lambda v: _text(v) and re.fullmatch(r"[0-9a-f]{64}", v),
        "pages": lambda v: type(v) is int and 1 <= v <= 500,
        "form_code": lambda v: v is None or (_text(v) and re.fullmatch(r"[A-Z]{1,3} \d{1,3}", v)),
        "kind": lambda v: v in _KINDS,
        "language": lambda v: v in {"fi", "sv", "en", "und"},
        "confidence": lambda v: isinstance(v, number) and not isinstance(v, bool)
        and 0 <= v <= 1,
        "classified_by": lambda v: v in {"rule", "model", "clerk"},
        "dropped_blank_pages": lambda v: isinstance(v, list) and all(
            type(n) is int and n >= 1 for n in v),
    }
    found += [name for name, check in checks.items() if name in doc and not check(doc[name])]
    if "form_code" in doc and "kind" in doc and (doc["form_code"] is None) == (
            doc["kind"] == "form"):
        found.append("form_code/kind")
    return found


# --- strategies -----------------------------------------------------------------------------

_near_valid_text = st.sampled_from([
    "clerk-7\n", "clerk-7\r", "hki-kallio\n", "\nclerk-7", "clerk-7\x00", "Clerk-7", "",
    "2026-13-45T99:99:99Z", "2026-02-30T12:00:00Z", "2026-11-27T08:15:00Z\n",
    "2026-11-27T08:15:00.1234567Z", "0000-00-00T00:00:00Z", "Z" * 26, "8" + "0" * 25,
    "010594Y9033", "010594Y9032\n", "320594Y903P", "001.pdf\n", "../001.pdf", "TO 1\n",
    "x" * 65, "x" * 129, "\u2028", "ä" * 64])
_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40) | _near_valid_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                 max_size=4),
    max_leaves=12)
_PATHS = ["schema", "bundle_id", "point_id", "clerk_id", "agent_version", "classifier_version",
          "handed_in_at", "scanned_at", "customer", "customer.hetu", "visit", "visit.reason",
          "visit.started_at", "documents", "documents.0", "documents.1", *[
              f"documents.0.{f}" for f in ("file", "sha256", "pages", "form_code", "kind",
                                            "language", "confidence", "classified_by",
                                            "dropped_blank_pages", "warnings", "source",
                                            "form_variant")], "extra"]
_mutation = st.tuples(st.sampled_from(_PATHS), st.sampled_from(["set", "delete"]), _json)


def _mutated(manifest: dict[str, Any], path: str, action: str, value: Any) -> dict[str, Any]:
    """``manifest`` with ``path`` set to ``value`` or deleted; unchanged where an earlier
    mutation removed the path or changed what is along it."""
    *parents, last = path.split(".")
    target: Any = manifest
    try:
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            if action == "delete":
                del target[int(last)]
            else:
                target[int(last)] = value
        elif isinstance(target, dict):
            if action == "delete":
                target.pop(last, None)
            else:
                target[last] = value
    except (IndexError, KeyError, TypeError, ValueError):
        pass
    return manifest


def _key_for(manifest: dict[str, Any], bundle_id: str) -> str:
    """The key an agent would use: the manifest's own point and id when they look like ones,
    so a mutated id is checked by the verifier itself and not only against the key."""
    point, claimed = manifest.get("point_id"), manifest.get("bundle_id")
    point = point if isinstance(point, str) and re.fullmatch(r"[a-z0-9-]{1,63}", point) else POINT
    claimed = claimed if isinstance(claimed, str) and re.fullmatch(
        r"[0-9A-HJKMNP-TV-Z]{26}", claimed) else bundle_id
    return f"incoming/{point}/{claimed}.zip"


def _verify_or_reject(key: str, data: bytes) -> Any:
    try:
        return verify_bundle(key, data)
    except BundleRejected:
        return None


# --- properties -----------------------------------------------------------------------------


@FUZZ
@given(st.lists(_mutation, min_size=1, max_size=3))
@example([("handed_in_at", "set", "2026-13-45T99:99:99Z")])
@example([("clerk_id", "set", "clerk-7\n")])
@example([("bundle_id", "set", "Z" * 26)])
@example([("documents.0.warnings", "set", ["w"] * 100_000)])
@example([("agent_version", "set", "agent\x00")])
def test_a_mutated_manifest_is_rejected_or_well_formed(
        mutations: list[tuple[str, str, Any]]) -> None:
    """GIVEN a valid bundle whose manifest had up to three fields set to any JSON or deleted
    THEN the verifier rejects it with BundleRejected or what it accepts is well-formed."""
    bundle_id, data = _base()
    manifest = manifest_of(data)
    for path, action, value in mutations:
        manifest = _mutated(manifest, path, action, value)
    verified = _verify_or_reject(_key_for(manifest, bundle_id), with_manifest(data, manifest))
    if verified is not None:
        assert problems(verified.manifest) == []


@FUZZ
@given(st.data())
def test_damaged_zip_bytes_are_rejected_or_verify_to_the_same_bundle(data: st.DataObject) -> None:
    """GIVEN a valid bundle with bytes flipped, cut, inserted or spliced anywhere
    THEN only BundleRejected, or a bundle identical to the original."""
    bundle_id, original = _base()
    damaged = bytearray(original)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, max(len(damaged) - 1, 0)))
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "zero"]))
        if action == "flip":
            damaged[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "cut":
            del damaged[at: at + data.draw(st.integers(1, 64))]
        elif action == "insert":
            damaged[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        else:
            damaged[at: at + 4] = bytes(4)
    verified = _verify_or_reject(incoming_key(POINT, bundle_id), bytes(damaged))
    if verified is not None:
        assert verified.manifest == manifest_of(original)


_PDF_TOKENS = [b"/OpenAction", b"/JavaScript", b"/Launch", b"/AA", b"/URI", b"/EmbeddedFile",
               b"/AcroForm", b"/Kids [3 0 R 3 0 R]", b"/Count 999999999", b"/Parent 2 0 R",
               b"<< /S /JavaScript /JS (app.alert(1)) >>", b"R R R", b"9999999999 0 obj",
               b"startxref\n0\n", b"stream\n", b"endstream", b"[" * 500, b"<<" * 500]


@FUZZ
@given(st.data())
def test_a_damaged_or_spiked_pdf_is_rejected_or_parses(data: st.DataObject) -> None:
    """GIVEN a bundle whose first PDF had bytes flipped, cut or PDF tokens spliced in (its
    checksum made to match) THEN only BundleRejected, or it verifies with its stated pages."""
    bundle_id, original = _base()
    name = manifest_of(original)["documents"][0]["file"]
    pdf = bytearray(entries(original)[name])
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(pdf) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "splice"]))
        if action == "flip":
            pdf[at] ^= 1 << data.draw(st.integers(0, 7))
        elif action == "cut":
            del pdf[at: at + data.draw(st.integers(1, 200))]
        else:
            pdf[at:at] = data.draw(st.sampled_from(_PDF_TOKENS))
    verified = _verify_or_reject(incoming_key(POINT, bundle_id),
                                 with_document(original, name, bytes(pdf)))
    if verified is not None:
        assert verified.documents[0].pages == 1


_entry_names = st.text(min_size=0, max_size=30) | st.sampled_from([
    "../001.pdf", "/001.pdf", "001.pdf/", "001.pdf\x00.txt", "C:\\001.pdf", "./001.pdf",
    "001.PDF", "manifest.json/", "a/../001.pdf", "\u202e001.pdf", "001.pdf "])


@pytest.mark.filterwarnings("ignore:Duplicate name")  # a NUL cuts a name to an existing one
@FUZZ
@given(_entry_names, st.binary(max_size=64), st.integers(0, 0xFFFF),
       st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
def test_an_added_entry_is_always_rejected(name: str, content: bytes, mode: int,
                                            method: int) -> None:
    """GIVEN a valid bundle plus one entry of any name, content and Unix mode THEN rejected:
    a bundle holds exactly its manifest and the documents it lists."""
    bundle_id, data = _base()
    try:
        extended = with_entry(data, name, content, external_attr=mode << 16,
                              compress_type=method)
    except (ValueError, UnicodeEncodeError):
        return  # zipfile itself cannot write such a name
    if name in manifest_of(data) or name in ("001.pdf", "002.pdf", "manifest.json"):
        return  # that replaces an entry: the checksum tests cover it
    assert _verify_or_reject(incoming_key(POINT, bundle_id), extended) is None


@FUZZ
@given(st.binary(max_size=2048) | st.builds(lambda head, tail: head + tail,
                                            st.sampled_from([b"PK\x03\x04", b"PK\x05\x06"]),
                                            st.binary(max_size=512)))
def test_arbitrary_bytes_never_open_as_a_bundle(data: bytes) -> None:
    """GIVEN any bytes THEN open_zip refuses them with BundleRejected (or they are a zip)."""
    try:
        with open_zip(data, Limits()) as archive:
            assert isinstance(archive.names, list)
    except BundleRejected:
        pass


@FUZZ
@given(_json)
def test_any_json_is_valid_or_a_contract_violation(manifest: Any) -> None:
    """GIVEN any JSON value THEN validate_manifest raises only ContractViolation."""
    try:
        validate_manifest(manifest)
    except ContractViolation:
        return
    assert problems(manifest) == []


# --- the seal -----------------------------------------------------------------------------


def _signer_key(point_id: str, key_id: str) -> Ed25519PublicKey:
    """The registry the ingest keeps: each test point's own key, nothing else."""
    key = point_signing_key(point_id)
    if key_id != key.key_id:
        raise SealRejected(SealCode.UNKNOWN_KEY, f"{key_id} is not registered for {point_id}")
    return key.public


def _unseal_or_reject(data: bytes, metadata: dict[str, str], bundle_id: str) -> bytes | None:
    try:
        return unseal(data, metadata, point_id=POINT, bundle_id=bundle_id,
                      signer_key=_signer_key,
                      identities={kela_identity().key_id: kela_identity()})
    except SealRejected:
        return None


@cache
def _sealed() -> tuple[str, bytes, bytes, dict[str, str]]:
    bundle_id, plain = _base()
    made = seal(POINT, bundle_id, plain)
    return bundle_id, plain, made.data, made.metadata


_META_NAMES = st.sampled_from([META_SEAL, META_SIGNER, META_RECIPIENT, META_SIGNATURE,
                               META_SIGNER.upper(), "x-amz-meta-aspa-seal"])


@FUZZ
@given(st.dictionaries(_META_NAMES | st.text(max_size=12),
                       st.none() | st.text(max_size=90), max_size=4))
def test_forged_seal_metadata_never_opens(changes: dict[str, str | None]) -> None:
    """GIVEN a sealed bundle whose metadata fields were replaced, added or removed
    THEN unseal raises only SealRejected, or returns exactly the sealed zip."""
    bundle_id, plain, data, metadata = _sealed()
    forged = dict(metadata)
    for name, value in changes.items():
        if value is None:
            forged.pop(name, None)
        else:
            forged[name] = value
    opened = _unseal_or_reject(data, forged, bundle_id)
    assert opened is None or opened == plain


@FUZZ
@given(st.integers(0, 10_000), st.integers(1, 255), st.booleans())
def test_a_changed_sealed_object_never_opens(at: int, xor: int, cut: bool) -> None:
    """GIVEN a sealed bundle with one byte changed, or cut short THEN SealRejected."""
    bundle_id, _, data, metadata = _sealed()
    damaged = bytearray(data)
    if cut:
        del damaged[at % len(data):]
    else:
        damaged[at % len(data)] ^= xor
    assert _unseal_or_reject(bytes(damaged), metadata, bundle_id) is None


def test_the_strict_reading_accepts_what_the_agent_makes() -> None:
    """The oracle itself: a bundle the agent's builder made has no problems."""
    _, data = _base()
    assert problems(manifest_of(data)) == []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "manifest.json" in archive.namelist()
