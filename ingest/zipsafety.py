"""Open an untrusted zip without letting it cost more than its limits.

Everything the headers can tell (entry count, names, links, sizes, compression ratios) is
checked before a byte is decompressed, and every read is capped at the size the headers
declared, so an archive that lies in its headers fails instead of filling memory.
"""

from __future__ import annotations

import io
import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields

from ingest.errors import BundleRejected, RejectCode

MIB = 1024 * 1024

_LOCAL_HEADER = b"PK\x03\x04"
_END_RECORD = struct.Struct("<4s4H2LH")  # signature, disks, entries here/total, cd size/offset
_END_SIGNATURE = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_LOCATOR_SIZE = 20
_LOCAL_RECORD = struct.Struct("<4s5H3L2H")  # signature … sizes, name and extra field lengths
_ZIP64_EXTRA = 0x0001  # the extra field that carries 64-bit sizes and offsets
_ZIP64_MARK = 0xFFFFFFFF  # a 32-bit size field saying "see the ZIP64 extra field"
_MAX_COMMENT = 0xFFFF
# A central directory record is 46 bytes plus name, extra field and comment. Bundle names are
# "001.pdf"; 512 leaves room for any zip tool's extra fields, and caps what zipfile parses
# into objects for an archive that claims few entries but carries millions of records.
_MAX_DIRECTORY_RECORD = 46 + 512
_ALLOWED_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflated"}
_DRIVE = re.compile(r"^[A-Za-z]:")
# What zipfile and zlib raise for an archive that is damaged or uses what they cannot read.
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
               ValueError, struct.error, IndexError, NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class Limits:
    """Bounds on one incoming bundle. The defaults fit scanned documents with room to spare.

    A bundle holds ``manifest.json`` and up to 200 PDFs (the schema's ``documents`` maximum), so
    201 entries. Scanned PDFs are already compressed, so a real bundle's ratios are near 1;
    100 is far above any honest entry and far below a zip bomb's 1000+.

    Examples::

        Limits()                                  # 200 MiB zip, 201 entries, ratio 100,
                                                  # 4 MiB manifest
        Limits(max_bundle_bytes=50 * MIB)         # a smaller quota for one deployment
        Limits(max_bundle_bytes=4096, max_ratio=2)  # tiny limits for a unit test
    """

    max_bundle_bytes: int = 200 * MIB  # the zip object itself
    max_entries: int = 201  # manifest + 200 documents
    max_entry_bytes: int = 100 * MIB  # one entry, uncompressed
    max_total_uncompressed: int = 400 * MIB  # all entries together, uncompressed
    max_ratio: float = 100.0  # uncompressed / compressed, per entry and for the whole zip
    max_manifest_bytes: int = 4 * MIB  # manifest.json, uncompressed: checked before parsing

    def __post_init__(self) -> None:
        for field in fields(self):
            if getattr(self, field.name) <= 0:
                raise ValueError(f"Limits.{field.name} must be positive")


class SafeZip:
    """A zip whose headers passed every check; :meth:`read` returns one entry, size-capped."""

    def __init__(self, archive: zipfile.ZipFile) -> None:
        self._archive = archive
        self._infos = {info.filename: info for info in archive.infolist()}

    @property
    def names(self) -> list[str]:
        """Entry names in archive order."""
        return list(self._infos)

    def size(self, name: str) -> int:
        """The uncompressed size entry ``name`` declares (reads never return more)."""
        return self._infos[name].file_size

    def read(self, name: str) -> bytes:
        """The bytes of entry ``name``; BundleRejected when it is corrupt or not as declared."""
        info = self._infos[name]
        try:
            with self._archive.open(info) as entry:
                data = entry.read(info.file_size + 1)
        except _ZIP_ERRORS as exc:
            raise BundleRejected(RejectCode.NOT_A_ZIP,
                                 f"entry {name!r} cannot be read: {exc}") from exc
        # zipfile stops at the declared size itself; checking keeps the cap ours, not its.
        if len(data) > info.file_size:
            raise BundleRejected(RejectCode.ZIP_BOMB,
                                 f"entry {name!r} inflates beyond its declared size")
        return data


