"""Bundles for tests: valid ones made by the agent's own builder, and mutators that break them.

A valid bundle holds real (tiny) PDFs, so it passes the ingest's PDF checks; each mutator
returns new zip bytes with exactly one thing wrong, and writes whatever it is asked to, unsafe
names included. Only test identity codes (individual number 900-999) belong here.

    bundle_id, data = valid_bundle(documents=2)
    key = incoming_key("hki-kallio", bundle_id)
    broken = edit_manifest(data, lambda m: m.update(point_id="tku-keskusta"))
    sealed = seal("hki-kallio", bundle_id, data)      # as the agent uploads it: test keys
    store.put_new(key, sealed.data, metadata=sealed.metadata)

Sealing uses test keys: one Ed25519 key per point, derived from the point id (so every process
of a test run has the same ones), and one age identity for "Kela" per test session.
"""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pyrage
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image, ImageDraw
from pyrage import x25519

from aspa_contract import MANIFEST_NAME
from aspa_contract.keys import Identity, SigningKey
from aspa_contract.layout import incoming_key
from aspa_contract.sealing import SealedBundle
from aspa_contract.sealing import seal as seal_with
from classifiers.base import Classification
from scanner_agent.bundle import DocumentResult, Handover, build_bundle, new_bundle_id

__all__ = [
    "TEST_HETU",
    "edit_manifest",
    "entries",
    "incoming_key",
    "kela_identity",
    "manifest_of",
    "open_sealed",
    "point_signing_key",
    "seal",
    "tiny_pdf",
    "valid_bundle",
    "with_bomb",
    "with_declared_entry_count",
    "with_declared_size",
    "with_document",
    "with_entry",
    "with_manifest",
    "with_overlapping_copies",
    "without_entry",
]

TEST_HETU = "010594Y9032"  # a temporary (900-999) test code with a right check character
HANDED_IN = datetime(2026, 11, 27, 8, 15, tzinfo=UTC)
MIB = 1024 * 1024
FORM = Classification("TO 1", "form", "fi", 0.97, "rule")
ATTACHMENT = Classification(None, "attachment/bank_statement", "fi", 0.81, "model")


def tiny_pdf(pages: int = 1) -> bytes:
    """A real PDF of ``pages`` small A4-shaped pages (2-3 kB each), made with Pillow."""
    images = [_page_image(n) for n in range(1, pages + 1)]
    out = io.BytesIO()
    images[0].save(out, format="PDF", resolution=18, save_all=True, append_images=images[1:])
    return out.getvalue()


def _page_image(number: int) -> Image.Image:
    page = Image.new("L", (149, 210), 255)  # A4 at 18 dpi
    ImageDraw.Draw(page).text((12, 12), f"Kela TO 1  Sivu {number}", fill=0)
    return page


def valid_bundle(point_id: str = "hki-kallio", documents: int = 2,
                 hetu: str | None = TEST_HETU, *, pages: int | Sequence[int] = 1,
                 bundle_id: str | None = None) -> tuple[str, bytes]:
    """``(bundle_id, zip bytes)`` of a bundle that passes every ingest check.

    The first document is form TO 1, the others bank-statement attachments. ``pages`` is one
    count for every document or one per document.
    """
    counts = [pages] * documents if isinstance(pages, int) else list(pages)
    docs = [
        DocumentResult(f"scan-{n:04d}.png", tiny_pdf(count), count, FORM if n == 1 else ATTACHMENT)
        for n, count in enumerate(counts, start=1)
    ]
    handover = Handover(point_id, "clerk-7", HANDED_IN, HANDED_IN, visit_reason="hakemus")
    made = build_bundle(docs, handover, hetu, "rules/1", bundle_id or new_bundle_id())
    return made.bundle_id, made.data


def point_signing_key(point_id: str) -> SigningKey:
    """The test signing key of ``point_id``: the same in every process, never a real key."""
    seed = hashlib.sha256(f"aspa-capture test key of {point_id}".encode()).digest()
    return SigningKey(Ed25519PrivateKey.from_private_bytes(seed))


_KELA = Identity(x25519.Identity.generate())


def kela_identity() -> Identity:
    """The test session's stand-in for Kela's age identity."""
    return _KELA


def seal(point_id: str, bundle_id: str, data: bytes, *, signer: SigningKey | None = None,
         recipient: str | None = None) -> SealedBundle:
    """``data`` sealed as the agent seals it: to the test Kela identity (or ``recipient``),
    signed with the point's test key (or ``signer``)."""
    return seal_with(data, point_id=point_id, bundle_id=bundle_id,
                     recipient=recipient or _KELA.recipient,
                     signer=signer or point_signing_key(point_id))


def open_sealed(sealed: bytes) -> bytes:
    """The zip inside ``sealed`` (decrypted with the test Kela identity, signature unchecked)."""
    return pyrage.decrypt(sealed, [_KELA.secret])


