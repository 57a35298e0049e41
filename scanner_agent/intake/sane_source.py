"""Pages from a SANE scanner (document feeder or flatbed), yielded one by one as scanned.

SANE reads ``SANE_CONFIG_DIR`` once, at the process's first ``sane.init()``: set it before the
first use (the tests point it at ``tests/sane``, the `test` backend only). ``sane.init()`` is
process-global, so it runs once here, behind a lock, and ``sane.exit()`` at interpreter exit.

A page is read in a worker thread under a watchdog: a scanner that stops answering mid-page is
cancelled after ``scanner.page_timeout_s`` and the job fails with a message for the clerk,
instead of blocking ``aspa-agent scan`` for ever.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Iterator
from typing import Any

import _sane
import sane
from PIL import Image

from scanner_agent.config import ScannerSettings
from scanner_agent.errors import ScannerError
from scanner_agent.pages import RawPage

log = logging.getLogger(__name__)

A4_MM = (210.0, 297.0)
_FEEDER_SOURCE = "Automatic Document Feeder"  # what SANE backends usually call 'ADF'
_FEEDER_EMPTY = "Document feeder out of documents"  # sane_strstatus(SANE_STATUS_NO_DOCS)
# What the clerk should do about a status SANE reports mid-scan (sane_strstatus texts).
_ADVICE = {
    "Document feeder jammed": "paper jam in the document feeder: clear it and scan again",
    "Scanner cover is open": "the scanner cover is open: close it and scan again",
    "Device busy": "the scanner is busy (another program uses it): wait and scan again",
}

# After a cancel, how long the read gets to end before it is abandoned to its thread.
CANCEL_GRACE_S = 5.0

_init_lock = threading.Lock()
_initialised = False
_abandoned = threading.Event()  # a read still runs in the driver: SANE must not be torn down


class _ReadAbandoned(ScannerError):
    """A page read that did not end even when cancelled: it still runs inside the driver, so
    the device must not be closed under it."""


class SaneSource:
    """One scan job per :meth:`pages` call, with the device and options of ``settings``."""

    def __init__(self, settings: ScannerSettings) -> None:
        self._settings = settings

    def pages(self) -> Iterator[RawPage]:
        """Open the device, scan, and yield each page as soon as it is read.

        Flatbed gives exactly one page; the feeder gives pages until it is empty or
        ``max_pages`` is reached. The device is closed when the generator ends or is closed.
        Raises :class:`ScannerError` when the device is missing, refuses a setting, the feeder
        is empty at the start, or a page fails (jam, cover open).
        """
        device = _open(self._settings.device)
        release = True
        try:
            feeder, dpi = _configure(device, self._settings)
            limit = self._settings.max_pages if feeder else 1
            yield from _scan(device, limit, dpi, self._settings.page_timeout_s)
        except _ReadAbandoned:
            release = False  # closing under a running read could take the process down
            raise
        finally:
            if release:
                _close(device)


def list_devices() -> list[tuple[str, str]]:
    """``(name, description)`` of every scanner SANE finds, e.g. ``("test:0", "Noname ...")``."""
    _ensure_init()
    try:
        found = sane.get_devices()
    except _sane.error as exc:
        raise ScannerError(f"SANE could not list scanners: {exc}") from exc
    return [(name, f"{vendor} {model} ({kind})") for name, vendor, model, kind in found]


def check_scanner(settings: ScannerSettings) -> list[str]:
    """Problems with the configured scanner for ``doctor``: empty when it opens and accepts
    the configured source, mode, resolution and extra options (nothing is scanned)."""
    try:
        device = _open(settings.device)
    except ScannerError as exc:
        return [str(exc)]
    try:
        _configure(device, settings)
    except ScannerError as exc:
        return [str(exc)]
    finally:
        _close(device)
    return []


def _ensure_init() -> None:
    global _initialised
    with _init_lock:
        if _initialised:
            return
        try:
            sane.init()
        except _sane.error as exc:
            raise ScannerError(f"SANE did not start: {exc}. Check the sane-utils install.") from exc
        atexit.register(_exit_sane)
        _initialised = True


def _exit_sane() -> None:
    # sane_exit() closes every device, one with a read still running in the driver included:
    # that can hang or crash the exit of a process that has already told the clerk what to do.
    if not _abandoned.is_set():
        sane.exit()


def _open(name: str) -> Any:
    _ensure_init()
    if not name:
        found = list_devices()
        if not found:
            raise ScannerError("no scanner found: check it is on and connected, and that "
                               "`scanimage -L` lists it")
        name = found[0][0]
    try:
        return sane.open(name)
    except _sane.error as exc:
        raise ScannerError(f"cannot open scanner {name!r}: {exc}. Check `scanimage -L` lists "
                           f"it and set scanner.device to one of the names it shows") from exc


def _close(device: Any) -> None:
    # Ends a feeder batch left open by snap(no_cancel=True) before releasing the device.
    for step in (device.cancel, device.close):
        try:
            step()
        except _sane.error as exc:
            log.warning("scanner %s: %s failed: %s", device.devname, step.__name__, exc)


def _configure(device: Any, settings: ScannerSettings) -> tuple[bool, int]:
    """Apply ``settings``; return (pages come from a feeder, dpi the device actually uses)."""
    feeder = _set_source(device, settings.source)
    if "mode" in device.opt:
        _set(device, "mode", settings.mode)
    _set(device, "resolution", settings.resolution)
    _set_a4(device)
    for name, value in settings.extra_options.items():
        _set(device, name, value)
    return feeder, round(float(device.resolution))


def _set_source(device: Any, wanted: str) -> bool:
    if "source" not in device.opt:  # a one-source device: whatever it is, scan what it gives
        return wanted == "ADF"
    offered = list(device["source"].constraint or [])
    chosen = _pick_source(wanted, offered)
    if chosen is None:
        raise ScannerError(f"scanner {device.devname} has no {wanted} source (it offers "
                           f"{', '.join(offered)}); set scanner.source")
    _set(device, "source", chosen)
    return wanted == "ADF"


def _pick_source(wanted: str, offered: list[str]) -> str | None:
    if wanted in offered:
        return wanted
    if wanted == "ADF":
        feeders = [s for s in offered if s == _FEEDER_SOURCE or s.upper().startswith("ADF")]
        return feeders[0] if feeders else None
    return None


def _set_a4(device: Any) -> None:
    corners = {"tl_x": 0.0, "tl_y": 0.0, "br_x": A4_MM[0], "br_y": A4_MM[1]}
    for name, mm in corners.items():
        option = device.opt.get(name)
        if option is None or option.unit != _sane.UNIT_MM:
            continue  # no geometry, or in pixels: leave the device's default (its full area)
        value = _clip(mm, option.constraint)
        if value < mm:
            log.warning("scanner %s: %s clipped to %.1f mm, smaller than A4", device.devname,
                        name, value)
        _set(device, name, value)


def _clip(value: float, constraint: Any) -> float:
    if isinstance(constraint, tuple):  # (min, max, quant)
        return float(min(max(value, constraint[0]), constraint[1]))
    if isinstance(constraint, list) and constraint:
        return float(min(constraint, key=lambda allowed: abs(allowed - value)))
    return value


def _set(device: Any, name: str, value: str | int | float) -> None:
    key = name.replace("-", "_")
    option = device.opt.get(key)
    if option is None:
        raise ScannerError(f"scanner {device.devname} has no option {name!r}")
    if option.type == _sane.TYPE_FIXED and isinstance(value, int):
        value = float(value)
    if option.type == _sane.TYPE_INT and isinstance(value, float):
        value = round(value)
    try:
        setattr(device, key, value)
    except (_sane.error, AttributeError, TypeError) as exc:
        allowed = f" (allowed: {option.constraint})" if option.constraint else ""
        raise ScannerError(f"scanner {device.devname} refused {name} = {value!r}: "
                           f"{exc}{allowed}") from exc


def _scan(device: Any, limit: int, dpi: int, timeout_s: float) -> Iterator[RawPage]:
    for number in range(1, limit + 1):
        try:
            image = _read_page(device, number, timeout_s)
        except (_sane.error, RuntimeError) as exc:
            if str(exc) == _FEEDER_EMPTY and number > 1:
                return
            raise ScannerError(_advice(device.devname, number, str(exc))) from exc
        yield RawPage(image=image, number=number, dpi=dpi)
    if limit > 1:
        log.info("scanner %s: stopped at scanner.max_pages = %d", device.devname, limit)


def _read_page(device: Any, number: int, timeout_s: float) -> Image.Image:
    """Start and read one page; cancel the read when it takes longer than ``timeout_s``.

    ``snap()`` blocks inside the driver with the GIL released, so it runs in a daemon thread
    while this one watches the clock; ``sane_cancel()`` from here makes a read in progress end
    early (with a short image, or an error), which is never used.
    """
    done = threading.Event()
    outcome: dict[str, Any] = {}

    def read() -> None:
        try:
            device.start()
            # no_cancel keeps a feeder batch going; _close cancels it at the end.
            outcome["image"] = device.snap(True)
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            done.set()

    threading.Thread(target=read, name=f"sane-read-page-{number}", daemon=True).start()
    if not done.wait(timeout_s):
        log.warning("scanner %s: page %d not read in %g s; cancelling", device.devname, number,
                    timeout_s)
        _cancel(device)
        stuck = not done.wait(CANCEL_GRACE_S)
        if stuck:
            _abandoned.set()
        raise (_ReadAbandoned if stuck else ScannerError)(
            _timeout_text(device.devname, number, timeout_s, stuck))
    if "error" in outcome:
        raise outcome["error"]
    image: Image.Image = outcome["image"]
    return image


def _cancel(device: Any) -> None:
    try:
        device.cancel()
    except _sane.error as exc:
        log.warning("scanner %s: cancel failed: %s", device.devname, exc)


def _timeout_text(devname: str, number: int, timeout_s: float, stuck: bool) -> str:
    """The clerk reads Finnish and Swedish; support reads the last line."""
    restart = (" Sammuta skanneri ja käynnistä se uudelleen." if stuck else "",
               " Stäng av skannern och starta den igen." if stuck else "")
    return (f"Skanneri lakkasi vastaamasta sivun {number} kohdalla.{restart[0]} Tarkista "
            f"skanneri ja skannaa asiakirjat uudelleen; mitään ei lähetetty.\n"
            f"Skannern slutade svara vid sida {number}.{restart[1]} Kontrollera skannern och "
            f"skanna dokumenten på nytt; inget skickades.\n"
            f"scanner {devname}: page {number} was not read within scanner.page_timeout_s = "
            f"{timeout_s:g} s; the read was cancelled"
            + (" but did not end: power-cycle the scanner" if stuck else "")
            + " and no bundle was made")


def _advice(devname: str, number: int, status: str) -> str:
    if status == _FEEDER_EMPTY:
        return "the document feeder is empty: put the papers in and scan again"
    what = _ADVICE.get(status, f"the scanner reported: {status}")
    return f"scanner {devname}, page {number}: {what}"
