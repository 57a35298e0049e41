"""One place for endpoint, region and addressing: the store's settings feed S3, SQS and the
checks; and what a failure at start means (fix the settings, or wait)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from urllib3.exceptions import NameResolutionError, NewConnectionError

from aspa_contract.storage import StorageConfigError, StorageSettings, StorageUnavailable
from aspa_contract.storage.endpoints import queue_endpoint, queue_region, s3_addressing_style
from aspa_contract.storage.queue import queue_failure
from aspa_contract.storage.s3store import is_transient, make_client
from ingest.settings import IngestConfig, IngestConfigError, load_ingest_config

MOTO = "http://127.0.0.1:5000"
MOTO_QUEUE = f"{MOTO}/123456789012/aspa-events"
AWS_QUEUE = "https://sqs.eu-west-1.amazonaws.com/111122223333/aspa-events"


@pytest.mark.parametrize(("queue_url", "storage_endpoint", "expected"), [
    (MOTO_QUEUE, None, MOTO),                            # the queue's own host, off AWS
    (MOTO_QUEUE, "http://s3.internal:9000", MOTO),
    ("http://sqs.eu-north-1.localhost.localstack.cloud:4566/000000000000/q", None,
     "http://sqs.eu-north-1.localhost.localstack.cloud:4566"),
    (AWS_QUEUE, None, None),                             # AWS: botocore's endpoint
    (AWS_QUEUE, MOTO, MOTO),                             # an emulator serving both APIs
    (AWS_QUEUE, "https://s3.eu-west-1.amazonaws.com", None),
])
def test_the_queue_endpoint_follows_the_queue_url_else_the_store(
        queue_url: str, storage_endpoint: str | None, expected: str | None) -> None:
    assert queue_endpoint(queue_url, StorageSettings(endpoint_url=storage_endpoint)) == expected


@pytest.mark.parametrize(("queue_url", "expected"), [
    (AWS_QUEUE, "eu-west-1"),
    ("https://eu-west-1.queue.amazonaws.com/111122223333/q", "eu-west-1"),
    ("https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q", "cn-north-1"),
    (MOTO_QUEUE, "eu-north-1"),                          # the store's region
])
def test_the_queue_region_is_the_aws_queue_urls_else_the_stores(queue_url: str,
                                                                 expected: str) -> None:
    assert queue_region(queue_url, StorageSettings(region="eu-north-1")) == expected


def test_ingest_config_derives_the_sqs_endpoint_and_region_left_out() -> None:
    """GIVEN only the storage settings and a moto queue URL (nothing under [sqs])
    THEN the SQS client goes to the queue's host in the store's region, not to AWS."""
    config = IngestConfig(storage_url="s3://aspa-exchange/prod", queue_url=MOTO_QUEUE,
                          storage=StorageSettings(endpoint_url=MOTO, region="eu-north-1"))
    assert (config.sqs.endpoint_url, config.sqs.region) == (MOTO, "eu-north-1")


def test_explicit_sqs_settings_win_over_the_derived_ones() -> None:
    config = IngestConfig(storage_url="s3://aspa-exchange/prod", queue_url=MOTO_QUEUE,
                          sqs={"endpoint_url": "http://other:4566", "region": "us-east-1"})
    assert (config.sqs.endpoint_url, config.sqs.region) == ("http://other:4566", "us-east-1")


def test_a_queue_name_instead_of_a_queue_url_fails_naming_the_key(tmp_path: Path) -> None:
    file = tmp_path / "ingest.toml"
    file.write_text('storage_url = "s3://aspa-exchange/prod"\nqueue_url = "aspa-events"\n')
    with pytest.raises(IngestConfigError, match=r"`queue_url`.*ASPA_INGEST_QUEUE_URL"):
        load_ingest_config(file)


@pytest.mark.parametrize(("endpoint", "style", "expected"), [
    (None, "auto", None),                                # AWS: botocore decides
    ("https://s3.eu-north-1.amazonaws.com", "auto", None),
    ("http://minio:9000", "auto", "path"),               # no bucket.minio host names
    ("http://minio:9000", "virtual", "virtual"),
    (None, "path", "path"),
])
def test_auto_addressing_is_path_style_off_aws(endpoint: str | None, style: str,
                                               expected: str | None) -> None:
    settings = StorageSettings(endpoint_url=endpoint, addressing_style=style)  # type: ignore[arg-type]
    assert s3_addressing_style(settings) == expected


def test_the_s3_client_uses_path_style_on_a_non_aws_endpoint_without_being_told(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = make_client(StorageSettings(endpoint_url="http://minio:9000", region="eu-north-1"))
    url = client.generate_presigned_url("get_object", Params={"Bucket": "aspa", "Key": "k"})
    assert url.startswith("http://minio:9000/aspa/k")


def _no_such_host(host: str, errno: int = socket.EAI_NONAME) -> EndpointConnectionError:
    """What botocore raises when the name does not resolve (urllib3 chains the gaierror)."""
    lookup = socket.gaierror(errno, "Name or service not known")
    cause = NameResolutionError(host, None, lookup)  # type: ignore[arg-type]
    cause.__cause__ = lookup
    return EndpointConnectionError(endpoint_url=f"http://{host}:4566/", error=cause)


def _client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "GetQueueAttributes")


@pytest.mark.parametrize(("exc", "transient"), [
    (_no_such_host("sqs.invalid"), False),
    (_no_such_host("sqs.invalid", socket.EAI_AGAIN), True),  # DNS down: wait
    (EndpointConnectionError(endpoint_url=MOTO, error=NewConnectionError(
        None, "refused")), True),  # type: ignore[arg-type]
    (_client_error("AWS.SimpleQueueService.NonExistentQueue", 400), False),
    (_client_error("InvalidClientTokenId", 403), False),
    (_client_error("ServiceUnavailable", 503), True),
    (_client_error("InternalError", 500), True),
    (NoCredentialsError(), False),
])
def test_a_failure_at_start_is_an_outage_or_a_mistake(exc: Exception, transient: bool) -> None:
    assert is_transient(exc) is transient
    error = queue_failure(MOTO_QUEUE, MOTO, exc)
    assert isinstance(error, StorageUnavailable if transient else StorageConfigError)


def test_a_queue_on_an_unknown_host_names_the_endpoint_key_and_the_fix() -> None:
    error = queue_failure(MOTO_QUEUE, "http://sqs.invalid:4566", _no_such_host("sqs.invalid"))
    assert "host sqs.invalid does not exist" in str(error)
    assert "sqs.endpoint_url (ASPA_INGEST_SQS__ENDPOINT_URL)" in str(error)


def test_a_missing_queue_names_the_queue_url_key() -> None:
    error = queue_failure(MOTO_QUEUE, MOTO,
                          _client_error("AWS.SimpleQueueService.NonExistentQueue", 400))
    assert "queue_url (ASPA_INGEST_QUEUE_URL)" in str(error)
