"""The Kela form catalogue (``config/forms.toml``): which forms and attachments exist.

Classifiers answer only with codes and kinds listed here; the file's digest goes into every
classifier version so a bundle says which catalogue judged it. The file format is documented
at the top of ``config/forms.toml``.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

from classifiers.base import Kind
from classifiers.errors import AdminError

CODE_PATTERN = re.compile(r"^[A-Z]{1,3} [0-9]{1,3}$")
# Written forms seen on paper and in OCR: "TO1", "TO 1", "to 1r", "AT 1e", "SV178", "Y121r".
# The suffix is the language variant (r Swedish, e English, o instruction sheet) and is dropped:
# the catalogue lists a form once whatever its language.
_RAW_CODE = re.compile(r"^\s*([A-Za-z]{1,3})\s*([0-9]{1,3})\s*([reoREO])?\s*$")
_ATTACHMENT_KINDS = frozenset(k for k in get_args(Kind) if k.startswith("attachment/"))


class CatalogueError(AdminError):
    """The catalogue file is missing, not TOML, or has an entry that breaks the format."""


@dataclass(frozen=True)
class Form:
    """One printed Kela form (its Finnish and Swedish variants are the same entry)."""

    code: str  # normalised "TO 1", "SV 178", "Y 121"
    variant: str | None  # "hoitotuki" / "c-lausunto" for EV 256, else None
    title_fi: str
    title_sv: str
    keywords_fi: tuple[str, ...]
    keywords_sv: tuple[str, ...]
    pages: int


@dataclass(frozen=True)
class AttachmentKind:
    """A document without a Kela code that the classifiers still name (bank statement, ...)."""

    kind: str  # "attachment/bank_statement"
    title_fi: str
    title_sv: str
    keywords_fi: tuple[str, ...]
    keywords_sv: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    """All forms and attachment kinds, with the digest of the file they came from."""

    forms: tuple[Form, ...]
    attachments: tuple[AttachmentKind, ...]
    digest: str  # first 12 hex of sha256 of the file bytes

    def codes(self) -> tuple[str, ...]:
        """Unique form codes in catalogue order (EV 256 appears once)."""
        return tuple(dict.fromkeys(f.code for f in self.forms))

    def by_code(self, code: str) -> tuple[Form, ...]:
        """The entries for ``code`` (normalised first); empty when the code is not listed."""
        wanted = normalise_code(code)
        return tuple(f for f in self.forms if f.code == wanted)

    def attachment(self, kind: str) -> AttachmentKind | None:
        """The attachment entry of ``kind``, or None."""
        return next((a for a in self.attachments if a.kind == kind), None)


def normalise_code(raw: str) -> str | None:
    """``"TO1"`` → ``"TO 1"``, ``"to 1r"`` → ``"TO 1"``, ``"SV178"`` → ``"SV 178"``; else None.

    Only the shape is checked, not whether the catalogue lists the code.
    """
    match = _RAW_CODE.match(raw)
    if match is None:
        return None
    return f"{match.group(1).upper()} {int(match.group(2))}"


def default_catalogue_path() -> Path:
    """``classifiers/forms.toml``: package data, so an installed wheel finds it too
    (``config/forms.toml`` in the repository is a link to it)."""
    return Path(__file__).with_name("forms.toml")


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the catalogue; raise :class:`CatalogueError` naming entry and fix."""
    path = path or default_catalogue_path()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CatalogueError(
            f"cannot read form catalogue {path}: {exc.strerror}; "
            "point the classifier at an existing forms.toml"
        ) from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CatalogueError(f"{path} is not valid UTF-8 TOML: {exc}") from exc
    forms = tuple(_form(entry, i) for i, entry in enumerate(_tables(data, "form", path)))
    attachments = tuple(
        _attachment(entry, i) for i, entry in enumerate(_tables(data, "attachment", path))
    )
    _check_unique(forms, attachments)
    return Catalogue(forms, attachments, hashlib.sha256(raw).hexdigest()[:12])


def _tables(data: Mapping[str, Any], key: str, path: Path) -> list[Mapping[str, Any]]:
    tables = data.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise CatalogueError(f"{path}: '{key}' must be an array of tables: write [[{key}]]")
    if key == "form" and not tables:
        raise CatalogueError(f"{path} lists no forms: add at least one [[form]] entry")
    return tables


def _form(entry: Mapping[str, Any], index: int) -> Form:
    where = f"[[form]] #{index + 1} ({entry.get('code', '?')!s})"
    code = _text(entry, "code", where)
    if not CODE_PATTERN.match(code):
        raise CatalogueError(
            f"{where}: code {code!r} must be letters, one space, digits, e.g. 'TO 1' "
            "(no language suffix: the Swedish 'TO 1r' is the same form)"
        )
    variant = entry.get("variant")
    if variant is not None and (not isinstance(variant, str) or not variant.strip()):
        raise CatalogueError(f"{where}: variant must be a non-empty string or left out")
    pages = entry.get("pages")
    if not isinstance(pages, int) or isinstance(pages, bool) or pages < 1:
        raise CatalogueError(f"{where}: pages must be a whole number of 1 or more")
    return Form(
        code=code,
        variant=variant,
        title_fi=_text(entry, "title_fi", where),
        title_sv=_text(entry, "title_sv", where),
        keywords_fi=_keywords(entry, "keywords_fi", where),
        keywords_sv=_keywords(entry, "keywords_sv", where),
        pages=pages,
    )


def _attachment(entry: Mapping[str, Any], index: int) -> AttachmentKind:
    where = f"[[attachment]] #{index + 1} ({entry.get('kind', '?')!s})"
    kind = _text(entry, "kind", where)
    if kind not in _ATTACHMENT_KINDS:
        raise CatalogueError(
            f"{where}: kind {kind!r} is not one of {sorted(_ATTACHMENT_KINDS)}; "
            "new kinds must first be added to classifiers.base.Kind"
        )
    return AttachmentKind(
        kind=kind,
        title_fi=_text(entry, "title_fi", where),
        title_sv=_text(entry, "title_sv", where),
        keywords_fi=_keywords(entry, "keywords_fi", where),
        keywords_sv=_keywords(entry, "keywords_sv", where),
    )


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise CatalogueError(f'{where}: {key} is missing or empty: write {key} = "..."')
    return value.strip()


def _keywords(entry: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogueError(f"{where}: {key} must be a list of non-empty strings")
    # Classifiers match case-insensitively; storing lower case keeps that in one place.
    return tuple(v.strip().lower() for v in value)


def _check_unique(forms: tuple[Form, ...], attachments: tuple[AttachmentKind, ...]) -> None:
    seen: set[tuple[str, str | None]] = set()
    for form in forms:
        key = (form.code, form.variant)
        if key in seen:
            raise CatalogueError(
                f"[[form]] {form.code} (variant {form.variant}) is listed twice: remove one, or "
                "give each a distinct variant when one code names two documents"
            )
        seen.add(key)
    for code in {f.code for f in forms}:
        entries = [f for f in forms if f.code == code]
        if len(entries) > 1 and any(f.variant is None for f in entries):
            raise CatalogueError(
                f"[[form]] {code} has {len(entries)} entries: give every one a variant "
                "so an answer can say which document it means"
            )
    kinds = [a.kind for a in attachments]
    for kind in set(kinds):
        if kinds.count(kind) > 1:
            raise CatalogueError(f"[[attachment]] {kind} is listed twice: keep one entry")
