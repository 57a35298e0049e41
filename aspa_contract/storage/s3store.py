"""The ``s3:`` backend: AWS S3 or any S3-compatible store reached through boto3.

Create-only writes use ``If-None-Match: *`` (S3 answers 412 PreconditionFailed when the key
exists, so a retried upload can never overwrite); every write sends a SHA-256 checksum that S3
verifies, and uses SSE-KMS when a key is configured. botocore retries transient failures itself
(``retry_mode``, ``max_attempts``); what still fails is mapped onto the storage errors.
"""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError,
    CredentialRetrievalError,
    EndpointConnectionError,
    FlexibleChecksumError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    ResponseStreamingError,
    SSLError,
    TokenRetrievalError,
)

from aspa_contract.storage.base import ObjectInfo, StoredObject, check_metadata, verify_sha256
from aspa_contract.storage.endpoints import s3_addressing_style
from aspa_contract.storage.errors import (
    ObjectNotFound,
    StorageConfigError,
    StorageError,
    StorageUnavailable,
)
from aspa_contract.storage.keys import check_key, check_prefix, is_valid_key
from aspa_contract.storage.settings import StorageSettings
from aspa_contract.storage.url import S3Location

log = logging.getLogger(__name__)

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_CONFIG = {"NoSuchBucket", "AccessDenied", "403", "AllAccessDisabled", "InvalidAccessKeyId",
           "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
           "AuthorizationHeaderMalformed", "PermanentRedirect", "301", "InvalidBucketName",
           "KMS.NotFoundException", "KMS.DisabledException", "KMS.KMSInvalidStateException"}
# 409 ConditionalRequestConflict: another conditional write to the key is in flight; a retry
# then sees 412. BadDigest: the bytes changed in transit, since they were verified before.
_TRANSIENT = {"SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError", "Throttling",
              "ThrottlingException", "RequestLimitExceeded", "ConditionalRequestConflict",
              "OperationAborted", "BadDigest", "XAmzContentSHA256Mismatch"}
_CONFIG_FAILURES = (NoCredentialsError, PartialCredentialsError, CredentialRetrievalError,
                    TokenRetrievalError, ProfileNotFound, NoRegionError, SSLError)
_TRANSIENT_FAILURES = (ConnectionError, ResponseStreamingError, FlexibleChecksumError)
# getaddrinfo: the name does not exist (not EAI_AGAIN, which a DNS outage gives).
_NO_SUCH_HOST = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


class S3Storage:
    """An object store in an S3 bucket, every key under the URL's prefix.

    See :class:`aspa_contract.storage.base.Storage`. ``client`` is for tests that need to
    watch the requests; normally it is built from ``settings``.
    """

    def __init__(self, location: S3Location, settings: StorageSettings,
                 client: Any | None = None) -> None:
        self.location = location
        self.settings = settings
        self.url = location.url
        self._client = client if client is not None else make_client(settings)

    def put_new(self, key: str, data: bytes, *, sha256_hex: str | None = None,
                metadata: Mapping[str, str] | None = None) -> bool:
        """Create ``key`` unless it exists (True = written now); see ``Storage.put_new``."""
        args = self._put_args(key, data, sha256_hex, metadata)
        with self._errors(key):
            try:
                self._client.put_object(**args, IfNoneMatch="*")
            except ClientError as exc:
                if _code(exc) == "PreconditionFailed":
                    return False
                raise
        return True

    def put(self, key: str, data: bytes, *, metadata: Mapping[str, str] | None = None) -> None:
        """Write ``key``, replacing it; see ``Storage.put``."""
        args = self._put_args(key, data, None, metadata)
        with self._errors(key):
            self._client.put_object(**args)

    def get(self, key: str) -> bytes:
        """The bytes of ``key`` (checksum-validated by botocore); ObjectNotFound if absent."""
        return self.get_object(key).data

    def get_object(self, key: str) -> StoredObject:
        """The bytes (checksum-validated by botocore) and user metadata of ``key``."""
        object_key = self.location.object_key(check_key(key))
        with self._errors(key):
            response = self._client.get_object(Bucket=self.location.bucket, Key=object_key,
                                               ChecksumMode="ENABLED")
            data: bytes = response["Body"].read()
        return StoredObject(data, dict(response.get("Metadata") or {}))

    def head(self, key: str) -> ObjectInfo | None:
        """Size, LastModified and ETag of ``key``, or None."""
        object_key = self.location.object_key(check_key(key))
        try:
            with self._errors(key):
                response = self._client.head_object(Bucket=self.location.bucket, Key=object_key)
        except ObjectNotFound:
            return None
        return _info(key, response["ContentLength"], response)

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects whose key starts with ``prefix``, in key order, a page at a time."""
        return self._list(check_prefix(prefix))

    def copy(self, src: str, dst: str) -> None:
        """Server-side copy of ``src`` over ``dst`` (SSE-KMS and checksum as for a write;
        the metadata goes along: S3's default MetadataDirective is COPY)."""
        source = {"Bucket": self.location.bucket,
                  "Key": self.location.object_key(check_key(src))}
        target = self.location.object_key(check_key(dst))
        with self._errors(src):
            self._client.copy_object(Bucket=self.location.bucket, Key=target, CopySource=source,
                                     ChecksumAlgorithm="SHA256", **self._encryption())

    def delete(self, key: str) -> None:
        """Remove ``key``; S3 itself treats a missing key as deleted."""
        object_key = self.location.object_key(check_key(key))
        with self._errors(key):
            self._client.delete_object(Bucket=self.location.bucket, Key=object_key)

    def check(self) -> None:
        """List one key under the prefix: proves endpoint, credentials, bucket and permission
        (works with an IAM policy limited to the prefix). An endpoint whose host does not
        exist is a StorageConfigError here: at start it is a typo, not an outage."""
        try:
            with self._errors(""):
                self._client.list_objects_v2(Bucket=self.location.bucket,
                                             Prefix=self.location.object_key(""), MaxKeys=1)
        except StorageUnavailable as exc:
            if exc.__cause__ is None or is_transient(exc.__cause__):
                raise
            raise StorageConfigError(f"{self.url}: host of {self._client.meta.endpoint_url} "
                                     "does not exist; fix storage.endpoint_url") from exc

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        paginator = self._client.get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=self.location.bucket,
                                   Prefix=self.location.object_key(prefix),
                                   PaginationConfig={"PageSize": self.settings.list_page_size})
        with self._errors(prefix):
            for page in pages:
                for obj in page.get("Contents", []):
                    key = self.location.relative_key(self.location.bucket, obj["Key"])
                    if key is None or not is_valid_key(key):
                        log.debug("listing skips foreign object %r", obj["Key"])
                        continue
                    yield _info(key, obj["Size"], obj)

    def _put_args(self, key: str, data: bytes, sha256_hex: str | None,
                  metadata: Mapping[str, str] | None) -> dict[str, Any]:
        object_key = self.location.object_key(check_key(key))
        verify_sha256(key, data, sha256_hex)
        meta = check_metadata(metadata)
        # The algorithm alone makes botocore hash the body; with a given value botocore sends
        # that instead, and S3 checks it against what arrived. Naming the algorithm too is
        # valid for S3, and moto records the checksum only then.
        checksum = {"ChecksumAlgorithm": "SHA256"}
        if sha256_hex:
            checksum["ChecksumSHA256"] = base64.b64encode(bytes.fromhex(sha256_hex)).decode()
        return {"Bucket": self.location.bucket, "Key": object_key, "Body": data,
                **checksum, **self._encryption(), **({"Metadata": meta} if meta else {})}

    def _encryption(self) -> dict[str, str]:
        kms_key = self.settings.sse_kms_key_id
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key} if kms_key else {}

    def _errors(self, key: str) -> AbstractContextManager[None]:
        return s3_errors(self.url, key)


