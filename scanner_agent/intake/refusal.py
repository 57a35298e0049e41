"""Inbox entries refused before a byte of them is read, with the reason the clerk will see.

* a link, named pipe, socket or device (at the top or anywhere inside a job folder): reading
  it could block the agent for ever or take files from outside the inbox, so the job goes to
  quarantine as it is — the link itself moves, never what it points to;
* a folder with more documents than one bundle may hold: refused at once, not after reading
  every page (reading 205 pages three times to fail at the manifest cost five minutes of OCR).
"""

from __future__ import annotations

from aspa_contract import load_schema
from aspa_contract.names import public_name
from scanner_agent.errors import InputRejected, RejectCode
from scanner_agent.intake.entries import EntrySnapshot

# The bundle schema's own limit: a bigger job could never become a valid manifest.
MAX_DOCUMENTS: int = load_schema()["properties"]["documents"]["maxItems"]
_NAMED = 3  # strange entries named in the detail; the rest are counted


def refusal(snap: EntrySnapshot) -> InputRejected | None:
    """Why ``snap`` must go to quarantine unread, or None when it may be read."""
    if snap.strange:
        named = [f"{public_name(s.path)} ({s.kind})" for s in snap.strange[:_NAMED]]
        more = len(snap.strange) - _NAMED
        detail = ", ".join(named) + (f" and {more} more" if more > 0 else "")
        return InputRejected(RejectCode.NOT_A_REGULAR_FILE, detail)
    if len(snap.documents) > MAX_DOCUMENTS:
        return InputRejected(RejectCode.TOO_MANY_DOCUMENTS,
                             f"{len(snap.documents)} documents, at most {MAX_DOCUMENTS} per bundle")
    return None
