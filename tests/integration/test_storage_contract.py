"""The storage contract: the file backend (on tmp_path) and the S3 backend (a real moto server
process) must behave the same. Backend-specific guarantees (checksums, SSE-KMS, outages, temp
files) follow the shared contract."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aspa_contract.storage import (
    ChecksumMismatch,
    InvalidKey,
    ObjectNotFound,
    Storage,
    StorageConfigError,
    StorageSettings,
    StorageUnavailable,
    open_storage,
)
from tests.s3server import MotoServer, S3Bucket, create_bucket

pytestmark = pytest.mark.integration

BAD_KEYS = ["../escape", "a/../../escape", "/etc/passwd", "a\\b", "a//b", "a/", "", ".hidden",
            "a/./b"]
# "Near now" only guards against a wrong clock or time zone, not speed.
CLOCK_SLACK = timedelta(minutes=5)


@dataclass
class Backend:
    """How to open one store under test, and (file backend) where it lives."""

    kind: str
    url: str
    settings: StorageSettings | None
    root: Path | None = None

    def open(self, **overrides: object) -> Storage:
        """The store, with ``StorageSettings`` overrides (ignored by the file backend)."""
        settings = self.settings.model_copy(update=overrides) if self.settings else None
        return open_storage(self.url, settings)


@pytest.fixture(params=["file", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """Each contract test runs on both backends."""
    if request.param == "file":
        root = tmp_path / "store"
        root.mkdir()
        return Backend("file", root.as_uri(), None, root)
    bucket: S3Bucket = request.getfixturevalue("s3_bucket")
    return Backend("s3", bucket.url, bucket.settings)


@pytest.fixture
def store(backend: Backend) -> Storage:
    return backend.open()


# --- the shared contract -------------------------------------------------------------------

def test_put_new_writes_once_and_a_retry_changes_nothing(store: Storage) -> None:
    """GIVEN an empty store WHEN the same key is put_new twice with different bytes
    THEN the first returns True, the retry False, and the first bytes stay."""
    key = "incoming/hki-kallio/01J0000000000000000000000A.zip"
    assert store.put_new(key, b"first") is True
    assert store.put_new(key, b"second") is False
    assert store.get(key) == b"first"


def test_put_new_racing_writers_have_exactly_one_winner(store: Storage) -> None:
    """GIVEN eight writers WHEN they put_new one key at once THEN exactly one wins and the
    stored bytes are the winner's, whole."""
    key = "receipts/p/race.json"
    payloads = [bytes([n]) * 50_000 for n in range(8)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda data: store.put_new(key, data), payloads))
    assert results.count(True) == 1
    assert store.get(key) == payloads[results.index(True)]


def test_put_new_with_matching_sha256_is_stored(store: Storage) -> None:
    data = b"zip bytes"
    assert store.put_new("a/b.zip", data, sha256_hex=hashlib.sha256(data).hexdigest())
    assert store.get("a/b.zip") == data


def test_put_new_with_wrong_sha256_stores_nothing(store: Storage) -> None:
    """GIVEN bytes that changed after they were hashed WHEN put_new THEN ChecksumMismatch and
    no object."""
    with pytest.raises(ChecksumMismatch):
        store.put_new("a/b.zip", b"changed", sha256_hex=hashlib.sha256(b"orig").hexdigest())
    assert store.head("a/b.zip") is None


def test_put_replaces_an_existing_object(store: Storage) -> None:
    store.put("quarantine/p/x.reason.json", b"old")
    store.put("quarantine/p/x.reason.json", b"new")
    assert store.get("quarantine/p/x.reason.json") == b"new"


def test_missing_object_get_raises_and_head_is_none(store: Storage) -> None:
    with pytest.raises(ObjectNotFound) as caught:
        store.get("receipts/p/none.json")
    assert caught.value.key == "receipts/p/none.json"
    assert store.head("receipts/p/none.json") is None


def test_head_reports_size_and_the_store_clock_in_utc(store: Storage) -> None:
    before = datetime.now(UTC)
    store.put_new("incoming/p/h.zip", b"12345")
    info = store.head("incoming/p/h.zip")
    assert info is not None
    assert (info.key, info.size) == ("incoming/p/h.zip", 5)
    assert info.last_modified.utcoffset() == timedelta(0)
    assert before - CLOCK_SLACK <= info.last_modified <= datetime.now(UTC) + CLOCK_SLACK


