"""The scanner agent's flow, top to bottom:

    intake → prepare → ocr → classify → extract → bundle → outbox

:func:`process_job` runs it for one job from the scan folder; :func:`make_bundle` is the part
shared with ``aspa-agent scan`` (SANE) and ``aspa-agent bundle`` (files, no inbox).
Pages are prepared and read in a thread pool as they arrive, so while the scanner feeds page 2
the OCR of page 1 is already running.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aspa_contract.hetu import mask, redact
from aspa_contract.names import public_name
from classifiers.base import Classifier, DocumentText
from scanner_agent.bundle import Bundle, DocumentResult, Handover, build_bundle, new_bundle_id
from scanner_agent.config import AgentConfig
from scanner_agent.decode import decode_file
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.extract import find_hetu
from scanner_agent.intake.folder import IntakeJob
from scanner_agent.ocr import ocr_page
from scanner_agent.outbox import Outbox
from scanner_agent.pages import OcrPage, RawPage, parked
from scanner_agent.prepare import prepare_page
from scanner_agent.quarantine import quarantine
from scanner_agent.release import describe_sources, release
from scanner_agent.searchable_pdf import build_document_pdf

log = logging.getLogger(__name__)

IN_FLIGHT_BYTES = 32 << 20  # decoded pages waiting for a page worker, at most (one more if larger)
MAX_NAMED_BLANK_FILES = 20


@dataclass
class Agent:
    """What every job needs: settings, the classifier and the page workers."""

    config: AgentConfig
    classifier: Classifier
    pool: ThreadPoolExecutor

    @classmethod
    def start(cls, config: AgentConfig, classifier: Classifier) -> Agent:
        pool = ThreadPoolExecutor(config.ocr.worker_count(), thread_name_prefix="page")
        return cls(config, classifier, pool)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class Outcome:
    """What became of one job: a bundle in the outbox, or an input in quarantine."""

    name: str
    bundle: Bundle | None = None
    path: Path | None = None
    rejected: InputRejected | None = None


SourceDocument = tuple[str, Iterable[RawPage]]  # (name as scanned, its pages)


def process_job(job: IntakeJob, agent: Agent) -> Outcome:
    """One scan-folder job → a durable bundle (scans moved to done/) or a quarantined input."""
    paths = agent.config.paths
    bundle_id = new_bundle_id()
    note = describe_sources(bundle_id, paths.inbox, job.root, job.documents)
    try:
        if not job.documents:
            raise InputRejected(RejectCode.EMPTY_FOLDER, "no accepted files")
        bundle = make_bundle(_decoded(job.documents, agent), _handover(job, agent), agent,
                             bundle_id=bundle_id)
    except InputRejected as rejected:
        where = quarantine(job.root, rejected, paths.quarantine)
        log.warning("quarantined %s: %s", redact(job.name), rejected)
        return Outcome(job.name, path=where, rejected=rejected)
    outbox = Outbox(paths.outbox)
    path = outbox.commit(bundle, note)
    release(note, paths.inbox, paths.done, outbox)
    log.info("bundle %s ready: %s", bundle.bundle_id, summary_line(bundle))
    return Outcome(job.name, bundle=bundle, path=path)


def make_bundle(documents: Iterable[SourceDocument], handover: Handover, agent: Agent,
                bundle_id: str | None = None) -> Bundle:
    """Read every document, find the customer, and build the bundle (not yet durable).

    A file whose every page is blank (a back page scanned as a file of its own) is dropped
    and named in a warning of the document before it; only a job with no page left at all is
    rejected as blank.
    """
    results: list[DocumentResult] = []
    blank_files: list[tuple[int, str]] = []  # (documents read before it, its name)
    form_pages: list[OcrPage] = []
    other_pages: list[OcrPage] = []
    for name, raw_pages in documents:
        read = read_document(name, raw_pages, agent)
        if read is None:
            blank_files.append((len(results), name))
            continue
        result, pages = read
        results.append(result)
        (form_pages if result.classification.kind == "form" else other_pages).extend(pages)
    if not results:
        raise InputRejected(RejectCode.ALL_PAGES_BLANK, f"{len(blank_files)} files")
    note_blank_files(results, blank_files)
    # The customer is the one on the application; attachments may name others (a landlord).
    hetu = find_hetu(form_pages + other_pages, agent.config.ocr)
    if hetu.code is None and hetu.method != "none":
        # A code was seen but not trusted: Kela's handler learns why a person must supply it.
        results[0].warnings.append(f"hetu_not_taken:{hetu.method}")
    return build_bundle(results, handover, hetu.code, agent.classifier.version,
                        bundle_id=bundle_id)


def read_document(name: str, raw_pages: Iterable[RawPage],
                  agent: Agent) -> tuple[DocumentResult, list[OcrPage]] | None:
    """prepare → ocr → searchable PDF → classify, for the pages of one document; None when
    every page is blank."""
    pages: list[OcrPage] = []
    dropped: list[int] = []
    for number, page in _read_pages(raw_pages, agent):
        if page is None:
            dropped.append(number)
        else:
            pages.append(page)
    if not pages:
        log.info("%s: all %d pages blank; file dropped", public_name(name), len(dropped))
        return None
    text = DocumentText(tuple(p.page_text() for p in pages))
    classification = agent.classifier.classify(text)
    warnings = sorted({w for p in pages for w in p.warnings})
    return DocumentResult(name, build_document_pdf(pages), len(pages), classification,
                          dropped, warnings), pages


def note_blank_files(results: list[DocumentResult], blank_files: list[tuple[int, str]]) -> None:
    """Name each dropped blank file in a warning of the document read before it (the first
    document's, if none was); past ``MAX_NAMED_BLANK_FILES`` only count them (the manifest
    takes 100 warnings a document)."""
    for position, name in blank_files[:MAX_NAMED_BLANK_FILES]:
        results[max(position - 1, 0)].warnings.append(
            f"blank_file_dropped:{public_name(name, max_bytes=160)}")
    if len(blank_files) > MAX_NAMED_BLANK_FILES:
        results[0].warnings.append(
            f"blank_files_dropped_unnamed:{len(blank_files) - MAX_NAMED_BLANK_FILES}")


def summary_line(bundle: Bundle) -> str:
    """``3 documents (TO 1, unknown, attachment/pay_slip), hetu 010594Y***2``: log-safe."""
    docs = bundle.manifest["documents"]
    kinds = ", ".join(d["form_code"] or d["kind"] for d in docs)
    return f"{len(docs)} documents ({kinds}), hetu {mask(bundle.manifest['customer']['hetu'])}"


def _read_pages(raw_pages: Iterable[RawPage],
                agent: Agent) -> Iterator[tuple[int, OcrPage | None]]:
    """Each page prepared and read in the pool as it arrives, results in page order.

    A generator from SANE submits each page as it lands. Pages decoded faster than they are
    read wait in memory, so decoding pauses while over ``IN_FLIGHT_BYTES`` wait: a 200-frame
    TIFF decoded ahead of its OCR held 1.7 GB.
    """
    pending: deque[tuple[int, int, Future[OcrPage | None]]] = deque()
    waiting = 0
    try:
        for raw in raw_pages:
            size = raw.image.width * raw.image.height * len(raw.image.getbands())
            pending.append((raw.number, size,
                            agent.pool.submit(_prepare_and_read, raw, agent.config)))
            waiting += size
            del raw
            while waiting > IN_FLIGHT_BYTES:
                number, size, future = pending.popleft()
                waiting -= size
                yield number, future.result()
        while pending:
            number, _, future = pending.popleft()
            yield number, future.result()
    finally:
        for _, _, future in pending:
            future.cancel()


def _prepare_and_read(raw: RawPage, config: AgentConfig) -> OcrPage | None:
    prepared = prepare_page(raw, config.prepare, config.ocr)
    if prepared is None:
        return None
    page = ocr_page(prepared, config.ocr)
    page.image = parked(page.image)
    return page


def _decoded(files: tuple[Path, ...], agent: Agent) -> Iterator[SourceDocument]:
    for path in files:
        pages = decode_file(path, max_pixels=agent.config.prepare.max_pixels,
                            max_pages=agent.config.prepare.max_pages_per_document)
        yield path.name, pages


def _handover(job: IntakeJob, agent: Agent) -> Handover:
    # A scan folder gives no hand-in event; the scanner wrote the files while the customer
    # stood at the counter, so the files' times are the best evidence there is.
    times = [datetime.fromtimestamp(p.stat().st_mtime, UTC) for p in job.documents]
    now = datetime.now(UTC)
    return Handover(agent.config.point.point_id, agent.config.point.clerk_id,
                    handed_in_at=min(times, default=now), scanned_at=max(times, default=now))
