"""Outbox, release and quarantine: durable, crash-safe, nothing deleted silently."""

from __future__ import annotations

from pathlib import Path

from scanner_agent.bundle import Bundle
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.outbox import Outbox
from scanner_agent.quarantine import REASON_SUFFIX, items, quarantine
from scanner_agent.release import describe_sources, release

BUNDLE_ID = "01JDQ2X3V8K9M4N5P6Q7R8S9T0"


def _setup(tmp_path: Path) -> tuple[Path, Path, Outbox]:
    inbox, done = tmp_path / "inbox", tmp_path / "done"
    inbox.mkdir()
    (inbox / "scan1.png").write_bytes(b"page one")
    return inbox, done, Outbox(tmp_path / "outbox")


def test_commit_then_release_moves_scans_to_done_and_forgets_the_note(tmp_path: Path) -> None:
    inbox, done, outbox = _setup(tmp_path)
    note = describe_sources(BUNDLE_ID, inbox, inbox / "scan1.png", (inbox / "scan1.png",))
    outbox.commit(Bundle(BUNDLE_ID, {}, b"zip"), note)
    moved = release(note, inbox, done, outbox)
    assert moved == done / BUNDLE_ID / "scan1.png"
    assert moved.read_bytes() == b"page one"
    assert not (inbox / "scan1.png").exists()
    assert [i.bundle_id for i in outbox.items()] == [BUNDLE_ID]
    assert outbox.recover() == []


def test_crash_after_commit_before_release_is_finished_by_recovery(tmp_path: Path) -> None:
    inbox, done, outbox = _setup(tmp_path)
    note = describe_sources(BUNDLE_ID, inbox, inbox / "scan1.png", (inbox / "scan1.png",))
    outbox.commit(Bundle(BUNDLE_ID, {}, b"zip"), note)
    # -- crash here: the scan is still in the inbox --
    pending = Outbox(outbox.root).recover()
    assert [p.bundle_id for p in pending] == [BUNDLE_ID]
    release(pending[0], inbox, done, outbox)
    assert (done / BUNDLE_ID / "scan1.png").exists()


def test_crash_before_the_zip_landed_leaves_the_scan_to_be_read_again(tmp_path: Path) -> None:
    inbox, _, outbox = _setup(tmp_path)
    note = describe_sources(BUNDLE_ID, inbox, inbox / "scan1.png", (inbox / "scan1.png",))
    outbox.commit(Bundle(BUNDLE_ID, {}, b"zip"), note)
    outbox.bundle_path(BUNDLE_ID).unlink()  # as if the zip rename never happened
    (outbox.root / ".tmp-123-x.zip").write_bytes(b"half")
    assert outbox.recover() == []
    assert list(outbox.root.iterdir()) == []
    assert (inbox / "scan1.png").exists()


def test_a_reused_file_name_with_new_content_is_not_swept_away(tmp_path: Path) -> None:
    inbox, done, outbox = _setup(tmp_path)
    note = describe_sources(BUNDLE_ID, inbox, inbox / "scan1.png", (inbox / "scan1.png",))
    outbox.commit(Bundle(BUNDLE_ID, {}, b"zip"), note)
    (inbox / "scan1.png").write_bytes(b"a new customer's page")
    assert release(note, inbox, done, outbox) is None
    assert (inbox / "scan1.png").read_bytes() == b"a new customer's page"


def test_quarantine_keeps_the_input_with_a_trilingual_reason(tmp_path: Path) -> None:
    bad = tmp_path / "scan 010594Y9032.tif"
    bad.write_text("not an image")
    where = quarantine(bad, InputRejected(RejectCode.NOT_A_SCAN, "text file"), tmp_path / "q")
    assert where.read_text() == "not an image"
    assert "010594Y9032" not in where.name
    reason = where.with_name(where.name + REASON_SUFFIX).read_text()
    assert "Tiedosto ei ole skannattu" in reason and "Filen är inte" in reason
    assert "code: not_a_scan" in reason
    assert [i.path for i in items(tmp_path / "q")] == [where]
