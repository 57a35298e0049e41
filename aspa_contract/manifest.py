"""Load the versioned bundle JSON Schema and validate manifests against it."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

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


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


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
