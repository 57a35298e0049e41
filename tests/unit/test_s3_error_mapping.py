"""How S3 answers map onto the storage errors. Answers come from botocore's Stubber on a real
client; the same paths run against a real server in tests/integration/test_storage_contract.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import Stubber

from aspa_contract.storage import (
    ObjectNotFound,
    S3Location,
    StorageConfigError,
    StorageError,
    StorageSettings,
    StorageUnavailable,
    open_storage,
)
from aspa_contract.storage.s3store import S3Storage


@pytest.fixture
def stubbed() -> Iterator[tuple[S3Storage, Stubber]]:
    client: Any = boto3.client(
        "s3", region_name="eu-north-1", aws_access_key_id="k", aws_secret_access_key="s",
        config=Config(retries={"mode": "standard", "max_attempts": 1}))
    store = S3Storage(S3Location("aspa-exchange", "prod"), StorageSettings(), client=client)
    with Stubber(client) as stubber:
        yield store, stubber
        stubber.assert_no_pending_responses()


def test_precondition_failed_on_put_new_means_already_there(
        stubbed: tuple[S3Storage, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("put_object", "PreconditionFailed", http_status_code=412)
    assert store.put_new("incoming/p/x.zip", b"x") is False


def test_put_new_sends_if_none_match_sha256_and_the_prefixed_key(
        stubbed: tuple[S3Storage, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_response("put_object", {}, {
        "Bucket": "aspa-exchange", "Key": "prod/incoming/p/x.zip", "Body": b"x",
        "IfNoneMatch": "*", "ChecksumAlgorithm": "SHA256"})
    assert store.put_new("incoming/p/x.zip", b"x") is True


@pytest.mark.parametrize(("code", "status"), [
    ("SlowDown", 503), ("InternalError", 500), ("ServiceUnavailable", 503),
    ("ConditionalRequestConflict", 409), ("RequestTimeout", 400), ("BadDigest", 400),
])
def test_transient_answers_raise_storage_unavailable(
        stubbed: tuple[S3Storage, Stubber], code: str, status: int) -> None:
    store, stubber = stubbed
    stubber.add_client_error("put_object", code, http_status_code=status)
    with pytest.raises(StorageUnavailable, match=code):
        store.put_new("incoming/p/x.zip", b"x")


@pytest.mark.parametrize(("code", "status"), [
    ("AccessDenied", 403), ("NoSuchBucket", 404), ("InvalidAccessKeyId", 403),
    ("SignatureDoesNotMatch", 403), ("KMS.NotFoundException", 400), ("PermanentRedirect", 301),
])
def test_answers_that_waiting_will_not_fix_raise_config_errors(
        stubbed: tuple[S3Storage, Stubber], code: str, status: int) -> None:
    store, stubber = stubbed
    stubber.add_client_error("put_object", code, http_status_code=status)
    with pytest.raises(StorageConfigError, match="check the bucket name"):
        store.put("incoming/p/x.zip", b"x")


def test_an_unexpected_refusal_is_a_plain_storage_error(
        stubbed: tuple[S3Storage, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("put_object", "InvalidArgument", http_status_code=400)
    with pytest.raises(StorageError, match="InvalidArgument") as caught:
        store.put("incoming/p/x.zip", b"x")
    assert not isinstance(caught.value, StorageUnavailable | StorageConfigError)


def test_no_such_key_on_get_and_copy_is_object_not_found(
        stubbed: tuple[S3Storage, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("get_object", "NoSuchKey", http_status_code=404)
    stubber.add_client_error("copy_object", "NoSuchKey", http_status_code=404)
    with pytest.raises(ObjectNotFound):
        store.get("receipts/p/x.json")
    with pytest.raises(ObjectNotFound) as caught:
        store.copy("incoming/p/x.zip", "archive/p/x.zip")
    assert caught.value.key == "incoming/p/x.zip"


def test_head_of_a_missing_key_is_none_but_forbidden_is_an_error(
        stubbed: tuple[S3Storage, Stubber]) -> None:
    store, stubber = stubbed
    stubber.add_client_error("head_object", "404", http_status_code=404)
    stubber.add_client_error("head_object", "403", http_status_code=403)
    assert store.head("receipts/p/x.json") is None
    with pytest.raises(StorageConfigError):
        store.head("receipts/p/x.json")


def test_missing_credentials_are_a_config_error_before_any_network(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """GIVEN no credentials anywhere WHEN check() THEN StorageConfigError naming credentials
    (signing fails before a connection is tried, so the dead endpoint is never reached)."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = open_storage("s3://aspa-exchange/p", StorageSettings(
        endpoint_url="http://127.0.0.1:9", region="eu-north-1", max_attempts=1))
    with pytest.raises(StorageConfigError, match="check credentials"):
        store.check()