def test_list_pages_through_every_key_under_a_prefix_in_key_order(backend: Backend) -> None:
    """GIVEN 25 keys under one point and neighbours under similar prefixes, a page size of 10
    WHEN listing THEN all 25, only those, sorted, with sizes."""
    store = backend.open(list_page_size=10)
    wanted = [f"incoming/p1/{n:04d}.zip" for n in reversed(range(25))]
    for key in [*wanted, "incoming/p10/x.zip", "incoming/p2/y.zip", "other/z.zip"]:
        store.put_new(key, key.encode())
    listed = list(store.list("incoming/p1/"))
    assert [i.key for i in listed] == sorted(wanted)
    assert all(i.size == len(i.key) for i in listed)
    assert [i.key for i in store.list("incoming/p1")] == [*sorted(wanted), "incoming/p10/x.zip"]
    assert len(list(store.list())) == 28
    assert list(store.list("nothing/")) == []


def test_list_orders_by_utf8_bytes_across_folders(store: Storage) -> None:
    """'-' < '/' < '0' in bytes: a file backend sorting folder by folder would get this wrong."""
    for key in ["s/a0", "s/a/b", "s/a-c"]:
        store.put(key, b"x")
    assert [i.key for i in store.list("s/")] == ["s/a-c", "s/a/b", "s/a0"]


def test_copy_duplicates_and_replaces_the_target(store: Storage) -> None:
    store.put_new("incoming/p/c.zip", b"bundle")
    store.put("archive/p/c.zip", b"stale")
    store.copy("incoming/p/c.zip", "archive/p/c.zip")
    assert store.get("archive/p/c.zip") == b"bundle"
    assert store.get("incoming/p/c.zip") == b"bundle"


def test_copy_of_a_missing_source_raises_not_found(store: Storage) -> None:
    with pytest.raises(ObjectNotFound):
        store.copy("incoming/p/none.zip", "archive/p/none.zip")
    assert store.head("archive/p/none.zip") is None


def test_delete_is_idempotent(store: Storage) -> None:
    store.put_new("incoming/p/d.zip", b"x")
    store.delete("incoming/p/d.zip")
    store.delete("incoming/p/d.zip")
    store.delete("never/was.zip")
    assert store.head("incoming/p/d.zip") is None
    assert list(store.list("incoming/")) == []


@pytest.mark.parametrize("key", BAD_KEYS)
def test_keys_that_could_escape_or_differ_between_backends_are_refused(
        store: Storage, key: str) -> None:
    """Every operation refuses the key before touching the store."""
    calls: list[Callable[[], object]] = [
        lambda: store.put_new(key, b"x"), lambda: store.put(key, b"x"),
        lambda: store.get(key), lambda: store.head(key), lambda: store.delete(key),
        lambda: store.copy("ok", key), lambda: store.copy(key, "ok"),
    ]
    for call in calls:
        with pytest.raises(InvalidKey):
            call()
    with pytest.raises(InvalidKey):
        store.list("../")


def test_check_passes_on_a_usable_store(store: Storage) -> None:
    store.check()


def test_url_is_canonical_and_reopens_the_same_store(backend: Backend, store: Storage) -> None:
    store.put_new("k/v", b"1")
    again = open_storage(store.url, backend.settings)
    assert again.url == store.url
    assert again.get("k/v") == b"1"


# --- metadata (sealed bundles keep their key ids and signature there) ------------------------

SEAL_META = {"aspa-seal": "aspa-seal/1", "aspa-signer": "0123456789abcdef",
             "aspa-signature": "c2lnbmF0dXJl+/=="}


def test_metadata_written_with_an_object_is_read_back_with_it(store: Storage) -> None:
    """GIVEN an object created with metadata WHEN it is read THEN the bytes and every name and
    value come back as written; an object written without metadata has none."""
    key = "incoming/hki-kallio/01J0000000000000000000000M.zip"
    assert store.put_new(key, b"sealed", metadata=SEAL_META) is True
    read = store.get_object(key)
    assert (read.data, dict(read.metadata)) == (b"sealed", SEAL_META)
    store.put("plain", b"x")
    assert dict(store.get_object("plain").metadata) == {}
    with pytest.raises(ObjectNotFound):
        store.get_object("missing")


