"""What a failure to reach the SQS queue of the store's events means, and what to fix.

A check at start stops on a mistake (no such host or queue, credentials, region, access) with
:class:`StorageConfigError` naming the setting, and rides out an outage
(:class:`StorageUnavailable`): only the second heals by waiting.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from botocore.exceptions import ClientError, EndpointConnectionError, NoRegionError

from aspa_contract.storage.errors import StorageConfigError, StorageError, StorageUnavailable
from aspa_contract.storage.s3store import is_transient

_NO_QUEUE = {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
             "InvalidAddress", "InvalidParameterValue"}
_FIX_URL = ("fix queue_url (ASPA_INGEST_QUEUE_URL): copy it from the queue's details, e.g. "
            "`aws sqs get-queue-url --queue-name NAME`")
_FIX_ENDPOINT = ("fix sqs.endpoint_url (ASPA_INGEST_SQS__ENDPOINT_URL), or leave it unset: it "
                 "then follows queue_url's host, else storage.endpoint_url")
_FIX_ACCESS = ("fix the credentials (storage.profile or AWS_* variables) and the region "
               "(storage.region); the ingest needs sqs:ReceiveMessage, sqs:DeleteMessage and "
               "sqs:GetQueueAttributes on the queue")


def queue_failure(queue_url: str, endpoint: str | None, exc: Exception) -> StorageError:
    """The error to raise for ``exc`` from a call on ``queue_url`` asked at ``endpoint``."""
    where = f"queue {queue_url} (asked at {endpoint or 'AWS'})"
    if is_transient(exc):
        return StorageUnavailable(f"cannot reach {where}: {exc}; retrying later")
    return StorageConfigError(f"cannot use {where}: {exc}; {_fix(exc)}")


def _fix(exc: Exception) -> str:
    if isinstance(exc, EndpointConnectionError):
        host = urlsplit(str(exc.kwargs.get("endpoint_url", ""))).hostname
        return f"host {host} does not exist: {_FIX_ENDPOINT}"
    if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") in _NO_QUEUE:
        return f"no such queue there: {_FIX_URL}, or {_FIX_ENDPOINT}"
    if isinstance(exc, NoRegionError):
        return "no region: set storage.region (ASPA_INGEST_STORAGE__REGION)"
    return _FIX_ACCESS
