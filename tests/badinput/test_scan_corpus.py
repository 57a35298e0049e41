"""Every kind of bad scan input, all at once, into ONE running agent (real watcher, decoders,
tesseract), then a file renamed while it is read, then a good page.

GIVEN a running agent
WHEN every kind of tests/badinput/scans.py lands in its inbox at once
THEN each entry ends in exactly one bundle (of the expected documents) or one quarantine entry
     with a readable fi/sv/en reason and the expected code, junk stays untouched, nothing is
     lost or doubled, no identity code leaks into a name, a log line or a reason, the agent is
     still alive and a good page after all of them still becomes a bundle.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scanner_agent.config import AgentConfig, load_config
from scanner_agent.pipeline import Outcome
from scanner_agent.quarantine import REASON_SUFFIX
from tests.agent_runner import RunningAgent, running_agent
from tests.badinput.scans import (
    GOOD,
    NAME_HETUS,
    OUTSIDE,
    RENAMED,
    SCAN_KINDS,
    Bundled,
    Ignored,
    Quarantined,
    ScanKind,
    stalling_bug_open,
)

pytestmark = pytest.mark.integration

WAVE_DEADLINE_S = 150.0  # only a guard against a hung agent
OPEN_GRACE_S = 12.0  # how long kinds with an open bug get once the others are done
SETTLE_S = 2.0  # after the last outcome: time for a doubled outcome to show up
RENAMING_S = 5.0  # how long a page is renamed back and forth at most


@dataclass
class CorpusRun:
    config: AgentConfig
    agent: RunningAgent
    staging: Path
    records: list[logging.LogRecord] = field(default_factory=list)
    renamed_to: str = ""
    renames: int = 0

    def outcomes(self, id_: str) -> list[Outcome]:
        return [o for o in self.agent.outcomes if o.name.startswith(id_ + "-")]


class _Records(logging.Handler):
    def __init__(self, records: list[logging.LogRecord]) -> None:
        super().__init__(logging.INFO)
        self.records = records

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _expects_outcome(kind: ScanKind) -> bool:
    return not isinstance(kind.expected, Ignored)


def _wait(run: CorpusRun, kinds: list[ScanKind]) -> None:
    """Until every kind expecting an outcome has one; kinds with an open bug get a grace
    period after the others (they may never finish)."""
    start = time.monotonic()
    fixed = [k for k in kinds if _expects_outcome(k) and not k.open_issue]
    still_open = [k for k in kinds if _expects_outcome(k) and k.open_issue]
    while any(not run.outcomes(k.id) for k in fixed):
        if not run.agent.thread.is_alive() or time.monotonic() - start > WAVE_DEADLINE_S:
            return
        time.sleep(0.2)
    grace_end = time.monotonic() + OPEN_GRACE_S
    while any(not run.outcomes(k.id) for k in still_open) and time.monotonic() < grace_end:
        if not run.agent.thread.is_alive():
            return
        time.sleep(0.2)


def _drop(run: CorpusRun, kinds: list[ScanKind]) -> None:
    for kind in kinds:
        os.rename(run.staging / kind.fs_name, run.config.paths.inbox / kind.fs_name)


def _rename_while_read(run: CorpusRun) -> None:
    """Drop RENAMED; once the watcher hands it over, rename it back and forth until the agent
    takes it (or for a few seconds): some rename lands while the agent starts reading it."""
    _drop(run, [RENAMED])
    deadline = time.monotonic() + 30
    while not any("is ready" in r.getMessage() and RENAMED.id in r.getMessage()
                  for r in run.records):
        if time.monotonic() > deadline or not run.agent.thread.is_alive():
            return
        time.sleep(0.02)
    inbox = run.config.paths.inbox
    names = [RENAMED.fs_name, RENAMED.fs_name.replace(".png", "-b.png")]
    deadline = time.monotonic() + RENAMING_S
    while time.monotonic() < deadline:
        try:
            os.rename(inbox / names[run.renames % 2], inbox / names[(run.renames + 1) % 2])
        except FileNotFoundError:
            break  # the agent has taken it
        run.renames += 1
        time.sleep(0.05)
    run.renamed_to = names[run.renames % 2]
    _wait(run, [RENAMED])
    time.sleep(SETTLE_S)  # a second bundle of the renamed file would show up now


def _unjam(staging: Path, inbox: Path) -> None:
    """Open every named pipe for writing once, so a reader blocked on one returns (else the
    agent could not stop and the module would hang at teardown)."""
    for folder in (inbox, staging, inbox.parent / "quarantine"):
        for path in folder.rglob("*"):
            if path.is_fifo():
                # OSError: no reader waiting, nothing to release.
                with contextlib.suppress(OSError):
                    os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CorpusRun]:
    root = tmp_path_factory.mktemp("badscans")
    staging = root / "staging"
    staging.mkdir()
    config = load_config(None, paths__var_dir=root / "var", intake__quiet_s=0.3,
                         intake__folder_quiet_s=1.0, intake__undecodable_grace_s=2.0)
    for kind in [*SCAN_KINDS, RENAMED, GOOD]:
        kind.make(staging / kind.fs_name)
    first = [k for k in SCAN_KINDS if not (k.stalls_agent and k.open_issue)]
    stallers = [k for k in SCAN_KINDS if k.stalls_agent and k.open_issue]
    records: list[logging.LogRecord] = []
    handler = _Records(records)
    logger = logging.getLogger()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        with running_agent(config) as agent:
            run = CorpusRun(config, agent, staging, records)
            started = time.monotonic()
            try:
                _drop(run, first)
                _wait(run, first)
                print(f"corpus done: {time.monotonic() - started:.1f} s")
                _drop(run, stallers)
                _wait(run, stallers)
                _rename_while_read(run)
                print(f"renamed page done: {time.monotonic() - started:.1f} s")
                _drop(run, [GOOD])
                _wait(run, [GOOD])
                time.sleep(SETTLE_S)
                print(f"all done: {time.monotonic() - started:.1f} s")
                yield run
            finally:
                _unjam(staging, config.paths.inbox)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def _param(kind: ScanKind) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=kind.open_issue)] if kind.open_issue else []
    return pytest.param(kind, id=f"{kind.id}-{kind.why[:40]}", marks=marks)


@pytest.mark.parametrize("kind", [_param(k) for k in SCAN_KINDS])
def test_each_bad_input_ends_as_expected(corpus_run: CorpusRun, kind: ScanKind) -> None:
    """GIVEN one kind of bad input among all the others THEN it has exactly its outcome."""
    outcomes = corpus_run.outcomes(kind.id)
    if isinstance(kind.expected, Ignored):
        assert outcomes == []
        assert os.path.lexists(corpus_run.config.paths.inbox / kind.fs_name), "junk was moved"
        return
    assert len(outcomes) == 1, f"{len(outcomes)} outcomes: {outcomes}"
    _assert_outcome(corpus_run, outcomes[0], kind.expected)
    assert not os.path.lexists(corpus_run.config.paths.inbox / kind.fs_name)
    for leftover in (corpus_run.staging.parent / OUTSIDE).glob(f"{kind.id}*"):
        assert leftover.exists(), "a file outside the inbox was taken"


def _assert_outcome(run: CorpusRun, outcome: Outcome, expected: Bundled | Quarantined) -> None:
    if isinstance(expected, Bundled):
        assert outcome.bundle is not None, f"rejected: {outcome.rejected}"
        assert len(outcome.bundle.manifest["documents"]) == expected.documents
        assert outcome.path is not None and outcome.path.is_file()
        _assert_no_active_content(outcome.path)
        return
    assert outcome.rejected is not None, "bundled, expected a quarantine"
    assert outcome.rejected.code.value in expected.codes, outcome.rejected
    assert outcome.path is not None and outcome.path.parent == run.config.paths.quarantine
    assert os.path.lexists(outcome.path)
    reason = outcome.path.with_name(outcome.path.name + REASON_SUFFIX).read_text("utf-8")
    assert f"code: {outcome.rejected.code.value}" in reason
    assert len(reason.splitlines()) >= 5  # name, blank, fi, sv, en …


def _assert_no_active_content(bundle_zip: Path) -> None:
    with zipfile.ZipFile(bundle_zip) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            for marker in (b"/JavaScript", b"/Launch", b"/OpenAction", b"/JS"):
                assert marker not in data, f"{name} carries {marker!r} from the scan"
            if name.endswith(".pdf"):
                from pypdf import PdfReader
                assert len(PdfReader(io.BytesIO(data)).pages) >= 1


def test_a_file_renamed_while_it_is_read_becomes_one_bundle(corpus_run: CorpusRun) -> None:
    """GIVEN a page the agent has found WHEN it is renamed back and forth as the agent takes
    it (``renames`` tells how often before the agent had it) THEN one bundle, not two, and
    nothing left in the inbox."""
    outcomes = corpus_run.outcomes(RENAMED.id)
    assert len(outcomes) == 1, [(o.name, o.bundle is not None) for o in outcomes]
    assert outcomes[0].bundle is not None
    inbox = corpus_run.config.paths.inbox
    assert not (inbox / RENAMED.fs_name).exists() and not (inbox / corpus_run.renamed_to).exists()


@pytest.mark.xfail(stalling_bug_open(), strict=True,
                   reason="issue 7: an input still stops the whole agent")
def test_the_agent_survives_everything_and_still_bundles_a_good_page(
        corpus_run: CorpusRun) -> None:
    """GIVEN every bad input processed THEN the agent runs and a good page becomes a bundle."""
    assert corpus_run.agent.thread.is_alive()
    [outcome] = corpus_run.outcomes(GOOD.id)
    assert outcome.bundle is not None, outcome.rejected
    assert len(outcome.bundle.manifest["documents"]) == 1


def test_nothing_is_lost_or_doubled(corpus_run: CorpusRun) -> None:
    """THEN every outcome belongs to one input, and quarantine/ and outbox/ hold exactly what
    the outcomes say: nothing extra, nothing twice; only junk and inputs whose bug is still
    open are left in the inbox."""
    paths = corpus_run.config.paths
    ids = {k.id for k in [*SCAN_KINDS, RENAMED, GOOD]}
    outcomes = [o for o in corpus_run.agent.outcomes if o.name[:3] != RENAMED.id]
    assert all(o.name[:3] in ids for o in outcomes), [o.name for o in outcomes]
    assert len({o.name[:3] for o in outcomes}) == len(outcomes), "an input has two outcomes"
    quarantined = {o.path.name for o in corpus_run.agent.outcomes if o.rejected and o.path}
    in_quarantine = {p.name for p in paths.quarantine.iterdir()
                     if not p.name.endswith(REASON_SUFFIX)}
    assert in_quarantine == quarantined
    bundled = {o.path.name for o in corpus_run.agent.outcomes if o.bundle and o.path}
    assert {p.name for p in paths.outbox.glob("*.zip")} == bundled
    allowed = {k.fs_name for k in SCAN_KINDS if isinstance(k.expected, Ignored) or k.open_issue}
    allowed |= {RENAMED.fs_name, corpus_run.renamed_to}
    left = {p.name for p in paths.inbox.iterdir()}
    assert left <= allowed, sorted(left - allowed)


def test_no_identity_code_from_a_name_leaks(corpus_run: CorpusRun) -> None:
    """GIVEN hetus in file and folder names THEN none appears in any stored name, reason text,
    manifest or log line."""
    var = corpus_run.config.paths.quarantine.parent
    texts = [str(p.relative_to(var)) for p in var.rglob("*")]
    texts += [p.read_text("utf-8", "replace") for p in var.rglob(f"*{REASON_SUFFIX}")]
    texts += [r.getMessage() for r in corpus_run.records]
    texts += [str(o.bundle.manifest) for o in corpus_run.agent.outcomes if o.bundle]
    for hetu in NAME_HETUS:
        leaks = [t[:120] for t in texts if hetu in t or hetu.lower() in t.lower()]
        assert not leaks, f"{hetu[:6]}… leaks: {leaks[:3]}"
