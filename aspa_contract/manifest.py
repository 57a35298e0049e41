"""Load the versioned bundle JSON Schema and validate manifests against it.

Both sides validate with :func:`validate_manifest`, and it reads the schema as JSON Schema means
it, where Python's defaults differ: a ``pattern`` is an ECMA-262 regex, whose ``$`` is the end
of the text (Python's ``$`` also matches before a final newline, so ``"clerk-7\\n"`` would pass a
slug pattern), and ``format: date-time`` is asserted (a ``2026-13-45T99:99:99Z`` matches the
instant pattern but is no instant).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema import validators

SCHEMA_ID = "aspa-bundle/1"
MANIFEST_NAME = "manifest.json"


class ContractViolation(ValueError):
    """A manifest does not follow the bundle schema; ``problems`` lists each one as `path: msg`."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("manifest violates " + SCHEMA_ID + ": " + "; ".join(problems))


@cache
def load_schema() -> dict[str, Any]:
    """The JSON Schema of manifest version 1, shipped as package data."""
    text = resources.files("aspa_contract").joinpath("schema/bundle-1.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` (ECMA-262, as JSON Schema writes it) compiled to match as ECMA-262 does:
    each unescaped ``$`` outside a character class becomes ``\\Z``, the end of the text.

    >>> bool(ecma_regex("^[a-z]+$").search("abc\\n"))
    False
    """
    return _compiled(pattern)


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(_ecma_tokens(pattern)))


def _ecma_tokens(pattern: str) -> Iterator[str]:
    escaped = in_class = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            in_class = True
        elif char == "]":
            in_class = False
        elif char == "$" and not in_class:
            yield r"\Z"
            continue
        yield char


def _pattern(validator: Any, pattern: str, instance: Any, _schema: Any) -> Iterator[Any]:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


def is_instant(text: object) -> bool:
    """True when ``text`` (already matching the schema's instant pattern) is a real instant."""
    if not isinstance(text, str):
        return True  # `format` only speaks about strings
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date-time")(is_instant)
_Validator = validators.extend(jsonschema.Draft202012Validator, {"pattern": _pattern})


@cache
def _validator() -> Any:
    return _Validator(load_schema(), format_checker=_FORMATS)


def validate_manifest(manifest: Any) -> None:
    """Raise :class:`ContractViolation` naming every problem, or return silently."""
    errors = sorted(_validator().iter_errors(manifest), key=lambda e: list(e.absolute_path))
    if errors:
        raise ContractViolation([_describe(e) for e in errors[:20]])


def _describe(error: jsonschema.ValidationError) -> str:
    path = "/".join(str(p) for p in error.absolute_path) or "(root)"
    message = error.message
    # Never echo a value that may be a personal identity code back into an error text.
    if "hetu" in path:
        message = "not a well-formed 11-character identity code or null"
    return f"{path}: {message}"
