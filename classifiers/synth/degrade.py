"""Make a clean rendering look scanned: skew, turn, grain, blur, JPEG, bilevel, resolution."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter

_TURNS = {
    0: None,
    90: Image.Transpose.ROTATE_90,
    180: Image.Transpose.ROTATE_180,
    270: Image.Transpose.ROTATE_270,
}
BILEVEL_THRESHOLD = 160  # office scanners' text mode cuts light grey, so labels thin out


def degrade(
    image: Image.Image,
    *,
    seed: int,
    skew_deg: float = 0.0,
    rotate: int = 0,
    noise: float = 0.0,
    blur: float = 0.0,
    jpeg_quality: int | None = None,
    bilevel: bool = False,
    scale_dpi: int | None = None,
) -> Image.Image:
    """A degraded copy of ``image``; the same arguments always give the same pixels.

    ``skew_deg`` tilts the sheet (counter-clockwise, size kept, corners filled white);
    ``rotate`` turns it by 0/90/180/270 degrees counter-clockwise, as a sheet fed the wrong way;
    ``noise`` is the grain's standard deviation as a fraction of full scale (0.03 is a tired
    scanner) plus as many dark specks; ``blur`` a Gaussian radius in pixels; ``jpeg_quality``
    round-trips through JPEG; ``bilevel`` thresholds to mode "1" as a scanner's text mode does;
    ``scale_dpi`` resamples to that resolution. The result keeps ``info["dpi"]``.
    """
    if rotate not in _TURNS:
        raise ValueError(f"rotate must be 0, 90, 180 or 270, not {rotate}")
    dpi = _dpi(image)
    out = image.convert("L")
    if scale_dpi and scale_dpi != dpi:
        size = (round(out.width * scale_dpi / dpi), round(out.height * scale_dpi / dpi))
        out, dpi = out.resize(size, Image.Resampling.BOX), scale_dpi
    if skew_deg:
        out = out.rotate(skew_deg, Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        out = _grain(out, np.random.default_rng(seed), noise)
    turn = _TURNS[rotate]
    if turn is not None:
        out = out.transpose(turn)
    if jpeg_quality is not None:
        out = _jpeg(out, jpeg_quality)
    if bilevel:
        out = out.point(lambda v: 255 if v > BILEVEL_THRESHOLD else 0).convert(
            "1", dither=Image.Dither.NONE
        )
    out.info["dpi"] = (dpi, dpi)
    return out


def _dpi(image: Image.Image) -> int:
    dpi = image.info.get("dpi", (300, 300))
    return round(float(dpi[0]))


def _grain(image: Image.Image, rng: np.random.Generator, noise: float) -> Image.Image:
    pixels = np.asarray(image, dtype=np.float64)
    pixels = pixels + rng.normal(0.0, noise * 255, pixels.shape)
    specks = rng.random(pixels.shape) < noise * 2e-3
    pixels[specks] = rng.uniform(0, 120, int(specks.sum()))
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("L")
