"""Every kind of bad bundle through the real ingest worker: moto's S3 API with SQS event
notifications, and the case register on SQLite and on PostgreSQL.

GIVEN a running ingest worker
WHEN every kind of tests/badinput/bundles.py is uploaded at once (sealed as an agent seals)
THEN each ends in exactly one case (of the expected documents) or exactly one exception record
     with the expected code and a quarantine copy; nothing is left in incoming/ or the queue;
     a good bundle after them still becomes a case; a repeated or conflicting upload changes
     nothing registered; no identity code from a key is stored in an exception record.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyrage import x25519
from sqlalchemy import select

from aspa_contract.keys import Identity, SigningKey
from aspa_contract.layout import parse_incoming_key
from aspa_contract.sealing import META_SIGNATURE
from aspa_contract.storage import Storage, open_storage
from aspa_contract.storage.errors import InvalidKey
from ingest.db import list_cases, list_exceptions, make_engine
from ingest.db.models import Case
from ingest.db.queries import CaseView, ExceptionView
from ingest.settings import IngestConfig, SqsSettings
from tests.badinput.bundles import (
    BUNDLE_KINDS,
    KEY_HETU,
    OTHER_HETU,
    POINT,
    BundleKind,
    Registered,
    broken,
    refused,
)
from tests.bundles import point_signing_key, seal, tiny_pdf, valid_bundle
from tests.exchange import ingest_sealing, notify_queue, running_worker, trust_test_keys
from tests.postgres import ADMIN_URL, fresh_database
from tests.s3server import REGION, MotoServer, S3Bucket, create_bucket

pytestmark = pytest.mark.integration

DEADLINE_S = 120.0  # only a guard against a hung worker
OPEN_GRACE_S = 8.0  # how long kinds with an open bug get once the others are settled


@dataclass(frozen=True)
class Upload:
    """One object as it is put under incoming/: the kind, its key, bytes and seal metadata."""

    kind: BundleKind
    key: str
    data: bytes
    metadata: dict[str, str]

    @property
    def bundle_id(self) -> str | None:
        parsed = parse_incoming_key(self.key)
        return parsed[1] if parsed else None


Forge = Callable[[str, str, bytes], tuple[bytes, dict[str, str]]]


def sealed(point_id: str, bundle_id: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """``data`` sealed as the agent of ``point_id`` seals it."""
    made = seal(point_id, bundle_id, data)
    return made.data, made.metadata


def _stranger() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def _flip_last_byte(point_id: str, bundle_id: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    body, metadata = sealed(point_id, bundle_id, data)
    return body[:-1] + bytes([body[-1] ^ 1]), metadata


def _without_signature(point_id: str, bundle_id: str, data: bytes) -> tuple[
        bytes, dict[str, str]]:
    body, metadata = sealed(point_id, bundle_id, data)
    return body, {k: v for k, v in metadata.items() if k != META_SIGNATURE}


def _for_other_bundle(point_id: str, bundle_id: str, data: bytes) -> tuple[
        bytes, dict[str, str]]:
    other = bundle_id[:-1] + ("0" if bundle_id[-1] != "0" else "1")
    return sealed(point_id, other, data)


def _signed_by(signer: Callable[[], SigningKey]) -> Forge:
    def forge(point_id: str, bundle_id: str, data: bytes) -> tuple[bytes, dict[str, str]]:
        made = seal(point_id, bundle_id, data, signer=signer())
        return made.data, made.metadata
    return forge


def _to_recipient(point_id: str, bundle_id: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    other = Identity(x25519.Identity.generate())
    made = seal(point_id, bundle_id, data, recipient=other.recipient)
    return made.data, made.metadata


def _plain(point_id: str, bundle_id: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    return data, {}


# Seals that must not be trusted, each on an otherwise valid bundle.
SEAL_KINDS: dict[str, tuple[Forge, tuple[str, ...], str]] = {
    "x01": (_plain, ("not_sealed",), "a valid bundle uploaded unsealed"),
    "x02": (_without_signature, ("not_sealed",), "seal metadata without the signature"),
    "x03": (_signed_by(_stranger), ("unknown_key",), "signed by a key no point registered"),
    "x04": (_signed_by(lambda: point_signing_key("tku-keskusta")),
            ("unknown_key", "bad_signature"), "signed by another point's key"),
    "x05": (_flip_last_byte, ("bad_signature",), "ciphertext changed after signing"),
    "x06": (_for_other_bundle, ("bad_signature",), "a seal made for another bundle id"),
    "x07": (_to_recipient, ("unknown_key", "cannot_decrypt"), "encrypted to another key"),
}


def _seal_kinds() -> list[tuple[BundleKind, Forge]]:
    return [(BundleKind(id_, broken(lambda d: d), refused(*codes), why), forge)
            for id_, (forge, codes, why) in SEAL_KINDS.items()]


def _upload_of(kind: BundleKind, forge: Forge = sealed) -> Upload:
    key, data = kind.make()
    parsed = parse_incoming_key(key)
    point_id, bundle_id = parsed if parsed else (POINT, valid_bundle()[0])
    body, metadata = forge(point_id, bundle_id, data)
    return Upload(kind, key, body, metadata)


@cache
def _corpus() -> tuple[Upload, ...]:
    """Every kind made and sealed once: each database gets the same objects in its own bucket."""
    return (*(_upload_of(kind) for kind in BUNDLE_KINDS),
            *(_upload_of(kind, forge) for kind, forge in _seal_kinds()))


@dataclass
class IngestRun:
    """What the worker made of the whole corpus."""

    db: str
    db_url: str
    store: Storage
    uploads: dict[str, Upload]
    cases: list[CaseView] = field(default_factory=list)
    exceptions: list[ExceptionView] = field(default_factory=list)
    incoming_left: list[str] = field(default_factory=list)
    queued: int = 0
    specials: dict[str, object] = field(default_factory=dict)

    def cases_of(self, upload: Upload) -> list[CaseView]:
        return [c for c in self.cases if c.bundle_id == upload.bundle_id]

    def exceptions_of(self, upload: Upload) -> list[ExceptionView]:
        return [e for e in self.exceptions
                if e.object_key == upload.key or f"/{upload.kind.id}" in e.object_key
                or f"/.{upload.kind.id}" in e.object_key]


def _put(store: Storage, upload: Upload, raw: Callable[[Upload], object] | None = None) -> None:
    """Upload as an agent does; a key our own store refuses to write goes through the raw S3
    API, as anyone holding the bucket's credentials could write it."""
    try:
        assert store.put_new(upload.key, upload.data, metadata=upload.metadata or None)
    except InvalidKey:
        assert raw is not None
        raw(upload)


