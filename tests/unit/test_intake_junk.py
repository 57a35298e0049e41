"""Naming rules of the scan inbox: junk, accepted extensions, natural page order."""

from __future__ import annotations

from pathlib import Path

import pytest

from scanner_agent.intake.junk import (
    is_accepted,
    is_ignored_entry,
    is_junk_dir,
    is_junk_file,
    natural_key,
)


@pytest.mark.parametrize("name", [
    ".DS_Store", "Thumbs.db", "THUMBS.DB", "desktop.ini", "~$lomake.docx", "a.tmp", "a.TMP",
    "scan.pdf.part", "x.crdownload", ".done", "._scan.pdf",
])
def test_junk_files(name: str) -> None:
    assert is_junk_file(name)


@pytest.mark.parametrize("name", ["scan.pdf", "Thumbs.db.pdf", "part.pdf", "tmp.png", "a~$.png"])
def test_scans_are_not_junk(name: str) -> None:
    assert not is_junk_file(name)


@pytest.mark.parametrize(("name", "junk"), [("@eaDir", True), (".git", True), ("#recycle", False),
                                            ("visit-1", False)])
def test_junk_dirs(name: str, junk: bool) -> None:
    assert is_junk_dir(name) is junk


def test_reserved_names_are_ignored_whatever_their_case() -> None:
    assert is_ignored_entry("Quarantine", is_dir=True)
    assert is_ignored_entry("done", is_dir=False)
    assert not is_ignored_entry("done-today", is_dir=True)


@pytest.mark.parametrize(("name", "accepted"), [
    ("a.png", True), ("a.JPG", True), ("a.jpeg", True), ("a.Tif", True), ("a.tiff", True),
    ("a.PDF", True), ("a.docx", False), ("a.heic", False), ("pdf", False),
])
def test_accepted_extensions(name: str, accepted: bool) -> None:
    assert is_accepted(Path(name)) is accepted


def test_natural_order_puts_page2_before_page10_and_ignores_case() -> None:
    names = ["page10.png", "Page2.png", "page1.png", "page1b.png", "cover.png"]
    assert sorted(names, key=natural_key) == [
        "cover.png", "page1.png", "page1b.png", "Page2.png", "page10.png"]


def test_natural_order_copes_with_names_mixing_digits_and_text_first() -> None:
    """A name starting with a digit and one starting with a letter must still compare."""
    assert sorted(["b1", "10a", "2a"], key=natural_key) == ["2a", "10a", "b1"]
