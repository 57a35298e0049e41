"""Quarantine stage: a rejected object is kept under ``quarantine/`` with its reason and an
exception record, and the caller then clears it from ``incoming/``.

Evidence is never overwritten: each copy's key carries a tag of the object's version (ETag,
size, store time), so two bundles rejected at one key are two copies and two records; copy and
reason are only written where nothing is. Every name in a key, reason or record is shown
through :func:`aspa_contract.names.public_name`: a key holding a hetu is kept and shown masked.

    quarantine/{point_id}/{bundle_id}~{tag}.zip          + ~{tag}.reason.json
    quarantine/_bad_key/{the key as shown, flat}~{tag}   + ~{tag}.reason.json

What earlier versions stored under raw names is renamed at worker start
(:func:`rename_leaked_names`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from aspa_contract.instants import utc_text
from aspa_contract.layout import parse_incoming_key
from aspa_contract.names import public_name
from aspa_contract.storage import ObjectInfo, ObjectNotFound, Storage
from aspa_contract.storage.keys import MAX_KEY_BYTES, is_valid_key
from ingest.db import record_exception
from ingest.db.models import BundleException
from ingest.errors import BundleRejected

INCOMING_PREFIX = "incoming/"
# Folder under quarantine/ for objects whose key names no point and bundle: "_" is not allowed
# in point ids, so it cannot collide with a real point's folder.
BAD_KEY_FOLDER = "_bad_key"
# Copies ``src`` to ``dst`` unless ``dst`` exists; False when ``src`` is gone.
Keep = Callable[[str, str], bool]


def shown_key(key: str) -> str:
    """``key`` as it may be logged, stored or shown: each segment through public_name
    (``incoming/p/311299-977R.zip`` → ``incoming/p/311299-***R.zip``), at most 1000 bytes."""
    shown = "/".join(public_name(segment) for segment in key.split("/"))
    return shown if len(shown.encode()) <= 1000 else public_name(key, 1000)


def version_tag(info: ObjectInfo) -> str:
    """16 hex digits naming this version of the object: another upload gets another tag."""
    version = f"{info.key}\0{info.etag or ''}\0{info.size}\0{utc_text(info.last_modified)}"
    return hashlib.sha256(version.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def bundle_id_of(key: str) -> str | None:
    """The bundle id ``key`` names, if it is ``incoming/{point_id}/{bundle_id}.zip``."""
    parsed = parse_incoming_key(key) if is_valid_key(key) else None
    return parsed[1] if parsed else None


def quarantine_keys(info: ObjectInfo) -> tuple[str, str]:
    """Where the object ``info`` is kept, and its reason: unique per object version."""
    parsed = parse_incoming_key(info.key) if is_valid_key(info.key) else None
    tag = version_tag(info)
    if parsed is not None:
        base = f"quarantine/{parsed[0]}/{parsed[1]}~{tag}"
        return base + ".zip", base + ".reason.json"
    base = f"quarantine/{BAD_KEY_FOLDER}/{_segment(info.key.removeprefix(INCOMING_PREFIX))}"
    return f"{base}~{tag}", f"{base}~{tag}.reason.json"


def _segment(name: str) -> str:
    """``name`` as one valid key segment: public_name escapes control characters with a
    backslash and keeps a leading dot, both of which the store refuses in a key."""
    shown = public_name(name, MAX_KEY_BYTES // 8).replace("\\", "%5C")
    return "%2E" + shown[1:] if shown.startswith(".") else shown


def quarantine(info: ObjectInfo, rejection: BundleRejected, store: Storage, engine: Engine,
               keep: Keep | None = None) -> str | None:
    """Keep the object ``info`` and its reason under quarantine/ and record the rejection;
    return the copy's key, or None when the object is gone (another worker took it).

    ``keep`` copies the object (default: through ``store``; objects whose keys the store
    refuses come with their own). Safe to repeat: nothing written is ever replaced.
    """
    target, reason_key = quarantine_keys(info)
    if not (keep or _keeper(store))(info.key, target):
        return None
    object_key = shown_key(info.key)
    reason = {"code": rejection.code.value, "reason": rejection.reason, "object_key": object_key,
              "received_at": utc_text(info.last_modified)}
    store.put_new(reason_key, (json.dumps(reason, ensure_ascii=False, indent=2) + "\n").encode())
    record_exception(engine, object_key=object_key, bundle_id=bundle_id_of(info.key),
                     code=rejection.code, reason=rejection.reason, quarantine_key=target)
    return target


def _keeper(store: Storage) -> Keep:
    def keep(src: str, dst: str) -> bool:
        if store.head(dst) is not None:
            return True  # an earlier attempt kept this very version
        try:
            store.copy(src, dst)
        except ObjectNotFound:
            return False
        return True

    return keep


def rename_leaked_names(store: Storage, engine: Engine) -> int:
    """Rename what earlier versions stored under raw names: exception records whose object or
    quarantine key shows more than :func:`shown_key` would, their quarantined copies and reason
    files. Return how many records were renamed. Run at worker start; idempotent, and safe in
    several workers at once (create-only copies, tolerant deletes, the same new values)."""
    with Session(engine) as session:
        leaked = [row for row in session.scalars(select(BundleException))
                  if _leaks(row.object_key) or _leaks(row.quarantine_key)]
        for row in leaked:
            if row.quarantine_key is not None:
                row.quarantine_key = _rename_copy(store, row.quarantine_key)
            row.object_key = shown_key(row.object_key)
        session.commit()
    return len(leaked)


def _leaks(key: str | None) -> bool:
    return key is not None and shown_key(key) != key


def _rename_copy(store: Storage, old: str) -> str:
    """Move the copy at ``old`` and its reason file to the shown key; return that key."""
    new = shown_key(old)
    if _keeper(store)(old, new):
        store.delete(old)
    old_reason, new_reason = (key.removesuffix(".zip") + ".reason.json" for key in (old, new))
    try:
        reason = json.loads(store.get(old_reason))
    except ObjectNotFound:
        return new
    reason["object_key"] = shown_key(str(reason.get("object_key", "")))
    store.put_new(new_reason, (json.dumps(reason, ensure_ascii=False, indent=2) + "\n").encode())
    store.delete(old_reason)
    return new
