"""Make a clean rendering look scanned: skew, turn, uneven light, grain, specks, blur, JPEG,
bilevel, resolution."""

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
    speckle: float = 0.0,
    uneven_light: float = 0.0,
    blur: float = 0.0,
    jpeg_quality: int | None = None,
    bilevel: bool = False,
    scale_dpi: int | None = None,
) -> Image.Image:
    """A degraded copy of ``image``; the same arguments always give the same pixels.

    ``skew_deg`` tilts the sheet (counter-clockwise, size kept, corners filled white);
    ``rotate`` turns it by 0/90/180/270 degrees counter-clockwise, as a sheet fed the wrong way;
    ``noise`` is the grain's standard deviation as a fraction of full scale (0.03 is a tired
    scanner) plus as many dark specks; ``speckle`` scatters dust and toner specks of 1-4 px
    (0.5 ≈ 300 on an A4 page) without grain; ``uneven_light`` darkens the page towards one edge
    or corner by up to that fraction (0.3 leaves paper at ~180 grey there), as a lid left open
    or a curled sheet does; ``blur`` a Gaussian radius in pixels; ``jpeg_quality``
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
    if uneven_light:
        out = _uneven_light(out, np.random.default_rng([seed, 1]), uneven_light)
    if blur:
        out = out.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        out = _grain(out, np.random.default_rng(seed), noise)
    if speckle:
        out = _speckle(out, np.random.default_rng([seed, 2]), speckle, dpi)
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


def _uneven_light(image: Image.Image, rng: np.random.Generator, depth: float) -> Image.Image:
    """Multiply by a smooth ramp from 1 down to ``1 - depth`` towards a random edge or corner."""
    height, width = image.height, image.width
    angle = rng.uniform(0, 2 * np.pi)
    xs = np.arange(width, dtype=np.float32)[None, :] / width - 0.5
    ys = np.arange(height, dtype=np.float32)[:, None] / height - 0.5
    along = xs * np.cos(angle) + ys * np.sin(angle)  # broadcast: one full-size array only
    ramp = np.clip(along / 0.7 + 0.5, 0, 1) ** 2  # dark only near one side, like a shadow
    light = 1.0 - depth * ramp
    return Image.fromarray((np.asarray(image, np.float32) * light).astype(np.uint8))


def _speckle(image: Image.Image, rng: np.random.Generator, amount: float,
             dpi: int) -> Image.Image:
    """Dark specks of 1-4 px at 300 dpi (scaled to ``dpi``), about 600 × ``amount`` of them."""
    pixels = np.array(image)
    height, width = pixels.shape
    count = int(600 * amount)
    for y, x, size, ink in zip(rng.integers(0, height, count), rng.integers(0, width, count),
                               rng.integers(1, 5, count), rng.integers(0, 110, count),
                               strict=True):
        side = max(1, round(size * dpi / 300))
        pixels[y:y + side, x:x + side] = np.minimum(pixels[y:y + side, x:x + side], ink)
    return Image.fromarray(pixels)


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return decoded.convert("L")
