"""pytest plugin: moto's S3/SQS/KMS server as a real, separate HTTP process.

Load it from ``tests/conftest.py`` with ``pytest_plugins = ["tests.s3server"]``. Fixtures:

- ``moto_server`` (session): the running server; ``.endpoint_url``, ``.stop()``, ``.start()``
  (same port, state lost: for outage tests), ``.client(service)``, ``.settings(**overrides)``.
  While it exists, boto3 sees fake credentials and region ``eu-north-1`` and no AWS config files.
- ``s3_bucket`` (function): a fresh, uniquely named bucket; ``.url`` is ``s3://name/exchange``
  and ``.settings`` point at the server.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from aspa_contract.storage import StorageSettings

REGION = "eu-north-1"
START_TIMEOUT_S = 30.0
FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",  # no 1 s probe of an instance role
}
# Would send requests elsewhere or pick up a developer's real credentials.
CLEARED_ENV = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3",
               "AWS_ENDPOINT_URL_SQS", "AWS_REGION", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy",
               "https_proxy")


@dataclass
class MotoServer:
    """A ``moto_server`` child process on 127.0.0.1:``port``; its output goes to ``log_path``."""

    port: int
    log_path: Path
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def endpoint_url(self) -> str:
        """``http://127.0.0.1:PORT``: give it to boto3 or ``StorageSettings``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        """True while the child process lives."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (again, on the same port) and wait until it answers HTTP."""
        if self.running:
            return
        with open(self.log_path, "ab") as log:
            self._process = subprocess.Popen(
                [*_server_command(), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_until_answering()

    def stop(self) -> None:
        """Stop the server; its buckets, queues and keys are gone."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` (s3, sqs, kms …) on this server (made once: it
        survives restarts, as the port stays)."""
        if service not in self._clients:
            make: Any = boto3.client  # the stubs type only literal service names
            self._clients[service] = make(
                service, endpoint_url=self.endpoint_url, region_name=REGION,
                config=Config(retries={"mode": "standard", "max_attempts": 2}))
        return self._clients[service]

    def settings(self, **overrides: Any) -> StorageSettings:
        """Storage settings for this server: path-style, two attempts, short timeouts."""
        values: dict[str, Any] = {"endpoint_url": self.endpoint_url, "region": REGION,
                                  "addressing_style": "path", "max_attempts": 2,
                                  "connect_timeout": 2.0, "read_timeout": 10.0}
        return StorageSettings(**(values | overrides))

    def _wait_until_answering(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"moto_server exited at start; see {self.log_path}:\n"
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            if answers_http(self.endpoint_url):
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server did not answer within {START_TIMEOUT_S} s; "
                           f"see {self.log_path}")


@dataclass(frozen=True)
class S3Bucket:
    """A fresh bucket on the moto server and a store URL under its ``exchange`` prefix."""

    name: str
    prefix: str
    settings: StorageSettings

    @property
    def url(self) -> str:
        """``s3://name/prefix``, for ``open_storage``."""
        return f"s3://{self.name}/{self.prefix}"


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    """A moto server process for the whole session, with fake AWS credentials in the env."""
    home = tmp_path_factory.mktemp("moto")
    with pytest.MonkeyPatch.context() as env:
        for name in CLEARED_ENV:
            env.delenv(name, raising=False)
        for name, value in FAKE_ENV.items():
            env.setenv(name, value)
        env.setenv("AWS_CONFIG_FILE", str(home / "no-config"))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "no-credentials"))
        env.setenv("NO_PROXY", "127.0.0.1,localhost")
        server = MotoServer(port=_free_port(), log_path=home / "moto_server.log")
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture
def s3_bucket(moto_server: MotoServer) -> S3Bucket:
    """A new empty bucket (the server is restarted first if a test left it stopped)."""
    moto_server.start()
    name = f"aspa-test-{uuid.uuid4().hex[:16]}"
    create_bucket(moto_server, name)
    return S3Bucket(name=name, prefix="exchange", settings=moto_server.settings())


def create_bucket(server: MotoServer, name: str) -> None:
    """Create bucket ``name`` in the test region (outside us-east-1 S3 needs the constraint)."""
    server.client("s3").create_bucket(
        Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})


def _server_command() -> list[str]:
    script = Path(sys.executable).parent / "moto_server"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "moto.server"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers_http(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means it is serving
    except OSError:
        return False


__all__ = ["REGION", "MotoServer", "S3Bucket", "create_bucket", "moto_server", "s3_bucket"]
