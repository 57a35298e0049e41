"""Blank, black and dark pages: a blank page is dropped, a solid black one stops the job with
its own reason, a dark page with something on it is kept and flagged."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.pages import RawPage
from scanner_agent.prepare import DARK_PAPER, look_at, prepare_page
from tests.pagegen import blank_page, form_like_page, negative_page, sheet_on_open_lid

BLANK_LIMIT = PrepareSettings().blank_ink_ratio


@pytest.mark.parametrize("gray", [0, 20, 60])
def test_solid_black_page_is_rejected_as_black_not_dropped_as_blank(gray: int) -> None:
    raw = RawPage(image=blank_page(dpi=100, gray=gray), number=2, dpi=100,
                  source=Path("scan311299-977R.png"))
    with pytest.raises(InputRejected) as caught:
        prepare_page(raw, PrepareSettings(), OcrSettings())
    assert caught.value.code is RejectCode.PAGE_ALL_BLACK
    assert "page 2" in caught.value.detail and "311299-977R" not in caught.value.detail


@pytest.mark.parametrize("page", [negative_page, sheet_on_open_lid])
def test_dark_page_with_something_on_it_is_not_blank(page: Callable[..., Image.Image]) -> None:
    paper, ink = look_at(page(dpi=150), 150)
    assert paper < DARK_PAPER and ink > 10 * BLANK_LIMIT


def test_grey_blank_page_is_still_blank() -> None:
    paper, ink = look_at(blank_page(dpi=150, gray=170, specks=20), 150)
    assert paper >= DARK_PAPER and ink < BLANK_LIMIT


def test_white_form_page_has_ink_on_white_paper() -> None:
    paper, ink = look_at(form_like_page(dpi=150), 150)
    assert paper >= DARK_PAPER and ink > 10 * BLANK_LIMIT