@contextmanager
def open_zip(data: bytes, limits: Limits) -> Iterator[SafeZip]:
    """Open ``data`` as a zip after checking its structure against ``limits``."""
    _check_end_record(data, limits)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as exc:
        raise BundleRejected(RejectCode.NOT_A_ZIP, f"not a readable zip: {exc}") from exc
    with archive:
        check_entries(archive.infolist(), len(data), limits)
        for info in archive.infolist():
            _check_local_header(data, info)
        yield SafeZip(archive)


def _check_end_record(data: bytes, limits: Limits) -> None:
    """Bound what zipfile will parse, reading only the end-of-central-directory record."""
    if not data.startswith(_LOCAL_HEADER):
        # Also refuses data glued in front of a zip (a PDF/zip polyglot, a self-extractor).
        raise BundleRejected(RejectCode.NOT_A_ZIP, "does not start with a zip entry")
    at = _find_end_record(data)
    entries, directory_size = _END_RECORD.unpack_from(data, at)[4:6]
    if data[at - _ZIP64_LOCATOR_SIZE: at - _ZIP64_LOCATOR_SIZE + 4] == _ZIP64_LOCATOR:
        # zipfile would take sizes from the ZIP64 record instead; a bundle never needs one.
        raise BundleRejected(RejectCode.NOT_A_ZIP, "ZIP64 archives are not accepted")
    if entries > limits.max_entries:
        raise BundleRejected(RejectCode.TOO_MANY_ENTRIES,
                             f"zip declares {entries} entries, limit {limits.max_entries}")
    if directory_size > limits.max_entries * _MAX_DIRECTORY_RECORD:
        raise BundleRejected(RejectCode.TOO_MANY_ENTRIES,
                             f"central directory of {directory_size} bytes is larger than "
                             f"{limits.max_entries} entries need")


def _find_end_record(data: bytes) -> int:
    # The same search zipfile makes: the last 22 bytes, else the last signature within reach
    # of a maximal comment.
    tail = len(data) - _END_RECORD.size
    if tail >= 0 and data[tail:tail + 4] == _END_SIGNATURE and data[-2:] == b"\0\0":
        return tail
    at = data.rfind(_END_SIGNATURE, max(0, tail - _MAX_COMMENT))
    if at < 0 or at + _END_RECORD.size > len(data):
        raise BundleRejected(RejectCode.NOT_A_ZIP, "no end-of-central-directory record")
    return at


def _check_local_header(data: bytes, info: zipfile.ZipInfo) -> None:
    """Refuse ZIP64 in an entry's local header: zipfile reads sizes from there too, and our
    agent never writes one (bundles are far below 4 GiB), so it can only be a crafted zip."""
    at = info.header_offset
    if at < 0 or at + _LOCAL_RECORD.size > len(data):
        raise BundleRejected(RejectCode.NOT_A_ZIP, f"entry {info.filename!r} has no local header")
    signature, *_, compressed, size, name_len, extra_len = _LOCAL_RECORD.unpack_from(data, at)
    start = at + _LOCAL_RECORD.size + name_len
    if signature != _LOCAL_HEADER or start + extra_len > len(data):
        raise BundleRejected(RejectCode.NOT_A_ZIP, f"entry {info.filename!r} has no local header")
    if _ZIP64_MARK in (compressed, size) or _has_zip64(data[start:start + extra_len]):
        raise BundleRejected(RejectCode.NOT_A_ZIP,
                             f"entry {info.filename!r} has a ZIP64 (or malformed) local header; "
                             "bundles never use ZIP64")