def test_a_retry_with_other_metadata_leaves_the_first_objects_metadata(store: Storage) -> None:
    """GIVEN an object created with metadata WHEN put_new is retried on its key with other
    bytes and metadata THEN it returns False and the first bytes and metadata stay."""
    key = "incoming/hki-kallio/01J0000000000000000000000N.zip"
    assert store.put_new(key, b"first", metadata=SEAL_META)
    assert store.put_new(key, b"second", metadata={"aspa-signer": "fedcba9876543210"}) is False
    read = store.get_object(key)
    assert (read.data, dict(read.metadata)) == (b"first", SEAL_META)


def test_copy_carries_the_metadata_and_put_replaces_it(store: Storage) -> None:
    """GIVEN an object with metadata WHEN it is copied (archive, quarantine) THEN the copy has
    the same metadata; WHEN the copy is then replaced by put THEN only the new metadata is
    there; WHEN deleted THEN nothing of it is listed or readable."""
    store.put_new("incoming/p/a.zip", b"sealed", metadata=SEAL_META)
    store.copy("incoming/p/a.zip", "archive/p/a.zip")
    assert dict(store.get_object("archive/p/a.zip").metadata) == SEAL_META
    store.put("archive/p/a.zip", b"other", metadata={"aspa-seal": "x"})
    assert dict(store.get_object("archive/p/a.zip").metadata) == {"aspa-seal": "x"}
    store.put("archive/p/a.zip", b"plain")
    assert dict(store.get_object("archive/p/a.zip").metadata) == {}
    store.delete("archive/p/a.zip")
    assert [info.key for info in store.list("")] == ["incoming/p/a.zip"]


@pytest.mark.parametrize("metadata", [{"Upper": "x"}, {"aspa_seal": "x"}, {"a": "ä"},
                                      {"a": "line\nbreak"}, {"a": "x" * 2100}])
def test_metadata_one_backend_would_change_is_refused_before_writing(
        store: Storage, metadata: dict[str, str]) -> None:
    """Metadata S3 would lower-case, reject or cut is refused on both backends, and nothing
    is written."""
    with pytest.raises(ValueError):
        store.put_new("k", b"x", metadata=metadata)
    assert store.head("k") is None


# --- S3 only ----------------------------------------------------------------------------------

@pytest.fixture
def s3_store(s3_bucket: S3Bucket) -> Storage:
    return open_storage(s3_bucket.url, s3_bucket.settings)


def _sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _attributes(server: MotoServer, bucket: S3Bucket, key: str) -> dict[str, object]:
    response: dict[str, object] = server.client("s3").get_object_attributes(
        Bucket=bucket.name, Key=f"{bucket.prefix}/{key}", ObjectAttributes=["Checksum"])
    return response


def test_s3_writes_carry_a_sha256_checksum(moto_server: MotoServer, s3_bucket: S3Bucket,
                                          s3_store: Storage) -> None:
    """put_new (computed or given SHA-256), put and copy all leave ChecksumSHA256 on the object,
    under the URL's prefix."""
    data = b"bundle bytes"
    s3_store.put_new("incoming/p/a.zip", data)
    s3_store.put_new("incoming/p/b.zip", data, sha256_hex=hashlib.sha256(data).hexdigest())
    s3_store.put("quarantine/p/c.json", data)
    s3_store.copy("incoming/p/a.zip", "archive/p/a.zip")
    for key in ["incoming/p/a.zip", "incoming/p/b.zip", "quarantine/p/c.json", "archive/p/a.zip"]:
        checksum = _attributes(moto_server, s3_bucket, key).get("Checksum")
        assert checksum == {"ChecksumSHA256": _sha256_b64(data)}, key


