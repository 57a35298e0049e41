"""GIVEN inputs with hostile names (a hetu glued to letters, Latin-1 bytes, 250 bytes, a link
loop) WHEN the agent stores them in quarantine/ or done/ or shows them in `status` THEN every
stored name and reason is public (no hetu, valid UTF-8, short enough) and nothing is lost."""

from __future__ import annotations

import os
from pathlib import Path

from aspa_contract.names import public_name
from scanner_agent.config import AgentConfig
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.outbox import Outbox
from scanner_agent.quarantine import REASON_SUFFIX, items, quarantine
from scanner_agent.release import describe_sources, release
from scanner_agent.status import collect

HETU_DIGITS = "9032"  # of the test code 010594Y9032


def all_names(folder: Path) -> list[str]:
    names = []
    for _, dirnames, filenames in os.walk(folder):
        names += dirnames + filenames
    return names


def test_a_non_utf8_name_is_quarantined_with_a_readable_reason(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    raw = os.path.join(os.fsencode(inbox), b"bad_\xff\xfe_name.png")
    with open(raw, "wb") as handle:
        handle.write(b"not an image")
    where = quarantine(Path(os.fsdecode(raw)), InputRejected(RejectCode.UNREADABLE_IMAGE),
                       tmp_path / "quarantine")
    assert where.name.endswith("-bad_\\xff\\xfe_name.png") and where.read_bytes()
    reason = where.with_name(where.name + REASON_SUFFIX).read_text(encoding="utf-8")
    assert reason.startswith("bad_\\xff\\xfe_name.png\n")
    assert os.listdir(inbox) == []


def test_a_250_byte_name_fits_in_quarantine(tmp_path: Path) -> None:
    long_name = tmp_path / ("x" * 246 + ".png")
    long_name.write_bytes(b"not an image")
    where = quarantine(long_name, InputRejected(RejectCode.UNREADABLE_IMAGE),
                       tmp_path / "quarantine")
    assert where.exists() and len(os.fsencode(where.name + REASON_SUFFIX)) <= 255
    [item] = items(tmp_path / "quarantine")
    assert item.path == where


def test_a_quarantined_folder_and_the_files_in_it_hold_no_hetu(tmp_path: Path) -> None:
    folder = tmp_path / "asiakas_010594Y9032"
    (folder / "liitteet 010594Y9032").mkdir(parents=True)
    (folder / "scan010594Y9032b.png").write_bytes(b"a")
    (folder / "scan010594Y9032c.png").write_bytes(b"b")
    (folder / "liitteet 010594Y9032" / "010594Y9032.pdf").write_bytes(b"c")
    quarantine(folder, InputRejected(RejectCode.UNREADABLE_IMAGE), tmp_path / "quarantine")
    stored = all_names(tmp_path / "quarantine")
    assert len(stored) == 6 and not [n for n in stored if HETU_DIGITS in n]
    reason = next(p for p in (tmp_path / "quarantine").iterdir() if p.name.endswith(REASON_SUFFIX))
    assert HETU_DIGITS not in reason.read_text()


def test_a_quarantined_link_loop_keeps_its_reason(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to("loop")
    quarantine(tmp_path / "loop", InputRejected(RejectCode.NOT_A_REGULAR_FILE),
               tmp_path / "quarantine")
    [item] = items(tmp_path / "quarantine")
    assert item.path.is_symlink() and "not_a_regular_file" in item.reason


def test_released_scans_are_stored_in_done_under_public_names(tmp_path: Path) -> None:
    inbox, done = tmp_path / "inbox", tmp_path / "done"
    folder = inbox / "käynti 010594Y9032"
    folder.mkdir(parents=True)
    (folder / "scan010594Y9032b.png").write_bytes(b"page")
    outbox = Outbox(tmp_path / "outbox")
    note = describe_sources("01KBUNDLE00000000000000000", inbox, folder,
                            (folder / "scan010594Y9032b.png",))
    moved = release(note, inbox, done, outbox)
    assert moved == done / note.bundle_id / "käynti 010594Y***2"
    assert (moved / "scan010594Y***2b.png").read_bytes() == b"page"
    assert not [n for n in all_names(done) if HETU_DIGITS in n]


def test_status_survives_a_link_loop_in_the_inbox_and_shows_public_names(
        agent_config: AgentConfig) -> None:
    paths = agent_config.paths
    paths.inbox.mkdir(parents=True)
    (paths.inbox / "loop").symlink_to("loop")
    old = paths.quarantine / "20260101T000000000000Z-scan010594Y9032b.png"  # stored before
    paths.quarantine.mkdir(parents=True)
    old.write_bytes(b"x")
    old.with_name(old.name + REASON_SUFFIX).write_text("code: unreadable_image\n")
    facts = collect(agent_config)
    assert facts["inbox"]["count"] == 1
    assert facts["quarantine"]["items"] == [
        {"name": public_name(old.name), "code": "unreadable_image"}]
    assert HETU_DIGITS not in str(facts)
