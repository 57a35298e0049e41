"""Bad input ends in quarantine with a readable reason while the watcher keeps running.

GIVEN a running agent (real watcher, real decoders, real tesseract)
WHEN each kind of bad file lands in the inbox, next to a good scan and one still being written
THEN each bad file is in quarantine with a Finnish/Swedish/English reason and its code,
     the good scans become bundles, and the agent is still running.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from classifiers.catalogue import load_catalogue
from classifiers.synth import render_form
from scanner_agent.config import AgentConfig
from scanner_agent.quarantine import REASON_SUFFIX
from tests.agent_runner import RunningAgent, running_agent
from tests.badfiles import BAD_INPUTS

pytestmark = pytest.mark.integration


def _write_slowly(data: bytes, path: Path, chunks: int = 10, pause: float = 0.15) -> None:
    """A network scanner writing a page in bursts: the file is incomplete for ~1.5 s."""
    step = len(data) // chunks + 1
    with open(path, "wb") as fh:
        for start in range(0, len(data), step):
            fh.write(data[start : start + step])
            fh.flush()
            time.sleep(pause)


@pytest.fixture(scope="module")
def agent_after_bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[RunningAgent, AgentConfig]]:
    from scanner_agent.config import load_config

    root = tmp_path_factory.mktemp("bad")
    config = load_config(None, paths__var_dir=root / "var", intake__quiet_s=0.3,
                         intake__folder_quiet_s=1.0, intake__undecodable_grace_s=2.0)
    form = render_form(load_catalogue().by_code("TO 1")[0], "fi", seed=11, pages=1)
    staging = root / "staging"
    staging.mkdir()
    form.pages[0].save(staging / "good.png", dpi=(300, 300))
    with running_agent(config) as agent:
        inbox = config.paths.inbox
        for name, (make, _) in BAD_INPUTS.items():
            make(inbox / name)
        (inbox / "good.png").write_bytes((staging / "good.png").read_bytes())
        slow = threading.Thread(target=_write_slowly,
                                args=((staging / "good.png").read_bytes(), inbox / "slow.png"))
        slow.start()
        slow.join()
        agent.wait_for(len(BAD_INPUTS) + 2)
        yield agent, config


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_is_quarantined_with_a_reason(
        agent_after_bad_inputs: tuple[RunningAgent, AgentConfig], name: str) -> None:
    agent, config = agent_after_bad_inputs
    outcome = agent.by_name(name)
    assert outcome.bundle is None and outcome.rejected is not None and outcome.path is not None
    expected = BAD_INPUTS[name][1]
    if expected is not None:
        assert outcome.rejected.code.value == expected
    assert outcome.path.parent == config.paths.quarantine and outcome.path.exists()
    reason = outcome.path.with_name(outcome.path.name + REASON_SUFFIX).read_text()
    assert f"code: {outcome.rejected.code.value}" in reason
    assert not (config.paths.inbox / name).exists()


def test_good_scans_still_become_bundles_and_the_agent_keeps_running(
        agent_after_bad_inputs: tuple[RunningAgent, AgentConfig]) -> None:
    agent, config = agent_after_bad_inputs
    for name in ("good.png", "slow.png"):
        outcome = agent.by_name(name)
        assert outcome.bundle is not None, f"{name} was rejected: {outcome.rejected}"
        assert outcome.bundle.manifest["documents"][0]["form_code"] == "TO 1"
    assert agent.thread.is_alive()
    assert sorted(p.name for p in config.paths.inbox.iterdir()) == []
