"""Run the agent's service in a thread of the test process and wait for its outcomes."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from classifiers.loading import load_classifier
from scanner_agent.config import AgentConfig
from scanner_agent.delivery import Deliverer
from scanner_agent.pipeline import Outcome
from scanner_agent.service import Service


@dataclass
class RunningAgent:
    service: Service
    thread: threading.Thread
    outcomes: list[Outcome] = field(default_factory=list)

    def wait_for(self, count: int, timeout: float = 180.0) -> list[Outcome]:
        """Block until ``count`` jobs have finished; fail loudly if the agent died or hung."""
        deadline = time.monotonic() + timeout
        while len(self.outcomes) < count:
            assert self.thread.is_alive(), "the agent's loop died"
            assert time.monotonic() < deadline, f"only {len(self.outcomes)}/{count} jobs done"
            time.sleep(0.1)
        return list(self.outcomes)

    def by_name(self, name: str) -> Outcome:
        matches = [o for o in self.outcomes if o.name == name]
        assert len(matches) == 1, f"{name}: {len(matches)} outcomes"
        return matches[0]


@contextmanager
def running_agent(config: AgentConfig) -> Iterator[RunningAgent]:
    """The real service (watcher, pipeline, tesseract) until the block ends."""
    classifier = load_classifier(config.classifier.catalogue, config.classifier.model)
    runner = RunningAgent(Service(config, classifier), threading.Thread(target=lambda: None))
    runner.service.on_outcome = runner.outcomes.append
    runner.service.make_folders()
    runner.thread = threading.Thread(target=runner.service.run, name="agent-under-test")
    runner.thread.start()
    try:
        yield runner
    finally:
        runner.service.stop()
        runner.thread.join(timeout=60)
        assert not runner.thread.is_alive(), "the agent did not stop"


@contextmanager
def running_deliverer(deliverer: Deliverer) -> Iterator[threading.Thread]:
    """The deliverer's loop alone in its own thread, stopped and joined however the block
    ends."""
    stop = threading.Event()
    thread = threading.Thread(target=deliverer.run, args=(stop,), name="deliverer")
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the deliverer did not stop"
