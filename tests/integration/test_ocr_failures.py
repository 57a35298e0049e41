"""Tesseract dying on an image (SIGFPE, "Line cannot be recognized!!", as tesseract 5.3 does on
some small hetu-box crops) costs the clue that reading was for, never the document.

The engine seam is real: the configured tesseract command is a small script that runs the real
tesseract, except for the calls it is told to break, where it prints tesseract's last words and
kills itself with SIGFPE, so the agent sees exit -8 through its ordinary subprocess path.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from classifiers.catalogue import load_catalogue
from classifiers.synth import render_form
from scanner_agent.config import OcrSettings
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.ocr import ocr_page
from scanner_agent.pages import PreparedPage
from tests.pagegen import form_like_page

pytestmark = pytest.mark.integration

# Shell `case` patterns over " $* " (every argument, space-separated) naming the calls to break.
BOX_READS = '*" --psm 7 "*'  # the whitelisted hetu box re-reads
STRIPS = '*" --psm 6 "*'  # the stacked header/footer strips (and the 2nd full-page try)
DEFAULT_PSM_PAGE = '*" tsv "*) case " $* " in *" --psm "*) ;; *) die;; esac;; *" --psm 3 "*'
ANY_PAGE = '*" tsv "*'  # every full-page try and the strips


def crashing_tesseract(folder: Path, pattern: str) -> Path:
    """A tesseract command that dies with SIGFPE on calls matching ``pattern``."""
    real = shutil.which("tesseract")
    assert real is not None
    script = folder / "tesseract"
    script.write_text(
        "#!/bin/sh\n"
        'die() { echo "Line cannot be recognized!!" >&2; kill -FPE $$; }\n'
        f'case " $* " in {pattern}) die;; esac\n'
        f'exec {real} "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def _page() -> PreparedPage:
    return PreparedPage(image=form_like_page(body_lines=6), number=1, dpi=300)


def test_the_crashing_command_dies_as_tesseract_does(tmp_path: Path) -> None:
    """The seam itself: exit -8 (SIGFPE) with tesseract's message, only on the broken calls."""
    command = crashing_tesseract(tmp_path, BOX_READS)
    image = tmp_path / "crop.png"
    form_like_page(body_lines=1).crop((250, 300, 1200, 420)).save(image, dpi=(300, 300))
    broken = subprocess.run([str(command), str(image), "stdout", "--psm", "7"],
                            capture_output=True, text=True, check=False)
    whole = subprocess.run([str(command), str(image), "stdout"], capture_output=True, text=True,
                           check=False)
    assert broken.returncode == -8
    assert "Line cannot be recognized!!" in broken.stderr
    assert whole.returncode == 0


def test_a_crash_on_every_hetu_box_read_costs_the_hetu_not_the_document(tmp_path: Path) -> None:
    """GIVEN a TO 1 with a hetu in its labelled box, and a tesseract that dies on every box read
    WHEN `aspa-agent bundle` reads it
    THEN a bundle is made (nothing quarantined) with the form recognised and no hetu: a person
    supplies it. Before, the as-scanned box read's crash quarantined it as ocr_failed."""
    form = render_form(load_catalogue().by_code("TO 1")[0], "fi", seed=31, pages=1)
    folder = tmp_path / "asiakas"
    folder.mkdir()
    form.pages[0].save(folder / "hakemus.png", dpi=(300, 300))
    env = {**os.environ,
           "ASPA_OCR__TESSERACT_CMD": str(crashing_tesseract(tmp_path, BOX_READS))}

    result = subprocess.run(
        [str(Path(sys.executable).parent / "aspa-agent"), "bundle", str(folder), "--out",
         str(tmp_path / "out"), "--point", "hki-kallio", "--clerk", "clerk-7"],
        capture_output=True, text=True, timeout=300, env=env)

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rejected"] == []
    [bundle] = summary["bundles"]
    assert bundle["hetu"] is None
    assert [d["form_code"] for d in bundle["documents"]] == ["TO 1"]
    with zipfile.ZipFile(bundle["path"]) as archive:  # Kela's handler is told why
        warnings = json.loads(archive.read("manifest.json"))["documents"][0]["warnings"]
    assert [w for w in warnings if w.startswith("hetu_not_taken:")]
    assert "hetu box re-read (as scanned) failed" in result.stderr
    assert "SIGFPE" in result.stderr


def test_a_full_page_crash_is_retried_with_another_segmentation(tmp_path: Path) -> None:
    """GIVEN tesseract dies on the default full-page reading (psm 3)
    WHEN the page is read THEN the psm 6 try reads it, and the page says it was retried."""
    settings = OcrSettings(tesseract_cmd=str(crashing_tesseract(tmp_path, DEFAULT_PSM_PAGE)))
    page = ocr_page(_page(), settings)
    assert "Hakijan tiedot ja henkilötunnus" in page.text
    assert "ocr_retried:psm_6" in page.warnings


def test_a_crash_reading_the_strips_costs_only_the_strips(tmp_path: Path) -> None:
    """GIVEN tesseract dies on the header/footer strip reading
    WHEN the page is read THEN its words are there and header and footer come from them."""
    settings = OcrSettings(tesseract_cmd=str(crashing_tesseract(tmp_path, STRIPS)))
    page = ocr_page(_page(), settings)
    assert "TO 1" in page.header
    assert "strips_unread" in page.warnings


def test_a_page_no_setting_can_read_says_which_reading_failed_and_why(tmp_path: Path) -> None:
    """GIVEN tesseract dies on every full-page reading WHEN the page is read
    THEN it is rejected as ocr_failed, and the reason names each try and SIGFPE, in Finnish
    and Swedish telling the clerk the document is kept and what to do."""
    settings = OcrSettings(tesseract_cmd=str(crashing_tesseract(tmp_path, ANY_PAGE)))
    with pytest.raises(InputRejected) as caught:
        ocr_page(_page(), settings)
    assert caught.value.code is RejectCode.OCR_FAILED
    reason = caught.value.reason_text()
    for attempt in ("psm 3", "psm 6", "cleaned copy"):
        assert (f"page 1 full-page reading ({attempt}): tesseract killed by SIGFPE "
                "(Line cannot be recognized!!)") in reason
    assert "Skannaa se uudelleen" in reason and "Skanna det på nytt" in reason