def _settled(run: IngestRun, engine_url: str, uploads: list[Upload]) -> list[Upload]:
    engine = make_engine(engine_url)
    try:
        run.cases = list_cases(engine, limit=10_000)
        run.exceptions = list_exceptions(engine, limit=10_000)
    finally:
        engine.dispose()
    left = {info.key for info in run.store.list("incoming/")}
    return [u for u in uploads if u.key not in left
            and (run.cases_of(u) or run.exceptions_of(u))]


def _wait(run: IngestRun, db_url: str, uploads: list[Upload]) -> None:
    start = time.monotonic()
    fixed = [u for u in uploads if not u.kind.open_issue]
    while len(_settled(run, db_url, fixed)) < len(fixed):
        if time.monotonic() - start > DEADLINE_S:
            return
        time.sleep(0.3)
    grace_end = time.monotonic() + OPEN_GRACE_S
    while len(_settled(run, db_url, uploads)) < len(uploads) and time.monotonic() < grace_end:
        time.sleep(0.3)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ingest_run(request: pytest.FixtureRequest, moto_server: MotoServer,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestRun]:
    root = tmp_path_factory.mktemp(f"badbundles-{request.param}")
    with ExitStack() as stack:
        db_url = (f"sqlite:///{root / 'ingest.db'}" if request.param == "sqlite"
                  else stack.enter_context(fresh_database(ADMIN_URL, "aspa_badinput")))
        config = _ingest_config(moto_server, db_url, root)
        store = open_storage(config.storage_url, config.storage)
        uploads = list(_corpus())
        run = IngestRun(request.param, db_url, store, {u.kind.id: u for u in uploads})
        stalling = [u for u in uploads if u.kind.stalls_worker and u.kind.open_issue]
        first = [u for u in uploads if u not in stalling]
        started = time.monotonic()
        with running_worker(config):
            raw = _raw_put(moto_server, config)
            for upload in first:
                _put(store, upload, raw)
            _wait(run, db_url, first)
            _specials(run, db_url)
            for upload in stalling:
                _put(store, upload, raw)
            _wait(run, db_url, stalling)
            _last_good(run, db_url)
            _wait_until(lambda: _queued(moto_server, config) == 0, timeout=20)
        print(f"ingest of the corpus on {request.param}: {time.monotonic() - started:.1f} s")
        run.incoming_left = [info.key for info in store.list("incoming/")]
        run.queued = _queued(moto_server, config)
        _settled(run, db_url, [])
        yield run


