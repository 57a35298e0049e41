"""What happened to a document between the counter and the scanner, drawn from a seed.

A :class:`ScanEffects` names the degradations of one document (skew, a sheet turned, blur,
specks, uneven light, JPEG, 200 dpi, bilevel, an arrival stamp); :func:`draw_effects` picks them
as a corpus needs them (about a third clean), :func:`apply_effects` makes the pages.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from PIL import Image

from classifiers.synth.degrade import degrade
from classifiers.synth.people import random_date
from classifiers.synth.stamps import add_stamp

CLEAN_SHARE = 1 / 3
EFFECT_NAMES = ("skew", "turn", "blur", "speckle", "uneven_light", "jpeg", "dpi200", "bilevel",
                "stamp")


@dataclass(frozen=True)
class ScanEffects:
    """The degradations of one document; the defaults are a clean scan."""

    skew_deg: float = 0.0
    turn: int = 0  # degrees counter-clockwise, applied to the page ``turn_page`` only
    turn_page: int = 0  # 0-based
    blur: float = 0.0  # Gaussian radius in pixels at 300 dpi
    speckle: float = 0.0
    uneven_light: float = 0.0
    jpeg_quality: int | None = None  # saved as .jpg at this quality
    scale_dpi: int | None = None
    bilevel: bool = False
    stamp_date: str | None = None  # "dd.mm.yyyy": stamped on the first page

    def names(self) -> tuple[str, ...]:
        """Short names of the effects present, for the dataset's ``degradations`` column."""
        present = {
            "skew": bool(self.skew_deg), "turn": bool(self.turn), "blur": bool(self.blur),
            "speckle": bool(self.speckle), "uneven_light": bool(self.uneven_light),
            "jpeg": self.jpeg_quality is not None, "dpi200": self.scale_dpi == 200,
            "bilevel": self.bilevel, "stamp": self.stamp_date is not None,
        }
        return tuple(name if name != "turn" else f"turn{self.turn}"
                     for name in EFFECT_NAMES if present[name])


def draw_effects(rng: random.Random, pages: int) -> ScanEffects:
    """About a third clean; otherwise one to three effects with scanner-like strengths."""
    if rng.random() < CLEAN_SHARE:
        return ScanEffects()
    chosen = set(rng.sample(EFFECT_NAMES, rng.randint(1, 3)))
    if "jpeg" in chosen:
        chosen.discard("bilevel")  # a JPEG of a bilevel scan is no office scanner's output
    date = random_date(rng)
    day, month, year = date.split(".")
    return ScanEffects(
        skew_deg=rng.choice((-1, 1)) * rng.uniform(0.3, 3.0) if "skew" in chosen else 0.0,
        turn=rng.choice((90, 180, 270)) if "turn" in chosen else 0,
        turn_page=rng.randrange(pages),
        blur=rng.uniform(0.6, 1.3) if "blur" in chosen else 0.0,
        speckle=rng.uniform(0.3, 1.5) if "speckle" in chosen else 0.0,
        uneven_light=rng.uniform(0.12, 0.35) if "uneven_light" in chosen else 0.0,
        jpeg_quality=rng.randint(25, 70) if "jpeg" in chosen else None,
        scale_dpi=200 if "dpi200" in chosen else None,
        bilevel="bilevel" in chosen,
        stamp_date=f"{int(day):02d}.{int(month):02d}.{year}" if "stamp" in chosen else None,
    )


def apply_effects(pages: list[Image.Image], effects: ScanEffects, *, seed: int,
                  language: str) -> list[Image.Image]:
    """The scanned pages; JPEG is left to the file writer (``effects.jpeg_quality``)."""
    out = []
    for index, page in enumerate(pages):
        page_seed = seed * 16 + index
        if effects.stamp_date and index == 0:
            page = add_stamp(page, seed=page_seed, language=language, date=effects.stamp_date)
        dpi = round(float(page.info.get("dpi", (300, 300))[0]))
        out.append(degrade(
            page, seed=page_seed, skew_deg=effects.skew_deg,
            rotate=effects.turn if index == effects.turn_page else 0,
            speckle=effects.speckle, uneven_light=effects.uneven_light,
            blur=effects.blur * dpi / 300, bilevel=effects.bilevel,
            scale_dpi=effects.scale_dpi if effects.scale_dpi and effects.scale_dpi < dpi else None,
        ))
    return out
