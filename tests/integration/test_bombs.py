"""A memory bomb of any kind is refused with its reason inside the agent's memory budget.

GIVEN small files that decode to gigabytes (1000-frame TIFFs, headers claiming huge sizes, a
      2 GiB deflate stream in a PNG or a PDF image, a 400 MiB inline image, a giant MediaBox,
      a huge TIFF tile, 5000 PDF pages)
WHEN the real agent reads each one in a process of its own (`aspa-agent bundle`; and the
     watching `aspa-agent run`, whose readiness probe once decoded every frame)
THEN each ends in its reject code, and the process's peak RSS (with its children: pdftoppm,
     tesseract) stays within BUDGET_MB of an idle agent's; so does reading the largest colour
     page the agent accepts.

This is a budget check, not a timing one: a process past the budget plus a margin is killed,
so a regression fails fast instead of taking the machine down.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanner_agent.config import PrepareSettings
from tests.agent_memory import run_agent
from tests.badfiles import BOMBS, tiff_of_blank_frames, tiff_of_frames
from tests.pagegen import SAMPLE_LINES, colour_form_at, text_page

pytestmark = pytest.mark.integration
BUDGET_MB = 300  # the agent's memory budget above idle


@pytest.fixture(scope="module")
def idle_mb(tmp_path_factory: pytest.TempPathFactory) -> float:
    """Peak RSS of the agent doing nothing but start (imports, classifier) and refuse a folder."""
    root = tmp_path_factory.mktemp("idle")
    empty = root / "empty"
    empty.mkdir()
    measured = run_agent(["bundle", str(empty), "--out", str(root)], root / "var")
    assert "empty_folder" in measured.stdout, measured.stderr
    return measured.peak_mb


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_bomb_is_refused_with_its_reason_within_the_memory_budget(
        name: str, idle_mb: float, tmp_path: Path) -> None:
    make, code = BOMBS[name]
    bomb = make(tmp_path / name)

    measured = run_agent(["bundle", str(bomb), "--out", str(tmp_path)], tmp_path / "var",
                         kill_above_mb=idle_mb + BUDGET_MB + 200)

    assert not measured.killed, f"{name}: past {idle_mb + BUDGET_MB + 200:.0f} MB, killed"
    assert measured.returncode == 1, measured.stderr[-2000:]
    [rejected] = json.loads(measured.stdout)["rejected"]
    assert rejected["code"] == code
    assert measured.peak_mb <= idle_mb + BUDGET_MB, (
        f"{name}: peak {measured.peak_mb:.0f} MB, idle {idle_mb:.0f} MB")


CAP = PrepareSettings().max_pixels


@pytest.mark.parametrize(("pixels", "kind", "code"), [
    (35_000_000, "PNG", None),  # A4 at 600 dpi
    (CAP, "JPEG", None),  # libjpeg decodes it straight to grey
    (CAP, "PNG", "too_many_pixels"),  # decoded as colour it would need 300 MB
])
def test_largest_colour_page_is_read_or_refused_within_the_memory_budget(
        pixels: int, kind: str, code: str | None, idle_mb: float, tmp_path: Path) -> None:
    page = colour_form_at(pixels)
    assert page.width * page.height <= CAP
    path = tmp_path / f"colour.{kind.lower()}"
    page.save(path, format=kind, dpi=(600, 600))

    measured = run_agent(["bundle", str(path), "--out", str(tmp_path)], tmp_path / "var",
                         kill_above_mb=idle_mb + BUDGET_MB + 200, timeout_s=600)

    summary = json.loads(measured.stdout)
    if code is None:
        [bundle] = summary["bundles"]
        assert [(d["pages"], d["form_code"]) for d in bundle["documents"]] == [(1, "TO 1")]
    else:
        assert [r["code"] for r in summary["rejected"]] == [code]
    assert measured.peak_mb <= idle_mb + BUDGET_MB, (
        f"peak {measured.peak_mb:.0f} MB, idle {idle_mb:.0f} MB")


def test_long_document_of_real_pages_is_read_within_the_memory_budget(
        idle_mb: float, tmp_path: Path) -> None:
    """40 A4 pages of text, each with an identity code label and no code by it (one strip
    shared by every frame: a 25 kB file), are all read; each page's image waits for the customer
    search compressed, and is parked again after its label's boxes were looked at, never held
    as 8.7 MB of pixels."""
    page = text_page(SAMPLE_LINES, dpi=300)
    path = tiff_of_frames(tmp_path / "long.tif", 40, page)

    measured = run_agent(["bundle", str(path), "--out", str(tmp_path)], tmp_path / "var",
                         kill_above_mb=idle_mb + BUDGET_MB + 200, timeout_s=900)

    assert not measured.killed, measured.stderr[-2000:]
    [bundle] = json.loads(measured.stdout)["bundles"]
    assert [d["pages"] for d in bundle["documents"]] == [40]
    assert measured.peak_mb <= idle_mb + BUDGET_MB, (
        f"peak {measured.peak_mb:.0f} MB, idle {idle_mb:.0f} MB")


def test_watching_agent_quarantines_a_1000_frame_tiff_within_the_memory_budget(
        idle_mb: float, tmp_path: Path) -> None:
    """The readiness probe counts frames from the headers instead of decoding them all."""
    var = tmp_path / "var"
    (var / "inbox").mkdir(parents=True)
    tiff_of_blank_frames(var / "inbox" / "frames.tif")
    quarantine = var / "quarantine"

    def quarantined() -> bool:
        return quarantine.is_dir() and any(p.name.endswith(".reason.txt")
                                           for p in quarantine.iterdir())

    measured = run_agent(["run"], var, kill_above_mb=idle_mb + BUDGET_MB + 200, timeout_s=240,
                         stop_when=quarantined)

    assert not measured.killed, measured.stderr[-2000:]
    [reason] = quarantine.glob("*.reason.txt")
    assert "code: too_many_pages" in reason.read_text()
    assert measured.peak_mb <= idle_mb + BUDGET_MB, (
        f"peak {measured.peak_mb:.0f} MB, idle {idle_mb:.0f} MB")
