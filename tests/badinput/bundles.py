"""Bad bundles: every kind of object a broken or hostile agent (or anyone with the bucket's
credentials) can put under ``incoming/``, each with the outcome the ingest must reach: a case
of N documents, or an exception record with a reject code.

    for kind in BUNDLE_KINDS:
        key, data = kind.make()    # the plain zip; the test seals it as an agent would

Built on the mutators of :mod:`tests.bundles`: each kind starts from a valid bundle of its own
(a fresh bundle id) and breaks one thing. Keys that name no bundle carry the kind's id, so an
exception record is matched to its kind even after the key is masked. Only test identity codes.
"""

from __future__ import annotations

import hashlib
import io
import json
import stat
import struct
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aspa_contract import MANIFEST_NAME
from tests.badinput.hostile import pdf_with_javascript, pdf_with_launch_action
from tests.badinput.scans import made_hetu
from tests.bundles import (
    TEST_HETU,
    edit_manifest,
    entries,
    incoming_key,
    manifest_of,
    tiny_pdf,
    valid_bundle,
    with_bomb,
    with_declared_entry_count,
    with_declared_size,
    with_document,
    with_entry,
    with_manifest,
    with_overlapping_copies,
    without_entry,
)

POINT = "hki-kallio"
KEY_HETU = made_hetu("240702", "A", "988")
OTHER_HETU = made_hetu("311299", "-", "977")  # someone else than the bundle's customer


@dataclass(frozen=True)
class Registered:
    """The bundle becomes one pending case of ``documents`` documents."""

    documents: int


@dataclass(frozen=True)
class Refused:
    """The bundle becomes one exception record (and a quarantine copy) with one of ``codes``."""

    codes: tuple[str, ...]


def refused(*codes: str) -> Refused:
    return Refused(codes)


@dataclass(frozen=True)
class BundleKind:
    """One kind of object under ``incoming/``. ``make()`` gives ``(key, plain zip bytes)``;
    ``sealed=False`` uploads the bytes as they are (no seal, or a seal ``make`` forged).
    ``open_issue`` names the fix it waits for (the test is then a strict xfail);
    ``stalls_worker`` marks a kind whose open bug holds up the worker for every other bundle
    (retried for ever, backing off), so it is uploaded after the others while the bug is open."""

    id: str
    make: Callable[[], tuple[str, bytes]]
    expected: Registered | Refused
    why: str
    open_issue: str | None = None
    stalls_worker: bool = False


Mutation = Callable[[bytes], bytes]


def broken(mutate: Mutation, *, documents: int = 1, key_point: str = POINT,
           hetu: str | None = TEST_HETU) -> Callable[[], tuple[str, bytes]]:
    """A fresh valid bundle of ``POINT`` with ``mutate`` applied, under ``key_point``'s prefix."""
    def make() -> tuple[str, bytes]:
        bundle_id, data = valid_bundle(POINT, documents=documents, hetu=hetu)
        return incoming_key(key_point, bundle_id), mutate(data)
    return make


def at_key(key: Callable[[str], str], mutate: Mutation = lambda d: d) -> Callable[
        [], tuple[str, bytes]]:
    """A fresh valid bundle uploaded at ``key(bundle_id)`` (a key the layout would refuse)."""
    def make() -> tuple[str, bytes]:
        bundle_id, data = valid_bundle(POINT, documents=1)
        return key(bundle_id), mutate(data)
    return make


def manifest_edit(edit: Callable[[dict[str, Any]], object]) -> Mutation:
    return lambda data: edit_manifest(data, edit)


