"""``aspa-agent status``: what waits in the outbox and in quarantine, and for how long."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from aspa_contract.names import public_name
from scanner_agent import quarantine
from scanner_agent.config import AgentConfig
from scanner_agent.delivery import delivery_status
from scanner_agent.outbox import Outbox


def collect(config: AgentConfig, now: float | None = None) -> dict[str, Any]:
    """Counts and oldest ages (seconds) of the outbox, quarantine and inbox."""
    now = time.time() if now is None else now
    paths = config.paths
    bundles = Outbox(paths.outbox).items() if paths.outbox.is_dir() else []
    held = quarantine.items(paths.quarantine)
    inbox = _inbox_times(paths.inbox)
    return {
        "outbox": {"count": len(bundles),
                   "oldest_age_s": _age(now, [b.created_at for b in bundles]),
                   "bundles": [{"bundle_id": b.bundle_id, "bytes": b.size,
                                "age_s": round(now - b.created_at, 1)} for b in bundles]},
        "quarantine": {"count": len(held),
                       "oldest_age_s": _age(now, [q.quarantined_at for q in held]),
                       "items": [{"name": public_name(q.path), "code": _code(q.reason)}
                                 for q in held]},
        "inbox": {"count": len(inbox), "oldest_age_s": _age(now, inbox)},
        "delivery": delivery_status(config, now=now),
    }


def _inbox_times(inbox: Path) -> list[float]:
    # lstat: a link loop or a pipe in the inbox is counted as waiting, never followed or opened.
    if not inbox.is_dir():
        return []
    with os.scandir(inbox) as entries:
        return [e.stat(follow_symlinks=False).st_mtime for e in entries
                if not e.name.startswith(".")]


def _age(now: float, times: list[float]) -> float | None:
    return round(now - min(times), 1) if times else None


def _code(reason: str) -> str:
    for line in reason.splitlines():
        if line.startswith("code: "):
            return line[len("code: "):]
    return "unknown"
