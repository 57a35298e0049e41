"""Bad inputs as a clerk's scanner or a careless user produces them (made at test time)."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, NumberObject, PdfObject, StreamObject


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


# --- bombs: small files that would take gigabytes if decoded naively ----------------------

A4_300 = (2480, 3508)
SHORT, LONG = 3, 4  # TIFF field types


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _deflated_zeros(mebibytes: int, prefix: bytes = b"", suffix: bytes = b"") -> bytes:
    """A zlib stream of ``prefix``, ``mebibytes`` MiB of zero bytes and ``suffix``, made in a
    second or two.

    After a full flush deflate starts afresh, so every MiB of zeros compresses to the same
    bytes: one is made and repeated, and the checksum is computed alongside.
    """
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9)
    head = compressor.compress(prefix) + compressor.flush(zlib.Z_FULL_FLUSH)
    unit = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    tail = compressor.compress(suffix) + compressor.flush()
    checksum = zlib.adler32(prefix)
    for _ in range(mebibytes):
        checksum = zlib.adler32(block, checksum)
    checksum = zlib.adler32(suffix, checksum)
    return head + unit * mebibytes + tail[:-4] + struct.pack(">I", checksum)


def tiff_of_blank_frames(path: Path, frames: int = 1000) -> Path:
    """A TIFF of ``frames`` blank A4 300 dpi greyscale pages that all share one deflated
    strip: ~150 kB on disk, 8.7 GB decoded."""
    return tiff_of_frames(path, frames)


def tiff_of_frames(path: Path, frames: int, page: Image.Image | None = None) -> Path:
    """A TIFF of ``frames`` copies of the greyscale ``page`` (blank A4 at 300 dpi if None),
    all sharing one deflated strip: small on disk however many frames it has."""
    if page is None:
        (width, height), photometric = A4_300, 0
        strip = _deflated_zeros(9)  # zeros are white here (WhiteIsZero)
    else:
        (width, height), photometric = page.size, 1
        strip = zlib.compress(page.convert("L").tobytes(), 9)
    fields = [(256, LONG, width), (257, LONG, height), (258, SHORT, 8), (259, SHORT, 8),
              (262, SHORT, photometric), (277, SHORT, 1), (278, LONG, height), (273, LONG, 8),
              (279, LONG, len(strip))]
    size = 2 + 12 * len(fields) + 4
    first = 8 + len(strip)
    ifds = []
    for index in range(frames):
        following = first + (index + 1) * size if index + 1 < frames else 0
        ifds.append(struct.pack("<H", len(fields)) + b"".join(
            struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in fields)
            + struct.pack("<I", following))
    path.write_bytes(b"II*\x00" + struct.pack("<I", first) + strip + b"".join(ifds))
    return path


def png_declaring(path: Path, size: tuple[int, int] = (9000, 9000), *,
                  colour: bool = False) -> Path:
    """A valid PNG header claiming ``size`` (greyscale, or RGB) with one row of data: 81 Mpx
    by default, below Pillow's own bomb limit, so only the agent's cap stops it."""
    width, height = size
    header = struct.pack(">IIBBBBB", width, height, 8, 2 if colour else 0, 0, 0, 0)
    body = zlib.compress(b"\x00" + b"\xff" * width * (3 if colour else 1))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                     + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b""))
    return path


def png_deflate_bomb(path: Path, inflated_mib: int = 2048) -> Path:
    """An A4 greyscale PNG whose IDAT stream inflates to ``inflated_mib`` MiB (2 GiB), far more
    than its declared 8.7 Mpx need."""
    width, height = A4_300
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = _png_chunk(b"IDAT", _deflated_zeros(inflated_mib))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + idat
                     + _png_chunk(b"IEND", b""))
    return path


def apng_of_frames(path: Path, frames: int = 1000) -> Path:
    """An animated PNG of ``frames`` blank A4 frames, each a copy of the same compressed data."""
    width, height = A4_300
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = _deflated_zeros(9)
    chunks = [_png_chunk(b"IHDR", header), _png_chunk(b"acTL", struct.pack(">II", frames, 0))]
    sequence = 0
    for frame in range(frames):
        control = struct.pack(">IIIIIHHBB", sequence, width, height, 0, 0, 1, 1, 0, 0)
        chunks.append(_png_chunk(b"fcTL", control))
        sequence += 1
        if frame == 0:
            chunks.append(_png_chunk(b"IDAT", data))
        else:
            chunks.append(_png_chunk(b"fdAT", struct.pack(">I", sequence) + data))
            sequence += 1
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + _png_chunk(b"IEND", b""))
    return path


def png_iccp_bomb(path: Path, inflated_mib: int = 1024) -> Path:
    """A small valid PNG whose colour profile chunk (iCCP) inflates to ``inflated_mib`` MiB."""
    header = struct.pack(">IIBBBBB", 16, 16, 8, 0, 0, 0, 0)
    profile = b"icc\x00\x00" + _deflated_zeros(inflated_mib)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                     + _png_chunk(b"iCCP", profile)
                     + _png_chunk(b"IDAT", zlib.compress((b"\x00" + b"\xff" * 16) * 16))
                     + _png_chunk(b"IEND", b""))
    return path


def animated_gif(path: Path, frames: int = 1000) -> Path:
    """An animated GIF of ``frames`` frames (a format no scanner writes for a page)."""
    dark, light = Image.new("L", (64, 64), 0), Image.new("L", (64, 64), 255)
    dark.save(path, format="GIF", save_all=True,
              append_images=[light if i % 2 else dark for i in range(1, frames)])
    return path


def jpeg_declaring(path: Path, size: tuple[int, int] = (65000, 65000)) -> Path:
    """A small JPEG whose frame header (SOF0) is patched to claim ``size``."""
    buffer = io.BytesIO()
    Image.new("L", (16, 16), 255).save(buffer, format="JPEG")
    data = bytearray(buffer.getvalue())
    sof = data.index(b"\xff\xc0")
    struct.pack_into(">HH", data, sof + 5, size[1], size[0])
    path.write_bytes(bytes(data))
    return path


def _tiff(entries: list[tuple[int, int, int]], payload: bytes) -> bytes:
    """A little-endian one-IFD TIFF: ``entries`` are (tag, type, value); ``payload`` follows
    the IFD and offsets in entries may point at it (it starts at :func:`_tiff_payload_at`)."""
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHII", tag, kind, 1, value) for tag, kind, value in sorted(entries))
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + payload


def _tiff_payload_at(entries: int) -> int:
    return 8 + 2 + 12 * entries + 4



def tiff_declaring(path: Path, size: tuple[int, int] = (60000, 60000)) -> Path:
    """An uncompressed greyscale TIFF claiming ``size`` with one small strip of data."""
    data = bytes(4096)
    entries = [(256, LONG, size[0]), (257, LONG, size[1]), (258, SHORT, 8), (259, SHORT, 1),
               (262, SHORT, 1), (277, SHORT, 1), (278, LONG, size[1]), (279, LONG, len(data))]
    entries.append((273, LONG, _tiff_payload_at(len(entries) + 1)))
    path.write_bytes(_tiff(entries, data))
    return path


def tiff_huge_tile(path: Path, tile: int = 32768) -> Path:
    """A 1024×1024 deflate-compressed greyscale TIFF stored as one tile of ``tile``×``tile``
    (1 Gpx): a decoder that allocates by the tile's size takes a gigabyte for a small image."""
    data = zlib.compress(bytes(4096))
    entries = [(256, LONG, 1024), (257, LONG, 1024), (258, SHORT, 8), (259, SHORT, 8),
               (262, SHORT, 1), (277, SHORT, 1), (322, LONG, tile), (323, LONG, tile),
               (325, LONG, len(data))]
    entries.append((324, LONG, _tiff_payload_at(len(entries) + 1)))
    path.write_bytes(_tiff(entries, data))
    return path