def set_field(path: str, value: Any) -> Mutation:
    """Set ``path`` (``clerk_id``, ``customer.hetu``, ``documents.0.pages`` …) to ``value``."""
    def edit(manifest: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = manifest
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return manifest_edit(edit)


def first_document(data: bytes) -> str:
    name: str = manifest_of(data)["documents"][0]["file"]
    return name


def on_first_document(change: Callable[[bytes], bytes]) -> Mutation:
    """The first document replaced by ``change(its bytes)``, its checksum updated to match."""
    def mutate(data: bytes) -> bytes:
        name = first_document(data)
        return with_document(data, name, change(entries(data)[name]))
    return mutate


def with_raw_manifest(raw: bytes) -> Mutation:
    return lambda data: with_entry(data, MANIFEST_NAME, raw)


def with_special_entry(mode: int) -> Mutation:
    return lambda data: with_entry(data, "link.pdf", b"/etc/passwd",
                                   external_attr=(mode | 0o777) << 16)


def with_duplicate_entry(data: bytes) -> bytes:
    """The first document stored twice under one name, the second copy different."""
    out = io.BytesIO(data)
    with warnings.catch_warnings(), zipfile.ZipFile(out, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name: that is the point
        archive.writestr(first_document(data), tiny_pdf(2))
    return out.getvalue()


def with_zip64_local_header(data: bytes) -> bytes:
    """The first document written with a ZIP64 extra field in its local header only."""
    out = io.BytesIO()
    name = first_document(data)
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename != name:
                target.writestr(info, content)
                continue
            with target.open(zipfile.ZipInfo(name, info.date_time), "w",
                             force_zip64=True) as entry:
                entry.write(content)
    return out.getvalue()


def with_encrypted_flag(data: bytes) -> bytes:
    """Every entry flagged as encrypted (general purpose bit 0), in both headers."""
    out = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.find(signature)
        while at >= 0:
            (flags,) = struct.unpack_from("<H", out, at + offset)
            struct.pack_into("<H", out, at + offset, flags | 0x1)
            at = out.find(signature, at + 4)
    return bytes(out)


def with_bzip2_entry(data: bytes) -> bytes:
    return with_entry(data, "extra.pdf", tiny_pdf(), compress_type=zipfile.ZIP_BZIP2)


def with_many_entries(count: int) -> Mutation:
    def mutate(data: bytes) -> bytes:
        out = io.BytesIO(data)
        with zipfile.ZipFile(out, "a") as archive:
            for n in range(count):
                archive.writestr(f"extra{n:03d}.txt", b"x")
        return out.getvalue()
    return mutate


def with_huge_manifest(size: int = 55 * 1024 * 1024) -> Mutation:
    """The manifest padded with JSON whitespace to ``size`` bytes, stored (ratio 1): valid JSON,
    valid by the schema, only big."""
    def mutate(data: bytes) -> bytes:
        text = json.dumps(manifest_of(data)).encode()
        padded = text[:-1] + b" " * (size - len(text)) + b"}"
        return with_entry(data, MANIFEST_NAME, padded)
    return mutate


def _distinct_texts(count: int) -> list[str]:
    """``count`` different 64-character texts (they do not compress into a bomb)."""
    return [hashlib.sha256(str(n).encode()).hexdigest() for n in range(count)]


def _deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def _latin1_manifest(data: bytes) -> bytes:
    text = json.dumps(manifest_of(data) | {"agent_version": "ääkkönen"}, ensure_ascii=False)
    return with_entry(data, MANIFEST_NAME, text.encode("latin-1"))


def _with_bom(data: bytes) -> bytes:
    return with_entry(data, MANIFEST_NAME, b"\xef\xbb\xbf" + json.dumps(
        manifest_of(data)).encode())


def _duplicate_hetu_key(data: bytes) -> bytes:
    """``customer`` naming two people: Python's json keeps the last, other readers the first."""
    text = json.dumps(manifest_of(data)).replace(
        f'"hetu": "{TEST_HETU}"', f'"hetu": "{OTHER_HETU}", "hetu": "{TEST_HETU}"')
    return with_entry(data, MANIFEST_NAME, text.encode())


def _nan_confidence(data: bytes) -> bytes:
    text = json.dumps(manifest_of(data)).replace('"confidence": 0.97', '"confidence": NaN')
    return with_entry(data, MANIFEST_NAME, text.encode())


def _listed_twice(manifest: dict[str, Any]) -> None:
    manifest["documents"].append(dict(manifest["documents"][0]))


def _form_without_code(manifest: dict[str, Any]) -> None:
    manifest["documents"][0].update(form_code=None, kind="form")


def _declared_huge(data: bytes) -> bytes:
    return with_declared_size(data, first_document(data), 90 * 1024 * 1024)


def _with_bom_free_junk_prefix(data: bytes) -> bytes:
    return b"MZ" + bytes(64) + data



SCHEMA = refused("schema_violation")
NOT_A_ZIP = refused("not_a_zip")
UNSAFE_NAME = refused("unsafe_entry_name")
JSON_BAD = refused("manifest_not_json")
BAD_KEY = refused("bad_key")
ACTIVE_PDF = refused("pdf_active_content", "pdf_unreadable")


def _kinds() -> list[BundleKind]:
    k = BundleKind
    return [
        k("b01", broken(lambda d: d, documents=2), Registered(2), "a valid bundle"),
        k("b02", broken(lambda d: d, hetu=None), Registered(1), "a valid bundle without hetu"),
        # dates, ids and strings the schema's patterns let through
        k("b03", broken(set_field("handed_in_at", "2026-13-45T99:99:99Z")), SCHEMA,
          "handed_in_at 2026-13-45T99:99:99Z"),
        k("b04", broken(set_field("scanned_at", "2026-02-30T12:00:00Z")), SCHEMA,
          "scanned_at on 30 February"),
        k("b05", broken(set_field("clerk_id", "clerk-7\n")), SCHEMA,
          "clerk_id ending in a newline"),
        k("b06", broken(set_field("point_id", POINT + "\n")),
          refused("schema_violation", "point_mismatch"), "point_id ending in a newline"),
        k("b07", at_key(lambda _: f"incoming/{POINT}/{'Z' * 26}.zip",
                        set_field("bundle_id", "Z" * 26)), refused("bad_key", "schema_violation"),
          "bundle id ZZZ…Z: above 128 bits"),
        k("b08", broken(set_field("agent_version", "agent\x00")), SCHEMA,
          "a NUL character in agent_version"),
        k("b09", broken(set_field("documents.0.warnings", _distinct_texts(5000))),
          refused("schema_violation", "manifest_too_large"),
          "a document with 5000 warnings"),
        k("b10", broken(with_huge_manifest()),
          refused("manifest_too_large", "entry_too_large", "too_large"),
          "a 55 MB manifest"),
        # PDFs
        k("b11", broken(on_first_document(pdf_with_launch_action)), ACTIVE_PDF,
          "a PDF with a Launch action"),
        k("b12", broken(on_first_document(pdf_with_javascript)), ACTIVE_PDF,
          "a PDF with JavaScript"),
        k("b13", broken(on_first_document(lambda _: b"%PDF-1.7\nnot a pdf")),
          refused("pdf_unreadable"), "a PDF that does not parse"),
        k("b14", broken(on_first_document(lambda _: _encrypted_pdf())), refused("pdf_unreadable"),
          "an encrypted PDF"),
        k("b15", broken(lambda d: with_entry(d, first_document(d), tiny_pdf(2))),
          refused("checksum_mismatch"), "a document not matching its sha256"),
        k("b16", broken(set_field("documents.0.pages", 2)), refused("page_count_mismatch"),
          "the manifest says 2 pages, the PDF has 1"),
        # keys
        k("b17", broken(lambda d: d, key_point="tku-keskusta"), refused("point_mismatch"),
          "point id is not the key's prefix"),
        k("b18", at_key(lambda b: incoming_key(POINT, b[:-1] + ("0" if b[-1] != "0" else "1"))),
          refused("bundle_id_mismatch", "bad_signature"), "bundle id is not the key's name"),
        k("b19", at_key(lambda b: f"incoming/{POINT}/b19-notes.txt"), BAD_KEY,
          "a key that names no bundle"),
        k("b20", at_key(lambda b: f"incoming/{POINT}/b20\x01{b}.zip"), BAD_KEY,
          "a key with a control character"),
        k("b21", at_key(lambda b: f"incoming/{POINT}/.b21-{b}.zip"), BAD_KEY,
          "a key with a leading dot"),
        k("b22", at_key(lambda b: f"incoming/{POINT}/b22-{KEY_HETU}.zip"), BAD_KEY,
          "a hetu as the key's name"),
        k("b23", at_key(lambda b: f"incoming/{POINT}/{b.lower()}.zip"), BAD_KEY,
          "a lower-case bundle id"),
        # identity code
        k("b24", broken(set_field("customer.hetu", TEST_HETU[:-1] + "3")),
          refused("invalid_hetu"), "hetu with a wrong check character"),
        k("b25", broken(set_field("customer.hetu", made_hetu("320594", "Y", "903"))),
          refused("invalid_hetu"), "hetu of 32 May"),
        k("b26", broken(set_field("customer.hetu", TEST_HETU.lower())), SCHEMA,
          "hetu in lower case"),
        # zip structure
        k("b27", broken(lambda d: with_entry(d, "../evil.pdf", tiny_pdf())), UNSAFE_NAME,
          "an entry climbing out with .."),
        k("b28", broken(lambda d: with_entry(d, "/etc/cron.d/evil", b"x")), UNSAFE_NAME,
          "an absolute entry path"),
        k("b29", broken(lambda d: with_entry(d, "..\\evil.pdf", b"x")), UNSAFE_NAME,
          "a backslash in an entry name"),
        k("b30", broken(lambda d: with_entry(d, "C:/evil.pdf", b"x")), UNSAFE_NAME,
          "a drive letter"),
        k("b31", broken(lambda d: with_entry(d, "evil\x07.pdf", b"x")), UNSAFE_NAME,
          "a control character in an entry name"),
        k("b32", broken(with_special_entry(stat.S_IFLNK)), refused("link_entry"),
          "a symlink entry"),
        k("b33", broken(with_special_entry(stat.S_IFIFO)), refused("link_entry"),
          "a named-pipe entry"),
        k("b34", broken(with_duplicate_entry), UNSAFE_NAME, "two entries of one name"),
        k("b35", broken(with_zip64_local_header), NOT_A_ZIP, "ZIP64 local header"),
        k("b36", broken(with_encrypted_flag), NOT_A_ZIP, "encrypted entries"),
        k("b37", broken(with_bzip2_entry), NOT_A_ZIP, "an entry compressed with bzip2"),
        k("b38", broken(lambda d: tiny_pdf()), NOT_A_ZIP, "a PDF, not a zip"),
        k("b39", broken(lambda d: b""), NOT_A_ZIP, "0 bytes"),
        k("b40", broken(lambda d: d[: len(d) // 2]), NOT_A_ZIP, "a zip cut in half"),
        k("b41", broken(_with_bom_free_junk_prefix), NOT_A_ZIP, "bytes glued before the zip"),
        # bombs and counts
        k("b42", broken(with_bomb), refused("zip_bomb"), "an entry inflating 1000-fold"),
        k("b43", broken(lambda d: with_overlapping_copies(d, first_document(d), 150)),
          refused("zip_bomb", "unexpected_entry", "unsafe_entry_name"),
          "150 entries sharing one entry's bytes"),
        k("b44", broken(_declared_huge), refused("zip_bomb", "not_a_zip"),
          "headers claiming 90 MB for a 3 kB entry"),
        k("b45", broken(lambda d: with_declared_entry_count(d, 65535)),
          refused("too_many_entries", "not_a_zip"), "end record claiming 65535 entries"),
        k("b46", broken(with_many_entries(201)), refused("too_many_entries"), "203 entries"),
        # manifest
        k("b47", broken(lambda d: without_entry(d, MANIFEST_NAME)), refused("manifest_missing"),
          "no manifest.json"),
        k("b48", broken(with_raw_manifest(b"{not json")), JSON_BAD, "manifest not JSON"),
        k("b49", broken(_latin1_manifest), JSON_BAD, "manifest in Latin-1"),
        k("b50", broken(_nan_confidence), JSON_BAD, "NaN as a confidence"),
        k("b51", broken(with_raw_manifest(_deep_json())), refused(
            "manifest_not_json", "schema_violation", "manifest_too_large"),
          "100000 nested arrays"),
        k("b52", broken(_with_bom), JSON_BAD, "manifest with a byte-order mark"),
        k("b53", broken(lambda d: with_manifest(d, [manifest_of(d)])), SCHEMA,
          "manifest is a list"),
        k("b54", broken(manifest_edit(lambda m: m.pop("clerk_id"))), SCHEMA, "no clerk_id"),
        k("b55", broken(set_field("schema", "aspa-bundle/2")), SCHEMA, "schema version 2"),
        k("b56", broken(set_field("documents", [])), SCHEMA, "no documents"),
        k("b57", broken(set_field("documents.0.pages", 0)), SCHEMA, "0 pages"),
        k("b58", broken(set_field("documents.0.confidence", 1.5)), SCHEMA, "confidence 1.5"),
        k("b59", broken(manifest_edit(_form_without_code)), SCHEMA, "a form without a code"),
        k("b60", broken(set_field("classifier_version", "x" * 129)), SCHEMA,
          "a 129-character classifier_version"),
        k("b61", broken(manifest_edit(_listed_twice)), SCHEMA, "one document listed twice"),
        k("b62", broken(lambda d: with_entry(d, "999.pdf", tiny_pdf())),
          refused("unexpected_entry"), "an entry the manifest does not list"),
        k("b63", broken(lambda d: without_entry(d, first_document(d))),
          refused("missing_document"), "a listed document missing"),
        # found by this corpus, beyond issue 7
        k("b64", broken(_duplicate_hetu_key), refused("manifest_not_json", "schema_violation"),
          "the hetu key twice: another reader takes another person"),
        k("b65", broken(set_field("visit.reason", "hakemus \ud800")),
          refused("manifest_not_json", "schema_violation"),
          "a lone UTF-16 surrogate in a string"),
        # another person's code in free text: registered, but never stored as it came
        k("b66", broken(set_field("documents.0.source", f"scan{OTHER_HETU}.png")), Registered(1),
          "another person's hetu in a document's source name"),
        k("b67", broken(set_field("visit.reason", f"asiakas {OTHER_HETU} soitti")),
          Registered(1), "a hetu typed into the visit reason"),
    ]


def _encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(tiny_pdf())))
    writer.encrypt(user_password="salasana", owner_password="omistaja")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BUNDLE_KINDS: list[BundleKind] = _kinds()
