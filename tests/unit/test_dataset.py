"""Dataset folders: labels.csv is read strictly, errors name the row and the fix, writes round-trip,
and the training data hash follows the truth and the page bytes, not the folder's location."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classifiers.dataset import Sample, dataset_hash, load_dataset, write_labels
from classifiers.errors import DatasetError

HEADER = "file,label,language,hetu"


def _folder(tmp_path: Path, *rows: str, header: str = HEADER) -> Path:
    folder = tmp_path / "set"
    folder.mkdir(exist_ok=True)
    for name in ("a.png", "b.png", "c.jpg"):
        (folder / name).write_bytes(name.encode())
    (folder / "labels.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return folder


def test_rows_become_samples_with_absolute_pages_in_order(tmp_path: Path) -> None:
    """GIVEN a form of two pages, an attachment and an unknown letter
    WHEN the dataset is loaded
    THEN each row is a sample with its pages in order, its truth, and its 1-based row."""
    folder = _folder(tmp_path, "b.png; a.png,TO 1,fi,010594Y9032",
                     "c.jpg,attachment/pay_slip,sv,", "a.png,unknown,,")
    samples = load_dataset(folder)
    assert [s.files for s in samples] == [
        (folder / "b.png", folder / "a.png"), (folder / "c.jpg",), (folder / "a.png",)]
    assert [(s.label, s.language, s.hetu, s.row) for s in samples] == [
        ("TO 1", "fi", "010594Y9032", 1), ("attachment/pay_slip", "sv", None, 2),
        ("unknown", "", None, 3)]
    assert [s.is_form for s in samples] == [True, False, False]


def test_extra_columns_are_kept_and_variant_is_read(tmp_path: Path) -> None:
    """GIVEN labels.csv with a variant column and a free extra column
    THEN the variant is on the sample and the extra column is carried, not refused."""
    folder = _folder(tmp_path, "a.png,EV 256,fi,,c-lausunto,blur",
                     header=HEADER + ",variant,degradations")
    (sample,) = load_dataset(folder)
    assert sample.variant == "c-lausunto"
    assert sample.extra == (("degradations", "blur"),)


def test_a_utf8_bom_from_excel_is_accepted(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "a.png,TO 1,fi,")
    (folder / "labels.csv").write_bytes(b"\xef\xbb\xbf" + (folder / "labels.csv").read_bytes())
    assert load_dataset(folder)[0].label == "TO 1"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("missing.png,TO 1,fi,", "row 1 (line 2): page file 'missing.png' does not exist"),
        (",TO 1,fi,", "row 1 (line 2): 'file' is empty"),
        ("/etc/passwd,TO 1,fi,", "is absolute; write it relative"),
        ("a.png,TO1,fi,", "write the label 'TO1' as 'TO 1'"),
        ("a.png,attachment/invoice,fi,", "label 'attachment/invoice' is not a form code"),
        ("a.png,form,fi,", "write one of those"),
        ("a.png,TO 1,de,", "language 'de' is not fi, sv, en or empty"),
        ("a.png,TO 1,fi,010594Y9033", "leave the cell empty"),
        ("a.png,TO 1,fi,,surplus", "more cells than columns"),
    ],
)
def test_a_bad_row_is_refused_naming_row_and_fix(tmp_path: Path, row: str, expected: str) -> None:
    folder = _folder(tmp_path, row)
    with pytest.raises(DatasetError, match="row 1") as caught:
        load_dataset(folder)
    assert expected in str(caught.value)


def test_an_invalid_hetu_is_not_echoed_in_the_error(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "a.png,TO 1,fi,010594Y9033")
    with pytest.raises(DatasetError) as caught:
        load_dataset(folder)
    assert "010594Y9033" not in str(caught.value)


def test_the_error_names_the_failing_row_not_the_first(tmp_path: Path) -> None:
    folder = _folder(tmp_path, "a.png,TO 1,fi,", "a.png,TO 1,fi,", "a.png,XYZW,fi,")
    with pytest.raises(DatasetError, match=r"row 3 \(line 4\)"):
        load_dataset(folder)


def test_missing_columns_and_files_are_refused_with_the_format(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"cannot read .*labels\.csv"):
        load_dataset(tmp_path)
    folder = _folder(tmp_path, "a.png,TO 1", header="file,label")
    with pytest.raises(DatasetError, match=r"missing column.*language, hetu"):
        load_dataset(folder)
    with pytest.raises(DatasetError, match="has no rows"):
        load_dataset(_folder(tmp_path))


def test_write_then_load_round_trips(tmp_path: Path) -> None:
    """GIVEN samples with pages in subfolders, a variant and extra columns
    WHEN written and loaded again
    THEN the same samples come back, and no temp file is left."""
    folder = tmp_path / "out"
    (folder / "docs").mkdir(parents=True)
    for name in ("p1.png", "p2.png"):
        (folder / "docs" / name).write_bytes(b"x")
    samples = [
        Sample((folder / "docs/p1.png", folder / "docs/p2.png"), "EV 256", "sv", "020516C903K",
               1, "hoitotuki", (("font", "DejaVuSans"),)),
        Sample((folder / "docs/p2.png",), "unknown", "fi", None, 2, None,
               (("degradations", "blur,jpeg"),)),
    ]
    write_labels(folder, samples)
    first = (folder / "labels.csv").read_text()
    assert first.splitlines()[0] == "file,label,language,hetu,variant,font,degradations"
    assert "docs/p1.png;docs/p2.png,EV 256,sv,020516C903K,hoitotuki,DejaVuSans," in first
    loaded = load_dataset(folder)
    assert [(s.files, s.label, s.language, s.hetu, s.variant) for s in loaded] == [
        (s.files, s.label, s.language, s.hetu, s.variant) for s in samples]
    assert loaded[1].extra == (("font", ""), ("degradations", "blur,jpeg"))
    assert sorted(p.name for p in folder.iterdir()) == ["docs", "labels.csv"]


def test_writing_a_page_outside_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.png"
    outside.write_bytes(b"x")
    with pytest.raises(DatasetError, match="outside"):
        write_labels(tmp_path / "set", [Sample((outside,), "unknown", "", None, 1)])


def test_dataset_hash_follows_truth_and_bytes_not_location(tmp_path: Path) -> None:
    """GIVEN a dataset and a copy of it elsewhere
    THEN both hash the same; changing a page's bytes or a label changes the hash."""
    folder = _folder(tmp_path, "a.png;b.png,TO 1,fi,010594Y9032", "c.jpg,unknown,,")
    copy = shutil.copytree(folder, tmp_path / "copy")
    base = dataset_hash(load_dataset(folder))
    assert len(base) == 64
    assert dataset_hash(load_dataset(copy)) == base
    (copy / "b.png").write_bytes(b"changed")
    assert dataset_hash(load_dataset(copy)) != base
    relabelled = _folder(tmp_path, "a.png;b.png,TO 2,fi,010594Y9032", "c.jpg,unknown,,")
    assert dataset_hash(load_dataset(relabelled)) != base