def _flate_stream(encoded: bytes, **entries: PdfObject) -> StreamObject:
    stream = StreamObject()
    stream._data = encoded
    stream.update({NameObject("/Filter"): NameObject("/FlateDecode")})
    stream.update({NameObject(f"/{key}"): value for key, value in entries.items()})
    return stream


def _pdf_with_page(path: Path, media: tuple[float, float], content: bytes,
                   images: dict[str, StreamObject] | None = None) -> Path:
    """A one-page PDF whose content stream is ``content`` (already deflated)."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=media[0], height=media[1])
    page[NameObject("/Contents")] = writer._add_object(_flate_stream(content))
    if images:
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/XObject"): DictionaryObject(
            {NameObject(name): writer._add_object(image) for name, image in images.items()})})
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def pdf_giant_mediabox(path: Path) -> Path:
    """One page of 200×200 inches (the largest PDF allows): 3.6 Gpx at 300 dpi."""
    return _pdf_with_page(path, (14400, 14400), zlib.compress(b"0 0 m 100 100 l S"))


def pdf_huge_inline_image(path: Path, side_mib: int = 20) -> Path:
    """An A4 page drawing one inline greyscale image of ``side_mib`` MiB square (440 Gpx for
    20): its content stream is 1 MB compressed and 400 MiB inflated."""
    side = side_mib << 10
    content = _deflated_zeros(side_mib * side_mib,
                              prefix=b"q 595 0 0 842 0 0 cm BI /W %d /H %d /CS /G /BPC 8 ID "
                              % (side, side), suffix=b" EI Q")
    return _pdf_with_page(path, (595, 842), content)


def pdf_image_deflate_bomb(path: Path, inflated_mib: int = 2048) -> Path:
    """An A4 page with one full-page image XObject declared A4 at 300 dpi whose Flate stream
    inflates to ``inflated_mib`` MiB (2 GiB)."""
    image = _flate_stream(_deflated_zeros(inflated_mib), Type=NameObject("/XObject"),
                          Subtype=NameObject("/Image"), Width=NumberObject(A4_300[0]),
                          Height=NumberObject(A4_300[1]), ColorSpace=NameObject("/DeviceGray"),
                          BitsPerComponent=NumberObject(8))
    return _pdf_with_page(path, (595, 842), zlib.compress(b"q 595 0 0 842 0 0 cm /Im0 Do Q"),
                          {"/Im0": image})


def pdf_of_pages(path: Path, pages: int = 5000) -> Path:
    """A PDF of ``pages`` blank A4 pages."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