def _ingest_config(server: MotoServer, db_url: str, root: Path) -> IngestConfig:
    name = f"aspa-bad-{uuid.uuid4().hex[:12]}"
    create_bucket(server, name)
    bucket = S3Bucket(name, "exchange", server.settings())
    trust_test_keys(db_url)
    return IngestConfig(
        storage_url=bucket.url, storage=bucket.settings, db_url=db_url,
        queue_url=notify_queue(server, bucket, f"{name}-events"), reconcile_interval_s=5,
        sealing=ingest_sealing(root / "kela-keys"),
        sqs=SqsSettings(endpoint_url=server.endpoint_url, region=REGION, wait_time_s=1,
                        visibility_timeout_s=10))  # a failed message returns soon


def _raw_put(server: MotoServer, config: IngestConfig) -> Callable[[Upload], object]:
    bucket, _, prefix = config.storage_url.removeprefix("s3://").partition("/")

    def put(upload: Upload) -> object:
        return server.client("s3").put_object(Bucket=bucket, Key=f"{prefix}/{upload.key}",
                                              Body=upload.data, Metadata=upload.metadata)
    return put


def _queued(server: MotoServer, config: IngestConfig) -> int:
    attributes = server.client("sqs").get_queue_attributes(
        QueueUrl=config.queue_url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
    return sum(int(value) for value in attributes["Attributes"].values())


def _wait_until(condition: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.3)
    return True


def _specials(run: IngestRun, db_url: str) -> None:
    """After the corpus: two bad bundles in turn on one key, a repeated upload of a registered
    bundle, another bundle reusing a registered id, and a good bundle last."""
    bad_key = _upload_of(BundleKind("y01", broken(lambda d: tiny_pdf()), refused(), ""))
    second = Upload(bad_key.kind, bad_key.key, *sealed(
        POINT, bad_key.bundle_id or "", b"another bad bundle, not a zip"))
    _put(run.store, bad_key)
    assert _wait_until(lambda: run.store.head(bad_key.key) is None), "never handled"
    _put(run.store, second)
    assert _wait_until(lambda: run.store.head(second.key) is None), "never handled"
    run.specials["two_on_one_key"] = bad_key

    first = _upload_of(BundleKind("y02", broken(lambda d: d, documents=2), Registered(2), ""))
    _put(run.store, first)
    _wait(run, db_url, [first])
    assert _wait_until(lambda: run.store.head(first.key) is None), "never archived"
    _put(run.store, first)  # the agent missed the receipt and uploads again
    assert _wait_until(lambda: run.store.head(first.key) is None), "never handled"
    _, other = valid_bundle(POINT, documents=3, bundle_id=first.bundle_id)
    reuse = Upload(first.kind, first.key, *sealed(POINT, first.bundle_id or "", other))
    _put(run.store, reuse)
    assert _wait_until(lambda: run.store.head(reuse.key) is None), "never handled"
    run.specials["reused_id"] = reuse

    good = _upload_of(BundleKind("y98", broken(lambda d: d), Registered(1), "good"))
    _put(run.store, good)
    run.specials["good"] = good
    _wait(run, db_url, [good])


def _last_good(run: IngestRun, db_url: str) -> None:
    """A good bundle after the kinds that stall the worker while their bug is open."""
    good = _upload_of(BundleKind("y99", broken(lambda d: d), Registered(1), "good"))
    _put(run.store, good)
    run.specials["last_good"] = good
    _wait(run, db_url, [good])


def _param(kind: BundleKind) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=kind.open_issue)] if kind.open_issue else []
    return pytest.param(kind.id, id=f"{kind.id}-{kind.why[:40]}", marks=marks)


@pytest.mark.parametrize("kind_id", [_param(k) for k in BUNDLE_KINDS] + [
    pytest.param(id_, id=f"{id_}-{why[:40]}") for id_, (_, _, why) in SEAL_KINDS.items()])
def test_each_bad_bundle_ends_as_expected(ingest_run: IngestRun, kind_id: str) -> None:
    """GIVEN one kind of bundle among all the others THEN exactly its outcome, once."""
    upload = ingest_run.uploads[kind_id]
    cases, exceptions = ingest_run.cases_of(upload), ingest_run.exceptions_of(upload)
    assert upload.key not in ingest_run.incoming_left, "left in incoming/"
    if isinstance(upload.kind.expected, Registered):
        assert exceptions == [] and len(cases) == 1, (exceptions, cases)
        assert len(cases[0].documents) == upload.kind.expected.documents
        return
    assert len(exceptions) == 1, f"{len(exceptions)} exception records"
    assert cases == [], "a rejected bundle became a case"
    [record] = exceptions
    assert record.code in upload.kind.expected.codes, record
    assert record.quarantine_key is not None
    kept = ingest_run.store.head(record.quarantine_key)
    assert kept is not None, "no quarantine copy"
    reason = json.loads(ingest_run.store.get(
        record.quarantine_key.removesuffix(".zip") + ".reason.json"))
    assert reason["code"] == record.code


