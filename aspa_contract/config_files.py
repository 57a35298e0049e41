"""Reading a pydantic settings model from TOML + environment + overrides, for both sides.

Priority, lowest first: the model's defaults, the TOML file, environment variables (the model's
``env_prefix``, ``__`` between section and key), explicit overrides (``section__key=value``, from
a command line). A bad value becomes one error naming each key, the variable to set and the fix,
and never echoes a URL or secret back (it may hold a password).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

Settings = TypeVar("Settings", bound=BaseSettings)


def load_settings(model: type[Settings], file: Path | None, overrides: dict[str, Any],
                  error: type[Exception], what: str = "configuration") -> Settings:
    """Build ``model`` from ``file``, the environment and ``overrides``; raise ``error``."""
    data = _read_toml(file, error) if file is not None else {}
    try:
        merged = _deep_merge(data, model().model_dump(exclude_unset=True))
        for dotted, value in overrides.items():
            merged = _deep_merge(merged, _nest(dotted, value))
        return model.model_validate(merged)
    except ValidationError as exc:
        prefix = str(model.model_config.get("env_prefix", ""))
        raise error(_explain(exc, file, prefix, what)) from None


def _read_toml(file: Path, error: type[Exception]) -> dict[str, Any]:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"config file {file} does not exist; pass --config PATH") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"config file {file} is not valid TOML: {exc}") from None


def _nest(dotted: str, value: Any) -> dict[str, Any]:
    section, _, key = dotted.partition("__")
    return {section: {key: value}} if key else {section: value}


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _explain(exc: ValidationError, file: Path | None, env_prefix: str, what: str) -> str:
    where = f" in {file}" if file else ""
    lines = [f"invalid {what}{where}:"]
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        env = env_prefix + "__".join(str(p) for p in err["loc"]).upper()
        shown = "(hidden)" if "url" in key or "secret" in key else repr(err.get("input"))
        lines.append(f"  {key} = {shown}: {err['msg']}. Fix `{key}` in the file or set {env}.")
    return "\n".join(lines)