def make_client(settings: StorageSettings) -> Any:
    """A boto3 S3 client with the timeouts, retries and addressing of ``settings``."""
    style = s3_addressing_style(settings)
    config = Config(
        region_name=settings.region,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        retries={"mode": settings.retry_mode, "max_attempts": settings.max_attempts},
        s3={"addressing_style": style} if style else {},
    )
    try:
        session = boto3.session.Session(profile_name=settings.profile)
        return session.client("s3", endpoint_url=settings.endpoint_url, config=config)
    except (BotoCoreError, ValueError) as exc:
        raise StorageConfigError(f"cannot set up the S3 client: {exc}; fix storage.profile, "
                                 "storage.region or storage.endpoint_url") from exc


@contextmanager
def s3_errors(url: str, key: str) -> Iterator[None]:
    """Map botocore failures onto the storage errors, with a message that says what to do.

    ``key`` is named in the message; pass "" where the key must not be shown."""
    where = f"{url} key {key!r}" if key else url
    try:
        yield
    except ClientError as exc:
        raise _from_client_error(exc, where, key) from exc
    except _CONFIG_FAILURES as exc:
        raise StorageConfigError(f"{where}: {exc}; check credentials (AWS_* variables, "
                                 "storage.profile), region and TLS settings") from exc
    except _TRANSIENT_FAILURES as exc:
        raise StorageUnavailable(f"{where}: {exc}; retry later") from exc
    except BotoCoreError as exc:
        raise StorageError(f"{where}: {exc}") from exc


def _from_client_error(exc: ClientError, where: str, key: str) -> StorageError:
    code = _code(exc)
    status = _status(exc)
    message = exc.response.get("Error", {}).get("Message", "")
    if code in _NOT_FOUND:
        return ObjectNotFound(key)
    if code in _TRANSIENT or status >= 500:
        return StorageUnavailable(f"{where}: S3 answered {code} ({message}); retry later")
    if code in _CONFIG or status == 403:
        return StorageConfigError(f"{where}: S3 answered {code} ({message}); check the bucket "
                                  "name, region, credentials and the IAM/KMS permissions")
    return StorageError(f"{where}: S3 answered {code} ({message})")


def is_transient(exc: BaseException) -> bool:
    """True for a botocore failure that waiting may heal (network down, 5xx, throttling); False
    for one a person must fix (a host that does not exist, no such bucket or queue, credentials,
    region, access). For checks at start, which stop on the second kind and wait out the first.
    """
    if isinstance(exc, ClientError):
        return _code(exc) in _TRANSIENT or _status(exc) >= 500
    if isinstance(exc, EndpointConnectionError) and _no_such_host(exc):
        return False
    return isinstance(exc, _TRANSIENT_FAILURES)


def _no_such_host(exc: EndpointConnectionError) -> bool:
    cause: BaseException | None = exc.kwargs.get("error")
    while cause is not None:
        if isinstance(cause, socket.gaierror):
            return cause.errno in _NO_SUCH_HOST
        cause = cause.__cause__ or cause.__context__
    return False


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _info(key: str, size: int, meta: Any) -> ObjectInfo:
    etag = meta.get("ETag")
    return ObjectInfo(key=key, size=size, last_modified=meta["LastModified"].astimezone(UTC),
                      etag=etag.strip('"') if etag else None)
