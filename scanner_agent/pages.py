"""The values that flow between pipeline stages: a page as scanned, prepared and read."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from classifiers.base import PageText

Box = tuple[int, int, int, int]  # left, top, right, bottom in pixels


@dataclass
class RawPage:
    """One page image as it came from intake (a file, a PDF page, a SANE frame)."""

    image: Image.Image
    number: int  # 1-based position in the document as scanned
    dpi: int | None  # None when the source does not say
    source: Path | None = None  # the file it came from; None for SANE frames


@dataclass
class PreparedPage:
    """A page ready for OCR: upright, with its resolution known. Blank pages never get here."""

    image: Image.Image
    number: int
    dpi: int
    rotated_by: int = 0  # degrees clockwise applied to make it upright
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class OcrWord:
    text: str
    box: Box
    confidence: float  # tesseract's 0..100
    line: int  # index of the line this word belongs to, in reading order


@dataclass(frozen=True)
class OcrLine:
    text: str
    box: Box


Choice = tuple[str, float]  # a character and tesseract's 0..100 confidence in it


@dataclass(frozen=True)
class RegionRead:
    """A re-read of a small region: its text, each character with tesseract's confidence, and
    the other characters tesseract weighed for each.

    ``chars`` are the characters of ``text`` without its spaces, in order; ``rivals[i]`` are
    the alternatives for ``chars[i]`` (tesseract's LSTM choices other than the one taken).
    """

    text: str
    chars: tuple[Choice, ...] = ()
    rivals: tuple[tuple[Choice, ...], ...] = ()


@dataclass
class OcrPage:
    """What OCR made of a page: the words with positions and a one-page searchable PDF."""

    number: int
    image: Image.Image  # the prepared image the words' boxes refer to
    words: list[OcrWord]
    lines: list[OcrLine]
    header: str  # text of the top strip, read on its own
    footer: str  # text of the bottom strip, read on its own
    pdf: bytes  # one page: the image plus an invisible text layer
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def page_text(self) -> PageText:
        return PageText(text=self.text, header=self.header, footer=self.footer)


def parked(image: Image.Image) -> Image.Image:
    """``image`` kept as a PNG in memory, decoded again only if it is looked at.

    Every page of a job waits until the customer is looked for, but only pages with an identity
    code label are looked at again: a 200-page document held 1.9 GB of page images.
    """
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
    reopened = Image.open(buffer, formats=["PNG"])
    reopened.info = dict(image.info)  # the dpi exactly as it was, not as PNG rounds it
    return reopened
