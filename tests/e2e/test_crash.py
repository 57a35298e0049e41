"""kill -9 mid-batch loses nothing and duplicates nothing.

GIVEN six scans in the inbox and `aspa-agent run` working through them
WHEN the agent process is SIGKILLed after its first bundle, and again later, then restarted
THEN every scan ends in exactly one bundle (or quarantine), every zip in the outbox is whole and
     its manifest valid, and no half-written file is left behind.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from aspa_contract import validate_manifest
from classifiers.catalogue import load_catalogue
from classifiers.synth import render_attachment, render_form

pytestmark = pytest.mark.integration

CODES = ["TO 1", "AT 1", "SV 8", "KM 1", "LL 1"]


def _agent(var: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, ASPA_PATHS__VAR_DIR=str(var), ASPA_INTAKE__QUIET_S="0.2",
               ASPA_OCR__WORKERS="2")
    agent_bin = Path(sys.executable).parent / "aspa-agent"
    return subprocess.Popen([str(agent_bin), "run", "--json-logs"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _bundles(outbox: Path) -> list[dict[str, object]]:
    manifests = []
    for path in sorted(outbox.glob("*.zip")):
        with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
            assert archive.testzip() is None
            manifests.append(json.loads(archive.read("manifest.json")))
    return manifests


def test_kill_9_mid_batch_then_restart_gives_each_scan_exactly_one_bundle(tmp_path: Path) -> None:
    var = tmp_path / "var"
    inbox = var / "inbox"
    inbox.mkdir(parents=True)
    catalogue = load_catalogue()
    names = []
    for i, code in enumerate(CODES):
        page = render_form(catalogue.by_code(code)[0], "fi", seed=100 + i, pages=1).pages[0]
        page.save(inbox / f"scan{i:02d}.png", dpi=(300, 300))
        names.append(f"scan{i:02d}.png")
    render_attachment("attachment/bank_statement", "sv", seed=7).pages[0].save(
        inbox / "scan05.png", dpi=(300, 300))
    names.append("scan05.png")
    outbox = var / "outbox"

    first = _agent(var)
    _wait(lambda: outbox.is_dir() and any(outbox.glob("*.zip")), timeout=180)
    first.send_signal(signal.SIGKILL)
    first.wait()

    second = _agent(var)  # killed while reading the next scans, before it can finish them all
    _wait(lambda: len(list(outbox.glob("*.zip"))) >= 3, timeout=180)
    second.send_signal(signal.SIGKILL)
    second.wait()

    third = _agent(var)
    try:
        _wait(lambda: not any(inbox.iterdir()), timeout=300)
        _wait(lambda: not list(outbox.glob("*.sources.json")), timeout=30)
    finally:
        third.send_signal(signal.SIGTERM)
        assert third.wait(timeout=60) == 0, third.stderr.read().decode() if third.stderr else ""

    manifests = _bundles(outbox)
    for manifest in manifests:
        validate_manifest(manifest)
    sources = sorted(d["source"] for m in manifests for d in m["documents"])  # type: ignore[attr-defined]
    quarantined = sorted(p.name for p in (var / "quarantine").glob("*") if
                         not p.name.endswith(".reason.txt"))
    assert quarantined == []
    assert sources == names, "each scan in exactly one bundle"
    assert not [p for p in outbox.iterdir() if p.name.startswith(".tmp-")]
    done = sorted(p.name for p in (var / "done").glob("*/*"))
    assert done == names
