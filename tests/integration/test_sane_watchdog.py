"""A scanner that stops answering mid-page, played by SANE's real `test` backend with its
read delay on (a 150 dpi A4 page then takes ~7 s): the read is cancelled after
scanner.page_timeout_s, the clerk is told in Finnish and Swedish, the device is released and
no bundle is made."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from scanner_agent.config import ScannerSettings
from scanner_agent.errors import ScannerError
from scanner_agent.intake.sane_source import CANCEL_GRACE_S, SaneSource

pytestmark = pytest.mark.integration

AGENT = str(Path(sys.executable).parent / "aspa-agent")
TIMEOUT_S = 1.0
# The test backend sleeps this long (its maximum, µs) before each chunk it hands over.
SLOW = {"read-delay": 1, "read-delay-duration": 200_000}
FAST = {"read-delay": 0}


def settings(**fields: Any) -> ScannerSettings:
    # test:1: the backend keeps option values between opens, so the other SANE tests' test:0
    # never sees the delay.
    return ScannerSettings(**{"device": "test:1", "source": "Flatbed", "resolution": 150,
                              "mode": "Gray", "page_timeout_s": TIMEOUT_S, **fields})


def test_a_page_read_slower_than_the_timeout_is_cancelled_and_the_device_released() -> None:
    """GIVEN a page that takes ~7 s to read and page_timeout_s = 1
    THEN the job fails within the timeout and the cancel grace with a fi/sv message, the
    reading thread ends, and the same device opens and scans again at once."""
    started = time.monotonic()
    with pytest.raises(ScannerError) as caught:
        list(SaneSource(settings(extra_options=SLOW)).pages())
    assert time.monotonic() - started < TIMEOUT_S + CANCEL_GRACE_S
    message = str(caught.value)
    assert "Skanneri lakkasi vastaamasta sivun 1 kohdalla" in message
    assert "Skannern slutade svara vid sida 1" in message
    assert "scanner.page_timeout_s = 1 s" in message
    assert not [t for t in threading.enumerate() if t.name.startswith("sane-read")]
    (page,) = SaneSource(settings(extra_options=FAST)).pages()  # opens: it was released
    assert page.image.size[1] > 1700  # a whole 150 dpi A4 page, not a cut one


def test_a_page_read_within_the_timeout_is_not_disturbed() -> None:
    (page,) = SaneSource(settings(extra_options=FAST, page_timeout_s=30)).pages()
    assert page.number == 1 and page.image.size[1] > 1700


def test_aspa_agent_scan_ends_with_a_clear_error_and_makes_no_bundle(tmp_path: Path) -> None:
    """GIVEN `aspa-agent scan` on a scanner that stops answering THEN it exits 4 within
    seconds, telling the clerk in Finnish and Swedish to check the scanner and scan again;
    nothing is in the outbox and nothing half-made is left behind."""
    var = tmp_path / "var"
    env = dict(os.environ, ASPA_PATHS__VAR_DIR=str(var), ASPA_SCANNER__DEVICE="test:0",
               ASPA_SCANNER__SOURCE="ADF", ASPA_SCANNER__RESOLUTION="150",
               ASPA_SCANNER__PAGE_TIMEOUT_S=str(TIMEOUT_S),
               ASPA_SCANNER__EXTRA_OPTIONS=json.dumps(SLOW))
    started = time.monotonic()
    result = subprocess.run([AGENT, "scan"], capture_output=True, text=True, env=env,
                            timeout=120, stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert result.returncode == 4, result.stderr
    assert "Tarkista skanneri ja skannaa asiakirjat uudelleen" in result.stderr
    assert "Kontrollera skannern och skanna dokumenten på nytt" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 60
    left = [p for p in var.rglob("*") if p.is_file()] if var.exists() else []
    assert left == [], left
