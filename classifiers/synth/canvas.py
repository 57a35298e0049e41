"""An A4 page to draw on in millimetres and points, remembering what text went where.

Every string drawn is recorded with its position so the page's ground-truth text comes out in
reading order, the way OCR would return it (items on one line joined by a space).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

A4_MM = (210.0, 297.0)
MARGIN_MM = 18.0
DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
DEFAULT_FONT = DEJAVU_DIR / "DejaVuSans.ttf"
INK = 0
LABEL_INK = 40  # labels print a shade lighter than filled-in values, as on Kela's forms
RULE_INK = 90
SHADE = 228  # section header band


@dataclass(frozen=True)
class Fonts:
    """A regular and a bold face; ``bold`` falls back to ``regular`` when no bold file exists."""

    regular: Path
    bold: Path

    @classmethod
    def from_path(cls, font_path: Path | None) -> Fonts:
        """DejaVu Sans by default; the bold face is found by the usual file names.

        ``Foo.ttf`` → ``Foo-Bold.ttf`` (DejaVu) or ``FooBold.ttf`` (FreeFont);
        ``Foo-Regular.ttf`` → ``Foo-Bold.ttf`` (Liberation).
        """
        regular = font_path or DEFAULT_FONT
        stem = regular.stem.removesuffix("-Regular")
        candidates = (f"{stem}-Bold", f"{stem}Bold")
        bold = next((regular.with_name(name + regular.suffix) for name in candidates
                     if regular.with_name(name + regular.suffix).exists()), regular)
        return cls(regular, bold)


@lru_cache(maxsize=64)
def _font(path: Path, size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size_px)


@dataclass
class _Item:
    top: float
    x: float
    height: float
    text: str


@dataclass
class Canvas:
    """One white A4 page in mode ``L`` at ``dpi``; coordinates in mm from the top left."""

    dpi: int
    fonts: Fonts
    image: Image.Image = field(init=False)
    _draw: ImageDraw.ImageDraw = field(init=False)
    _items: list[_Item] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        size = (self.px(A4_MM[0]), self.px(A4_MM[1]))
        self.image = Image.new("L", size, 255)
        self.image.info["dpi"] = (self.dpi, self.dpi)
        self._draw = ImageDraw.Draw(self.image)

    @property
    def width_mm(self) -> float:
        return A4_MM[0]

    def px(self, mm: float) -> int:
        """Millimetres to pixels at this page's resolution."""
        return round(mm * self.dpi / 25.4)

    def font(self, pt: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        """The face at ``pt`` points (1 pt = 1/72 inch) for this resolution."""
        return _font(self.fonts.bold if bold else self.fonts.regular, round(pt * self.dpi / 72))

    def text_width_mm(self, text: str, pt: float, bold: bool = False) -> float:
        """How wide ``text`` prints, in mm."""
        return self.font(pt, bold).getlength(text) * 25.4 / self.dpi

    def text(
        self,
        x_mm: float,
        y_mm: float,
        text: str,
        pt: float,
        *,
        bold: bool = False,
        ink: int = INK,
        align: str = "left",
    ) -> float:
        """Draw ``text`` with its top at ``y_mm``; return the y just below it (mm)."""
        if align == "right":
            x_mm -= self.text_width_mm(text, pt, bold)
        self._draw.text(
            (self.px(x_mm), self.px(y_mm)), text, fill=ink, font=self.font(pt, bold), anchor="la"
        )
        height = pt * 25.4 / 72
        self._items.append(_Item(y_mm, x_mm, height, text))
        return y_mm + height * 1.35

    def wrapped(
        self, x_mm: float, y_mm: float, text: str, pt: float, width_mm: float, *, bold: bool = False
    ) -> float:
        """Draw ``text`` wrapped to ``width_mm``; return the y below the last line."""
        line = ""
        for word in text.split():
            candidate = f"{line} {word}".strip()
            if line and self.text_width_mm(candidate, pt, bold) > width_mm:
                y_mm = self.text(x_mm, y_mm, line, pt, bold=bold)
                candidate = word
            line = candidate
        return self.text(x_mm, y_mm, line, pt, bold=bold) if line else y_mm

    def rect(
        self, x_mm: float, y_mm: float, w_mm: float, h_mm: float, *, fill: int | None = None
    ) -> None:
        """A thin-ruled box (optionally filled) that records no text."""
        box = (self.px(x_mm), self.px(y_mm), self.px(x_mm + w_mm), self.px(y_mm + h_mm))
        self._draw.rectangle(box, outline=RULE_INK, fill=fill, width=max(1, self.px(0.25)))

    def hline(self, x_mm: float, y_mm: float, w_mm: float, *, weight_mm: float = 0.3) -> None:
        """A horizontal rule."""
        y = self.px(y_mm)
        self._draw.line(
            (self.px(x_mm), y, self.px(x_mm + w_mm), y), fill=RULE_INK, width=self.px(weight_mm)
        )

    def polyline(self, points_mm: list[tuple[float, float]], *, weight_mm: float = 0.5) -> None:
        """A free line, e.g. a signature scribble or a tick in a checkbox."""
        points = [(self.px(x), self.px(y)) for x, y in points_mm]
        self._draw.line(points, fill=INK, width=self.px(weight_mm), joint="curve")

    def ground_truth(self) -> str:
        """The drawn text in reading order: top to bottom, items on one line left to right."""
        lines: list[list[_Item]] = []
        for item in sorted(self._items, key=lambda i: (i.top, i.x)):
            if lines and abs(item.top - lines[-1][0].top) < 0.5 * lines[-1][0].height:
                lines[-1].append(item)
            else:
                lines.append([item])
        return "\n".join(" ".join(i.text for i in sorted(ln, key=lambda i: i.x)) for ln in lines)
