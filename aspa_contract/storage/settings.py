"""How to reach an S3-compatible store: endpoint, credentials source, encryption, retries.

The ``file:`` backend ignores these settings. Every field has a safe default for AWS S3. They
are the one place endpoint, region and addressing are set: the ingest's SQS client and the
checks derive theirs from them (:mod:`aspa_contract.storage.endpoints`).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class StorageSettings(BaseModel):
    """Client settings of the ``s3:`` backend.

    Examples::

        StorageSettings()                                           # AWS, default credentials
        StorageSettings(endpoint_url="http://127.0.0.1:9000")       # MinIO or moto: path-style
        StorageSettings(sse_kms_key_id="arn:aws:kms:eu-north-1:111122223333:key/…")
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint_url: str | None = Field(
        default=None,
        description="S3 API endpoint of an S3-compatible store; None = AWS for the region. "
        "An emulator's endpoint (moto, LocalStack) also serves the ingest's SQS queue.")
    region: str | None = Field(
        default=None,
        description="AWS region, e.g. eu-north-1; None = from the profile or environment. "
        "Also the SQS queue's region unless its AWS queue URL names one.")
    profile: str | None = Field(
        default=None,
        description="Named profile in ~/.aws/config; None = the default credential chain "
        "(environment, profile, instance role).")
    sse_kms_key_id: str | None = Field(
        default=None,
        description="KMS key id or ARN: every write uses SSE-KMS with it; None = the bucket's "
        "default encryption.")
    retry_mode: Literal["standard", "adaptive"] = Field(
        default="standard",
        description="botocore retry mode; `adaptive` also rate-limits the client.")
    max_attempts: int = Field(
        default=5, ge=1, le=20,
        description="Attempts per request, the first included, before StorageUnavailable.")
    connect_timeout: float = Field(
        default=5.0, gt=0, le=300, description="Seconds to open a connection.")
    read_timeout: float = Field(
        default=60.0, gt=0, le=3600, description="Seconds to wait for a response to be read.")
    addressing_style: Literal["auto", "virtual", "path"] = Field(
        default="auto",
        description="`auto` = path-style on a non-AWS endpoint_url, virtual-hosted on AWS; "
        "`path` or `virtual` to force one.")
    list_page_size: int = Field(
        default=1000, ge=1, le=1000,
        description="Keys fetched per LIST request (S3's maximum is 1000).")
