"""Files the agent keeps (in ``done/`` and ``quarantine/``) are stored under public names only.

A job folder's own name is made public by whoever moves it; this renames what is inside it, at
any depth, so no identity code, undecodable byte or control character survives in a stored
file name. Links are renamed, never followed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from aspa_contract.names import public_name

log = logging.getLogger(__name__)


def rename_inside(folder: Path) -> None:
    """Rename every entry below ``folder`` to its public name (deepest first)."""
    if not folder.is_dir() or folder.is_symlink():
        return
    for dirpath, dirnames, filenames in os.walk(folder, topdown=False):
        for name in filenames + dirnames:
            _rename(Path(dirpath), name)


def _rename(parent: Path, name: str) -> None:
    public = public_name(name)
    if public == name:
        return
    target = parent / public
    count = 1
    while os.path.lexists(target):  # two names that mask alike stay two files
        count += 1
        target = parent / public_name(f"{count}-{public}")
    try:
        os.rename(parent / name, target)
    except OSError as exc:  # the file is kept either way; only its name is left as it was
        log.error("cannot rename a stored file to %s (%s)", public_name(target), exc.strerror)
