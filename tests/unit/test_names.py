"""GIVEN names from outside WHEN they leave the process THEN they carry no hetu and are safe."""

from __future__ import annotations

import os

from aspa_contract.hetu import redact
from aspa_contract.names import MAX_NAME_BYTES, public_name


def test_hetu_glued_to_letters_is_masked() -> None:
    assert redact("scan311299-977Rb.png") == "scan311299-***Rb.png"
    assert public_name("scan311299-977Rb.png") == "scan311299-***Rb.png"


def test_hetu_in_lower_case_or_without_check_character_is_masked() -> None:
    assert "977" not in public_name("asiakas_311299a977r.pdf")
    assert "977" not in public_name("311299-977.tif")
    assert "903" not in redact("x010594Y9032y 020516C903K")
    assert redact("GET /incoming/p/010594%2B9032.zip") == "GET /incoming/p/010594%2B***2.zip"


def test_non_utf8_bytes_become_visible_escapes() -> None:
    raw = b"bad_\xff\xfe_name.png"
    name = public_name(os.fsdecode(raw))
    assert name == "bad_\\xff\\xfe_name.png"
    name.encode("utf-8")  # never raises: the result is valid UTF-8
    assert public_name(raw) == name


def test_control_characters_and_slashes_cannot_reach_a_file_name_or_log() -> None:
    name = public_name("a\nb\rc\x00d\x1b[31m/e\u202e.png")
    assert not any(ch in name for ch in "\n\r\x00\x1b/\u202e")
    assert public_name("..") != ".." and public_name("") != ""


def test_long_names_are_bounded_and_stay_distinct() -> None:
    first = public_name("a" * 300 + "1.png")
    second = public_name("a" * 300 + "2.png")
    assert len(first.encode()) <= MAX_NAME_BYTES and first.endswith(".png")
    assert first != second
    assert len(public_name("ä" * 300).encode()) <= MAX_NAME_BYTES


def test_a_long_name_with_a_hetu_is_masked_before_it_is_hashed_or_cut() -> None:
    name = public_name("311299-977R" + "x" * 300)
    assert "977R" not in name and name.startswith("311299-***R")


def test_a_rejection_detail_quoting_a_path_carries_no_code_and_stays_utf8() -> None:
    """GIVEN a library error quoting a hetu-named, non-UTF-8 path THEN the clerk's reason text
    masks the code and can be written as UTF-8."""
    from scanner_agent.errors import InputRejected, RejectCode

    path = os.fsdecode(b"/inbox/170255-978A\xff.png")
    error = InputRejected(RejectCode.UNREADABLE_IMAGE, f"cannot identify image file '{path}'")
    text = error.reason_text()
    assert "978A" not in text and "170255-***A\\xff.png" in text
    text.encode("utf-8")
    assert "978A" not in str(error)
