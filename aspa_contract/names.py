"""The one way a name from outside (a scan's file name, an object key) leaves the process.

Every log line, file name under ``done/`` or ``quarantine/``, reason text, manifest field,
object key, exception record and command output that shows a name passes it through
:func:`public_name`: identity codes masked, bytes that are not UTF-8 (Latin-1 names from SMB
shares and old scanners) and control characters written as visible escapes, and the length
bounded so the result can always be a file name.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from pathlib import PurePath

from aspa_contract.hetu import redact

# Room for a quarantine stamp (24 bytes) and `.reason.txt` (11) inside NAME_MAX (255).
MAX_NAME_BYTES = 200


def public_name(name: str | bytes | PurePath, max_bytes: int = MAX_NAME_BYTES) -> str:
    """``name`` made safe to show and to store: ``scan311299-977Rb\\xff.png`` →
    ``scan311299-***Rb\\xff.png``.

    The result is valid UTF-8, has no control characters, no ``/`` and no hetu, and is at most
    ``max_bytes`` bytes long (a long name keeps its start and extension around a short hash,
    so two long names stay two names).
    """
    text = _visible(_as_text(name))
    text = redact(text).replace("/", "%2F")
    if text in ("", ".", ".."):
        text = text.replace(".", "%2E") or "(empty)"
    return _bounded(text, max_bytes)


def public_text(text: str, max_chars: int = 1000) -> str:
    """Technical text that may quote a name (an error message naming a path) made safe the same
    way: no hetu, no control characters, no undecodable bytes, at most ``max_chars``."""
    return redact(_visible(text))[:max_chars]


def _as_text(name: str | bytes | PurePath) -> str:
    if isinstance(name, PurePath):
        name = name.name
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    return name


def _visible(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _bounded(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    digest = hashlib.sha256(encoded).hexdigest()[:10]
    stem, dot, ext = text.rpartition(".")
    if not dot or len(ext.encode("utf-8")) > 16:
        stem, ext = text, ""
    tail = f"~{digest}" + (f".{ext}" if ext else "")
    budget = max_bytes - len(tail.encode("utf-8"))
    head = stem.encode("utf-8")[:budget].decode("utf-8", errors="ignore")
    return head + tail