def test_s3_sse_kms_applies_to_every_write(moto_server: MotoServer, s3_bucket: S3Bucket) -> None:
    """GIVEN a KMS key in the settings WHEN put_new, put and copy THEN each object is SSE-KMS
    encrypted with that key."""
    key_id = moto_server.client("kms").create_key()["KeyMetadata"]["KeyId"]
    store = open_storage(s3_bucket.url, s3_bucket.settings.model_copy(
        update={"sse_kms_key_id": key_id}))
    store.put_new("incoming/p/k.zip", b"x")
    store.put("quarantine/p/k.json", b"y")
    store.copy("incoming/p/k.zip", "archive/p/k.zip")
    s3 = moto_server.client("s3")
    for key in ["incoming/p/k.zip", "quarantine/p/k.json", "archive/p/k.zip"]:
        head = s3.head_object(Bucket=s3_bucket.name, Key=f"{s3_bucket.prefix}/{key}")
        assert head["ServerSideEncryption"] == "aws:kms", key
        assert key_id in head["SSEKMSKeyId"], key
    assert store.get("archive/p/k.zip") == b"x"


def test_s3_stores_under_the_url_prefix_only(moto_server: MotoServer,
                                             s3_bucket: S3Bucket) -> None:
    """Two prefixes in one bucket are two separate stores."""
    one = open_storage(f"s3://{s3_bucket.name}/one", s3_bucket.settings)
    two = open_storage(f"s3://{s3_bucket.name}/one-two", s3_bucket.settings)
    one.put_new("k", b"1")
    two.put_new("k", b"2")
    assert [i.key for i in one.list()] == ["k"]
    assert one.get("k") == b"1"
    raw = moto_server.client("s3").list_objects_v2(Bucket=s3_bucket.name)["Contents"]
    assert sorted(o["Key"] for o in raw) == ["one-two/k", "one/k"]


def test_s3_listing_skips_folder_markers(moto_server: MotoServer, s3_bucket: S3Bucket,
                                         s3_store: Storage) -> None:
    """A console-made 'folder' (an empty key ending in '/') is not an object of the store."""
    moto_server.client("s3").put_object(Bucket=s3_bucket.name,
                                        Key=f"{s3_bucket.prefix}/incoming/", Body=b"")
    s3_store.put_new("incoming/p/real.zip", b"x")
    assert [i.key for i in s3_store.list("incoming/")] == ["incoming/p/real.zip"]


@pytest.mark.timeout(60)
def test_s3_unreachable_endpoint_raises_storage_unavailable(moto_server: MotoServer) -> None:
    """GIVEN an endpoint nobody listens on, two attempts WHEN any operation THEN
    StorageUnavailable (transient: the caller backs off), not a raw botocore error."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    store = open_storage("s3://aspa-nowhere/x", moto_server.settings(
        endpoint_url=dead, connect_timeout=1.0, read_timeout=1.0))
    calls: list[Callable[[], object]] = [
        store.check, lambda: store.put_new("k", b"x"), lambda: store.get("k"),
        lambda: store.head("k"), lambda: list(store.list()), lambda: store.delete("k"),
    ]
    for call in calls:
        with pytest.raises(StorageUnavailable):
            call()


@pytest.mark.timeout(120)
def test_s3_outage_then_recovery(moto_server: MotoServer, s3_bucket: S3Bucket,
                                 s3_store: Storage) -> None:
    """GIVEN a working store WHEN the server stops THEN StorageUnavailable; WHEN it is back
    (empty, bucket recreated) THEN writes succeed again."""
    s3_store.check()
    moto_server.stop()
    try:
        with pytest.raises(StorageUnavailable):
            s3_store.put_new("incoming/p/o.zip", b"x")
        with pytest.raises(StorageUnavailable):
            s3_store.check()
    finally:
        moto_server.start()
    create_bucket(moto_server, s3_bucket.name)
    assert s3_store.put_new("incoming/p/o.zip", b"x") is True


def test_s3_missing_bucket_is_a_config_error(moto_server: MotoServer) -> None:
    store = open_storage("s3://aspa-no-such-bucket/x", moto_server.settings())
    with pytest.raises(StorageConfigError, match="NoSuchBucket"):
        store.check()
    with pytest.raises(StorageConfigError):
        store.put_new("k", b"x")


def test_s3_unknown_profile_is_a_config_error(moto_server: MotoServer) -> None:
    with pytest.raises(StorageConfigError, match=r"storage\.profile"):
        open_storage("s3://aspa-any/x", moto_server.settings(profile="no-such-profile"))


# --- file only --------------------------------------------------------------------------------

def _all_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


FSIZE_LIMITED_PUT = textwrap.dedent("""
    import resource, signal, sys
    from aspa_contract.storage import StorageError, open_storage
    store = open_storage(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the kernel then fails write() with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (65536, resource.RLIM_INFINITY))
    try:
        store.put_new("incoming/p/big.zip", b"x" * 1_000_000)
    except StorageError as exc:
        print(type(exc).__name__)
