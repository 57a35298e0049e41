"""A blank file dropped from a job is named in a warning of the document before it."""

from __future__ import annotations

from classifiers.base import Classification
from scanner_agent.bundle import DocumentResult
from scanner_agent.pipeline import MAX_NAMED_BLANK_FILES, note_blank_files


def _documents(count: int) -> list[DocumentResult]:
    unknown = Classification(None, "unknown", "fi", 0.0, "rule")
    return [DocumentResult(f"{n}.png", b"%PDF", 1, unknown) for n in range(count)]


def test_blank_file_is_named_on_the_document_before_it_or_else_the_first() -> None:
    docs = _documents(2)
    note_blank_files(docs, [(0, "0-cover.png"), (1, "1-back.png"), (2, "scan311299-977R.png")])
    assert docs[0].warnings == ["blank_file_dropped:0-cover.png", "blank_file_dropped:1-back.png"]
    assert docs[1].warnings == ["blank_file_dropped:scan311299-***R.png"]


def test_many_blank_files_are_named_up_to_a_limit_and_the_rest_counted() -> None:
    docs = _documents(1)
    note_blank_files(docs, [(1, f"{n:03d}.png") for n in range(150)])
    assert len(docs[0].warnings) == MAX_NAMED_BLANK_FILES + 1
    assert docs[0].warnings[-1] == f"blank_files_dropped_unnamed:{150 - MAX_NAMED_BLANK_FILES}"
