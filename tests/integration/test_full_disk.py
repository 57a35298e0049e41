"""A full disk stops nothing for good and loses nothing.

GIVEN a scan in the inbox and the agent's folders on a small, completely full file system
WHEN the agent reads the scan and cannot write its bundle (ENOSPC)
THEN the scan stays in the inbox, no half-written file is left, the agent keeps running and
     retries; once space is freed the bundle lands and the scan moves to done/.
"""

from __future__ import annotations

import logging
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from classifiers.catalogue import load_catalogue
from classifiers.synth import render_form
from scanner_agent.config import AgentConfig, load_config
from tests.agent_runner import running_agent

pytestmark = pytest.mark.integration


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs of our own (needs root, as CI runs; skipped elsewhere)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                              str(mount_point)], capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(folder: Path) -> Path:
    """Write until the file system refuses: ENOSPC for anyone who writes next."""
    filler = folder / ".filler"
    with open(filler, "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError:
            pass
    return filler


def _wait(condition: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_full_disk_leaves_the_scan_waiting_and_the_agent_retrying(
        small_disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    config: AgentConfig = load_config(None, paths__var_dir=small_disk / "var",
                                      intake__quiet_s=0.2)
    inbox = config.paths.inbox
    inbox.mkdir(parents=True)
    page = render_form(load_catalogue().by_code("KM 1")[0], "fi", seed=41, pages=1).pages[0]
    page.convert("1").save(inbox / "scan.png", dpi=(300, 300))  # small: leaves room to fill
    for folder in (config.paths.outbox, config.paths.done, config.paths.quarantine):
        folder.mkdir(parents=True)
    filler = _fill(small_disk)
    caplog.set_level(logging.ERROR, logger="scanner_agent.service")

    with running_agent(config) as agent:
        _wait(lambda: "will retry" in caplog.text)
        # Still in the inbox: where it was dropped, or claimed (inbox/.aspa-claimed/…) for the
        # retry; nowhere else.
        assert [p.name for p in inbox.rglob("scan.png")] == ["scan.png"]
        assert [p.name for p in config.paths.outbox.iterdir()] == []
        assert agent.outcomes == [] and agent.thread.is_alive()

        filler.unlink()
        [outcome] = agent.wait_for(1)

    assert outcome.bundle is not None
    assert outcome.bundle.manifest["documents"][0]["form_code"] == "KM 1"
    assert [p.name for p in config.paths.outbox.iterdir()] == [f"{outcome.bundle.bundle_id}.zip"]
    assert not list(inbox.rglob("scan.png"))
    assert (config.paths.done / outcome.bundle.bundle_id / "scan.png").exists()