def _has_zip64(extra: bytes) -> bool:
    """True when the extra field ``extra`` holds a ZIP64 record (a malformed one counts)."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<2H", extra, at)
        if kind == _ZIP64_EXTRA:
            return True
        at += 4 + length
    return at != len(extra)


def check_entries(infos: list[zipfile.ZipInfo], zip_size: int, limits: Limits) -> None:
    """Reject by what the central directory declares, before anything is decompressed."""
    if len(infos) > limits.max_entries:
        raise BundleRejected(RejectCode.TOO_MANY_ENTRIES,
                             f"zip has {len(infos)} entries, limit {limits.max_entries}")
    seen: set[str] = set()
    for info in infos:
        if _has_zip64(info.extra):
            raise BundleRejected(RejectCode.NOT_A_ZIP,
                                 f"entry {info.filename!r} has a ZIP64 (or malformed) extra "
                                 "field; bundles never use ZIP64")
        _check_name(info, seen)
        _check_kind(info)
        _check_size(info, limits)
    total = sum(info.file_size for info in infos)
    if total > limits.max_total_uncompressed:
        raise BundleRejected(RejectCode.TOO_LARGE,
                             f"entries total {total} bytes uncompressed, "
                             f"limit {limits.max_total_uncompressed}")
    if total > limits.max_ratio * max(zip_size, 1):
        # Past the per-entry check, only entries that share compressed bytes (overlap) or
        # claim more than the zip holds get here: the trick of non-recursive zip bombs.
        raise BundleRejected(RejectCode.ZIP_BOMB,
                             f"zip inflates {total / max(zip_size, 1):.0f}-fold as a whole, "
                             f"limit {limits.max_ratio:g}")


def _check_name(info: zipfile.ZipInfo, seen: set[str]) -> None:
    problem = unsafe_name_problem(info.orig_filename)
    if problem is None and info.filename in seen:
        # Two entries of one name: what was verified may not be what another reader extracts.
        problem = "appears twice"
    if problem is not None:
        raise BundleRejected(RejectCode.UNSAFE_ENTRY_NAME,
                             f"entry {info.orig_filename!r} {problem}")
    seen.add(info.filename)


def unsafe_name_problem(name: str) -> str | None:
    """What makes ``name`` unsafe to extract anywhere, or None when it is a plain relative path."""
    if not name:
        return "has an empty name"
    if any(ord(char) < 32 or char == "\x7f" for char in name):
        return "has control characters in its name"  # incl. NUL, which zipfile cuts at
    if "\\" in name:
        return "has a backslash in its name"
    if name.startswith("/"):
        return "is an absolute path"
    if _DRIVE.match(name):
        return "starts with a drive letter"
    if ".." in name.split("/"):
        return "climbs out with '..'"
    return None


def _check_kind(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16  # Unix st_mode, when a Unix tool made the zip
    if stat.S_ISLNK(mode):
        raise BundleRejected(RejectCode.LINK_ENTRY, f"entry {info.filename!r} is a symlink")
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise BundleRejected(RejectCode.LINK_ENTRY,
                             f"entry {info.filename!r} is a special file (mode {mode:o})")
    if info.flag_bits & 0x1:
        raise BundleRejected(RejectCode.NOT_A_ZIP, f"entry {info.filename!r} is encrypted")
    if info.compress_type not in _ALLOWED_METHODS:
        raise BundleRejected(RejectCode.NOT_A_ZIP,
                             f"entry {info.filename!r} uses compression method "
                             f"{info.compress_type}; bundles use stored or deflated")


def _check_size(info: zipfile.ZipInfo, limits: Limits) -> None:
    if info.file_size > limits.max_entry_bytes:
        raise BundleRejected(RejectCode.ENTRY_TOO_LARGE,
                             f"entry {info.filename!r} is {info.file_size} bytes uncompressed, "
                             f"limit {limits.max_entry_bytes}")
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > limits.max_ratio:
        raise BundleRejected(RejectCode.ZIP_BOMB,
                             f"entry {info.filename!r} inflates {ratio:.0f}-fold "
                             f"({info.compress_size} → {info.file_size} bytes), "
                             f"limit {limits.max_ratio:g}")