def test_a_good_bundle_after_all_of_them_becomes_a_case(ingest_run: IngestRun) -> None:
    good = ingest_run.specials["good"]
    assert isinstance(good, Upload)
    [case] = ingest_run.cases_of(good)
    assert case.status == "pending"


@pytest.mark.xfail(any(k.stalls_worker and k.open_issue for k in BUNDLE_KINDS), strict=True,
                   reason="issue 7: a bad key still holds up the worker")
def test_a_good_bundle_after_the_worst_ones_becomes_a_case(ingest_run: IngestRun) -> None:
    good = ingest_run.specials["last_good"]
    assert isinstance(good, Upload)
    assert len(ingest_run.cases_of(good)) == 1


def test_nothing_is_left_behind_or_registered_twice(ingest_run: IngestRun) -> None:
    """THEN incoming/ and the queue are empty (but for keys whose bug is open), every case is
    a bundle that should be one, and each registered bundle id is one case."""
    open_keys = {u.key for u in ingest_run.uploads.values() if u.kind.open_issue}
    assert set(ingest_run.incoming_left) <= open_keys
    expected = {u.bundle_id for u in ingest_run.uploads.values()
                if isinstance(u.kind.expected, Registered) or u.kind.open_issue}
    goods = {u.bundle_id for key, u in ingest_run.specials.items()
             if isinstance(u, Upload) and key in ("good", "last_good", "reused_id")}
    registered = [c.bundle_id for c in ingest_run.cases]
    assert len(registered) == len(set(registered))
    assert set(registered) <= expected | goods


def test_every_queue_message_is_acknowledged(ingest_run: IngestRun) -> None:
    """THEN no event is left in the queue: each key was handled, none retried for ever."""
    assert ingest_run.queued == 0


def test_a_repeated_upload_and_a_reused_id_change_nothing_registered(
        ingest_run: IngestRun) -> None:
    """GIVEN a registered bundle WHEN it is uploaded again, then another bundle with its id
    THEN it stays one case of its own documents; the other is refused as a conflict."""
    first = ingest_run.specials["reused_id"]
    assert isinstance(first, Upload)
    [case] = ingest_run.cases_of(first)
    assert len(case.documents) == 2
    conflicts = [e for e in ingest_run.exceptions if e.object_key == first.key]
    assert [e.code for e in conflicts] == ["bundle_id_mismatch"]


def test_two_bad_bundles_on_one_key_are_both_kept(ingest_run: IngestRun) -> None:
    """GIVEN two different rejected bundles uploaded in turn on one key THEN two exception
    records and two quarantine copies: the evidence of the first is not overwritten."""
    upload = ingest_run.specials["two_on_one_key"]
    assert isinstance(upload, Upload)
    records = [e for e in ingest_run.exceptions if e.object_key == upload.key]
    assert len(records) == 2
    kept = {r.quarantine_key for r in records}
    assert len(kept) == 2 and all(k and ingest_run.store.head(k) for k in kept)


def test_no_other_persons_identity_code_is_stored_from_a_manifest(
        ingest_run: IngestRun) -> None:
    """GIVEN bundles whose source names and visit reason carry another person's hetu
    THEN no registered manifest holds it (only the customer's own code, in its column)."""
    engine = make_engine(ingest_run.db_url)
    try:
        with engine.connect() as connection:
            manifests = [json.dumps(m) for m in connection.execute(select(Case.manifest))
                         .scalars()]
    finally:
        engine.dispose()
    assert manifests, "no case registered"
    assert not [m[:80] for m in manifests if OTHER_HETU in m]


def test_no_identity_code_from_a_key_is_stored(ingest_run: IngestRun) -> None:
    """GIVEN a key whose name is a hetu THEN neither its exception record nor the quarantine
    keys and reasons carry it."""
    stored = [json.dumps(e.to_json()) for e in ingest_run.exceptions]
    stored += [info.key for info in ingest_run.store.list("quarantine/")]
    assert not [s for s in stored if KEY_HETU in s]
