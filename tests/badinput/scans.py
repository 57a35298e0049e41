"""Bad scan input: every kind of inbox entry a scanner, a share or a hostile user can leave,
each with the outcome the agent must reach (a bundle of N documents, a quarantine reason code,
or left alone as junk).

    for kind in SCAN_KINDS:
        kind.make(staging / kind.name)       # then rename it into the running agent's inbox

Every kind's entry name starts with its id (``s07-…``): the id survives the masking and
escaping the agent applies to names, so outcomes are matched by it. Pages are small (150 dpi,
three lines) so the few kinds that must become bundles cost little OCR. Only test identity codes
(individual number 900-999) appear.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from aspa_contract.hetu import check_character
from tests.badfiles import (
    animated_gif,
    apng_of_frames,
    encrypted_pdf,
    huge_png,
    jpeg_declaring,
    pdf_giant_mediabox,
    pdf_of_pages,
    pdf_without_pages,
    png_declaring,
    png_iccp_bomb,
    text_named_tif,
    tiff_declaring,
    tiff_huge_tile,
    tiff_of_blank_frames,
    truncated_png,
    zero_byte,
)
from tests.badinput.hostile import (
    SMALL_DPI,
    blank_image,
    gray16,
    image_bytes,
    jpeg_broken_frame_header,
    pdf_encrypted_without_password,
    pdf_image_bomb,
    pdf_of,
    pdf_one_page,
    pdf_page_tree_loop,
    pdf_with_javascript,
    pdf_with_launch_action,
    png_bad_crc,
    png_scrambled_idat,
    png_text_bomb,
    rgba_text_on_transparent,
    text_image,
    zip_bytes,
)
from tests.pagegen import blank_page

# --- outcomes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bundled:
    """The entry becomes one bundle of ``documents`` documents."""

    documents: int


@dataclass(frozen=True)
class Quarantined:
    """The entry moves to quarantine/ with a readable reason carrying one of ``codes``."""

    codes: tuple[str, ...]


@dataclass(frozen=True)
class Ignored:
    """Junk the agent must leave where it is, untouched and unreported."""


Expected = Bundled | Quarantined | Ignored


def quarantined(*codes: str) -> Quarantined:
    return Quarantined(codes)


@dataclass(frozen=True)
class ScanKind:
    """One kind of inbox entry. ``open_issue`` says which fix it still waits for (the test is
    then a strict xfail); ``stalls_agent`` marks a kind whose open bug stops the whole agent,
    so it is dropped after the others while the bug is open and cannot hide their results."""

    id: str
    name: str | bytes  # bytes: a name that is not UTF-8
    make: Callable[[Path], object]
    expected: Expected
    why: str
    open_issue: str | None = None
    stalls_agent: bool = False
    hetu_in_name: bool = False

    @property
    def fs_name(self) -> str:
        """The name as a str the file system takes (non-UTF-8 bytes surrogate-escaped)."""
        return os.fsdecode(self.name)


def made_hetu(birth: str = "010594", sign: str = "Y", number: str = "903") -> str:
    """A temporary (900-999) identity code with a right check character."""
    return f"{birth}{sign}{number}{check_character(birth + number)}"


NAME_HETU = made_hetu("311299", "-", "977")
FOLDER_HETU = made_hetu("150385", "A", "951")
NAME_HETUS = (NAME_HETU, FOLDER_HETU)

def _save(image: Image.Image, fmt: str, **options: object) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        image.save(path, format=fmt, **options)
    return make


def _write(data: bytes | Callable[[], bytes]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.write_bytes(data() if callable(data) else data)
    return make


def _cut(data: Callable[[], bytes], keep: float = 0.5) -> Callable[[], bytes]:
    return lambda: (whole := data())[: int(len(whole) * keep)]


# --- folders and special entries ------------------------------------------------------------


def folder(*pages: tuple[str, Callable[[Path], object]]) -> Callable[[Path], None]:
    """A job folder holding ``pages`` (relative name → maker), closed with a ``.done`` file."""
    def make(path: Path) -> None:
        path.mkdir()
        for name, page in pages:
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            page(path / name)
        (path / ".done").touch()
    return make


def fifo(path: Path) -> None:
    os.mkfifo(path)


def symlink_to(target: str | Callable[[Path], Path]) -> Callable[[Path], None]:
    """A symbolic link to ``target`` (a fixed text, or made from the link's path)."""
    def make(path: Path) -> None:
        os.symlink(target if isinstance(target, str) else target(path), path)
    return make


OUTSIDE = "outside"  # next to the staging folder: a folder the agent must never read


def outside(path: Path, name: str, make: Callable[[Path], object]) -> Path:
    """``make`` a file called ``name`` in the outside folder next to ``path``'s parent."""
    where = path.parent.parent / OUTSIDE
    where.mkdir(exist_ok=True)
    make(where / name)
    return where / name


def long_name(id_: str, total_bytes: int = 250) -> str:
    stem = f"{id_}-" + "pitkä-nimi-" * 30
    while len((stem + ".png").encode()) > total_bytes:
        stem = stem[:-1]
    return stem + "a" * (total_bytes - len((stem + ".png").encode())) + ".png"


def folder_of_blank_documents(count: int) -> Callable[[Path], None]:
    blank = image_bytes(blank_image(), "PNG")
    return folder(*[(f"page{n:03d}.png", _write(blank)) for n in range(1, count + 1)])


# --- the corpus -----------------------------------------------------------------------------

EMPTY = quarantined("empty_file")
TRUNCATED = quarantined("truncated")
NOT_A_SCAN = quarantined("not_a_scan")
UNREADABLE = quarantined("unreadable_image", "truncated")
TOO_MANY_PIXELS = quarantined("too_many_pixels")
BLANK = quarantined("all_pages_blank")
TOO_MANY_PAGES = quarantined("too_many_pages")
NOT_A_REGULAR_FILE = quarantined("not_a_regular_file")
ONE = Bundled(1)


def _kinds() -> list[ScanKind]:
    text_png = lambda: image_bytes(text_image(), "PNG", dpi=(SMALL_DPI, SMALL_DPI))  # noqa: E731
    text_jpeg = lambda: image_bytes(text_image(), "JPEG", dpi=(SMALL_DPI, SMALL_DPI))  # noqa: E731
    blank_png = _save(blank_image(), "PNG")
    k = ScanKind
    return [
        # empty, cut short, not what the name says
        k("s01", "s01-zero.png", zero_byte, EMPTY, "0 bytes"),
        k("s02", "s02-zero.pdf", zero_byte, EMPTY, "0 bytes named .pdf"),
        k("s03", "s03-truncated.png", truncated_png, TRUNCATED, "PNG cut in half"),
        k("s04", "s04-truncated.jpg", _write(_cut(text_jpeg)), TRUNCATED, "JPEG cut in half"),
        k("s05", "s05-truncated.tif",
          _write(_cut(lambda: image_bytes(blank_image(), "TIFF"))), TRUNCATED, "TIFF cut"),
        k("s06", "s06-truncated.pdf", _write(_cut(lambda: pdf_of(blank_image(), 75))),
          TRUNCATED, "PDF cut in half (no %%EOF)"),
        k("s07", "s07-text.tif", text_named_tif, NOT_A_SCAN, "a text file named .tif"),
        k("s08", "s08-text.pdf", text_named_tif, NOT_A_SCAN, "a text file named .pdf"),
        k("s09", "s09-photo.heic", _write(b"\x00\x00\x00\x18ftypheic" + bytes(4000)),
          NOT_A_SCAN, "HEIC-named junk (an unaccepted extension)"),
        k("s10", "s10-program.png", _write(b"MZ\x90\x00" + bytes(2000)), NOT_A_SCAN,
          "a Windows program named .png"),
        k("s11", "s11-gif.png", _save(blank_image(), "GIF"), NOT_A_SCAN, "a GIF named .png"),
        k("s12", "s12-bmp.tif", _save(blank_image(), "BMP"), NOT_A_SCAN, "a BMP named .tif"),
        k("s13", "s13-webp.jpg", _save(blank_image(), "WEBP"), NOT_A_SCAN, "a WebP named .jpg"),
        k("s14", "s14-drawing.png", _write(b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
          NOT_A_SCAN, "an SVG named .png"),
        k("s15", "s15-archive.pdf", _write(zip_bytes), NOT_A_SCAN, "a zip named .pdf"),
        k("s16", "s16-png-named.jpg", _write(text_png), ONE, "a real PNG page named .jpg"),
        k("s17", "s17-jpeg-named.png", _write(text_jpeg), ONE, "a real JPEG page named .png"),
        k("s18", "s18-pdf-named.tif", _write(lambda: pdf_of(blank_image(), 75)), BLANK,
          "a blank PDF named .tif: read by content, then dropped as blank"),
        # damaged inside
        k("s19", "s19-ihdr-crc.png", _write(lambda: png_bad_crc(b"IHDR")), UNREADABLE,
          "PNG header chunk with a wrong CRC"),
        k("s20", "s20-idat-crc.png", _write(lambda: png_bad_crc(b"IDAT")), BLANK,
          "PNG image data with a wrong CRC but intact: read as it is"),
        k("s21", "s21-idat-scrambled.png", _write(png_scrambled_idat), UNREADABLE,
          "PNG whose deflate stream is garbage"),
        k("s22", "s22-bad-frame.jpg", _write(jpeg_broken_frame_header), UNREADABLE,
          "JPEG with a zeroed frame header"),
        k("s23", "s23-soi-eoi.jpg", _write(b"\xff\xd8\xff\xd9"), UNREADABLE,
          "JPEG start and end markers, nothing between"),
        k("s24", "s24-signature.png", _write(b"\x89PNG\r\n\x1a\n"), UNREADABLE,
          "PNG signature only"),
        k("s25", "s25-pdf-garbage.pdf", _write(b"%PDF-1.7\n" + bytes(range(256)) * 8 +
                                                 b"\n%%EOF\n"), TRUNCATED,
          "PDF header, garbage, end marker"),
        k("s26", "s26-pdf-loop.pdf", _write(pdf_page_tree_loop), quarantined(
            "truncated", "unreadable_image", "pdf_no_pages"), "page tree that contains itself"),
        k("s27", "s27-pdf-zero-box.pdf", _write(lambda: pdf_one_page(b"0 0 0 0")), UNREADABLE,
          "PDF page of 0×0 points"),
        # bombs and sizes
        k("s28", "s28-huge.png", huge_png, TOO_MANY_PIXELS, "20000² bilevel PNG (deflate bomb)"),
        k("s29", "s29-huge-header.jpg", jpeg_declaring, TOO_MANY_PIXELS,
          "JPEG header claiming 65000²"),
        k("s30", "s30-huge-header.tif", tiff_declaring, TOO_MANY_PIXELS,
          "TIFF header claiming 60000²"),
        k("s31", "s31-text-bomb.png", _write(png_text_bomb),
          quarantined("unreadable_image", "truncated"),
          "blank PNG with a zTXt chunk inflating to 64 MB"),
        k("s32", "s32-image-bomb.pdf", _write(pdf_image_bomb), TOO_MANY_PIXELS,
          "PDF page image 12000² of deflated zeros"),
        k("s33", "s33-giant-page.pdf", pdf_giant_mediabox, TOO_MANY_PIXELS,
          "PDF page of 200 × 200 inches"),
        k("s34", "s34-pdf-501-pages.pdf", lambda p: pdf_of_pages(p, pages=501), TOO_MANY_PAGES,
          "PDF of 501 pages"),
        k("s35", "s35-frames-1000.tif", tiff_of_blank_frames, TOO_MANY_PAGES,
          "TIFF of 1000 blank A4 300 dpi frames (8.7 GB decoded)"),
        k("t01", "t01-declares-9000.png", png_declaring, TOO_MANY_PIXELS,
          "PNG header claiming 9000², one row of data"),
        k("t02", "t02-frames-1000.png", apng_of_frames, TOO_MANY_PAGES,
          "animated PNG of 1000 A4 frames"),
        k("t03", "t03-frames-1000.gif", animated_gif, NOT_A_SCAN, "animated GIF, 1000 frames"),
        k("t04", "t04-iccp-bomb.png", png_iccp_bomb, UNREADABLE,
          "colour profile chunk inflating to 1 GiB"),
        k("t05", "t05-huge-tile.tif", tiff_huge_tile, TOO_MANY_PIXELS,
          "TIFF stored as one 32768² tile"),
        # PDFs that are not plain scans
        k("s36", "s36-encrypted.pdf", encrypted_pdf, quarantined("encrypted_pdf"),
          "PDF with a user password"),
        k("s37", "s37-encrypted-no-password.pdf", _write(pdf_encrypted_without_password),
          quarantined("encrypted_pdf", "all_pages_blank"), "encrypted, empty user password"),
        k("s38", "s38-no-pages.pdf", pdf_without_pages, quarantined("pdf_no_pages"),
          "PDF without pages"),
        k("s39", "s39-javascript.pdf", _write(lambda: pdf_with_javascript(pdf_of(text_image()))),
          ONE, "page with a JavaScript open action: bundled, script not carried over"),
        k("s40", "s40-launch.pdf", _write(lambda: pdf_with_launch_action(pdf_of(text_image()))),
          ONE, "page with a Launch open action: bundled, action not carried over"),
        # blank and not blank
        k("s41", "s41-blank.png", blank_png, BLANK, "blank page"),
        k("s42", "s42-dusty.png", _save(blank_page(specks=30, edge_shadow=True), "PNG"),
          BLANK, "blank page with dust and a scanner-edge shadow"),
        k("s43", "s43-three-blank.tif", lambda p: tiff_of_blank_frames(p, frames=3), BLANK,
          "three blank TIFF frames"),
        k("s44", "s44-all-black.png", _save(Image.new("L", (620, 877), 0), "PNG"),
          quarantined("page_all_black"), "an all-black page is not blank: rescan it"),
        k("s45", "s45-dpi-100000.png", _save(text_image(), "PNG", dpi=(100000, 100000)), ONE,
          "a page whose header claims 100000 dpi"),
        k("s46", "s46-form-and-back", folder(("1.png", _write(text_png)), ("2.png", blank_png)),
          ONE, "a form and its blank back page as two files"),
        # colour models and depths
        k("s47", "s47-cmyk.jpg", _save(text_image().convert("CMYK"), "JPEG"), ONE, "CMYK JPEG"),
        k("s48", "s48-gray16.png", _save(gray16(text_image()), "PNG"), ONE, "16-bit grey PNG"),
        k("s49", "s49-palette.png", _save(text_image().convert("P"), "PNG"), ONE, "palette PNG"),
        k("s50", "s50-alpha.png", _save(rgba_text_on_transparent(), "PNG"), ONE,
          "RGBA: black text on transparent black"),
        k("s51", "s51-bilevel.tif", _save(text_image().convert("1"), "TIFF",
                                          compression="group4", dpi=(SMALL_DPI, SMALL_DPI)),
          ONE, "bilevel group 4 TIFF"),
        k("s52", "s52-cmyk-blank.tif", _save(blank_image().convert("CMYK"), "TIFF"), BLANK,
          "CMYK TIFF"),
        k("s53", "s53-float-blank.tif", _save(blank_image().convert("F"), "TIFF"), BLANK,
          "32-bit float TIFF"),
        k("s54", "s54-la-blank.png", _save(blank_image().convert("LA"), "PNG"), BLANK,
          "grey + alpha PNG"),
        k("s55", "s55-progressive.jpg", _save(blank_image(), "JPEG", progressive=True), BLANK,
          "progressive JPEG"),
        k("s56", "s56-one-pixel.png", _save(Image.new("L", (1, 1), 255), "PNG"), BLANK,
          "1×1 pixel"),
        k("s57", "s57-strip.png", _save(Image.new("L", (20000, 10), 255), "PNG"), BLANK,
          "20000×10 strip"),
        k("s58", "s58-no-extension", blank_png, BLANK, "a PNG without an extension"),
        k("s59", "s59-UPPER.PNG", blank_png, BLANK, "upper-case extension"),
        # names
        k("s60", b"s60-bad_\xff\xfe_name.png", blank_png, BLANK,
          "a Latin-1 name that is not UTF-8 (SMB shares, old scanners)", stalls_agent=True),
        k("s61", b"s61-hakemus-\xe4\xf6.png", _write(text_png), ONE,
          "a good page with a Latin-1 name", stalls_agent=True),
        k("s62", f"s62-scan{NAME_HETU}.png", blank_png, BLANK, "a hetu glued to a file name",
          hetu_in_name=True),
        k("s63", f"s63-{FOLDER_HETU}", folder(("sivu1.png", blank_png)), BLANK,
          "a hetu as a job folder's name", hetu_in_name=True),
        k("s64", "s64-folder", folder((f"{NAME_HETU}_1.png", blank_png)), BLANK,
          "a hetu in a file name inside a job folder", hetu_in_name=True),
        k("s65", long_name("s65"), blank_png, BLANK,
          "a 250-byte name (the quarantine stamp would make it too long)"),
        k("s66", "s66-line\nbreak.png", blank_png, BLANK, "a newline in the name"),
        k("s67", "s67-\x1b[31mred.png", blank_png, BLANK, "a terminal escape in the name"),
        k("s68", "s68-ha\u0308kemus.png", blank_png, BLANK, "a decomposed (NFD) ä in the name"),
        k("s69", "s69--rf *.png", blank_png, BLANK, "a leading dash, a space and a star"),
        # folders
        k("s70", "s70-empty", folder(), quarantined("empty_folder"), "empty folder, .done"),
        k("s71", "s71-notes", folder(("notes.txt", text_named_tif)),
          quarantined("empty_folder"), "a folder without a single page"),
        k("s72", "s72-deep", folder(("a/b/c/d/1.png", blank_png), ("a/b/2.png", blank_png)),
          BLANK, "pages four folders deep"),
        k("s73", "s73-half-cut", folder(("1.png", truncated_png), ("2.png", blank_png)),
          TRUNCATED, "one cut page in a folder"),
        k("s74", "s74-zero-page", folder(("1.png", zero_byte), ("2.png", blank_png)), EMPTY,
          "one empty page in a folder"),
        k("s75", "s75-205-documents", folder_of_blank_documents(205),
          quarantined("too_many_documents", "too_many_pages"),
          "205 one-page documents: more than a bundle may hold"),
        # links, pipes, loops
        k("s80", "s80-loop", symlink_to("s80-loop"), NOT_A_REGULAR_FILE,
          "a symbolic link to itself (ELOOP)", stalls_agent=True),
        k("s81", "s81-out-folder", symlink_to(lambda p: outside(
            p, "s81", folder(("1.png", _write(text_png)))).resolve()), NOT_A_REGULAR_FILE,
          "a link to a folder outside the inbox"),
        k("s82", "s82-out-file.png", symlink_to(lambda p: outside(
            p, "s82.png", blank_png).resolve()), NOT_A_REGULAR_FILE,
          "a link to a file outside the inbox"),
        k("s83", "s83-dangling.png", symlink_to("/nonexistent/s83.png"), NOT_A_REGULAR_FILE,
          "a link to nothing"),
        k("s84", "s84-pipe.png", fifo, NOT_A_REGULAR_FILE, "a named pipe at the top"),
        k("s85", "s85-pipe-folder", folder(("1.png", blank_png), ("2.png", fifo)),
          NOT_A_REGULAR_FILE, "a named pipe inside a job folder",
          stalls_agent=True),
        k("s86", "s86-link-folder", folder(("1.png", blank_png), ("2.png", symlink_to(
            lambda p: outside(p, "s86.png", blank_png).resolve()))), NOT_A_REGULAR_FILE,
          "a link out of the inbox inside a job folder"),
        # junk: ignored, left alone
        k("s90", "Thumbs.db", _write(bytes(100)), Ignored(), "Windows thumbnail cache"),
        k("s91", ".DS_Store", _write(bytes(100)), Ignored(), "macOS folder settings"),
        k("s92", "~$s92.png", blank_png, Ignored(), "an Office lock file"),
        k("s93", "s93.part", blank_png, Ignored(), "a half-written download"),
        k("s94", ".s94-hidden.png", blank_png, Ignored(), "a dotfile"),
        k("s95", "@s95eaDir", folder(("1.png", blank_png)), Ignored(), "NAS metadata folder"),
    ]


SCAN_KINDS: list[ScanKind] = _kinds()
BY_ID = {kind.id: kind for kind in SCAN_KINDS}

# Dropped after everything else, and renamed while the agent reads it.
RENAMED = ScanKind("s98", "s98-renamed.png", _write(lambda: image_bytes(
    text_image(), "PNG", dpi=(SMALL_DPI, SMALL_DPI))), ONE,
    "renamed while it is read: still one bundle")
# The good page after all the bad ones.
GOOD = ScanKind("s99", "s99-good.png", _write(lambda: image_bytes(
    text_image(), "PNG", dpi=(SMALL_DPI, SMALL_DPI))), ONE, "a good page after all the bad ones")


def stalling_bug_open() -> bool:
    """True while a kind whose bug stops the whole agent is still open."""
    return any(kind.stalls_agent and kind.open_issue for kind in SCAN_KINDS)

