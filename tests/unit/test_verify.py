"""Verify stage of the ingest: what passes, what is rejected with which code, and that a reason
never carries a full identity code."""

from __future__ import annotations

import copy
import io
import json
import random
import re
import stat
import struct
import tracemalloc
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pypdf import PdfWriter
from pypdf.annotations import Link
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    NameObject,
    PdfObject,
    TextStringObject,
)

from aspa_contract import MANIFEST_NAME, validate_manifest
from aspa_contract.hetu import check_character
from aspa_contract.manifest import ContractViolation
from ingest.errors import BundleRejected, RejectCode
from ingest.verify import DEFAULT_LIMITS, Limits, verify_bundle
from ingest.zipsafety import MIB
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
OTHER_ID = "01KBX0E8QJ7V3M9W2ZP4R6T8YA"
WRONG_CHECK = "010594Y9033"  # the test code with its check character changed
WRONG_DATE = "310294Y903" + check_character("310294903")  # right check character, no 31 Feb
FULL_HETU = re.compile(r"\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]")
SYMLINK = (stat.S_IFLNK | 0o777) << 16
KEY = "incoming/hki-kallio/{bundle_id}.zip"
OVER_128_BITS = "Z" * 26  # 26 base32 characters say 130 bits; a ULID is 128


@pytest.fixture(scope="module")
def bundle() -> tuple[str, bytes]:
    """A valid two-document bundle from hki-kallio: TO 1 (1 page), a bank statement (1 page)."""
    return valid_bundle(POINT, documents=2)


# ---------------------------------------------------------------------------- passing bundles


def test_valid_bundle_passes_with_its_ids_documents_and_hetu() -> None:
    """GIVEN a bundle as the agent builds it, of 3 documents with 1, 2 and 3 pages
    WHEN the ingest verifies it under its key
    THEN it passes, carrying the key's ids, the full hetu and each document as listed."""
    bundle_id, data = valid_bundle(POINT, documents=3, pages=[1, 2, 3])

    verified = verify_bundle(incoming_key(POINT, bundle_id), data)

    assert (verified.bundle_id, verified.point_id, verified.hetu) == (bundle_id, POINT, TEST_HETU)
    assert verified.manifest == manifest_of(data)
    assert [(d.file, d.pages) for d in verified.documents] == [
        ("001.pdf", 1), ("002.pdf", 2), ("003.pdf", 3)]
    first, second = verified.documents[:2]
    assert (first.form_code, first.kind, first.classified_by) == ("TO 1", "form", "rule")
    assert (second.form_code, second.kind, second.confidence) == (
        None, "attachment/bank_statement", 0.81)
    assert first.sha256 == manifest_of(data)["documents"][0]["sha256"]


def test_bundle_without_hetu_passes_with_none() -> None:
    """GIVEN a bundle whose manifest has customer.hetu null (no code was found on the papers)
    THEN it passes and the verified hetu is None."""
    bundle_id, data = valid_bundle(POINT, documents=1, hetu=None)
    assert verify_bundle(incoming_key(POINT, bundle_id), data).hetu is None


# ------------------------------------------------------------------ every rejection, one table


@dataclass(frozen=True)
class Broken:
    """A bundle with one thing wrong, and the code it must be rejected with."""

    why: str
    code: RejectCode
    mutate: Callable[[bytes], bytes] = bytes
    key: str = KEY
    limits: Limits = DEFAULT_LIMITS
    match: str = ""  # in the reason, where one code has several causes


def _manifest_text(data: bytes, old: bytes, new: bytes) -> bytes:
    return with_entry(data, MANIFEST_NAME, entries(data)[MANIFEST_NAME].replace(old, new))


def _duplicate_entry(data: bytes) -> bytes:
    out = io.BytesIO(data)
    with warnings.catch_warnings(), zipfile.ZipFile(out, "a") as archive:
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate we make on purpose
        archive.writestr("001.pdf", tiny_pdf())
    return out.getvalue()


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="salasana")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _pdf_with_stale_offsets() -> bytes:
    """A PDF whose cross-reference offsets all point 52 bytes short: a lenient reader repairs
    it by scanning; the ingest does not accept a damaged PDF as if it were whole."""
    pdf = tiny_pdf(2)
    after_header = pdf.index(b"\n") + 1
    return pdf[:after_header] + b"%" + b"x" * 50 + b"\n" + pdf[after_header:]


