"""``aspa-agent scan``: one SANE job (flatbed or ADF) straight into a bundle in the outbox.

Pages flow from the scanner into the page pool as they are scanned, so OCR of page 1 runs while
page 2 is in the feeder; when the last page lands only its own work remains.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from classifiers.loading import load_classifier
from scanner_agent.bundle import Handover
from scanner_agent.config import AgentConfig
from scanner_agent.intake.sane_source import SaneSource
from scanner_agent.outbox import Outbox
from scanner_agent.pages import RawPage
from scanner_agent.pipeline import Agent, Outcome, make_bundle


def scan_to_outbox(config: AgentConfig, visit_reason: str | None = None) -> Outcome:
    """Scan, read, bundle and commit; raises ScannerError if the device fails."""
    classifier = load_classifier(config.classifier.catalogue, config.classifier.model)
    now = datetime.now(UTC)
    handover = Handover(config.point.point_id, config.point.clerk_id, handed_in_at=now,
                        scanned_at=now, visit_reason=visit_reason)
    agent = Agent.start(config, classifier)
    try:
        pages = _stamping(SaneSource(config.scanner).pages(), handover)
        made = make_bundle([("scan", pages)], handover, agent)
    finally:
        agent.close()
    path = Outbox(config.paths.outbox).commit(made)
    return Outcome("scan", bundle=made, path=path)


def _stamping(pages: Iterable[RawPage], handover: Handover) -> Iterator[RawPage]:
    """Pass pages on, noting when the last one came off the scanner."""
    for page in pages:
        handover.scanned_at = datetime.now(UTC)
        yield page
