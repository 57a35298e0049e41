"""The OCR cache with the real tesseract: a document is read once, by content, as the agent does.

One real OCR run (a sparse page plus a blank page) serves the module. Later reads go through a
stand-in "tesseract" that answers ``--version`` like the real one but fails any OCR call and
leaves a mark, so a cache hit is proven by tesseract not having been asked to read.
"""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest

from classifiers.base import DocumentText
from classifiers.dataset import Sample
from classifiers.errors import DatasetError
from classifiers.ocr_cache import OcrCache, ReadDocument, default_cache_dir
from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.errors import InputRejected
from tests.pagegen import blank_page, text_page

pytestmark = pytest.mark.integration

HETU = "010594Y9032"  # individual number 903: a test code
PREPARE = PrepareSettings()


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A dataset folder with a two-page document: a sparse text page and a blank page."""
    folder = tmp_path_factory.mktemp("set")
    text_page(["Kela Hakemus TO 1", f"Henkilötunnus {HETU}"], size_pt=14).save(
        folder / "p1.png", dpi=(300, 300))
    blank_page(specks=20).save(folder / "p2.png", dpi=(300, 300))
    return folder


@pytest.fixture(scope="module")
def first_read(dataset: Path) -> ReadDocument:
    """The document read once with the real tesseract, filling the cache."""
    return OcrCache(default_cache_dir(dataset), OcrSettings(), PREPARE).read(_pages(dataset))


@pytest.fixture
def refusing_tesseract(tmp_path: Path) -> tuple[OcrSettings, Path]:
    """Settings whose tesseract reports the real version but fails (and marks) any OCR call."""
    mark = tmp_path / "ocr-was-called"
    script = tmp_path / "tesseract"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "--version" ]; then exec {shutil.which("tesseract")} --version; fi\n'
        f"touch {mark}\nexit 3\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return OcrSettings(tesseract_cmd=str(script)), mark


def _pages(folder: Path) -> tuple[Path, ...]:
    return (folder / "p1.png", folder / "p2.png")


def test_a_document_reads_as_the_agent_reads_it(first_read: ReadDocument) -> None:
    """GIVEN a text page and a blank page
    THEN the blank page is skipped, the text and header strip are read, and the hetu found."""
    (page,) = first_read.text.pages
    assert "Hakemus TO 1" in page.text
    assert "TO 1" in page.header
    assert first_read.hetu == HETU


def test_a_second_read_comes_from_the_cache_without_tesseract(
    dataset: Path, first_read: ReadDocument, refusing_tesseract: tuple[OcrSettings, Path]
) -> None:
    """GIVEN the document was read once
    WHEN it is read again through a tesseract that cannot OCR
    THEN the same ReadDocument comes back and tesseract was never asked to read."""
    settings, mark = refusing_tesseract
    again = OcrCache(default_cache_dir(dataset), settings, PREPARE).read(_pages(dataset))
    assert again == first_read
    assert not mark.exists()


def test_changed_page_bytes_miss_the_cache(
    dataset: Path, first_read: ReadDocument, refusing_tesseract: tuple[OcrSettings, Path],
    tmp_path: Path
) -> None:
    """GIVEN a cached document
    WHEN one of its page files has other bytes (same name, same folder)
    THEN the cache misses and tesseract is asked to read."""
    copy = Path(shutil.copytree(dataset, tmp_path / "copy"))
    text_page(["Kela Hakemus TO 2"], size_pt=14).save(copy / "p1.png", dpi=(300, 300))
    settings, mark = refusing_tesseract
    with pytest.raises(InputRejected, match="tesseract exited with 3"):
        OcrCache(default_cache_dir(dataset), settings, PREPARE).read(_pages(copy))
    assert mark.exists()


def test_other_ocr_settings_miss_the_cache(
    dataset: Path, first_read: ReadDocument, refusing_tesseract: tuple[OcrSettings, Path]
) -> None:
    settings, mark = refusing_tesseract
    other = settings.model_copy(update={"read_strips": False})
    with pytest.raises(InputRejected):
        OcrCache(default_cache_dir(dataset), other, PREPARE).read(_pages(dataset))
    assert mark.exists()


def test_a_document_of_blank_pages_reads_as_no_text(
    tmp_path: Path, refusing_tesseract: tuple[OcrSettings, Path]
) -> None:
    """GIVEN a document whose only page is blank
    THEN it reads as no pages and no hetu, without an error and without OCR."""
    blank_page(specks=30).save(tmp_path / "blank.png", dpi=(300, 300))
    settings, mark = refusing_tesseract
    cache = OcrCache(tmp_path / "cache", settings, PREPARE)
    assert cache.read((tmp_path / "blank.png",)) == ReadDocument(DocumentText(()), None)
    assert not mark.exists()
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1


def test_a_corrupt_cache_entry_is_read_again(
    tmp_path: Path, refusing_tesseract: tuple[OcrSettings, Path]
) -> None:
    blank_page().save(tmp_path / "blank.png", dpi=(300, 300))
    settings, _ = refusing_tesseract
    cache = OcrCache(tmp_path / "cache", settings, PREPARE)
    cache.read((tmp_path / "blank.png",))
    (entry,) = (tmp_path / "cache").glob("*.json")
    entry.write_text("{not json")
    assert cache.read((tmp_path / "blank.png",)).text.pages == ()
    assert entry.read_text().startswith("{\n")


def test_read_many_keeps_order_reports_progress_and_names_a_bad_row(
    dataset: Path, first_read: ReadDocument, refusing_tesseract: tuple[OcrSettings, Path]
) -> None:
    """GIVEN a cached document, a blank one and an unreadable file
    THEN read_many returns documents in sample order with progress up to the total,
    and a file that is no image fails naming its labels.csv row."""
    settings, _ = refusing_tesseract
    cache = OcrCache(default_cache_dir(dataset), settings, PREPARE)
    samples = [Sample((dataset / "p2.png",), "unknown", "", None, 1),
               Sample(_pages(dataset), "TO 1", "fi", HETU, 2)]
    seen: list[tuple[int, int]] = []
    documents = cache.read_many(samples, progress=lambda done, total: seen.append((done, total)))
    assert documents == [ReadDocument(DocumentText(()), None), first_read]
    assert seen[-1] == (2, 2)
    bad = dataset / "notes.png"
    bad.write_text("not an image")
    with pytest.raises(DatasetError, match=r"row 7: notes\.png cannot be read.*remove the row"):
        cache.read_many([Sample((bad,), "unknown", "", None, 7)])