def _set(path: str, value: object) -> Callable[[bytes], bytes]:
    """Mutation setting manifest field ``a.b.0.c`` to ``value``."""
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]

    def edit(manifest: dict[str, object]) -> None:
        target: object = manifest
        for part in parents:
            target = target[part]  # type: ignore[index]
        target[last] = value  # type: ignore[index]

    return lambda data: edit_manifest(data, edit)


def _zip64_local_header(data: bytes) -> bytes:
    """``data`` with 001.pdf rewritten with a ZIP64 local header (sizes in its extra field),
    its central directory record left plain: readers that trust the local header differ."""
    pdf = entries(data)["001.pdf"]
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename == "001.pdf":
                with target.open(zipfile.ZipInfo("001.pdf"), "w", force_zip64=True) as entry:
                    entry.write(pdf)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def _zip64_extra_field(data: bytes) -> bytes:
    """``data`` with 001.pdf carrying an (empty) ZIP64 extra field in both its headers."""
    info = zipfile.ZipInfo("001.pdf", date_time=(2026, 11, 27, 8, 15, 0))
    info.extra = struct.pack("<2H", 0x0001, 0)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for entry in source.infolist():
            target.writestr(info if entry.filename == "001.pdf" else entry, source.read(entry))
    return out.getvalue()


def _huge_manifest(data: bytes) -> bytes:
    """The valid manifest followed by 5 MiB of JSON whitespace, stored (not compressed, so no
    ratio check catches it first): over the 4 MiB cap, never parsed."""
    padded = entries(data)[MANIFEST_NAME] + b" " * (5 * MIB)
    return with_entry(data, MANIFEST_NAME, padded)


def _pdf_with(change: Callable[[PdfWriter], object]) -> bytes:
    """A one-page PDF from tiny_pdf() changed by ``change`` (an action, a script, a file …)."""
    writer = PdfWriter(clone_from=io.BytesIO(tiny_pdf()))
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _action(kind: str, **entries: PdfObject) -> DictionaryObject:
    action = DictionaryObject({NameObject("/S"): NameObject(kind)})
    action.update({NameObject(f"/{key}"): value for key, value in entries.items()})
    return action


def _launch_link(writer: PdfWriter) -> None:
    """A link over the page whose action starts a program: /Launch."""
    link = DictionaryObject({
        NameObject("/Type"): NameObject("/Annot"), NameObject("/Subtype"): NameObject("/Link"),
        NameObject("/Rect"): ArrayObject([]),
        NameObject("/A"): _action("/Launch", F=TextStringObject("calc.exe")),
    })
    writer.pages[0][NameObject("/Annots")] = ArrayObject([writer._add_object(link)])


def _open_action(kind: str, **entries: PdfObject) -> Callable[[PdfWriter], None]:
    def change(writer: PdfWriter) -> None:
        writer._root_object[NameObject("/OpenAction")] = _action(kind, **entries)
    return change


def _active_pdf(change: Callable[[PdfWriter], object]) -> Callable[[bytes], bytes]:
    return lambda data: with_document(data, "001.pdf", _pdf_with(change))


