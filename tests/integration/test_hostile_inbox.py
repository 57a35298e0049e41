"""A hostile inbox: the agent never blocks, never follows a link out, never stops for one entry,
never makes two cases of one renamed file, and no hetu leaves it in a name.

GIVEN a running agent (real watcher, real decoders, real tesseract) and an inbox holding symlink
loops, a link to a folder outside the inbox, named pipes (FIFOs) at the top and inside a job
folder, a Latin-1 (non-UTF-8) name, a 250-byte name and scans named with a hetu
WHEN it works through them
THEN each hostile entry is in quarantine with a readable reason under a public name, the good
     scans become bundles whose stored names and manifest sources hold no hetu, a good scan
     dropped afterwards is still processed, and the agent stops when told (SIGTERM too).
"""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from aspa_contract.names import public_name
from classifiers.catalogue import load_catalogue
from classifiers.synth import render_form
from scanner_agent.config import AgentConfig, load_config
from scanner_agent.intake.refusal import MAX_DOCUMENTS
from scanner_agent.quarantine import REASON_SUFFIX
from tests.agent_runner import RunningAgent, running_agent
from tests.fifos import release_blocked_readers
from tests.pagegen import text_page

pytestmark = pytest.mark.integration

HETU_DIGITS = "9032"  # of the test code 010594Y9032: must appear in no name, log or reason
LATIN1 = b"bad_\xff\xfe_name.png"
LONG_NAME = "n" * 246 + ".png"  # 250 bytes: with a quarantine stamp it used to be too long
GOOD = "scan010594Y9032b.png"