# name → (maker, reject code). Each must end in that code within the agent's memory budget.
BOMBS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "frames_1000.tif": (tiff_of_blank_frames, "too_many_pages"),
    # At the page limit: accepted, every frame decoded, each dropped as blank.
    "frames_200.tif": (partial(tiff_of_blank_frames, frames=200), "all_pages_blank"),
    "declares_9000.png": (png_declaring, "too_many_pixels"),
    "idat_bomb.png": (png_deflate_bomb, "page_all_black"),  # its pixels are zeros: black
    "frames_1000.png": (apng_of_frames, "too_many_pages"),
    "frames_1000.gif": (animated_gif, "not_a_scan"),
    "iccp_bomb.png": (png_iccp_bomb, "unreadable_image"),
    "declares_65000.jpg": (jpeg_declaring, "too_many_pixels"),
    "declares_60000.tif": (tiff_declaring, "too_many_pixels"),
    "huge_tile.tif": (tiff_huge_tile, "too_many_pixels"),
    "giant_mediabox.pdf": (pdf_giant_mediabox, "too_many_pixels"),
    "inline_image.pdf": (pdf_huge_inline_image, "page_all_black"),
    "image_bomb.pdf": (pdf_image_deflate_bomb, "page_all_black"),
    "pages_5000.pdf": (pdf_of_pages, "too_many_pages"),
}

