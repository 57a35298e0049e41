"""SaneSource against the real SANE `test` backend, configured by tests/sane (see TOOLCHAIN.md).

The test feeder holds 10 sheets per open device; pages are Gray 300 dpi A4 (0.02 s each).
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scanner_agent.config import ScannerSettings
from scanner_agent.errors import ScannerError
from scanner_agent.intake.sane_source import SaneSource, check_scanner, list_devices

pytestmark = pytest.mark.integration

SANE_DIR = Path(__file__).resolve().parents[1] / "sane"
A4_300DPI = (2480, 3507)
TEST_FEEDER_SHEETS = 10


@pytest.fixture(scope="module", autouse=True)
def sane_test_backend() -> Iterator[None]:
    """Point SANE at the `test` backend; it must happen before the process's first init."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SANE_CONFIG_DIR", str(SANE_DIR))
        if "test:0" not in dict(list_devices()):
            pytest.fail("SANE was initialised in this process before SANE_CONFIG_DIR pointed at "
                        "tests/sane; set it in tests/conftest.py before any SANE use")
        yield


def settings(**fields: Any) -> ScannerSettings:
    return ScannerSettings(**{"device": "test:0", "resolution": 300, "mode": "Gray", **fields})


def is_a4_300dpi(size: tuple[int, int]) -> bool:
    return all(abs(got - want) <= 1 for got, want in zip(size, A4_300DPI, strict=True))


def test_feeder_job_capped_at_max_pages_yields_that_many_a4_pages_at_300_dpi() -> None:
    """GIVEN the ADF and max_pages=3 THEN 3 pages, numbered 1..3, A4 at 300 dpi."""
    pages = list(SaneSource(settings(source="ADF", max_pages=3)).pages())
    assert [page.number for page in pages] == [1, 2, 3]
    assert all(page.dpi == 300 and page.source is None for page in pages)
    assert all(is_a4_300dpi(page.image.size) for page in pages), [p.image.size for p in pages]


def test_feeder_job_ends_when_the_feeder_is_empty() -> None:
    """GIVEN more room than sheets THEN the job ends with the last sheet, not an error."""
    pages = list(SaneSource(settings(source="ADF", max_pages=50)).pages())
    assert len(pages) == TEST_FEEDER_SHEETS


def test_pages_are_yielded_one_at_a_time_and_closing_early_releases_the_device() -> None:
    """GIVEN a consumer that stops after the first page THEN the device is closed: the next
    job opens it afresh with a full feeder (the test feeder refills per open)."""
    job = SaneSource(settings(source="ADF", max_pages=50)).pages()
    assert inspect.isgenerator(job)
    first = next(job)
    assert first.number == 1
    job.close()
    assert len(list(SaneSource(settings(source="ADF", max_pages=50)).pages())) == 10


def test_flatbed_job_yields_exactly_one_page() -> None:
    """GIVEN the flatbed (whose multi-scan never ends) THEN one page, even with room for more."""
    pages = list(SaneSource(settings(source="Flatbed", max_pages=5, mode="Color")).pages())
    assert len(pages) == 1
    assert pages[0].image.mode == "RGB" and is_a4_300dpi(pages[0].image.size)


def test_first_device_is_used_when_none_is_named() -> None:
    pages = list(SaneSource(settings(device="", source="Flatbed")).pages())
    assert len(pages) == 1


def test_extra_options_reach_the_device_as_is() -> None:
    """GIVEN extra_options test_picture='Solid white' THEN the page is white, not the backend's
    default solid black. (test:1: the backend keeps option values between opens.)"""
    default = settings(device="test:1", source="Flatbed", resolution=150)
    white = default.model_copy(update={"extra_options": {"test-picture": "Solid white"}})
    (page,) = SaneSource(default).pages()
    assert page.image.getextrema() == (0, 0)
    (page,) = SaneSource(white).pages()
    assert page.image.getextrema() == (255, 255)


@pytest.mark.parametrize("device", ["test:9", "nosuchbackend:0"])
def test_missing_device_raises_scanner_error_naming_it(device: str) -> None:
    with pytest.raises(ScannerError, match=device):
        list(SaneSource(settings(device=device)).pages())


def test_paper_jam_raises_scanner_error_that_says_what_to_do_and_releases_the_device() -> None:
    """GIVEN a feeder that jams THEN ScannerError tells the clerk to clear it, and the device
    is closed: the next job (jam cleared) opens and scans."""
    jammed = settings(device="test:1", source="ADF", max_pages=3,
                      extra_options={"read_return_value": "SANE_STATUS_JAMMED"})
    with pytest.raises(ScannerError, match=r"jam in the document feeder: clear it"):
        list(SaneSource(jammed).pages())
    # The test backend's feeder emulation can stall after an emulated jam (seen once in a full
    # run: snap() never returned); a flatbed page proves the device was released just as well.
    cleared = jammed.model_copy(update={"source": "Flatbed",
                                        "extra_options": {"read_return_value": "Default"}})
    assert len(list(SaneSource(cleared).pages())) == 1


def test_unknown_extra_option_raises_scanner_error() -> None:
    with pytest.raises(ScannerError, match="no option 'swdeskew'"):
        list(SaneSource(settings(extra_options={"swdeskew": 1})).pages())


def test_check_scanner_reports_nothing_for_a_working_setup_and_the_problem_otherwise() -> None:
    """doctor: a good setup has no problems; a missing device or a mode the device does not
    offer (the test backend has no Lineart) is one problem each."""
    assert check_scanner(settings()) == []
    assert len(check_scanner(settings(device="test:9"))) == 1
    (problem,) = check_scanner(settings(mode="Lineart"))
    assert "Lineart" in problem


def test_list_devices_names_the_test_scanners() -> None:
    assert {"test:0", "test:1"} <= set(dict(list_devices()))


def test_no_scanner_at_all_raises_scanner_error(tmp_path: Path) -> None:
    """GIVEN SANE configured with no backend THEN a job says no scanner was found. A fresh
    process, because SANE reads its configuration once per process."""
    (tmp_path / "dll.conf").write_text("")
    code = ("from scanner_agent.config import ScannerSettings\n"
            "from scanner_agent.errors import ScannerError\n"
            "from scanner_agent.intake.sane_source import SaneSource\n"
            "try:\n"
            "    list(SaneSource(ScannerSettings(device='')).pages())\n"
            "except ScannerError as exc:\n"
            "    print(exc)\n")
    env = {**os.environ, "SANE_CONFIG_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=60, check=True, cwd=Path(__file__).resolve().parents[2])
    assert "no scanner found" in done.stdout
