"""Logging set-up: readable lines for a terminal, one JSON object per line for collectors.

Every message passes through :func:`aspa_contract.hetu.redact`, so a code that slips into a
log call is masked before it is written anywhere.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from aspa_contract.hetu import redact


class _RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(json_logs: bool = False, level: int = logging.INFO) -> None:
    """Send logs to stderr (stdout is for command results such as JSON summaries)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter() if json_logs else
                         _RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
