"""What a synthetic renderer returns: page images and the truth a correct pipeline recovers."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from PIL import Image

from aspa_contract.hetu import is_valid
from classifiers.synth.people import invalid_hetu, test_hetu

HetuRequest = str | None | Literal["random", "invalid"]


@dataclass
class Rendered:
    """Rendered pages with their ground truth.

    ``label`` is what a classifier should answer: a form code ("TO 1"), an attachment kind
    ("attachment/pay_slip") or "unknown". ``hetu`` is the code a correct extractor returns
    (None when the page shows none or only an invalid one). ``texts`` holds each page's printed
    text in reading order, for OCR accuracy benchmarks.
    """

    pages: list[Image.Image]
    label: str
    variant: str | None
    language: str
    hetu: str | None
    texts: list[str]


def resolve_hetu(rng: random.Random, request: HetuRequest) -> tuple[str, str | None]:
    """``(printed, truth)`` for a hetu request: "random", "invalid", None (empty) or a code."""
    if request == "random":
        code = test_hetu(rng)
        return code, code
    if request == "invalid":
        return invalid_hetu(rng), None
    if request is None:
        return "", None
    return request, request if is_valid(request) else None