def entries(data: bytes) -> dict[str, bytes]:
    """Every entry of the zip ``data``, name → content, in archive order."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def manifest_of(data: bytes) -> dict[str, Any]:
    """The parsed ``manifest.json`` of the zip ``data``."""
    manifest: dict[str, Any] = json.loads(entries(data)[MANIFEST_NAME])
    return manifest


def with_entry(data: bytes, name: str, content: bytes, *, external_attr: int | None = None,
               compress_type: int = zipfile.ZIP_STORED) -> bytes:
    """``data`` with entry ``name`` replaced in place, or added at the end if it is new.

    ``external_attr`` sets the raw attribute word, e.g. ``(stat.S_IFLNK | 0o777) << 16`` for a
    symlink whose target is ``content``.
    """
    info = zipfile.ZipInfo(name, date_time=HANDED_IN.timetuple()[:6])
    info.compress_type = compress_type
    if external_attr is not None:
        info.external_attr = external_attr
    return _rewrite(data, {name: (info, content)})


def without_entry(data: bytes, name: str) -> bytes:
    """``data`` without entry ``name``."""
    return _rewrite(data, {name: None})


def with_manifest(data: bytes, manifest: Any) -> bytes:
    """``data`` with ``manifest`` (anything JSON can hold) as its ``manifest.json``."""
    return with_entry(data, MANIFEST_NAME, json.dumps(manifest, indent=2).encode(),
                      compress_type=zipfile.ZIP_DEFLATED)


def edit_manifest(data: bytes, edit: Callable[[dict[str, Any]], object]) -> bytes:
    """``data`` with its manifest changed in place by ``edit``."""
    manifest = manifest_of(data)
    edit(manifest)
    return with_manifest(data, manifest)


def with_document(data: bytes, name: str, content: bytes) -> bytes:
    """``data`` with document ``name`` replaced and its manifest sha256 updated to match, so
    only the content itself is wrong (not a PDF, another page count …)."""
    def fix_checksum(manifest: dict[str, Any]) -> None:
        for doc in manifest["documents"]:
            if doc["file"] == name:
                doc["sha256"] = hashlib.sha256(content).hexdigest()

    return edit_manifest(with_entry(data, name, content), fix_checksum)


def with_bomb(data: bytes, name: str = "zeros.bin", size: int = 50 * MIB) -> bytes:
    """``data`` plus an entry of ``size`` zero bytes, deflated ~1000-fold.

    Written in 1 MiB chunks, so making it never holds ``size`` bytes in memory.
    """
    out = io.BytesIO(_rewrite(data, {}))
    with zipfile.ZipFile(out, "a") as archive:
        info = zipfile.ZipInfo(name, date_time=HANDED_IN.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        chunk = bytes(MIB)
        with archive.open(info, "w") as entry:
            for _ in range(size // MIB):
                entry.write(chunk)
            entry.write(bytes(size % MIB))
    return out.getvalue()


def with_declared_size(data: bytes, name: str, size: int) -> bytes:
    """``data`` whose headers (local and central) claim entry ``name`` is ``size`` bytes
    uncompressed while its compressed data stays as it was: a lying header."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        info = archive.getinfo(name)
    # crc, compressed size, uncompressed size sit side by side in both headers.
    before = struct.pack("<3L", info.CRC, info.compress_size, info.file_size)
    after = struct.pack("<3L", info.CRC, info.compress_size, size)
    if data.count(before) != 2:
        raise ValueError(f"cannot find both headers of {name!r} unambiguously")
    return data.replace(before, after)


def with_overlapping_copies(data: bytes, name: str, copies: int) -> bytes:
    """``data`` with ``copies`` more central-directory records pointing at the local header of
    ``name``: many entries sharing one entry's bytes, as non-recursive zip bombs do.

    The copies are named ``x001``, ``x002`` …; their local header still says ``name``, which a
    reader that opens them notices. The ingest must refuse such a zip before reading any entry.
    """
    end = data.rindex(b"PK\x05\x06")
    fields = list(struct.unpack_from("<4s4H2LH", data, end))
    directory = data[fields[6]: fields[6] + fields[5]]
    record = _directory_record(directory, name)
    extra = b"".join(_renamed(record, f"x{n:03d}".encode()) for n in range(1, copies + 1))
    fields[3] += copies
    fields[4] += copies
    fields[5] += len(extra)
    return data[: fields[6]] + directory + extra + struct.pack("<4s4H2LH", *fields) + data[
        end + 22:]


def with_declared_entry_count(data: bytes, count: int) -> bytes:
    """``data`` whose end-of-central-directory record claims ``count`` entries."""
    end = data.rindex(b"PK\x05\x06")
    return data[: end + 8] + struct.pack("<2H", count, count) + data[end + 12:]


def _directory_record(directory: bytes, name: str) -> bytes:
    at = 0
    while at < len(directory):
        name_len, extra_len, comment_len = struct.unpack_from("<3H", directory, at + 28)
        end = at + 46 + name_len + extra_len + comment_len
        if directory[at + 46: at + 46 + name_len] == name.encode():
            return directory[at:end]
        at = end
    raise KeyError(name)


def _renamed(record: bytes, new_name: bytes) -> bytes:
    return record[:28] + struct.pack("<3H", len(new_name), 0, 0) + record[34:46] + new_name


def _rewrite(data: bytes, changes: dict[str, tuple[zipfile.ZipInfo, bytes] | None]) -> bytes:
    """Copy the zip ``data``; a name in ``changes`` maps to None (drop) or (info, content)."""
    out = io.BytesIO()
    pending = dict(changes)
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename not in pending:
                target.writestr(info, source.read(info))
                continue
            change = pending.pop(info.filename)
            if change is not None:
                target.writestr(*change)
        for change in pending.values():
            if change is not None:
                target.writestr(*change)
    return out.getvalue()
