"""Which names in the scan inbox are scans, which are junk to ignore, and their page order."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from pathlib import Path

ACCEPTED_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".pdf"})

# A scanner (or clerk) drops this into a sub-folder to say "all pages are here".
DONE_MARKER = ".done"

# OS droppings and half-written downloads: never a scan, never worth a quarantine entry.
_JUNK_FILE_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
_JUNK_FILE_PATTERNS = ("~$*", "*.tmp", "*.part", "*.crdownload")

# Names the agent itself may create inside the inbox. Everything the agent writes there starts
# with a dot (temp files, locks) and is junk anyway; these are its working folders, listed in
# case a site points the inbox at the agent's var dir, so they are never taken as a scan job.
RESERVED_NAMES = frozenset({"inbox", "outbox", "done", "quarantine", "work"})

_DIGITS = re.compile(r"(\d+)")


def is_junk_file(name: str) -> bool:
    """True for OS junk, temp files and dotfiles (the ``.done`` marker included: it is no page)."""
    lowered = name.lower()
    if lowered.startswith(".") or lowered in _JUNK_FILE_NAMES:
        return True
    return any(fnmatchcase(lowered, pattern) for pattern in _JUNK_FILE_PATTERNS)


def is_junk_dir(name: str) -> bool:
    """True for hidden and NAS metadata folders (``.git``, ``@eaDir``, ``.AppleDouble``)."""
    return name.startswith((".", "@"))


def is_ignored_entry(name: str, is_dir: bool) -> bool:
    """True for a top-level inbox entry that is never a job: junk or one of the agent's own."""
    if name.lower() in RESERVED_NAMES:
        return True
    return is_junk_dir(name) if is_dir else is_junk_file(name)


def is_accepted(path: Path) -> bool:
    """True when the extension is one a scan comes in (case does not matter)."""
    return path.suffix.lower() in ACCEPTED_EXTENSIONS


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders ``page2`` before ``page10`` and ignores case.

    >>> sorted(["p10.png", "P2.png", "p1.png"], key=natural_key)
    ['p1.png', 'P2.png', 'p10.png']
    """
    # (0, number) sorts before (1, text) so the tuples never compare int with str.
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower())
                 for part in _DIGITS.split(text) if part)


def natural_path_key(relative: Path) -> tuple[tuple[tuple[int, int | str], ...], ...]:
    """Natural sort key of a path relative to its job folder, compared part by part."""
    return tuple(natural_key(part) for part in relative.parts)
