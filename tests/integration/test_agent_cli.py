"""The clerk's commands as a clerk runs them: `doctor` and `status`, real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.quarantine import quarantine

pytestmark = pytest.mark.integration
AGENT = str(Path(sys.executable).parent / "aspa-agent")


def _run(args: list[str], var: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, ASPA_PATHS__VAR_DIR=str(var), **env)
    return subprocess.run([AGENT, *args], capture_output=True, text=True, env=full_env,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_doctor_passes_on_a_machine_set_up_by_dev_sh(tmp_path: Path) -> None:
    result = _run(["doctor"], tmp_path / "var")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tesseract" in result.stdout and "FAIL" not in result.stdout


def test_doctor_fails_and_says_why_when_tesseract_is_missing(tmp_path: Path) -> None:
    result = _run(["doctor"], tmp_path / "var", ASPA_OCR__TESSERACT_CMD="/nonexistent/tesseract")
    assert result.returncode != 0
    assert "FAIL" in result.stdout and "tesseract" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_bad_setting_stops_every_command_naming_the_key(tmp_path: Path) -> None:
    result = _run(["status"], tmp_path / "var", ASPA_INTAKE__QUIET_S="soon")
    assert result.returncode == 2
    assert "intake.quiet_s" in result.stderr and "ASPA_INTAKE__QUIET_S" in result.stderr
    assert "Traceback" not in result.stderr


def test_status_counts_outbox_and_quarantine_with_the_oldest_age(tmp_path: Path) -> None:
    var = tmp_path / "var"
    (var / "outbox").mkdir(parents=True)
    (var / "outbox" / "01M8FNADNCMDM0VTMNYY2QVJ2J.zip").write_bytes(b"zip")
    (var / "inbox").mkdir()
    bad = var / "inbox" / "x.tif"
    bad.write_text("no")
    quarantine(bad, InputRejected(RejectCode.NOT_A_SCAN), var / "quarantine")

    result = _run(["status", "--json"], var)

    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["outbox"]["count"] == 1 and facts["outbox"]["oldest_age_s"] >= 0
    assert facts["quarantine"]["count"] == 1
    assert facts["quarantine"]["items"][0]["code"] == "not_a_scan"
    assert facts["inbox"]["count"] == 0


def test_run_with_json_logs_writes_one_json_object_per_line_and_stops_on_sigterm(
        tmp_path: Path) -> None:
    env = dict(os.environ, ASPA_PATHS__VAR_DIR=str(tmp_path / "var"))
    agent = subprocess.Popen([AGENT, "run", "--json-logs"], env=env, stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert agent.stderr is not None
    lines = []
    for line in agent.stderr:
        lines.append(json.loads(line))
        if "classifier" in lines[-1]["msg"]:
            break
    agent.send_signal(signal.SIGTERM)
    assert agent.wait(timeout=60) == 0
    assert {"ts", "level", "logger", "msg"} <= set(lines[-1])
    assert "watching" in lines[-1]["msg"]


def test_a_scan_of_blank_sheets_tells_the_clerk_why_in_finnish_and_swedish(
        tmp_path: Path) -> None:
    result = _run(["scan"], tmp_path / "var", ASPA_SCANNER__DEVICE="test:0",
                  ASPA_SCANNER__MAX_PAGES="2",
                  ASPA_SCANNER__EXTRA_OPTIONS='{"test_picture": "Solid white"}')
    assert result.returncode == 1
    assert "Kaikki sivut olivat tyhjiä" in result.stderr and "Alla sidor var tomma" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list((tmp_path / "var" / "outbox").glob("*.zip"))


def test_a_configured_model_that_cannot_be_used_stops_the_agent_with_the_fix(
        tmp_path: Path) -> None:
    broken = tmp_path / "model.joblib"
    broken.write_bytes(b"not a model")
    result = _run(["bundle", str(broken), "--out", str(tmp_path / "out")], tmp_path / "var",
                  ASPA_CLASSIFIER__MODEL=str(broken))
    assert result.returncode == 2
    assert "retrain with: aspa-classifiers train" in result.stderr
    assert "Traceback" not in result.stderr
