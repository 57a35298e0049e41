"""Storage URLs and key rules: what is accepted, what is refused, and what the message says."""

from __future__ import annotations

from pathlib import Path

import pytest

from aspa_contract.storage import (
    FileLocation,
    InvalidKey,
    S3Location,
    StorageConfigError,
    open_storage,
    parse_storage_url,
    redact_url,
)
from aspa_contract.storage.keys import check_key, check_prefix


def test_absolute_file_url_gives_its_folder() -> None:
    assert parse_storage_url("file:///srv/aspa/store") == FileLocation(Path("/srv/aspa/store"))


def test_file_url_with_localhost_and_escaped_space() -> None:
    assert parse_storage_url("file://localhost/srv/my%20store") == FileLocation(
        Path("/srv/my store"))


def test_relative_file_url_is_fixed_to_the_current_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    location = parse_storage_url("file:var/store")
    assert location == FileLocation(tmp_path / "var" / "store")
    assert isinstance(location, FileLocation)
    assert location.url == (tmp_path / "var" / "store").as_uri()


def test_file_url_round_trips_through_its_canonical_form() -> None:
    location = parse_storage_url("file:///srv/my%20store")
    assert parse_storage_url(location.url) == location


def test_file_url_naming_a_remote_host_says_to_mount_it() -> None:
    with pytest.raises(StorageConfigError, match="mount the share"):
        parse_storage_url("file://fileserver/share")


@pytest.mark.parametrize(("url", "bucket", "prefix"), [
    ("s3://aspa-exchange", "aspa-exchange", ""),
    ("s3://aspa-exchange/", "aspa-exchange", ""),
    ("s3://aspa-exchange/prod", "aspa-exchange", "prod"),
    ("s3://aspa-exchange/prod/fi/", "aspa-exchange", "prod/fi"),
    ("s3://kela.aspa.exchange/p", "kela.aspa.exchange", "p"),
])
def test_s3_url_gives_bucket_and_prefix(url: str, bucket: str, prefix: str) -> None:
    assert parse_storage_url(url) == S3Location(bucket, prefix)


def test_s3_canonical_url_has_no_trailing_slash() -> None:
    assert parse_storage_url("s3://aspa-exchange/prod/").url == "s3://aspa-exchange/prod"
    assert parse_storage_url("s3://aspa-exchange/").url == "s3://aspa-exchange"


@pytest.mark.parametrize("url", [
    "s3://ab/p", "s3://Aspa-Exchange/p", "s3://aspa_exchange/p", "s3://-aspa/p",
    "s3://aspa..x/p", "s3://aspa:9000/p", "s3:///prefix",
])
def test_s3_url_with_an_invalid_bucket_name_is_refused(url: str) -> None:
    with pytest.raises(StorageConfigError, match="not a valid S3 bucket name"):
        parse_storage_url(url)


@pytest.mark.parametrize("url", ["s3://aspa-exchange/../x", "s3://aspa-exchange/a//b",
                                 "s3://aspa-exchange/.hidden"])
def test_s3_url_with_an_unusable_prefix_is_refused(url: str) -> None:
    with pytest.raises(StorageConfigError, match="prefix"):
        parse_storage_url(url)


@pytest.mark.parametrize("url", ["http://example.com/x", "/srv/store", "store", "ftp://h/x",
                                 "s3://aspa-exchange/p?region=x", "file:///srv#x"])
def test_other_urls_are_refused_with_examples_of_valid_ones(url: str) -> None:
    with pytest.raises(StorageConfigError, match=r"file:///srv/aspa/store"):
        parse_storage_url(url)


def test_credentials_in_the_url_are_refused_and_not_echoed() -> None:
    with pytest.raises(StorageConfigError) as caught:
        parse_storage_url("s3://AKIAEXAMPLE:s3cr3t@aspa-exchange/prod")
    assert "s3cr3t" not in str(caught.value)
    assert "AKIAEXAMPLE" not in str(caught.value)
    assert "use a profile" in str(caught.value)


def test_redact_url_hides_user_info_only() -> None:
    assert redact_url("s3://key:secret@bucket/p") == "s3://***@bucket/p"
    assert redact_url("s3://bucket/p@home") == "s3://bucket/p@home"
    assert redact_url("file:///srv/store") == "file:///srv/store"


def test_opened_store_url_is_the_canonical_form(tmp_path: Path) -> None:
    assert open_storage(f"file://{tmp_path}/").url == tmp_path.as_uri()


def test_s3_location_maps_event_keys_back_to_store_keys() -> None:
    location = S3Location("aspa-exchange", "prod")
    assert location.object_key("incoming/p/x.zip") == "prod/incoming/p/x.zip"
    assert location.relative_key("aspa-exchange", "prod/incoming/p/x.zip") == "incoming/p/x.zip"
    assert location.relative_key("aspa-exchange", "production/incoming/p/x.zip") is None
    assert location.relative_key("other-bucket", "prod/incoming/p/x.zip") is None
    assert S3Location("aspa-exchange").relative_key("aspa-exchange", "a/b") == "a/b"


def test_object_key_over_the_s3_limit_with_the_prefix_is_refused() -> None:
    key = "/".join(["k" * 200] * 5)  # 1004 bytes: valid alone, too long under "prod/…"
    assert check_key(key) == key
    with pytest.raises(InvalidKey, match="with the prefix"):
        S3Location("aspa-exchange", "prod/" + "p" * 30).object_key(key)


@pytest.mark.parametrize("key", [
    "incoming/hki-kallio/01J0000000000000000000000A.zip", "a", "a/b-c_d.e/f g", "ä/ö/å.json",
    "quarantine/p/01J0000000000000000000000A.reason.json",
])
def test_ordinary_keys_pass(key: str) -> None:
    assert check_key(key) == key


@pytest.mark.parametrize(("key", "why"), [
    ("", "empty"), ("/abs", "absolute"), ("a\\b", "backslash"), ("a//b", "empty segment"),
    ("a/", "empty segment"), ("..", "dot"), ("a/../b", "dot"), ("./a", "dot"),
    ("a/.hidden", "dot"), ("a\nb", "control"), ("a\x00b", "control"),
    ("k" * 256, "255 bytes"), ("/".join(["k" * 100] * 11), "1024 bytes"),
    ("a/bad_\udcff\udcfe_name.zip", "not valid UTF-8"),  # Latin-1 bytes as os.fsdecode reads them
])
def test_keys_that_could_escape_or_break_a_backend_are_refused(key: str, why: str) -> None:
    with pytest.raises(InvalidKey, match=why) as caught:
        check_key(key)
    assert isinstance(caught.value, ValueError)


def test_a_listing_prefix_may_be_empty_or_end_in_a_slash() -> None:
    assert check_prefix("") == ""
    assert check_prefix("incoming/") == "incoming/"
    assert check_prefix("incoming/p1") == "incoming/p1"
    with pytest.raises(InvalidKey):
        check_prefix("../")
    with pytest.raises(InvalidKey):
        check_prefix("incoming//")
