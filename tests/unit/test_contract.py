"""The bundle contract: schema, hetu masking, object keys."""

from __future__ import annotations

import copy
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest

from aspa_contract import ContractViolation, validate_manifest
from aspa_contract.hetu import is_valid, mask, redact
from aspa_contract.layout import BUNDLE_ID, POINT_ID, incoming_key, parse_incoming_key, receipt_key
from classifiers.base import Classification
from scanner_agent.bundle import DocumentResult, Handover, build_bundle, new_bundle_id

HANDED_IN = datetime(2026, 11, 27, 8, 15, tzinfo=UTC)


def _document(form_code: str | None = "TO 1", kind: str = "form") -> DocumentResult:
    classification = Classification(form_code, kind, "fi", 0.97, "rule")  # type: ignore[arg-type]
    return DocumentResult("scan 0001.png", b"%PDF-1.7 fake", 2, classification, [3], [])


def _bundle(**kwargs: object):  # type: ignore[no-untyped-def]
    handover = Handover("hki-kallio", "clerk-7", HANDED_IN, HANDED_IN)
    return build_bundle([_document()], handover, "010594Y9032", "rules/1", **kwargs)  # type: ignore[arg-type]


def test_built_manifest_follows_the_schema_and_zip_holds_the_documents() -> None:
    made = _bundle()
    validate_manifest(made.manifest)
    with zipfile.ZipFile(io.BytesIO(made.data)) as archive:
        assert archive.namelist() == ["manifest.json", "001.pdf"]
        assert json.loads(archive.read("manifest.json")) == made.manifest
        assert archive.read("001.pdf") == b"%PDF-1.7 fake"
    doc = made.manifest["documents"][0]
    assert doc["dropped_blank_pages"] == [3]
    assert made.manifest["handed_in_at"] == "2026-11-27T08:15:00Z"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("point_id",), "Hki Kallio"),
        (("customer", "hetu"), "010594Y903"),
        (("documents", 0, "sha256"), "xyz"),
        (("documents", 0, "kind"), "unknown"),  # a form code with kind != form
        (("handed_in_at",), "2026-11-27 08:15"),
        (("schema",), "aspa-bundle/2"),
    ],
)
def test_schema_rejects_a_broken_manifest(path: tuple[object, ...], value: object) -> None:
    manifest = copy.deepcopy(_bundle().manifest)
    target = manifest
    for part in path[:-1]:
        target = target[part]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    with pytest.raises(ContractViolation) as caught:
        validate_manifest(manifest)
    assert "010594Y9032" not in str(caught.value)


def test_bundle_ids_sort_by_creation_and_are_unique() -> None:
    ids = [new_bundle_id() for _ in range(200)]
    assert len(set(ids)) == 200
    assert incoming_key("p", ids[0]).startswith("incoming/p/")


def test_hetu_masking_keeps_date_sign_and_check_only() -> None:
    assert mask("010594Y9032") == "010594Y***2"
    assert mask(None) is None
    assert redact("file 010594Y9032 and 020516C903K.png") == "file 010594Y***2 and 020516C***K.png"
    assert is_valid("020516C903K") and not is_valid("020516C903L")


def test_object_keys_round_trip_and_refuse_unsafe_ids() -> None:
    bundle_id = new_bundle_id()
    assert parse_incoming_key(incoming_key("hki-kallio", bundle_id)) == ("hki-kallio", bundle_id)
    assert receipt_key("hki-kallio", bundle_id) == f"receipts/hki-kallio/{bundle_id}.json"
    assert parse_incoming_key("incoming/../x.zip") is None
    with pytest.raises(ValueError):
        incoming_key("../etc", bundle_id)


def test_object_keys_refuse_a_trailing_newline_and_an_id_over_128_bits() -> None:
    assert BUNDLE_ID.fullmatch("01JD5Z8Q9X3M2N4P5R6S7T8V9W")
    assert not BUNDLE_ID.fullmatch("01JD5Z8Q9X3M2N4P5R6S7T8V9W\n")
    assert not BUNDLE_ID.fullmatch("Z" * 26)
    assert not POINT_ID.fullmatch("mikkeli\n")


def test_a_typed_visit_reason_becomes_one_line_of_activity_data_without_a_code() -> None:
    """GIVEN a clerk's reason over two lines with a code and a control character in it
    THEN the manifest holds it as one valid line, the code masked."""
    handover = Handover("hki-kallio", "clerk-7", HANDED_IN, HANDED_IN,
                        visit_reason="asiakas 311299-977R\nsoitti\x07" + "x" * 300)
    made = build_bundle([_document()], handover, "010594Y9032", "rules/1")
    reason = made.manifest["visit"]["reason"]
    assert reason.startswith("asiakas 311299-***R soitti") and len(reason) == 200
    validate_manifest(made.manifest)
