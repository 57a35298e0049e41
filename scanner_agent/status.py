"""``aspa-agent status``: what waits in the outbox and in quarantine, and for how long."""

from __future__ import annotations

import time
from typing import Any

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
    inbox = [p for p in paths.inbox.iterdir() if not p.name.startswith(".")] \
        if paths.inbox.is_dir() else []
    return {
        "outbox": {"count": len(bundles),
                   "oldest_age_s": _age(now, [b.created_at for b in bundles]),
                   "bundles": [{"bundle_id": b.bundle_id, "bytes": b.size,
                                "age_s": round(now - b.created_at, 1)} for b in bundles]},
        "quarantine": {"count": len(held),
                       "oldest_age_s": _age(now, [q.quarantined_at for q in held]),
                       "items": [{"name": q.path.name, "code": _code(q.reason)} for q in held]},
        "inbox": {"count": len(inbox),
                  "oldest_age_s": _age(now, [p.stat().st_mtime for p in inbox])},
        "delivery": delivery_status(config, now=now),
    }


def _age(now: float, times: list[float]) -> float | None:
    return round(now - min(times), 1) if times else None


def _code(reason: str) -> str:
    for line in reason.splitlines():
        if line.startswith("code: "):
            return line[len("code: "):]
    return "unknown"
