"""Quarantine: inputs that cannot become a bundle, kept with a reason a clerk can read.

``quarantine/{utc-stamp}-{name}`` is the input as it was (file, folder, or a link itself —
never what it points to), and ``quarantine/{utc-stamp}-{name}.reason.txt`` says why in Finnish,
Swedish and English. ``{name}`` is the input's name through
:func:`aspa_contract.names.public_name`: no identity code, always valid UTF-8, short enough to
be a file name whatever the scanner wrote. Nothing here is ever deleted by the agent.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aspa_contract.durable import fsync_dir, write_atomic
from aspa_contract.names import public_name
from scanner_agent.errors import InputRejected
from scanner_agent.stored_names import rename_inside

REASON_SUFFIX = ".reason.txt"


@dataclass(frozen=True)
class QuarantineItem:
    path: Path
    reason: str
    quarantined_at: float  # epoch seconds


def quarantine(item: Path, error: InputRejected, folder: Path,
               now: datetime | None = None) -> Path:
    """Move ``item`` into ``folder`` next to its reason file; returns the new path."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / f"{stamp}-{public_name(item)}"
    # Reason first: a crash in between leaves a reason with no item, never an unexplained item.
    write_atomic(target.with_name(target.name + REASON_SUFFIX),
                 _reason(item, error).encode("utf-8", errors="backslashreplace"))
    os.replace(item, target)
    rename_inside(target)
    fsync_dir(item.parent)
    fsync_dir(folder)
    return target


def items(folder: Path) -> list[QuarantineItem]:
    """What is in quarantine, oldest first; reasons without their item are tidied away."""
    found: list[QuarantineItem] = []
    if not folder.is_dir():
        return found
    for reason_path in sorted(folder.glob(f"*{REASON_SUFFIX}")):
        item = reason_path.with_name(reason_path.name[: -len(REASON_SUFFIX)])
        if not os.path.lexists(item):  # a quarantined link counts, even one that leads nowhere
            reason_path.unlink()  # the move never happened: the input is still in the inbox
            continue
        found.append(QuarantineItem(item, reason_path.read_text(encoding="utf-8"),
                                    reason_path.stat().st_mtime))
    return found


def _reason(name: Path, error: InputRejected) -> str:
    return f"{public_name(name)}\n\n{error.reason_text()}"
