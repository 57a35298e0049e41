"""Decide when an inbox entry is ready: quiet long enough, and decodable or given up on.

Rules (times count from the last change of the entry's size/mtime signature):

* loose file: ready after ``quiet_s`` when ``probe`` says it decodes; a file that is empty, has an
  unaccepted extension or does not decode is handed over anyway after ``quiet_s +
  undecodable_grace_s`` so the pipeline can quarantine it with a reason — a file still being
  written waits, a truly broken one is not stuck forever;
* sub-folder: ready at once when it holds a ``.done`` marker; otherwise after ``folder_quiet_s``
  when every accepted file decodes, or after ``folder_quiet_s + undecodable_grace_s`` (also
  when it holds no accepted file at all);
* an entry refused unread (a link, a pipe, too many documents: see
  :mod:`scanner_agent.intake.refusal`) is ready once quiet, without probing anything in it.

An entry is handed over once; it is armed again only when its signature changes or it is
forgotten. The clock is injected so tests need not sleep.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aspa_contract.names import public_name
from scanner_agent.config import IntakeSettings
from scanner_agent.intake.entries import EntrySnapshot, Signature, open_regular
from scanner_agent.intake.junk import is_accepted
from scanner_agent.intake.refusal import refusal

log = logging.getLogger(__name__)

Probe = Callable[[Path], bool]


@dataclass
class _Track:
    signature: Signature
    since: float  # clock reading when this signature was first seen
    handed: bool = False
    decodes: dict[Path, bool] = field(default_factory=dict)  # probe results for this signature


class ReadinessTracker:
    """Remembers each entry's last signature and says when it has become ready."""

    def __init__(self, settings: IntakeSettings, probe: Probe, clock: Callable[[], float]) -> None:
        self._settings = settings
        self._probe = probe
        self._clock = clock
        self._tracks: dict[str, _Track] = {}

    def observe(self, snap: EntrySnapshot) -> bool:
        """True exactly once per signature: when ``snap`` has become ready to hand over."""
        now = self._clock()
        track = self._tracks.get(snap.name)
        if track is None or track.signature != snap.signature:
            track = self._tracks[snap.name] = _Track(snap.signature, now)
        if track.handed:
            return False
        track.handed = self._ready(snap, now - track.since, track)
        return track.handed

    def forget(self, name: str) -> None:
        """Drop what is known about ``name`` (it was moved away, or vanished)."""
        self._tracks.pop(name, None)

    def waiting(self) -> list[str]:
        """Names seen but not yet handed over."""
        return [name for name, track in self._tracks.items() if not track.handed]

    def known(self) -> list[str]:
        """Every name tracked, handed over or not."""
        return list(self._tracks)

    def _ready(self, snap: EntrySnapshot, quiet_for: float, track: _Track) -> bool:
        if snap.is_dir and snap.has_marker:
            return True
        quiet = self._settings.folder_quiet_s if snap.is_dir else self._settings.quiet_s
        if quiet_for < quiet:
            return False
        if refusal(snap) is not None:
            return True
        if not snap.empty and all(self._decodes(doc, track) for doc in snap.documents):
            return True
        if quiet_for >= quiet + self._settings.undecodable_grace_s:
            log.warning("inbox entry %s is empty or does not decode; handing it over for "
                        "quarantine", public_name(snap.name))
            return True
        return False

    def _decodes(self, document: Path, track: _Track) -> bool:
        if document not in track.decodes:
            track.decodes[document] = is_accepted(document) and self._safe_probe(document)
        return track.decodes[document]

    def _safe_probe(self, document: Path) -> bool:
        # A probe that crashes on a hostile file must not stop the watcher: count it as "does
        # not decode" and let the grace period hand the file to the pipeline's quarantine.
        try:
            with open_regular(document):  # swapped for a pipe since the snapshot: never probed
                pass
            return bool(self._probe(document))
        except Exception:
            log.exception("probe failed on %s", public_name(document))
            return False
