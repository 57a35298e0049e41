"""An unexpected error (a bug) in the pipeline loses nothing and stops nothing.

GIVEN a running agent whose pipeline fails with an unexpected error for one scan
WHEN the scan is tried MAX_ATTEMPTS times with back-off
THEN it ends in quarantine with an internal-error reason, and the next scan still becomes a
     bundle.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from classifiers.catalogue import load_catalogue
from classifiers.synth import render_form
from scanner_agent import service
from scanner_agent.config import AgentConfig
from scanner_agent.intake.folder import IntakeJob
from scanner_agent.pipeline import Agent, Outcome, process_job
from scanner_agent.quarantine import REASON_SUFFIX
from tests.agent_runner import running_agent

pytestmark = pytest.mark.integration


def test_a_scan_that_keeps_failing_is_quarantined_and_the_agent_goes_on(
        agent_config: AgentConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[str] = []

    def buggy_for_one(job: IntakeJob, agent: Agent) -> Outcome:
        if job.name == "cursed.png":
            attempts.append(job.name)
            raise RuntimeError("a bug in a stage")
        return process_job(job, agent)

    monkeypatch.setattr(service, "process_job", buggy_for_one)
    page = render_form(load_catalogue().by_code("LL 1")[0], "fi", seed=51, pages=1).pages[0]
    inbox: Path = agent_config.paths.inbox
    inbox.mkdir(parents=True)
    page.save(inbox / "cursed.png", dpi=(300, 300))

    with running_agent(agent_config) as agent:
        [cursed] = agent.wait_for(1)
        page.save(inbox / "fine.png", dpi=(300, 300))
        fine = agent.wait_for(2)[1]

    assert attempts == ["cursed.png"] * service.MAX_ATTEMPTS
    assert cursed.rejected is not None and cursed.rejected.code.value == "internal_error"
    assert cursed.path is not None and cursed.path.exists()
    reason = cursed.path.with_name(cursed.path.name + REASON_SUFFIX).read_text()
    assert "Ota yhteys tukeen" in reason and "code: internal_error" in reason
    assert fine.bundle is not None
    assert fine.bundle.manifest["documents"][0]["form_code"] == "LL 1"