@pytest.fixture(scope="module")
def good_page(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    form = render_form(load_catalogue().by_code("TO 1")[0], "fi", seed=11, pages=1)
    out = io.BytesIO()
    form.pages[0].save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def quick_config(root: Path) -> AgentConfig:
    return load_config(None, paths__var_dir=root / "var", intake__quiet_s=0.3,
                       intake__folder_quiet_s=1.0, intake__undecodable_grace_s=2.0)


def plant_hostile_entries(inbox: Path, outside: Path) -> dict[str, str | None]:
    """Every hostile entry by the public name its outcome carries, with the code expected."""
    inbox.mkdir(parents=True, exist_ok=True)
    (inbox / "loop").symlink_to("loop")
    (inbox / "ping").symlink_to("pong")
    (inbox / "pong").symlink_to("ping")
    (inbox / "outside").symlink_to(outside, target_is_directory=True)
    os.mkfifo(inbox / "pipe.png")
    job = inbox / "pipe_job"
    job.mkdir()
    (job / "p1.png").write_bytes(b"never read")
    os.mkfifo(job / "p2.png")
    (job / ".done").touch()
    looped = inbox / "loop_job"
    looped.mkdir()
    (looped / "l.png").symlink_to("l.png")
    (looped / ".done").touch()
    with open(os.path.join(os.fsencode(inbox), LATIN1), "wb") as handle:
        handle.write(b"not an image")
    (inbox / LONG_NAME).write_bytes(b"not an image either")
    refused = "not_a_regular_file"
    return {"loop": refused, "ping": refused, "pong": refused, "outside": refused,
            "pipe.png": refused, "pipe_job": refused, "loop_job": refused,
            public_name(LATIN1): None, public_name(LONG_NAME): None}


class LogCapture(logging.Handler):
    """Every agent log line, formatted as it would be written, exceptions included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def agent_logs() -> Iterator[LogCapture]:
    logger = logging.getLogger("scanner_agent")
    capture, level = LogCapture(), logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    yield capture
    logger.removeHandler(capture)
    logger.setLevel(level)


@pytest.fixture(scope="module")
def after_hostile_inbox(tmp_path_factory: pytest.TempPathFactory, good_page: bytes) -> Iterator[
        tuple[RunningAgent, AgentConfig, Path, list[str]]]:
    root = tmp_path_factory.mktemp("hostile")
    outside = root / "elsewhere"
    outside.mkdir()
    (outside / "secret.png").write_bytes(good_page)
    config = quick_config(root)
    expected = plant_hostile_entries(config.paths.inbox, outside)
    (config.paths.inbox / GOOD).write_bytes(good_page)
    folder = config.paths.inbox / "asiakas 010594Y9032"
    folder.mkdir()
    (folder / "sivu_010594Y9032.png").write_bytes(good_page)
    (folder / ".done").touch()
    logger = logging.getLogger("scanner_agent")
    capture, level = LogCapture(), logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    try:
        with running_agent(config) as agent:
            try:
                agent.wait_for(len(expected) + 2, timeout=150)
                (config.paths.inbox / "after.png").write_bytes(good_page)
                agent.wait_for(len(expected) + 3, timeout=120)
                yield agent, config, outside, capture.lines
            finally:
                release_blocked_readers(root)
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)


EXPECTED_REFUSED = ["loop", "ping", "pong", "outside", "pipe.png", "pipe_job", "loop_job"]


@pytest.mark.parametrize("name", [*EXPECTED_REFUSED, public_name(LATIN1), public_name(LONG_NAME)])
def test_each_hostile_entry_is_in_quarantine_with_a_reason(
        after_hostile_inbox: tuple[RunningAgent, AgentConfig, Path, list[str]],
        name: str) -> None:
    agent, config, _, _ = after_hostile_inbox
    outcome = agent.by_name(name)
    assert outcome.rejected is not None and outcome.path is not None, name
    if name in EXPECTED_REFUSED:
        assert outcome.rejected.code.value == "not_a_regular_file"
    assert outcome.path.parent == config.paths.quarantine and os.path.lexists(outcome.path)
    reason = outcome.path.with_name(outcome.path.name + REASON_SUFFIX).read_text("utf-8")
    assert reason.startswith(name + "\n") and f"code: {outcome.rejected.code.value}" in reason


def test_a_link_out_of_the_inbox_is_never_followed(
        after_hostile_inbox: tuple[RunningAgent, AgentConfig, Path, list[str]]) -> None:
    agent, _, outside, _ = after_hostile_inbox
    assert (outside / "secret.png").is_file()  # the link moved to quarantine, not its target
    assert os.readlink(agent.by_name("outside").path) == str(outside)  # type: ignore[arg-type]
    bundled = [o for o in agent.outcomes if o.bundle is not None]
    assert sorted(o.name for o in bundled) == sorted(
        [public_name(GOOD), "after.png", public_name("asiakas 010594Y9032")])


def test_good_scans_become_bundles_and_the_agent_keeps_running(
        after_hostile_inbox: tuple[RunningAgent, AgentConfig, Path, list[str]]) -> None:
    agent, config, _, _ = after_hostile_inbox
    good = agent.by_name(public_name(GOOD))
    assert good.bundle is not None
    assert good.bundle.manifest["documents"][0]["source"] == "scan010594Y***2b.png"
    folder = agent.by_name(public_name("asiakas 010594Y9032"))
    assert folder.bundle is not None
    assert folder.bundle.manifest["documents"][0]["source"] == "sivu_010594Y***2.png"
    assert agent.by_name("after.png").bundle is not None
    assert agent.thread.is_alive()
    assert os.listdir(config.paths.inbox) == []  # nothing left behind, not even a claim


def test_no_stored_name_reason_or_log_line_holds_a_hetu_or_undecodable_bytes(
        after_hostile_inbox: tuple[RunningAgent, AgentConfig, Path, list[str]]) -> None:
    _, config, _, lines = after_hostile_inbox
    stored: list[str] = []
    for folder in (config.paths.done, config.paths.quarantine):
        for _, dirnames, filenames in os.walk(folder):
            stored += dirnames + filenames
    assert any(name.endswith("scan010594Y***2b.png") for name in stored)
    for name in stored:
        assert HETU_DIGITS not in name and name.encode("utf-8")
    for reason in config.paths.quarantine.glob(f"*{REASON_SUFFIX}"):
        assert HETU_DIGITS not in reason.read_text("utf-8")
    assert lines and not [line for line in lines if HETU_DIGITS in line]
    for line in lines:
        line.encode("utf-8")  # a surrogate from an undecodable name would raise here


def test_a_file_renamed_while_it_is_read_becomes_one_bundle(
        tmp_path: Path, good_page: bytes, agent_logs: LogCapture) -> None:
    """GIVEN a scan being read WHEN someone renames it in the inbox THEN one bundle, not two."""
    config = quick_config(tmp_path)
    renamed: list[str] = []

    def rename_while_read() -> None:
        deadline = time.monotonic() + 60
        while not any("first.png is ready" in line for line in agent_logs.lines):
            if time.monotonic() > deadline:
                return
            time.sleep(0.02)
        time.sleep(0.5)  # well inside the read: hashing, decoding and OCR take seconds
        try:
            os.rename(config.paths.inbox / "first.png", config.paths.inbox / "second.png")
            renamed.append("second.png")
        except FileNotFoundError:
            renamed.append("refused: claimed")

    with running_agent(config) as agent:
        renamer = threading.Thread(target=rename_while_read)
        renamer.start()
        (config.paths.inbox / "first.png").write_bytes(good_page)
        agent.wait_for(1)
        renamer.join()
        (config.paths.inbox / "after.png").write_bytes(good_page)
        outcomes = agent.wait_for(2)
        while agent.outcomes[-1].name != "after.png":  # a second bundle would come before it
            outcomes = agent.wait_for(len(agent.outcomes) + 1)
    assert renamed, "the scan was never seen ready"
    assert [o.name for o in outcomes if o.bundle] in (
        ["first.png", "after.png"], ["second.png", "after.png"]), (renamed, outcomes)
    assert len(list(config.paths.outbox.glob("*.zip"))) == 2


def test_a_folder_of_too_many_documents_is_refused_at_once_not_read_three_times(
        tmp_path: Path) -> None:
    """GIVEN a folder of more one-page documents than a bundle may hold WHEN it is closed
    THEN it is quarantined as too_many_documents within seconds, once, before any OCR."""
    config = quick_config(tmp_path)
    big = config.paths.inbox / "big"
    big.mkdir(parents=True)
    page = io.BytesIO()
    text_page(["Kela Hakemus TO 1 sivu"], dpi=100).save(page, format="PNG")
    for number in range(1, MAX_DOCUMENTS + 6):
        (big / f"doc{number:03d}.png").write_bytes(page.getvalue())
    (big / ".done").touch()
    started = time.monotonic()
    with running_agent(config) as agent:
        [outcome] = agent.wait_for(1, timeout=90)
        elapsed = time.monotonic() - started
        time.sleep(1.0)
        assert len(agent.outcomes) == 1
    assert outcome.rejected is not None and outcome.rejected.code.value == "too_many_documents"
    assert f"{MAX_DOCUMENTS + 5} documents" in outcome.rejected.detail
    assert elapsed < 60  # reading 205 pages takes minutes on this machine
    assert not list(config.paths.outbox.glob("*.zip"))


def test_the_agent_process_starts_on_a_hostile_inbox_and_stops_on_sigterm(
        tmp_path: Path, good_page: bytes) -> None:
    """GIVEN `aspa-agent run` started on an inbox of link loops, pipes and a Latin-1 name
    THEN the good scan beside them becomes a bundle and SIGTERM stops the process (exit 0),
    with no hetu in anything it logged."""
    var = tmp_path / "var"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    expected = plant_hostile_entries(var / "inbox", outside)
    (var / "inbox" / GOOD).write_bytes(good_page)
    env = dict(os.environ, ASPA_PATHS__VAR_DIR=str(var), ASPA_INTAKE__QUIET_S="0.3",
               ASPA_INTAKE__FOLDER_QUIET_S="1", ASPA_INTAKE__UNDECODABLE_GRACE_S="2")
    log_path = tmp_path / "agent.log"
    with open(log_path, "wb") as log:
        agent = subprocess.Popen([str(Path(sys.executable).parent / "aspa-agent"), "run",
                                  "--json-logs"], env=env, stdin=subprocess.DEVNULL,
                                 stdout=log, stderr=log)
        try:
            _wait_for_files(var, bundles=1, quarantined=len(expected), timeout=150)
            agent.send_signal(signal.SIGTERM)
            assert agent.wait(timeout=60) == 0
        finally:
            release_blocked_readers(tmp_path)
            if agent.poll() is None:
                agent.kill()
                agent.wait()
    text = log_path.read_text("utf-8")
    assert HETU_DIGITS not in text
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any("refused unread" in line["msg"] for line in lines)
    with zipfile.ZipFile(next((var / "outbox").glob("*.zip"))) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["documents"][0]["source"] == "scan010594Y***2b.png"


def _wait_for_files(var: Path, *, bundles: int, quarantined: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        zips = list((var / "outbox").glob("*.zip")) if (var / "outbox").is_dir() else []
        reasons = list((var / "quarantine").glob(f"*{REASON_SUFFIX}")) \
            if (var / "quarantine").is_dir() else []
        if len(zips) >= bundles and len(reasons) >= quarantined:
            return
        assert time.monotonic() < deadline, f"{len(zips)} bundles, {len(reasons)} quarantined"
        time.sleep(0.2)
