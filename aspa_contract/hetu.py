"""Finnish personal identity codes (hetu): validity and masking for logs, names and keys.

Validation is python-stdnum's; temporary codes (individual number 900-999) are valid here
because the ASPA points see them and our tests use only them.
"""

from __future__ import annotations

import re

from stdnum.exceptions import ValidationError
from stdnum.fi import hetu as stdnum_hetu

CENTURY_SIGNS = "+-YXWVUABCDEF"
CHECK_CHARS = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# Loose shape used only to find things to mask: masking a non-code costs nothing. No word
# boundaries: a code glued to letters or digits (``scan311299-977Rb.png``) is still a code, and
# a code whose check character is cut off still identifies a person. Case-insensitive, since
# file systems and people lower-case names. `%2B` is the 1800s sign in a URL-encoded key.
_LOOKS_LIKE = re.compile(r"(\d{6})([-+A-FU-Y]|%2B)\d{3}([0-9A-Y]?)", re.IGNORECASE)


def is_valid(code: str) -> bool:
    """True when ``code`` is an 11-character hetu with a real date and a right check character."""
    try:
        stdnum_hetu.validate(code, allow_temporary=True)
    except ValidationError:
        return False
    return len(code) == 11


def check_character(digits9: str) -> str:
    """The check character for the nine digits DDMMYYNNN."""
    return CHECK_CHARS[int(digits9) % 31]


def mask(code: str | None) -> str | None:
    """``010594Y9032`` → ``010594Y***2``: enough for a clerk to recognise, not to identify."""
    if code is None:
        return None
    if len(code) != 11:
        return "***"
    return code[:7] + "***" + code[10]


def redact(text: str) -> str:
    """Mask everything in ``text`` shaped like a hetu, for log lines and file names."""
    return _LOOKS_LIKE.sub(lambda m: f"{m.group(1)}{m.group(2)}***{m.group(3)}", text)