""")


def test_file_failed_write_leaves_no_temp_file_and_no_object(tmp_path: Path) -> None:
    """GIVEN a process whose writes the kernel cuts off at 64 KiB WHEN put_new of 1 MB THEN
    StorageUnavailable, no object, and no temporary file left in the store."""
    root = tmp_path / "store"
    root.mkdir()
    result = subprocess.run([sys.executable, "-c", FSIZE_LIMITED_PUT, root.as_uri()],
                            capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "StorageUnavailable", result.stderr
    assert _all_files(root) == []


def test_file_missing_root_is_a_config_error_and_is_not_created(tmp_path: Path) -> None:
    """An unmounted share must not silently turn into a local folder."""
    root = tmp_path / "not-mounted"
    store = open_storage(root.as_uri())
    for call in [store.check, lambda: store.put_new("k", b"x"), lambda: list(store.list())]:
        with pytest.raises(StorageConfigError, match="does not exist"):
            call()
    assert not root.exists()


def test_file_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root, outside = tmp_path / "store", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret").write_bytes(b"s")
    (root / "link").symlink_to(outside)
    store = open_storage(root.as_uri())
    with pytest.raises(InvalidKey, match="outside"):
        store.put_new("link/new", b"x")
    with pytest.raises(InvalidKey, match="outside"):
        store.get("link/secret")
    assert _all_files(outside) == ["secret"]
    assert list(store.list()) == []


def test_file_listing_skips_hidden_and_temp_files(tmp_path: Path) -> None:
    root = tmp_path / "store"
    (root / "incoming" / "p").mkdir(parents=True)
    (root / "incoming" / "p" / ".tmp-0123abcd-b.zip").write_bytes(b"half")  # a write under way
    (root / "incoming" / ".DS_Store").write_bytes(b"junk")
    store = open_storage(root.as_uri())
    store.put_new("incoming/p/a.zip", b"x")
    assert [i.key for i in store.list()] == ["incoming/p/a.zip"]


def test_file_objects_are_readable_by_other_users_per_umask(tmp_path: Path) -> None:
    """The ingest may run as another user on a share: files follow the umask, not 0600."""
    root = tmp_path / "store"
    root.mkdir()
    old = os.umask(0o022)
    try:
        open_storage(root.as_uri()).put_new("k", b"x")
    finally:
        os.umask(old)
    assert (root / "k").stat().st_mode & 0o777 == 0o644


def test_file_metadata_sidecar_is_hidden_and_a_stale_one_is_ignored(tmp_path: Path) -> None:
    """GIVEN the file backend WHEN an object has metadata THEN it lives in a hidden sidecar
    that no listing shows; GIVEN a sidecar left by a writer that crashed before its object
    landed WHEN another object is created on that key without metadata THEN it reads as
    having none (the sidecar names another object's hash)."""
    store = open_storage((tmp_path).as_uri())
    store.put_new("incoming/p/a.zip", b"sealed", metadata=SEAL_META)
    assert sorted(p.name for p in (tmp_path / "incoming" / "p").iterdir()) == [
        ".a.zip.meta.json", "a.zip"]
    assert [info.key for info in store.list("")] == ["incoming/p/a.zip"]
    (tmp_path / "incoming" / "p" / "a.zip").unlink()  # as if the object had never landed
    assert store.put_new("incoming/p/a.zip", b"other") is True
    assert dict(store.get_object("incoming/p/a.zip").metadata) == {}
