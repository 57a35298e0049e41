"""Makers of hostile files for the bad-input corpora: PDFs with actions, loops and bombs,
PNGs and JPEGs damaged chunk by chunk. Each returns the file's bytes (or an image)."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from functools import cache

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from tests.pagegen import blank_page, text_page

SMALL_DPI = 150
LINES = ["Kela Hakemus Perustoimeentulotuki TO 1", "Hakijan tiedot ja henkilötunnus",
         "Päivämäärä ja allekirjoitus"]


@cache
def _text() -> Image.Image:
    return text_page(LINES, dpi=SMALL_DPI, size_pt=14)


def text_image() -> Image.Image:
    """A small A4 page with three lines of Finnish text (150 dpi)."""
    return _text().copy()


def blank_image(**kwargs: object) -> Image.Image:
    """A blank A4 page at 75 dpi (cheap to make, decode and drop)."""
    return blank_page(dpi=75, **kwargs)  # type: ignore[arg-type]


def image_bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def pdf_of(image: Image.Image, dpi: int = SMALL_DPI) -> bytes:
    """A scan-like PDF: one page that is ``image``, made by Pillow."""
    return image_bytes(image.convert("L"), "PDF", resolution=dpi)


# --- hostile PDFs ---------------------------------------------------------------------------


def pdf_with_open_action(pdf: bytes, action: dict[str, str]) -> bytes:
    """``pdf`` with a document /OpenAction such as ``{"/S": "/Launch", "/F": "cmd.exe"}``."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf))
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject({
        NameObject(key): NameObject(value) if value.startswith("/") else TextStringObject(value)
        for key, value in action.items()})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_with_javascript(pdf: bytes) -> bytes:
    return pdf_with_open_action(pdf, {"/S": "/JavaScript", "/JS": "app.alert('hei');"})


def pdf_with_launch_action(pdf: bytes) -> bytes:
    return pdf_with_open_action(pdf, {"/S": "/Launch", "/F": "cmd.exe"})


def raw_pdf(*objects: bytes) -> bytes:
    """A PDF of ``objects`` (object 1 is the catalog) with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % at for at in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def pdf_one_page(media: bytes, content: bytes = b"", resources: bytes = b"<< >>",
                 extra: tuple[bytes, ...] = ()) -> bytes:
    """One page with MediaBox ``media`` (e.g. ``b"0 0 595 842"``) drawing ``content``."""
    return raw_pdf(
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [%s] /Contents 4 0 R /Resources %s >>"
        % (media, resources),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        *extra)


def pdf_image_bomb(side: int = 12000) -> bytes:
    """A page drawing one ``side``² greyscale image of deflated zeros (144 MB inflated)."""
    compressor = zlib.compressobj(9)
    row_block = bytes(side * 64)
    body = b"".join(compressor.compress(row_block) for _ in range(side // 64))
    body += compressor.flush()
    image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
             b"/BitsPerComponent 8 /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream"
             % (side, side, len(body), body))
    return pdf_one_page(b"0 0 595 842", b"q 595 0 0 842 0 0 cm /Im0 Do Q",
                        b"<< /XObject << /Im0 5 0 R >> >>", (image,))


def pdf_page_tree_loop() -> bytes:
    """A page tree whose only kid is the tree itself."""
    return raw_pdf(b"<< /Type /Catalog /Pages 2 0 R >>",
                   b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>")


def pdf_encrypted_without_password() -> bytes:
    """Encrypted with an empty user password: anyone may open it, as some scanners write."""
    writer = PdfWriter(clone_from=io.BytesIO(pdf_of(blank_image(), 75)))
    writer.encrypt(user_password="", owner_password="omistaja")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- hostile images -------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes, crc: int | None = None) -> bytes:
    right = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", right if crc is None else crc)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    at, chunks = 8, []
    while at < len(data):
        (length,) = struct.unpack_from(">I", data, at)
        chunks.append((data[at + 4: at + 8], data[at + 8: at + 8 + length]))
        at += 12 + length
    return chunks


def png_rebuilt(image: Image.Image, edit: Callable[[bytes, bytes], bytes | None]) -> bytes:
    """The PNG of ``image`` with each chunk passed through ``edit(kind, data)`` → raw chunk
    bytes (None keeps it as it was)."""
    chunks = _png_chunks(image_bytes(image, "PNG"))
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        edit(kind, data) or _png_chunk(kind, data) for kind, data in chunks)


def png_bad_crc(kind_to_break: bytes) -> bytes:
    return png_rebuilt(blank_image(), lambda kind, data: _png_chunk(kind, data, 0xDEADBEEF)
                       if kind == kind_to_break else None)


def png_scrambled_idat() -> bytes:
    """IDAT data overwritten in the middle, CRC made right again: the deflate stream is bad."""
    def scramble(kind: bytes, data: bytes) -> bytes | None:
        if kind != b"IDAT":
            return None
        mid = len(data) // 2
        return _png_chunk(kind, data[:mid] + bytes(range(256)) * 4 + data[mid + 1024:])
    return png_rebuilt(blank_image(), scramble)


def png_text_bomb() -> bytes:
    """A blank PNG with a zTXt chunk inflating to 64 MB, just before its end."""
    compressor = zlib.compressobj(9)
    bomb = b"".join(compressor.compress(bytes(1 << 20)) for _ in range(64)) + compressor.flush()

    def add_bomb(kind: bytes, data: bytes) -> bytes | None:
        if kind != b"IEND":
            return None
        return _png_chunk(b"zTXt", b"Comment\x00\x00" + bomb) + _png_chunk(kind, data)
    return png_rebuilt(blank_image(), add_bomb)


def jpeg_broken_frame_header() -> bytes:
    data = bytearray(image_bytes(blank_image(), "JPEG"))
    at = data.index(b"\xff\xc0")
    data[at + 4: at + 10] = b"\x00" * 6  # precision 0, 0×0 pixels, no components
    return bytes(data)


def rgba_text_on_transparent() -> Image.Image:
    """Black text on a fully transparent (black, alpha 0) background."""
    mask = Image.eval(text_image(), lambda v: 255 - v)  # text opaque, paper transparent
    page = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    page.putalpha(mask)
    return page


def gray16(image: Image.Image) -> Image.Image:
    return image.point(lambda v: v * 257, "I").convert("I;16")


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "ei skannaus")
    return out.getvalue()
