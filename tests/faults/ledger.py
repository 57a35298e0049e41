"""Where every input of a fault test is now, and the invariants that must hold at every instant.

An input is one thing dropped into the inbox: a loose scan or a job folder. After any crash it
must be somewhere: still in the inbox (claimed or not), in quarantine, or in a bundle (a note
in the outbox, scans under ``done/{bundle}/``, a readable zip, a registered case). Never in two
bundles, never both bundled and quarantined. Once everything has drained: exactly one case or
exactly one quarantine entry, and no local copy left.

The agent may prefix a name (a quarantine stamp, a claim token) and masks identity codes, so
a name found on disk is matched to the input whose name it ends with; fault tests use names
with no identity code in them.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from ingest.db import make_engine
from ingest.db.models import Case

QUARANTINE_REASON = ".reason.txt"
SOURCES_NOTE = ".sources.json"


@dataclass(frozen=True)
class Input:
    """One inbox drop: ``name`` at the inbox's top, ``documents`` the file names in it."""

    name: str
    documents: tuple[str, ...]
    bad: bool = False  # made to be refused: must end in quarantine


@dataclass
class Whereabouts:
    """Where each input (by name) was seen; see :func:`locate`."""

    inbox: set[str] = field(default_factory=set)
    quarantine: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    bundles: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    cases: defaultdict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    strays: list[str] = field(default_factory=list)  # seen but matching no input


class Ledger:
    """The inputs of one test run and the checks on where they are."""

    def __init__(self) -> None:
        self.inputs: dict[str, Input] = {}

    def add(self, item: Input) -> None:
        assert item.name not in self.inputs, f"input name {item.name} used twice"
        self.inputs[item.name] = item

    def match(self, found: str) -> str | None:
        """The input ``found`` (a name on disk or a document's source) stands for."""
        base = found.rsplit("/", 1)[-1]
        for item in self.inputs.values():
            if base == item.name or base.endswith("-" + item.name):
                return item.name
            if base in item.documents:
                return item.name
        return None

    def locate(self, var: Path, db_url: str | None) -> Whereabouts:
        """Look everywhere an input can be: inbox, quarantine, outbox, done/, the register."""
        seen = Whereabouts()
        for found in _inbox_names(var / "inbox"):
            if name := self._known(seen, found):
                seen.inbox.add(name)
        quarantine = var / "quarantine"
        for path in sorted(quarantine.iterdir()) if quarantine.is_dir() else []:
            if not path.name.endswith(QUARANTINE_REASON) and (
                    name := self._known(seen, path.name)):
                seen.quarantine[name] += 1
        bundled = [(b, found) for b, names in _outbox_sources(var / "outbox").items()
                   for found in names]
        done = var / "done"
        bundled += [(p.parent.name, p.name) for p in done.glob("*/*")] if done.is_dir() else []
        registered = [(b, found) for b, names in registered_sources(db_url).items()
                      for found in names]
        for bundle_id, found in bundled + registered:
            if name := self._known(seen, found):
                seen.bundles[name].add(bundle_id)
        for bundle_id, found in registered:
            if name := self._known(seen, found):
                seen.cases[name].add(bundle_id)
        return seen

    def _known(self, seen: Whereabouts, found: str) -> str | None:
        name = self.match(found)
        if name is None and found not in seen.strays:
            seen.strays.append(found)
        return name

    def assert_safe(self, seen: Whereabouts, when: str) -> None:
        """What must hold at any instant, right after a kill included."""
        problems = []
        for name in self.inputs:
            bundles = seen.bundles.get(name, set())
            quarantined = seen.quarantine.get(name, 0)
            if len(bundles) > 1:
                problems.append(f"{name} is in {len(bundles)} bundles {sorted(bundles)}")
            if bundles and quarantined:
                problems.append(f"{name} is both bundled and quarantined")
            if quarantined > 1:
                problems.append(f"{name} is in quarantine {quarantined} times")
            if not bundles and not quarantined and name not in seen.inbox:
                problems.append(f"{name} is lost: not in the inbox, a bundle or quarantine")
        for bundle_id in {b for bs in seen.cases.values() for b in bs}:
            owners = [n for n, bs in seen.bundles.items() if bundle_id in bs]
            if len(owners) > 1:
                problems.append(f"bundle {bundle_id} mixes inputs {owners}")
        if seen.strays:
            problems.append(f"names that match no input: {seen.strays}")
        assert not problems, f"{when}: " + "; ".join(problems)

    def assert_settled(self, seen: Whereabouts) -> None:
        """Once drained: each input in exactly one case or one quarantine entry, by design."""
        self.assert_safe(seen, "settled")
        problems = []
        for name, item in self.inputs.items():
            cases = seen.cases.get(name, set())
            quarantined = seen.quarantine.get(name, 0)
            if name in seen.inbox:
                problems.append(f"{name} is still in the inbox")
            elif item.bad and (cases or quarantined != 1):
                problems.append(f"bad input {name}: {len(cases)} cases, quarantined "
                                f"{quarantined} times (want quarantine once)")
            elif not item.bad and (len(cases) != 1 or quarantined):
                problems.append(f"{name}: {len(cases)} cases, quarantined {quarantined} times "
                                "(want one case)")
        assert not problems, "; ".join(problems)


def _inbox_names(inbox: Path) -> list[str]:
    """Top-level inbox entries and claimed ones (``.aspa-claimed/{token}/{name}``)."""
    if not inbox.is_dir():
        return []
    names = [p.name for p in inbox.iterdir() if not p.name.startswith(".")]
    names += [p.name for p in inbox.glob(".*/*/*")]
    return names


def _outbox_sources(outbox: Path) -> dict[str, set[str]]:
    """Bundle id → input names, from the sources notes and from readable (unsealed) zips."""
    found: dict[str, set[str]] = defaultdict(set)
    if not outbox.is_dir():
        return found
    for note in outbox.glob(f"*{SOURCES_NOTE}"):
        try:
            data = json.loads(note.read_text())
        except (OSError, ValueError):
            continue  # deleted or replaced while read: the next look sees it settled
        found[note.name.removesuffix(SOURCES_NOTE)].add(data["root"])
    for path in outbox.glob("*.zip"):
        if path.name.startswith("."):
            continue
        for source in _zip_sources(path):
            found[path.stem].add(source)
    return found


def _zip_sources(path: Path) -> list[str]:
    try:
        data = path.read_bytes()
        if not zipfile.is_zipfile(io.BytesIO(data)):
            return []  # sealed: the notes and done/ tell instead
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            manifest = json.loads(archive.read("manifest.json"))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile):
        return []
    return [doc["source"] for doc in manifest.get("documents", [])]


def registered_sources(db_url: str | None) -> dict[str, set[str]]:
    """Bundle id → document sources of every registered case (none before the tables exist)."""
    if db_url is None:
        return {}
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(select(Case.bundle_id, Case.manifest)).all()
    except Exception:  # the ingest has not created its tables yet
        return {}
    finally:
        engine.dispose()
    return {bundle_id: {d["source"] for d in manifest["documents"]}
            for bundle_id, manifest in rows}
