"""Read a dataset's documents the way the agent does (decode → prepare → OCR → find hetu), once.

What the agent would read for a document is stored as JSON under a key made of the page files'
bytes, the OCR and prepare settings that change the text, the tesseract version, and a
fingerprint of the reading code itself, so a rerun of training or evaluation costs seconds and
a change to any of those reads the pages again. Blank pages are skipped as the agent skips them;
a document of blank pages only reads as no text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from aspa_contract.durable import write_atomic
from classifiers.base import DocumentText, PageText
from classifiers.dataset import Sample, file_digest
from classifiers.errors import DatasetError
from scanner_agent import decode, extract, ocr, prepare
from scanner_agent.config import OcrSettings, PrepareSettings
from scanner_agent.decode import decode_file
from scanner_agent.errors import InputRejected
from scanner_agent.extract import find_hetu
from scanner_agent.ocr import ocr_page
from scanner_agent.pages import OcrPage
from scanner_agent.prepare import prepare_page
from scanner_agent.tesseract import tesseract_env

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
CACHE_DIR_NAME = ".ocr-cache"
# Settings that cannot change what is read: where tesseract lives, how long it may take, how
# many run at once, how the searchable PDF stores images, and size limits that only refuse.
_OCR_IGNORED = {"workers", "tesseract_cmd", "timeout_s", "image_layer"}
_PREPARE_IGNORED = {"max_pixels", "max_pages_per_document"}
_READING_CODE = (decode, prepare, ocr, extract)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReadDocument:
    """What the agent would read from one document: page texts and the hetu it would find."""

    text: DocumentText  # non-blank pages only, with header/footer strips
    hetu: str | None  # find_hetu(...).code on the real OCR pages


def default_cache_dir(dataset: Path) -> Path:
    """Where a dataset's OCR results are kept: ``DATASET/.ocr-cache``."""
    return dataset / CACHE_DIR_NAME


class OcrCache:
    """Documents read once and kept as JSON files in ``folder``, one per content key."""

    def __init__(self, folder: Path, ocr: OcrSettings, prepare: PrepareSettings) -> None:
        self.folder = folder
        self._ocr = ocr
        self._prepare = prepare
        self._settings_key = _settings_key(ocr, prepare)

    def read(self, sample_files: tuple[Path, ...]) -> ReadDocument:
        """The document of these page files, from the cache or read now and stored.

        Raises ``InputRejected`` when a page cannot be decoded or tesseract fails.
        """
        path = self._entry(sample_files)
        cached = _load(path)
        if cached is not None:
            return cached
        document = self._read_now(sample_files)
        write_atomic(path, _dump(document))
        return document

    def read_many(self, samples: Sequence[Sample], progress: Progress | None = None
                  ) -> list[ReadDocument]:
        """Every sample's document, in order; misses are read in parallel, one per core.

        ``progress(done, total)`` is called from this thread after each document. Raises
        :class:`DatasetError` naming the row of a page that cannot be read.
        """
        results: list[ReadDocument | None] = [None] * len(samples)
        misses = []
        for index, sample in enumerate(samples):
            results[index] = _load(self._entry(sample.files))
            if results[index] is None:
                misses.append(index)
        done = len(samples) - len(misses)
        if progress:
            progress(done, len(samples))
        with ThreadPoolExecutor(self._ocr.worker_count(), thread_name_prefix="ocr-doc") as pool:
            futures = {pool.submit(self.read, samples[i].files): i for i in misses}
            try:
                for future in as_completed(futures):
                    results[futures[future]] = _result(future, samples[futures[future]])
                    done += 1
                    if progress:
                        progress(done, len(samples))
            except BaseException:
                for pending in futures:
                    pending.cancel()
                raise
        assert all(r is not None for r in results)  # every miss was read or raised
        return results  # type: ignore[return-value]

    def _entry(self, files: tuple[Path, ...]) -> Path:
        digest = hashlib.sha256(self._settings_key.encode())
        for path in files:
            digest.update(file_digest(path).encode())
        return self.folder / f"{digest.hexdigest()}.json"

    def _read_now(self, files: tuple[Path, ...]) -> ReadDocument:
        pages: list[OcrPage] = []
        for path in files:
            for raw in decode_file(path, max_pixels=self._prepare.max_pixels,
                                   max_pages=self._prepare.max_pages_per_document):
                prepared = prepare_page(raw, self._prepare, self._ocr)
                if prepared is not None:
                    pages.append(ocr_page(prepared, self._ocr))
        finding = find_hetu(pages, self._ocr)
        return ReadDocument(DocumentText(tuple(p.page_text() for p in pages)), finding.code)


def _result(future: Future[ReadDocument], sample: Sample) -> ReadDocument:
    try:
        return future.result()
    except InputRejected as exc:
        names = ";".join(p.name for p in sample.files)
        raise DatasetError(f"labels.csv row {sample.row}: {names} cannot be read "
                           f"({exc.code}: {exc.detail}); replace the file or remove the row"
                           ) from exc


def _settings_key(ocr_settings: OcrSettings, prepare_settings: PrepareSettings) -> str:
    """Everything besides the page bytes that decides what a document reads as."""
    key = {
        "format": CACHE_FORMAT,
        "ocr": ocr_settings.model_dump(mode="json", exclude=_OCR_IGNORED),
        "prepare": prepare_settings.model_dump(mode="json", exclude=_PREPARE_IGNORED),
        "tesseract": tesseract_version(ocr_settings.tesseract_cmd),
        "code": _code_fingerprint(),
    }
    return json.dumps(key, sort_keys=True)


@lru_cache(maxsize=8)
def tesseract_version(command: str) -> str:
    """The first line of ``tesseract --version`` ("tesseract 5.3.0"), or "unavailable"."""
    try:
        done = subprocess.run([command, "--version"], env=tesseract_env(), capture_output=True,
                              text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unavailable"  # reading will fail with tesseract's own error, not a cache hit
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if done.returncode == 0 and lines else "unavailable"


@lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """sha256 of the agent's reading modules: a fix in OCR or hetu search reads pages again."""
    digest = hashlib.sha256()
    for module in _READING_CODE:
        digest.update(Path(module.__file__ or "").read_bytes())
    return digest.hexdigest()[:16]


def _dump(document: ReadDocument) -> bytes:
    pages = [{"text": p.text, "header": p.header, "footer": p.footer}
             for p in document.text.pages]
    entry = {"format": CACHE_FORMAT, "pages": pages, "hetu": document.hetu}
    return json.dumps(entry, ensure_ascii=False, indent=1).encode("utf-8")


def _load(path: Path) -> ReadDocument | None:
    """The cached document, or None when absent or unusable (it is then read again)."""
    try:
        entry: dict[str, Any] = json.loads(path.read_bytes())
        if entry["format"] != CACHE_FORMAT:
            return None
        pages = tuple(PageText(p["text"], p["header"], p["footer"]) for p in entry["pages"])
        return ReadDocument(DocumentText(pages), entry["hetu"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("OCR cache entry %s unusable (%s); reading the pages again", path.name, exc)
        return None
