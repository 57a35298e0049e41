"""The delivery log: a durable record, per bundle, of where its delivery stands and every try.

One SQLite file (``var/delivery.db``, WAL) with two tables:

- ``bundles``: one row per bundle, kept after the receipt as the workstation's evidence
  (state ``queued`` → ``uploaded`` → ``receipted``, or ``flagged`` for a person to look at);
- ``attempts``: every upload try and receipt event, with time, outcome and error text.

The log never holds a hetu: error texts pass through :func:`aspa_contract.hetu.redact`.
A connection is opened per call, so the deliverer's thread and ``aspa-agent status`` can read
and write the same file safely.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from aspa_contract.hetu import redact

DB_NAME = "delivery.db"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bundles (
    bundle_id    TEXT PRIMARY KEY,
    point_id     TEXT,
    state        TEXT NOT NULL,
    queued_at    REAL NOT NULL,
    uploaded_at  REAL,
    receipted_at REAL,
    flagged_at   REAL,
    case_ref     TEXT,
    received_at  TEXT,
    arrival_date TEXT,
    last_error   TEXT
);
CREATE TABLE IF NOT EXISTS attempts (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    bundle_id TEXT NOT NULL REFERENCES bundles(bundle_id),
    at        REAL NOT NULL,
    outcome   TEXT NOT NULL,
    error     TEXT
);
CREATE INDEX IF NOT EXISTS attempts_by_bundle ON attempts(bundle_id);
"""


class State(StrEnum):
    """Where one bundle's delivery stands."""

    QUEUED = "queued"  # in the outbox, not yet known to be in the store
    UPLOADED = "uploaded"  # in the store; waiting for the ingest's receipt
    RECEIPTED = "receipted"  # receipt read, local copies deleted
    FLAGGED = "flagged"  # needs a person: no receipt in time, or the local zip is unusable


class Outcome(StrEnum):
    """What one attempt came to. Stable: reports and support scripts match on these."""

    UPLOADED = "uploaded"  # put_new wrote the object
    ALREADY_THERE = "already_there"  # put_new found it: an earlier try got through
    UNAVAILABLE = "unavailable"  # the store is down or failing: back off
    FAILED = "failed"  # the store refused (settings, permissions): back off, a person fixes
    UNUSABLE = "unusable"  # the local zip cannot be read: flagged, never uploaded
    RECEIPTED = "receipted"  # the receipt was read
    BAD_RECEIPT = "bad_receipt"  # a receipt object is there but not valid: kept waiting
    TIMED_OUT = "timed_out"  # no receipt within the timeout: flagged


@dataclass(frozen=True)
class BundleRow:
    """One bundle's row in the log."""

    bundle_id: str
    point_id: str | None
    state: State
    queued_at: float
    uploaded_at: float | None
    receipted_at: float | None
    flagged_at: float | None
    case_ref: str | None
    received_at: str | None
    arrival_date: str | None
    last_error: str | None
    attempts: int  # upload tries (not receipt events)


@dataclass(frozen=True)
class Receipt:
    """What the agent keeps of the ingest's receipt."""

    case_ref: str
    received_at: str  # UTC ISO 8601 with "Z", the store's clock
    arrival_date: str | None  # Europe/Helsinki date the case became pending


_UPLOAD_OUTCOMES = (Outcome.UPLOADED, Outcome.ALREADY_THERE, Outcome.UNAVAILABLE,
                    Outcome.FAILED, Outcome.UNUSABLE)