C = RejectCode
BROKEN = [
    Broken("key outside incoming/", C.BAD_KEY, key="receipts/hki-kallio/{bundle_id}.zip"),
    Broken("key not ending .zip", C.BAD_KEY, key="incoming/hki-kallio/{bundle_id}.tar"),
    Broken("key naming a hetu, not a ULID", C.BAD_KEY, key=f"incoming/hki-kallio/{TEST_HETU}.zip"),
    Broken("zip over max_bundle_bytes", C.TOO_LARGE, limits=Limits(max_bundle_bytes=1000)),
    Broken("entries together over max_total_uncompressed", C.TOO_LARGE,
           limits=Limits(max_total_uncompressed=4000), match="uncompressed"),
    Broken("random bytes", C.NOT_A_ZIP, lambda d: b"this is not a zip file at all"),
    Broken("empty object", C.NOT_A_ZIP, lambda d: b""),
    Broken("truncated zip", C.NOT_A_ZIP, lambda d: d[: len(d) // 2]),
    Broken("PDF glued in front of the zip", C.NOT_A_ZIP, lambda d: tiny_pdf() + d),
    Broken("entry compressed with bzip2", C.NOT_A_ZIP,
           lambda d: with_entry(d, "001.pdf", tiny_pdf(), compress_type=zipfile.ZIP_BZIP2)),
    Broken("entry '../'", C.UNSAFE_ENTRY_NAME, lambda d: with_entry(d, "../001.pdf", b"x")),
    Broken("entry climbing from a folder", C.UNSAFE_ENTRY_NAME,
           lambda d: with_entry(d, "docs/../../etc/evil", b"x")),
    Broken("absolute entry", C.UNSAFE_ENTRY_NAME, lambda d: with_entry(d, "/etc/evil", b"x")),
    Broken("backslash entry", C.UNSAFE_ENTRY_NAME,
           lambda d: with_entry(d, "..\\windows\\evil.pdf", b"x")),
    Broken("drive letter entry", C.UNSAFE_ENTRY_NAME, lambda d: with_entry(d, "C:evil", b"x")),
    Broken("entry name twice", C.UNSAFE_ENTRY_NAME, _duplicate_entry),
    Broken("document replaced by a symlink", C.LINK_ENTRY,
           lambda d: with_entry(d, "001.pdf", b"/etc/passwd", external_attr=SYMLINK)),
    Broken("entry that is a FIFO", C.LINK_ENTRY,
           lambda d: with_entry(d, "fifo", b"", external_attr=stat.S_IFIFO << 16)),
    Broken("more entries than max_entries", C.TOO_MANY_ENTRIES, limits=Limits(max_entries=2),
           match="declares 3 entries"),
    Broken("end record understating the entries", C.TOO_MANY_ENTRIES,
           lambda d: with_declared_entry_count(with_overlapping_copies(d, "001.pdf", 300), 3),
           match="has 303 entries"),
    Broken("central directory too big for the entry limit", C.TOO_MANY_ENTRIES,
           lambda d: with_declared_entry_count(with_overlapping_copies(d, "001.pdf", 100), 3),
           limits=Limits(max_entries=5), match="central directory"),
    Broken("entry over max_entry_bytes", C.ENTRY_TOO_LARGE, limits=Limits(max_entry_bytes=1000)),
    Broken("50 MiB of zeros deflated", C.ZIP_BOMB, with_bomb),
    Broken("entries sharing one entry's bytes", C.ZIP_BOMB,
           lambda d: with_overlapping_copies(d, "001.pdf", 150), limits=Limits(max_ratio=10),
           match="as a whole"),
    Broken("no manifest.json", C.MANIFEST_MISSING, lambda d: without_entry(d, MANIFEST_NAME)),
    Broken("manifest not JSON", C.MANIFEST_NOT_JSON,
           lambda d: with_entry(d, MANIFEST_NAME, b"{documents: [")),
    Broken("manifest not UTF-8", C.MANIFEST_NOT_JSON,
           lambda d: with_entry(d, MANIFEST_NAME, b'{"schema": "\xff"}')),
    Broken("manifest with NaN", C.MANIFEST_NOT_JSON,
           lambda d: _manifest_text(d, b'"confidence": 0.97', b'"confidence": NaN')),
    Broken("manifest nested 100000 deep", C.MANIFEST_NOT_JSON,
           lambda d: with_entry(d, MANIFEST_NAME, b"[" * 100_000)),
    Broken("manifest over 4 MiB", C.MANIFEST_TOO_LARGE, _huge_manifest),
    Broken("ZIP64 local header", C.NOT_A_ZIP, _zip64_local_header, match="ZIP64"),
    Broken("ZIP64 extra field", C.NOT_A_ZIP, _zip64_extra_field, match="ZIP64"),
    Broken("manifest a list", C.SCHEMA_VIOLATION, lambda d: with_manifest(d, [])),
    Broken("manifest of schema version 2", C.SCHEMA_VIOLATION, _set("schema", "aspa-bundle/2")),
    Broken("document without sha256", C.SCHEMA_VIOLATION,
           lambda d: edit_manifest(d, lambda m: m["documents"][0].pop("sha256"))),
    Broken("clerk id holding a hetu", C.SCHEMA_VIOLATION, _set("clerk_id", f"x{TEST_HETU}")),
    Broken("clerk id ending in a newline", C.SCHEMA_VIOLATION, _set("clerk_id", "clerk-7\n")),
    Broken("hand-in in month 13 at 99:99", C.SCHEMA_VIOLATION,
           _set("handed_in_at", "2026-13-45T99:99:99Z"), match="date-time"),
    Broken("scan on 30 February", C.SCHEMA_VIOLATION, _set("scanned_at", "2026-02-30T10:00:00Z")),
    Broken("visit ending at 24:00", C.SCHEMA_VIOLATION,
           _set("visit.ended_at", "2026-11-27T24:00:00Z")),
    Broken("bundle id over 128 bits", C.BAD_KEY, _set("bundle_id", OVER_128_BITS),
           key=f"incoming/hki-kallio/{OVER_128_BITS}.zip"),
    Broken("agent version with a space", C.SCHEMA_VIOLATION, _set("agent_version", "aspa 1")),
    Broken("classifier version of 129 characters", C.SCHEMA_VIOLATION,
           _set("classifier_version", "r" * 129)),
    Broken("visit reason over two lines", C.SCHEMA_VIOLATION, _set("visit.reason", "a\nb")),
    Broken("source with a control character", C.SCHEMA_VIOLATION,
           _set("documents.0.source", "scan\x1b[2J.png")),
    Broken("101 warnings", C.SCHEMA_VIOLATION,
           _set("documents.0.warnings", [f"w{n}" for n in range(101)])),
    Broken("a blank page dropped twice", C.SCHEMA_VIOLATION,
           _set("documents.0.dropped_blank_pages", [2, 2])),
    Broken("one file listed twice", C.SCHEMA_VIOLATION, _set("documents.1.file", "001.pdf")),
    Broken("point id not the key's prefix", C.POINT_MISMATCH,
           key="incoming/tku-keskusta/{bundle_id}.zip"),
    Broken("bundle id not the key's name", C.BUNDLE_ID_MISMATCH,
           key=f"incoming/hki-kallio/{OTHER_ID}.zip"),
    Broken("extra PDF", C.UNEXPECTED_ENTRY, lambda d: with_entry(d, "003.pdf", tiny_pdf())),
    Broken("extra entry named by a hetu", C.UNEXPECTED_ENTRY,
           lambda d: with_entry(d, f"{TEST_HETU}.txt", b"x")),
    Broken("listed document missing", C.MISSING_DOCUMENT, lambda d: without_entry(d, "002.pdf")),
    Broken("document not matching its sha256", C.CHECKSUM_MISMATCH,
           lambda d: with_entry(d, "001.pdf", tiny_pdf(2))),
    Broken("document not a PDF", C.PDF_UNREADABLE,
           lambda d: with_document(d, "001.pdf", b"GIF89a not a pdf")),
    Broken("PDF header over garbage", C.PDF_UNREADABLE,
           lambda d: with_document(d, "001.pdf", b"%PDF-1.7\n1 0 obj garbage\n%%EOF\n")),
    Broken("PDF with stale cross-reference offsets", C.PDF_UNREADABLE,
           lambda d: with_document(d, "001.pdf", _pdf_with_stale_offsets())),
    Broken("truncated PDF", C.PDF_UNREADABLE,
           lambda d: with_document(d, "001.pdf", tiny_pdf(3)[:2000])),
    Broken("encrypted PDF", C.PDF_UNREADABLE,
           lambda d: with_document(d, "001.pdf", _encrypted_pdf()), match="encrypted"),
    Broken("PDF whose link launches a program", C.PDF_ACTIVE_CONTENT, _active_pdf(_launch_link)),
    Broken("PDF running JavaScript when opened", C.PDF_ACTIVE_CONTENT,
           _active_pdf(_open_action("/JavaScript", JS=TextStringObject("app.alert(1)")))),
    Broken("PDF opening a web address", C.PDF_ACTIVE_CONTENT,
           _active_pdf(_open_action("/URI", URI=TextStringObject("https://example.com")))),
    Broken("PDF with an embedded file", C.PDF_ACTIVE_CONTENT,
           _active_pdf(lambda w: w.add_attachment("invoice.exe", b"MZ"))),
    Broken("PDF with a link annotation to a web address", C.PDF_ACTIVE_CONTENT,
           _active_pdf(lambda w: w.add_annotation(0, Link(rect=(0, 0, 50, 50),
                                                          url="https://example.com")))),
    Broken("PDF of 2 pages listed as 1", C.PAGE_COUNT_MISMATCH,
           lambda d: with_document(d, "001.pdf", tiny_pdf(2))),
    Broken("hetu with a wrong check character", C.INVALID_HETU, _set("customer.hetu", WRONG_CHECK)),
    Broken("hetu with no such date", C.INVALID_HETU, _set("customer.hetu", WRONG_DATE)),
]


@pytest.mark.parametrize("broken", BROKEN, ids=lambda b: b.why)
def test_broken_bundle_is_rejected_with_its_code_and_a_reason_without_hetu(
        broken: Broken, bundle: tuple[str, bytes]) -> None:
    """GIVEN a valid bundle with one thing broken (or too big for the limits)
    WHEN the ingest verifies it
    THEN it is rejected with that thing's code, and its reason holds no full identity code."""
    bundle_id, data = bundle

    with pytest.raises(BundleRejected) as rejected:
        verify_bundle(broken.key.format(bundle_id=bundle_id), broken.mutate(data), broken.limits)

    assert rejected.value.code == broken.code, rejected.value.reason
    assert broken.match in rejected.value.reason
    assert FULL_HETU.search(str(rejected.value)) is None, rejected.value.reason


def test_invalid_hetu_reason_shows_the_masked_code() -> None:
    """GIVEN a manifest whose hetu fails its checksum
    THEN the reason names the code masked, enough for the backoffice to find the bundle."""
    bundle_id, data = valid_bundle(POINT, documents=1, hetu=WRONG_CHECK)
    with pytest.raises(BundleRejected) as rejected:
        verify_bundle(incoming_key(POINT, bundle_id), data)
    assert "010594Y***3" in rejected.value.reason
    assert WRONG_CHECK not in str(rejected.value)


def _strings(value: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _strings(item, (*path, key))]
    if isinstance(value, list):
        return [p for n, item in enumerate(value) for p in _strings(item, (*path, n))]
    return []


def test_a_newline_after_any_string_of_a_valid_manifest_is_refused() -> None:
    """GIVEN the manifest of a valid bundle (warnings and all)
    WHEN a newline is appended to any one of its strings
    THEN the schema refuses it: no pattern lets ``$`` match before a final newline, and every
    free-text field refuses control characters."""
    manifest = manifest_of(valid_bundle(POINT, documents=1)[1])
    manifest["documents"][0]["warnings"] = ["low_resolution:150dpi"]
    validate_manifest(manifest)
    paths = _strings(manifest)
    assert len(paths) >= 20
    for path in paths:
        changed = copy.deepcopy(manifest)
        target: Any = changed
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] += "\n"
        with pytest.raises(ContractViolation):
            validate_manifest(changed)


# ------------------------------------------------------------------------- memory guarantees


def _peak_bytes_while(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        run()
    except BundleRejected:
        pass
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def test_zip_bomb_is_rejected_before_anything_is_decompressed(bundle: tuple[str, bytes]) -> None:
    """GIVEN a 64 kB zip holding 50 MiB of deflated zeros
    WHEN the ingest verifies it
    THEN it is a ZIP_BOMB, found from the headers: memory never nears the 50 MiB."""
    bundle_id, data = bundle
    bomb = with_bomb(data)

    peak = _peak_bytes_while(lambda: verify_bundle(incoming_key(POINT, bundle_id), bomb))

    assert peak < 5 * 1024 * 1024
    with pytest.raises(BundleRejected, match="inflates") as rejected:
        verify_bundle(incoming_key(POINT, bundle_id), bomb)
    assert rejected.value.code == RejectCode.ZIP_BOMB


def test_entry_lying_about_its_size_is_read_no_further_than_declared(
        bundle: tuple[str, bytes]) -> None:
    """GIVEN a listed document whose headers say 1000 bytes but which inflates to 50 MiB
    WHEN the ingest verifies it
    THEN reading stops at the declared size and the bundle is rejected as a corrupt zip."""
    bundle_id, data = bundle
    liar = with_declared_size(with_bomb(without_entry(data, "002.pdf"), "002.pdf"), "002.pdf", 1000)

    peak = _peak_bytes_while(lambda: verify_bundle(incoming_key(POINT, bundle_id), liar))

    assert peak < 5 * 1024 * 1024
    with pytest.raises(BundleRejected) as rejected:
        verify_bundle(incoming_key(POINT, bundle_id), liar)
    assert rejected.value.code == RejectCode.NOT_A_ZIP
    assert "002.pdf" in rejected.value.reason


# ------------------------------------------------------------------------ garbage in general


Splice = Callable[[bytes, bytes], bytes]
TARGETS: dict[str, tuple[str | None, Splice]] = {  # entry to corrupt (None: the zip itself)
    "zip": (None, lambda data, part: part),
    "pdf": ("001.pdf", lambda data, part: with_document(data, "001.pdf", part)),
    "manifest": (MANIFEST_NAME, lambda data, part: with_entry(data, MANIFEST_NAME, part)),
}


@pytest.mark.parametrize("target", TARGETS)
def test_corrupted_bytes_give_a_rejection_or_a_pass_never_a_crash(
        target: str, bundle: tuple[str, bytes]) -> None:
    """GIVEN 150 copies of a valid bundle, each with a few random bytes overwritten in the zip,
    in a PDF (checksum kept right) or in the manifest
    WHEN the ingest verifies them
    THEN each passes or raises BundleRejected: no parser error escapes."""
    bundle_id, data = bundle
    entry, splice = TARGETS[target]
    original = data if entry is None else entries(data)[entry]
    rng = random.Random(f"verify-{target}")  # seeded: a failure reproduces
    for _ in range(150):
        corrupted = bytearray(original)
        for _ in range(rng.choice([1, 2, 8])):
            corrupted[rng.randrange(len(corrupted))] = rng.randrange(256)
        try:
            verify_bundle(incoming_key(POINT, bundle_id), splice(data, bytes(corrupted)))
        except BundleRejected as rejected:
            assert FULL_HETU.search(str(rejected)) is None


# ------------------------------------------------------------------------------- the pieces


def test_limits_refuse_a_non_positive_bound() -> None:
    """A limit of 0 would reject every bundle: it is a configuration mistake, said at once."""
    with pytest.raises(ValueError, match="max_entries"):
        Limits(max_entries=0)


def test_reason_is_masked_and_cut_whatever_the_caller_passes() -> None:
    """GIVEN a reason echoing a hetu glued to other text and megabytes of a field
    THEN BundleRejected keeps it short and masks the code."""
    rejected = BundleRejected(RejectCode.SCHEMA_VIOLATION, f"'ab{TEST_HETU}' " + "y" * 10**6)
    assert TEST_HETU not in rejected.reason
    assert "010594Y***2" in rejected.reason
    assert len(rejected.reason) <= 500


def test_a_manifest_that_reads_two_ways_is_refused() -> None:
    """GIVEN the customer's hetu key twice, or a lone surrogate escape in a string
    THEN the manifest is refused: another reader would see another person or other text."""
    bundle_id, data = valid_bundle(POINT, documents=1)
    twice = _manifest_text(data, b'"hetu": ', b'"hetu": "020516C903K", "hetu": ')
    surrogate = _manifest_text(data, b'"reason": "', b'"reason": "\\ud800')
    for broken in (twice, surrogate):
        with pytest.raises(BundleRejected) as caught:
            verify_bundle(incoming_key(POINT, bundle_id), broken)
        assert caught.value.code == RejectCode.MANIFEST_NOT_JSON


def test_another_persons_code_in_free_text_is_masked_in_what_is_stored() -> None:
    """GIVEN a source name and a visit reason naming another person's code
    THEN the verified manifest (what the register stores) holds it masked; the customer's own
    code stays whole."""
    other = "311299-977R"
    bundle_id, data = valid_bundle(POINT, documents=1)
    data = _manifest_text(data, b'"reason": "', f'"reason": "{other} '.encode())
    data = _manifest_text(data, b'"source": "', f'"source": "{other}'.encode())
    manifest = verify_bundle(incoming_key(POINT, bundle_id), data).manifest
    stored = json.dumps(manifest)
    assert other not in stored and stored.count("311299-***R") == 2
    assert manifest["customer"]["hetu"] == TEST_HETU
