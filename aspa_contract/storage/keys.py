"""The key rules both backends enforce, so a key that works on one works on the other.

A key is ``/``-separated segments: ``incoming/hki-kallio/01J….zip``. It is refused when it is
empty, not valid UTF-8 (a Latin-1 file name on a share reads as surrogates), absolute (leading
``/``), holds a backslash or a control character, has an empty segment (``a//b``, trailing
``/``), a segment beginning with a dot (``.``, ``..``, hidden files: the
file backend keeps its temporary files in such a folder), a segment over 255 bytes (a file name
limit) or is over 1024 bytes in UTF-8 (the S3 limit). A file path built from a valid key
therefore never escapes the store's root.
"""

from __future__ import annotations

from aspa_contract.storage.errors import InvalidKey

MAX_KEY_BYTES = 1024
MAX_SEGMENT_BYTES = 255


def check_key(key: str) -> str:
    """Return ``key`` unchanged if it follows the key rules, else raise :class:`InvalidKey`."""
    why = _problem(key)
    if why:
        raise InvalidKey(key, why)
    return key


def check_prefix(prefix: str) -> str:
    """Return a listing prefix unchanged: empty, or a valid key optionally ending in ``/``."""
    if prefix:
        check_key(prefix.removesuffix("/"))
    return prefix


def is_valid_key(key: str) -> bool:
    """True if ``key`` follows the key rules (for skipping foreign objects in a listing)."""
    return _problem(key) is None


def _problem(key: str) -> str | None:
    if not isinstance(key, str) or not key:
        return "it is empty"
    if any(0xD800 <= ord(ch) <= 0xDFFF for ch in key):
        return "it is not valid UTF-8 (a file name in another encoding)"
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        return f"it is longer than {MAX_KEY_BYTES} bytes"
    if key.startswith("/"):
        return "it is absolute (starts with '/')"
    if "\\" in key:
        return "it holds a backslash"
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        return "it holds a control character"
    for segment in key.split("/"):
        if not segment:
            return "it has an empty segment ('//' or a trailing '/')"
        if segment.startswith("."):
            return f"segment {segment!r} begins with a dot ('..' and hidden names are refused)"
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            return f"a segment is longer than {MAX_SEGMENT_BYTES} bytes"
    return None
