"""Storage URLs: ``file:///abs/dir``, ``file:relative/dir`` and ``s3://bucket[/prefix]``.

Credentials never belong in a storage URL (use a profile or the environment); one found there is
refused, and :func:`redact_url` hides it in any message that quotes the URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from aspa_contract.storage.errors import InvalidKey, StorageConfigError
from aspa_contract.storage.keys import MAX_KEY_BYTES, check_key

# S3 general purpose bucket names: 3–63 of a-z 0-9 . -, starting and ending alphanumeric.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@")

EXAMPLES = "file:///srv/aspa/store, file:var/store or s3://bucket/prefix"


@dataclass(frozen=True)
class FileLocation:
    """A directory on a local or mounted file system; ``root`` is absolute."""

    root: Path

    @property
    def url(self) -> str:
        """The canonical URL, ``file:///abs/dir``."""
        return self.root.as_uri()


@dataclass(frozen=True)
class S3Location:
    """A bucket and an optional key prefix (no leading or trailing ``/``) all keys live under."""

    bucket: str
    prefix: str = ""

    @property
    def url(self) -> str:
        """The canonical URL, ``s3://bucket/prefix``."""
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def object_key(self, key: str) -> str:
        """The S3 object key that stores ``key``."""
        full = f"{self.prefix}/{key}" if self.prefix else key
        if len(full.encode("utf-8")) > MAX_KEY_BYTES:
            raise InvalidKey(key, f"with the prefix it is longer than {MAX_KEY_BYTES} bytes")
        return full

    def relative_key(self, bucket: str, object_key: str) -> str | None:
        """The store key of an S3 object (from an event), or None if it is outside this store."""
        if bucket != self.bucket:
            return None
        if not self.prefix:
            return object_key
        head = self.prefix + "/"
        return object_key[len(head):] if object_key.startswith(head) else None


def parse_storage_url(url: str) -> FileLocation | S3Location:
    """Parse a storage URL; raise :class:`StorageConfigError` that says what a valid one is."""
    if _USERINFO.match(url):
        raise StorageConfigError(f"storage URL {redact_url(url)} holds credentials; remove them "
                                 "and use a profile or AWS_* environment variables")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise StorageConfigError(f"storage URL {url!r} has a '?' or '#' part; write it as "
                                 f"{EXAMPLES}")
    if parts.scheme == "file":
        return _file_location(url, parts.netloc, parts.path)
    if parts.scheme == "s3":
        return _s3_location(url, parts.netloc, parts.path)
    raise StorageConfigError(f"storage URL {url!r} is neither file: nor s3:; write it as "
                             f"{EXAMPLES}")


def redact_url(url: str) -> str:
    """``url`` with any ``user:password@`` part replaced by ``***@``."""
    return _USERINFO.sub(r"\1***@", url)


def _file_location(url: str, host: str, path: str) -> FileLocation:
    if host not in ("", "localhost"):
        raise StorageConfigError(f"storage URL {url!r} names host {host!r}; mount the share and "
                                 "use file:///mount/point")
    if not path:
        raise StorageConfigError(f"storage URL {url!r} has no directory; write it as {EXAMPLES}")
    # Relative paths (file:var/store) are fixed to the current directory now, so a later chdir
    # cannot move the store.
    return FileLocation(Path(unquote(path)).absolute())


def _s3_location(url: str, bucket: str, path: str) -> S3Location:
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise StorageConfigError(f"storage URL {url!r}: {bucket!r} is not a valid S3 bucket "
                                 "name (3–63 characters a-z, 0-9, '.', '-'); write it as "
                                 "s3://bucket/prefix")
    # Not percent-decoded: like the AWS CLI, an s3: URL holds the key prefix as it is.
    prefix = path.strip("/")
    if prefix:
        try:
            check_key(prefix)
        except InvalidKey as exc:
            raise StorageConfigError(f"storage URL {url!r}: prefix {prefix!r} is not usable: "
                                     f"{exc}") from None
    return S3Location(bucket, prefix)
