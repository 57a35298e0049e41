"""Bad inputs as a clerk's scanner or a careless user produces them (made at test time)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from PIL import Image
from pypdf import PdfWriter


def zero_byte(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def truncated_png(path: Path) -> Path:
    image = Image.new("L", (1200, 1600), 255)
    image.paste(0, (100, 100, 1100, 400))
    image.save(path, format="PNG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def text_named_tif(path: Path) -> Path:
    path.write_text("Tämä on tekstitiedosto, ei skannattu sivu.\n", encoding="utf-8")
    return path


def huge_png(path: Path, side: int = 20000) -> Path:
    """A valid bilevel PNG of side×side pixels: small on disk, 400 Mpx when decoded."""
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
                     + chunk(b"IEND", b""))
    return path


def encrypted_pdf(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="salasana", owner_password="omistaja")
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def pdf_without_pages(path: Path) -> Path:
    with open(path, "wb") as fh:
        PdfWriter().write(fh)
    return path


BAD_INPUTS = {
    "zero_byte.png": (zero_byte, "empty_file"),
    "truncated.png": (truncated_png, "truncated"),
    "text_named.tif": (text_named_tif, None),  # not_a_scan or unreadable_image
    "huge_20000.png": (huge_png, "too_many_pixels"),
    "encrypted.pdf": (encrypted_pdf, "encrypted_pdf"),
    "no_pages.pdf": (pdf_without_pages, "pdf_no_pages"),
}