class DeliveryLog:
    """The SQLite file at ``path``; created with its tables on first use."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @classmethod
    def in_var(cls, var_dir: Path) -> DeliveryLog:
        """The agent's log, ``{var_dir}/delivery.db``."""
        return cls(var_dir / DB_NAME)

    def add(self, bundle_id: str, point_id: str | None, now: float) -> bool:
        """Start tracking ``bundle_id`` as queued; False if it is tracked already."""
        with self._connect() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO bundles (bundle_id, point_id, state, queued_at) "
                "VALUES (?, ?, ?, ?)", (bundle_id, point_id, State.QUEUED, now))
            return cursor.rowcount == 1

    def record_upload(self, bundle_id: str, outcome: Outcome, now: float,
                      error: str | None = None) -> None:
        """Note one upload try; a success moves the bundle to ``uploaded``."""
        with self._connect() as db:
            self._attempt(db, bundle_id, outcome, now, error)
            if outcome in (Outcome.UPLOADED, Outcome.ALREADY_THERE):
                db.execute("UPDATE bundles SET state = ?, uploaded_at = ?, last_error = NULL "
                           "WHERE bundle_id = ?", (State.UPLOADED, now, bundle_id))
            else:
                db.execute("UPDATE bundles SET last_error = ? WHERE bundle_id = ?",
                           (_clean(error), bundle_id))

    def record_receipt(self, bundle_id: str, receipt: Receipt, now: float) -> None:
        """The ingest confirmed ``bundle_id``: state ``receipted`` with its case reference."""
        with self._connect() as db:
            self._attempt(db, bundle_id, Outcome.RECEIPTED, now, None)
            db.execute("UPDATE bundles SET state = ?, receipted_at = ?, case_ref = ?, "
                       "received_at = ?, arrival_date = ?, last_error = NULL "
                       "WHERE bundle_id = ?",
                       (State.RECEIPTED, now, receipt.case_ref, receipt.received_at,
                        receipt.arrival_date, bundle_id))

    def record_bad_receipt(self, bundle_id: str, now: float, error: str) -> None:
        """A receipt object exists but cannot be trusted; the bundle keeps waiting."""
        with self._connect() as db:
            self._attempt(db, bundle_id, Outcome.BAD_RECEIPT, now, error)
            db.execute("UPDATE bundles SET last_error = ? WHERE bundle_id = ?",
                       (_clean(error), bundle_id))

    def flag(self, bundle_id: str, outcome: Outcome, now: float, error: str) -> None:
        """Hand ``bundle_id`` to a person: state ``flagged``; its files are kept."""
        with self._connect() as db:
            self._attempt(db, bundle_id, outcome, now, error)
            db.execute("UPDATE bundles SET state = ?, flagged_at = ?, last_error = ? "
                       "WHERE bundle_id = ?", (State.FLAGGED, now, _clean(error), bundle_id))

    def tracked(self, bundle_ids: list[str]) -> set[str]:
        """Those of ``bundle_ids`` that have a row."""
        found: set[str] = set()
        with self._connect() as db:
            for start in range(0, len(bundle_ids), 500):  # under SQLite's variable limit
                chunk = bundle_ids[start:start + 500]
                marks = ", ".join("?" for _ in chunk)
                found.update(r[0] for r in db.execute(
                    f"SELECT bundle_id FROM bundles WHERE bundle_id IN ({marks})", chunk))
        return found

    def get(self, bundle_id: str) -> BundleRow | None:
        """The row of ``bundle_id``, or None if it is not tracked."""
        rows = self._select("WHERE b.bundle_id = ?", (bundle_id,))
        return rows[0] if rows else None

    def rows(self, *states: State) -> list[BundleRow]:
        """Rows in ``states`` (all rows if none given), oldest bundle id first."""
        if not states:
            return self._select("", ())
        marks = ", ".join("?" for _ in states)
        return self._select(f"WHERE b.state IN ({marks})", tuple(states))

    def attempts(self, bundle_id: str) -> list[tuple[float, Outcome, str | None]]:
        """Every recorded event of ``bundle_id`` in order: (time, outcome, error)."""
        with self._connect() as db:
            found = db.execute("SELECT at, outcome, error FROM attempts WHERE bundle_id = ? "
                               "ORDER BY id", (bundle_id,)).fetchall()
        return [(at, Outcome(outcome), error) for at, outcome, error in found]

    def _select(self, where: str, args: tuple[object, ...]) -> list[BundleRow]:
        marks = ", ".join("?" for _ in _UPLOAD_OUTCOMES)
        query = (
            "SELECT b.bundle_id, b.point_id, b.state, b.queued_at, b.uploaded_at, "
            "b.receipted_at, b.flagged_at, b.case_ref, b.received_at, b.arrival_date, "
            "b.last_error, (SELECT COUNT(*) FROM attempts a WHERE a.bundle_id = b.bundle_id "
            f"AND a.outcome IN ({marks})) FROM bundles b {where} ORDER BY b.bundle_id")
        with self._connect() as db:
            found = db.execute(query, (*_UPLOAD_OUTCOMES, *args)).fetchall()
        return [BundleRow(r[0], r[1], State(r[2]), *r[3:]) for r in found]

    @staticmethod
    def _attempt(db: sqlite3.Connection, bundle_id: str, outcome: Outcome, now: float,
                 error: str | None) -> None:
        db.execute("INSERT INTO attempts (bundle_id, at, outcome, error) VALUES (?, ?, ?, ?)",
                   (bundle_id, now, outcome, _clean(error)))

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # One short-lived connection per call: safe across threads and processes; the
        # inner `with db` commits the call's statements as one transaction.
        with closing(sqlite3.connect(self.path, timeout=30.0)) as db, db:
            db.execute("PRAGMA synchronous=FULL")  # a recorded state survives a power cut
            yield db


def _clean(error: str | None) -> str | None:
    return None if error is None else redact(error)[:2000]
