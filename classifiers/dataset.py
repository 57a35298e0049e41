"""Read and write labelled dataset folders: ``labels.csv`` plus the page images it names.

The format (generated corpora and any evaluation set an admin brings)::

    file,label,language,hetu[,variant,...]
    to1/p1.png;to1/p2.png,TO 1,fi,010594Y9032
    letter.jpg,unknown,sv,

``file`` is one or more page image paths relative to the folder, ``;``-separated in page order;
``label`` a form code written like ``TO 1``, ``attachment/<kind>`` or ``unknown``; ``language``
``fi``/``sv``/``en`` or empty; ``hetu`` the code a correct extractor returns, empty if none (an
invalid code counts as none). The optional ``variant`` column tells EV 256's two documents
apart; other extra columns are kept but ignored.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aspa_contract.durable import write_atomic
from aspa_contract.hetu import is_valid
from classifiers.catalogue import normalise_code
from classifiers.errors import DatasetError

LABELS_FILE = "labels.csv"
REQUIRED_COLUMNS = ("file", "label", "language", "hetu")
VARIANT_COLUMN = "variant"
LANGUAGES = ("fi", "sv", "en", "")
ATTACHMENT_LABELS = ("attachment/bank_statement", "attachment/rental_agreement",
                     "attachment/pay_slip")
UNKNOWN = "unknown"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Sample:
    """One labelled document of a dataset."""

    files: tuple[Path, ...]  # absolute page image paths, in page order
    label: str  # "TO 1", "attachment/pay_slip" or "unknown"
    language: str  # "fi" | "sv" | "en" | ""
    hetu: str | None  # the valid code a correct extractor returns, else None
    row: int  # 1-based data row in labels.csv (header not counted), for messages
    variant: str | None = None  # "hoitotuki" / "c-lausunto" where one code names two documents
    extra: tuple[tuple[str, str], ...] = field(default=())  # other columns, kept for writing

    @property
    def is_form(self) -> bool:
        """True when the label is a form code (not an attachment kind, not unknown)."""
        return self.label != UNKNOWN and not self.label.startswith("attachment/")


def load_dataset(folder: Path) -> list[Sample]:
    """The samples of ``folder/labels.csv`` in file order.

    Raises :class:`DatasetError` naming the row and the fix for a missing file or column, an
    unknown label, language or an invalid hetu.
    """
    path = folder / LABELS_FILE
    try:
        text = path.read_text(encoding="utf-8-sig")  # Excel writes a BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}; a dataset folder needs a UTF-8 "
                           f"{LABELS_FILE} with columns {','.join(REQUIRED_COLUMNS)}") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise DatasetError(f"{path}: missing column(s) {', '.join(missing)}; the first line "
                           f"must name at least {','.join(REQUIRED_COLUMNS)}")
    samples = [_sample(folder, number, row) for number, row in enumerate(reader, start=1)]
    if not samples:
        raise DatasetError(f"{path} has no rows; add one line per document")
    return samples


def _sample(folder: Path, number: int, row: dict[str, str | None]) -> Sample:
    where = f"{folder / LABELS_FILE} row {number} (line {number + 1})"
    if None in row:  # csv puts surplus cells under the key None
        raise DatasetError(f"{where}: more cells than columns; quote a value holding a comma")
    cells = {k: (v or "").strip() for k, v in row.items() if k is not None}
    extra = tuple((k, v) for k, v in cells.items()
                  if k not in REQUIRED_COLUMNS and k != VARIANT_COLUMN)
    return Sample(
        files=_files(folder, cells["file"], where),
        label=_label(cells["label"], where),
        language=_language(cells["language"], where),
        hetu=_hetu(cells["hetu"], where),
        row=number,
        variant=cells.get(VARIANT_COLUMN) or None,
        extra=extra,
    )


def _files(folder: Path, cell: str, where: str) -> tuple[Path, ...]:
    names = [name.strip() for name in cell.split(";") if name.strip()]
    if not names:
        raise DatasetError(f"{where}: 'file' is empty; give the page image path(s) relative to "
                           "the folder, ';'-separated in page order")
    files = []
    for name in names:
        if Path(name).is_absolute():
            raise DatasetError(f"{where}: {name!r} is absolute; write it relative to the "
                               "dataset folder so the folder can move")
        path = (folder / name).resolve()
        if not path.is_file():
            raise DatasetError(f"{where}: page file {name!r} does not exist in {folder}; "
                               "fix the path or remove the row")
        files.append(path)
    return tuple(files)


def _label(cell: str, where: str) -> str:
    if cell == UNKNOWN or cell in ATTACHMENT_LABELS:
        return cell
    code = normalise_code(cell)
    if code is None:
        raise DatasetError(
            f"{where}: label {cell!r} is not a form code like 'TO 1', one of "
            f"{', '.join(ATTACHMENT_LABELS)}, or 'unknown'; write one of those")
    if code != cell:
        raise DatasetError(f"{where}: write the label {cell!r} as {code!r} (capitals, one "
                           "space, no language suffix; the language goes in its own column)")
    return code


def _language(cell: str, where: str) -> str:
    if cell not in LANGUAGES:
        raise DatasetError(f"{where}: language {cell!r} is not fi, sv, en or empty; "
                           "write one of those")
    return cell


def _hetu(cell: str, where: str) -> str | None:
    if not cell:
        return None
    if not is_valid(cell):
        # Deliberately does not echo the value: it may be a real person's code.
        raise DatasetError(f"{where}: the hetu is not a valid identity code; leave the cell "
                           "empty when the document holds none or only an invalid one")
    return cell


def write_labels(folder: Path, rows: Iterable[Sample]) -> None:
    """Write ``folder/labels.csv`` for ``rows`` atomically; page paths become relative.

    Columns: the four required ones, ``variant``, then every extra column in first-seen order.
    Raises :class:`DatasetError` when a page file lies outside ``folder``.
    """
    samples = list(rows)
    extras = list(dict.fromkeys(key for s in samples for key, _ in s.extra))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*REQUIRED_COLUMNS, VARIANT_COLUMN, *extras])
    root = folder.resolve()
    for sample in samples:
        values = dict(sample.extra)
        writer.writerow([_relative(root, sample), sample.label, sample.language,
                         sample.hetu or "", sample.variant or "",
                         *(values.get(key, "") for key in extras)])
    write_atomic(folder / LABELS_FILE, out.getvalue().encode("utf-8"))


def _relative(root: Path, sample: Sample) -> str:
    try:
        return ";".join(p.resolve().relative_to(root).as_posix() for p in sample.files)
    except ValueError:
        raise DatasetError(f"row {sample.row}: a page file lies outside {root}; copy it into "
                           "the dataset folder first") from None


def file_digest(path: Path) -> str:
    """sha256 hex of the file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def dataset_hash(samples: Sequence[Sample]) -> str:
    """sha256 hex over every sample's truth and page bytes, in order: the training data hash.

    Independent of where the folder lies and of extra columns; moving or renaming files keeps
    it, changing a page, a label, a variant, a language or a hetu changes it.
    """
    digest = hashlib.sha256()
    for sample in samples:
        pages = ",".join(file_digest(p) for p in sample.files)
        truth = (sample.label, sample.variant or "", sample.language, sample.hetu or "", pages)
        digest.update(("\t".join(truth) + "\n").encode("utf-8"))
    return digest.hexdigest()
