"""Run the tesseract CLI on an in-memory image: one place for the environment, timeout and errors.

Every call runs with ``OMP_THREAD_LIMIT=1``: tesseract's own threading made a page 5x slower on
two cores; the agent parallelises across pages instead (see :class:`scanner_agent.ocr.OcrPool`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

from scanner_agent.config import OcrSettings
from scanner_agent.errors import InputRejected, RejectCode

_ENV = {**os.environ, "OMP_THREAD_LIMIT": "1"}


def tesseract_env() -> dict[str, str]:
    """The environment every tesseract process gets."""
    return dict(_ENV)


class TesseractCrashed(InputRejected):
    """Tesseract died or exited with an error on this image: other settings may still read it.

    Tesseract 5.3 dies with SIGFPE ("Line cannot be recognized!!") on some small crops and
    now and then on a page; the same image read with another page segmentation or cleaned up
    usually passes. A timeout, a missing binary or language is a plain ``InputRejected``.
    """


def run_tesseract(image: Image.Image, dpi: int, args: list[str], settings: OcrSettings,
                  *, outputs: tuple[str, ...] = (), call: str = "tesseract") -> dict[str, bytes]:
    """Run tesseract on ``image`` with ``args``; return stdout as ``"stdout"`` plus each output.

    ``outputs`` are tesseract config names that write files (``"pdf"``, ``"tsv"``, ``"txt"``);
    their contents come back keyed by the name. With no outputs the result goes to stdout.
    ``call`` names the reading in error details ("full page", "hetu box"), so a quarantine
    reason says which reading failed. Raises ``TesseractCrashed`` when tesseract dies or exits
    with an error, ``InputRejected(OCR_FAILED)`` when it times out, is missing or lacks a
    language.
    """
    with tempfile.TemporaryDirectory(prefix="aspa-ocr-") as tmp:
        source = Path(tmp) / "page.png"
        # compress_level=1: the PNG is read once and deleted; fast encoding matters more.
        image.save(source, dpi=(dpi, dpi), compress_level=1)
        base = Path(tmp) / "out"
        target = str(base) if outputs else "stdout"
        command = [settings.tesseract_cmd, str(source), target, "--dpi", str(dpi), *args,
                   *outputs]
        stdout = _run(command, settings.timeout_s, call)
        results = {"stdout": stdout}
        for name in outputs:
            results[name] = base.with_suffix("." + name).read_bytes()
        return results


def _run(command: list[str], timeout_s: float, call: str) -> bytes:
    try:
        done = subprocess.run(command, env=_ENV, capture_output=True, timeout=timeout_s,
                              check=False)
    except FileNotFoundError:
        raise InputRejected(RejectCode.OCR_FAILED,
                            f"{call}: tesseract not found: {command[0]!r}") from None
    except subprocess.TimeoutExpired:
        raise InputRejected(RejectCode.OCR_FAILED,
                            f"{call}: tesseract timed out after {timeout_s:g} s") from None
    stderr = done.stderr.decode("utf-8", "replace")
    if done.returncode != 0:
        raise TesseractCrashed(RejectCode.OCR_FAILED,
                               f"{call}: {exit_reason(done.returncode, stderr)}")
    if "Failed loading language" in stderr:
        # Tesseract carries on with the languages it has: without swe, å silently becomes ä.
        raise InputRejected(RejectCode.OCR_FAILED,
                            f"{call}: a tesseract language is missing; run `aspa-agent doctor`")
    return done.stdout


def exit_reason(returncode: int, stderr: str) -> str:
    """``killed by SIGFPE (Line cannot be recognized!!)``: how tesseract ended, and its last words.

    A negative return code is the signal that killed the process (subprocess's convention).
    """
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    said = lines[-1].strip()[:160] if lines else "no message"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"tesseract killed by {name} ({said})"
    return f"tesseract exited with {returncode} ({said})"
