"""Where each AWS-API client goes, derived from the one :class:`StorageSettings`.

The store's settings are the only place an operator names an endpoint, a region or an
addressing style; the S3 client, the SQS client of the ingest and the checks of ``doctor`` all
derive theirs from here, so the three can never disagree:

- S3 addressing ``auto`` means path-style on a non-AWS endpoint (a host such as
  ``http://minio:9000`` has no ``bucket.minio`` names) and virtual-hosted on AWS.
- The SQS endpoint is the queue URL's own origin when the queue is not on AWS
  (``http://127.0.0.1:5000/123456789012/aspa`` → ``http://127.0.0.1:5000``), else the store's
  endpoint: bucket notifications reach SQS only on AWS or on an emulator serving both APIs.
- The SQS region is the one in an AWS queue URL (``https://sqs.eu-north-1.amazonaws.com/…``),
  else the store's region.
"""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import SplitResult, urlsplit

from aspa_contract.storage.errors import StorageConfigError
from aspa_contract.storage.settings import StorageSettings

# sqs.eu-north-1.amazonaws.com, eu-north-1.queue.amazonaws.com, sqs.cn-north-1.amazonaws.com.cn,
# sqs-fips.us-east-1.amazonaws.com, vpce-….sqs.eu-north-1.vpce.amazonaws.com
_AWS_HOST = re.compile(r"(^|\.)amazonaws\.com(\.cn)?$")
_AWS_QUEUE_REGION = re.compile(r"(?:^|\.)(?:sqs(?:-fips)?\.)?([a-z]{2}(?:-[a-z]+)+-\d)\.")

QUEUE_URL_EXAMPLE = "https://sqs.eu-north-1.amazonaws.com/111122223333/aspa-incoming"


def is_aws_endpoint(url: str | None) -> bool:
    """True for None (botocore's default: AWS) and for ``*.amazonaws.com`` hosts."""
    if url is None:
        return True
    return bool(_AWS_HOST.search((urlsplit(url).hostname or "").lower()))


def s3_addressing_style(settings: StorageSettings) -> Literal["virtual", "path"] | None:
    """The style the S3 client uses: the configured one, or for ``auto`` path-style on a
    non-AWS endpoint and botocore's own choice (None) on AWS."""
    if settings.addressing_style != "auto":
        return settings.addressing_style
    return None if is_aws_endpoint(settings.endpoint_url) else "path"


def queue_endpoint(queue_url: str, settings: StorageSettings) -> str | None:
    """The SQS endpoint for ``queue_url``: its origin off AWS, else the store's endpoint."""
    parts = _queue_parts(queue_url)
    if not is_aws_endpoint(queue_url):
        return f"{parts.scheme}://{parts.netloc}"
    return settings.endpoint_url if not is_aws_endpoint(settings.endpoint_url) else None


def queue_region(queue_url: str, settings: StorageSettings) -> str | None:
    """The SQS region for ``queue_url``: the one an AWS queue URL names, else the store's."""
    host = (_queue_parts(queue_url).hostname or "").lower()
    found = _AWS_QUEUE_REGION.search(host) if _AWS_HOST.search(host) else None
    return found.group(1) if found else settings.region


def _queue_parts(queue_url: str) -> SplitResult:
    parts = urlsplit(queue_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or not parts.path.strip("/"):
        raise StorageConfigError(f"queue URL {queue_url!r} is not an SQS queue URL; copy it "
                                 f"from the queue's details, e.g. {QUEUE_URL_EXAMPLE}")
    return parts
