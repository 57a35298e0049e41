"""The page watchdog with a stand-in device: what the SANE `test` backend cannot play (a read
that ignores the cancel) and the bookkeeping around it. The real backend: tests/integration/
test_sane_watchdog.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from scanner_agent.config import ScannerSettings
from scanner_agent.errors import ScannerError
from scanner_agent.intake import sane_source
from scanner_agent.intake.sane_source import SaneSource


class StalledDevice:
    """A scanner whose read hangs until cancelled, or for ever when ``deaf``."""

    devname = "stub:0"

    def __init__(self, deaf: bool = False) -> None:
        self.deaf = deaf
        self.cancelled = threading.Event()
        self.released = threading.Event()  # lets a deaf read end when the test is over
        self.closed = False

    def start(self) -> None:
        pass

    def snap(self, no_cancel: bool) -> Image.Image:
        (self.released if self.deaf else self.cancelled).wait(30)
        return Image.new("L", (10, 1))  # what a cut-short read hands back

    def cancel(self) -> None:
        self.cancelled.set()

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def device(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[Any]:
    stub = StalledDevice(deaf=getattr(request, "param", False))
    monkeypatch.setattr(sane_source, "_open", lambda name: stub)
    monkeypatch.setattr(sane_source, "_configure", lambda dev, settings: (False, 150))
    monkeypatch.setattr(sane_source, "CANCEL_GRACE_S", 0.3)
    monkeypatch.setattr(sane_source, "_abandoned", threading.Event())
    yield stub
    stub.released.set()


def job() -> list[Any]:
    return list(SaneSource(ScannerSettings(device="stub:0", page_timeout_s=0.2)).pages())


def test_a_stalled_read_is_cancelled_the_short_image_dropped_and_the_device_closed(
        device: StalledDevice) -> None:
    with pytest.raises(ScannerError, match="Skanneri lakkasi vastaamasta sivun 1") as caught:
        job()
    assert device.cancelled.is_set() and device.closed
    assert "power-cycle" not in str(caught.value)
    assert not sane_source._abandoned.is_set()


@pytest.mark.parametrize("device", [True], indirect=True)
def test_a_read_that_ignores_the_cancel_is_abandoned_and_the_device_left_open(
        device: StalledDevice) -> None:
    """Closing a device under a read still running in the driver can take the process down:
    the clerk is told to power-cycle the scanner instead."""
    with pytest.raises(ScannerError, match="Sammuta skanneri ja käynnistä se uudelleen") as caught:
        job()
    assert "power-cycle the scanner" in str(caught.value)
    assert device.cancelled.is_set() and not device.closed
    assert sane_source._abandoned.is_set()  # so SANE is not torn down under it at exit
