"""The trained classifier on hand-made OCR text: answers, abstentions, explanations, model files.

Fast: no tesseract. Documents are written the way OCR reads Kela forms (code and title in the
header strip, code and version date in the footer strip) and letters with no form evidence.
"""

from __future__ import annotations

import errno
import io
import logging
import os
from dataclasses import replace
from pathlib import Path

import joblib
import pytest

from classifiers.base import DocumentText, PageText
from classifiers.catalogue import Catalogue, load_catalogue
from classifiers.errors import ModelIncompatible
from classifiers.explain import explanation
from classifiers.loading import load_classifier
from classifiers.model import ModelClassifier, model_label, train_model
from classifiers.modelfile import RETRAIN, load_model, read_header, save_model
from classifiers.ocr_cache import ReadDocument
from classifiers.rules import RuleClassifier

CATALOGUE = load_catalogue()
FORMS = [f for f in CATALOGUE.forms if f.code in ("TO 1", "AT 1", "SV 8", "KM 1")]
NAMES = ["Matti Virtanen", "Liisa Korhonen", "Pekka Nieminen", "Anna Mäkinen"]


def title(code: str) -> str:
    return CATALOGUE.by_code(code)[0].title_fi


def form_doc(code: str, title: str, n: int) -> DocumentText:
    """Page 1 of form ``code`` as OCR reads it, filled in for customer ``n``."""
    body = (f"{title}\nHakijan tiedot\nNimi {NAMES[n % len(NAMES)]}\nHenkilötunnus 010594Y9032\n"
            f"Osoite Kotikatu {n + 3}\nTulot ja varallisuus\nPäivämäärä ja allekirjoitus")
    footer = f"{code} 01.15 www.kela.fi Sivu 1 (2)"
    return DocumentText((PageText(f"Kela {code}\n{body}\n{footer}",
                                  header=f"Kela {title} {code.replace(' ', '')}",
                                  footer=footer),))


def letter_doc(n: int) -> DocumentText:
    """A customer's letter: no code, no title, no attachment keywords."""
    text = (f"Hyvä vastaanottaja\nKiitos viestistänne {n + 1}.{n + 2}. Muutan ensi kuussa uuteen "
            f"osoitteeseen ja pyydän lähettämään postin sinne.\nYstävällisin terveisin\n"
            f"{NAMES[n % len(NAMES)]}")
    return DocumentText((PageText(text),))


def recipe_doc() -> DocumentText:
    """A kind of document the model never saw: a recipe."""
    text = ("Mustikkapiirakka\nAinekset: 200 g voita, 2 dl sokeria, 1 muna, 3 dl vehnäjauhoja,\n"
            "1 tl leivinjauhetta, 500 g mustikoita.\nPaista 200 asteessa 25 minuuttia.")
    return DocumentText((PageText(text),))


def training_set(with_unknown: bool = True) -> tuple[list[DocumentText], list[str]]:
    docs, labels = [], []
    for n in range(3):
        for form in FORMS:
            docs.append(form_doc(form.code, form.title_fi, n))
            labels.append(form.code)
        if with_unknown:
            docs.append(letter_doc(n))
            labels.append("unknown")
    return docs, labels


@pytest.fixture(scope="module")
def model() -> ModelClassifier:
    docs, labels = training_set()
    return train_model(docs, labels, catalogue=CATALOGUE, training_hash="ab" * 32)


def test_a_form_it_was_trained_on_is_named_by_the_model(model: ModelClassifier) -> None:
    """GIVEN a model trained on four forms and letters WHEN a new filled-in AT 1 is classified
    THEN the answer is AT 1, by the model, with its probability as confidence."""
    doc = form_doc("AT 1", title("AT 1"), 7)
    answer = model.classify(doc)
    assert (answer.kind, answer.form_code, answer.classified_by) == ("form", "AT 1", "model")
    assert answer.confidence >= model.threshold
    assert answer.confidence == pytest.approx(max(model.probabilities(doc).values()), abs=1e-3)


def test_probabilities_cover_every_label_and_sum_to_one(model: ModelClassifier) -> None:
    probs = model.probabilities(letter_doc(5))
    assert set(probs) == {"TO 1", "AT 1", "SV 8", "KM 1", "unknown"}
    assert sum(probs.values()) == pytest.approx(1.0)


def test_the_version_names_format_and_training_data(model: ModelClassifier) -> None:
    assert model.version == "model/1+abababab"


def test_a_letter_like_the_unknown_examples_is_unknown(model: ModelClassifier) -> None:
    answer = model.classify(letter_doc(9))
    assert (answer.kind, answer.form_code) == ("unknown", None)


def test_an_unseen_kind_of_document_comes_out_unknown_below_the_threshold() -> None:
    """GIVEN a model trained on forms only (no out-of-catalogue examples) WHEN a recipe,
    unlike anything it saw, is classified THEN no form clears the threshold: unknown."""
    docs, labels = training_set(with_unknown=False)
    forms_only = train_model(docs, labels, catalogue=CATALOGUE, training_hash="cd" * 32)
    answer = forms_only.classify(recipe_doc())
    assert answer.kind == "unknown"
    reasons = [e.detail for e in answer.evidence if e.kind == "abstain"]
    assert reasons and "below the threshold" in reasons[0]
    assert answer.confidence < forms_only.threshold


def test_printed_codes_overrule_a_model_that_names_another_form(
    model: ModelClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN header and footer both read TO 1 WHEN the model's best label is SV 8 THEN neither is
    trusted: the answer is unknown and says why."""
    monkeypatch.setattr(model, "_probs", lambda features: {"SV 8": 0.9, "TO 1": 0.1})
    answer = model.classify(form_doc("TO 1", title("TO 1"), 1))
    assert answer.kind == "unknown"
    assert any("header and footer both read TO 1" in e.detail for e in answer.evidence)


def test_explain_names_the_header_code_for_a_form(model: ModelClassifier) -> None:
    """GIVEN a TO 1 form WHEN explained THEN the strongest features include the header code
    clue for TO 1, with positive weights, strongest first."""
    clues = model.explain(form_doc("TO 1", title("TO 1"), 4))
    assert clues and all(c.weight > 0 for c in clues)
    assert [c.weight for c in clues] == sorted((c.weight for c in clues), reverse=True)
    details = " ".join(c.detail for c in clues)
    assert "header_code=TO 1" in details or "H:#TO_1" in details


def test_variant_labels_map_back_to_code_and_variant() -> None:
    """GIVEN training labels carrying EV 256's variants WHEN classified THEN form_code is the
    code and form_variant the variant."""
    docs, labels = training_set()
    for form in CATALOGUE.by_code("EV 256"):
        for n in range(3):
            docs.append(form_doc(form.code, form.title_fi, n))
            labels.append(model_label(form.code, form.variant))
    trained = train_model(docs, labels, catalogue=CATALOGUE, training_hash="ef" * 32)
    clause = next(f for f in CATALOGUE.by_code("EV 256") if f.variant == "c-lausunto")
    answer = trained.classify(form_doc("EV 256", clause.title_fi, 8))
    assert (answer.form_code, answer.form_variant) == ("EV 256", "c-lausunto")


def test_a_label_outside_the_catalogue_is_refused_naming_it() -> None:
    docs, labels = training_set()
    labels[0] = "ZZ 9"
    with pytest.raises(ValueError, match="ZZ 9"):
        train_model(docs, labels, catalogue=CATALOGUE, training_hash="00")


def test_a_label_with_one_example_still_trains(caplog: pytest.LogCaptureFixture) -> None:
    """GIVEN one example of SV 8 (fewer than the calibration folds) WHEN trained THEN training
    succeeds with a warning to add examples."""
    docs, labels = training_set()
    keep = [i for i, label in enumerate(labels) if label != "SV 8" or i < 4]
    with caplog.at_level(logging.WARNING):
        trained = train_model([docs[i] for i in keep], [labels[i] for i in keep],
                              catalogue=CATALOGUE, training_hash="11")
    assert "SV 8" in trained.labels
    assert "add examples" in caplog.text


def test_saved_model_loads_with_same_answers_and_records_its_origin(
    model: ModelClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "m.joblib"
    save_model(model, path, {"accuracy": 1.0})
    loaded = load_model(path, CATALOGUE)
    doc = form_doc("SV 8", title("SV 8"), 6)
    assert loaded.probabilities(doc) == pytest.approx(model.probabilities(doc), abs=1e-6)
    assert (loaded.version, loaded.threshold) == (model.version, model.threshold)
    header = read_header(path)
    assert header["catalogue_digest"] == CATALOGUE.digest
    assert header["training_data_hash"] == "ab" * 32
    assert header["metrics"] == {"accuracy": 1.0}
    assert header["labels"] == list(model.labels)
    assert header["sklearn_version"] and header["created_at"]


def _rewrite_header(path: Path, **changes: object) -> None:
    payload = read_header(path)
    payload.update(changes)
    buffer = io.BytesIO()
    joblib.dump(payload, buffer)
    path.write_bytes(buffer.getvalue())


def test_a_model_file_of_another_format_is_refused_saying_how_to_retrain(
    model: ModelClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "m.joblib"
    save_model(model, path)
    _rewrite_header(path, format=99)
    with pytest.raises(ModelIncompatible, match="format 99") as refused:
        load_model(path, CATALOGUE)
    assert RETRAIN in str(refused.value)
    assert "aspa-classifiers train DATASET --out MODEL" in str(refused.value)


def test_a_model_file_from_another_scikit_learn_is_refused(
    model: ModelClassifier, tmp_path: Path
) -> None:
    path = tmp_path / "m.joblib"
    save_model(model, path)
    _rewrite_header(path, sklearn_version="0.24.2")
    with pytest.raises(ModelIncompatible, match=r"scikit-learn 0\.24\.2.*retrain with"):
        load_model(path, CATALOGUE)


@pytest.mark.parametrize("content", [b"", b"not a model", b"\x80\x04K\x01."])
def test_a_file_that_is_no_model_is_refused_saying_how_to_retrain(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "m.joblib"
    path.write_bytes(content)
    with pytest.raises(ModelIncompatible, match="retrain with"):
        load_model(path, CATALOGUE)


def test_a_model_of_another_catalogue_loads_with_a_warning_naming_both(
    model: ModelClassifier, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m.joblib"
    save_model(model, path)
    edited = replace(CATALOGUE, digest="0123456789ab")
    with caplog.at_level(logging.WARNING):
        loaded = load_model(path, edited)
    assert CATALOGUE.digest in caplog.text and "0123456789ab" in caplog.text
    assert loaded.classify(form_doc("TO 1", title("TO 1"), 2)).form_code == "TO 1"


def test_a_label_the_catalogue_no_longer_lists_comes_out_unknown(
    model: ModelClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a model trained with AT 1 loaded with a catalogue without it WHEN its best label is
    AT 1 THEN the answer is unknown, saying the catalogue does not list it."""
    path = tmp_path / "m.joblib"
    save_model(model, path)
    smaller = Catalogue(tuple(f for f in CATALOGUE.forms if f.code != "AT 1"),
                        CATALOGUE.attachments, "0123456789ab")
    loaded = load_model(path, smaller)
    monkeypatch.setattr(loaded, "_probs", lambda features: {"AT 1": 0.95, "TO 1": 0.05})
    answer = loaded.classify(form_doc("AT 1", title("AT 1"), 2))
    assert answer.kind == "unknown"
    assert any("not in the form catalogue" in e.detail for e in answer.evidence)


def test_a_failed_save_leaves_the_old_model_whole_and_no_temp_file(
    model: ModelClassifier, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN a model file WHEN writing a new one fails (disk full at fsync) THEN the old file
    is unchanged and no temp file is left beside it."""
    path = tmp_path / "m.joblib"
    save_model(model, path)
    before = path.read_bytes()

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        save_model(replace_threshold(model, 0.9), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.joblib"]


def test_a_successful_save_leaves_only_the_model_file(model: ModelClassifier,
                                                      tmp_path: Path) -> None:
    save_model(model, tmp_path / "m.joblib")
    save_model(replace_threshold(model, 0.7), tmp_path / "m.joblib")
    assert [p.name for p in tmp_path.iterdir()] == ["m.joblib"]
    assert load_model(tmp_path / "m.joblib", CATALOGUE).threshold == 0.7


def replace_threshold(model: ModelClassifier, threshold: float) -> ModelClassifier:
    return ModelClassifier(model.pipeline, catalogue=model.catalogue,
                           info=replace(model.info), threshold=threshold)


def test_without_a_default_model_the_agent_uses_rules(tmp_path: Path) -> None:
    classifier = load_classifier(default_model=tmp_path / "none.joblib")
    assert isinstance(classifier, RuleClassifier)


def test_a_shipped_default_model_is_used_when_none_is_configured(
    model: ModelClassifier, tmp_path: Path
) -> None:
    save_model(model, tmp_path / "default.joblib")
    classifier = load_classifier(default_model=tmp_path / "default.joblib")
    assert classifier.version == model.version


def test_a_broken_default_model_falls_back_to_rules_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "default.joblib"
    broken.write_bytes(b"garbage")
    with caplog.at_level(logging.WARNING):
        classifier = load_classifier(default_model=broken)
    assert isinstance(classifier, RuleClassifier)
    assert "rules alone" in caplog.text


def test_a_broken_configured_model_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "mine.joblib"
    broken.write_bytes(b"garbage")
    with pytest.raises(ModelIncompatible, match="retrain with"):
        load_classifier(model=broken)
    with pytest.raises(ModelIncompatible, match="does not exist"):
        load_classifier(model=tmp_path / "missing.joblib")


def test_explain_tables_name_answer_top_labels_rule_evidence_and_features(
    model: ModelClassifier,
) -> None:
    """GIVEN a TO 1 form read with a hetu WHEN explained THEN the text shows the answer, three
    labels with probabilities, the header code clue and model features, and only a masked
    hetu."""
    text = explanation(model, ReadDocument(form_doc("TO 1", title("TO 1"), 3), "010594Y9032"))
    assert "TO 1" in text and "decided by" in text
    assert "Most probable labels" in text
    assert "header_code" in text and "feature:" in text
    assert "010594Y9032" not in text


def test_explain_with_rules_alone_shows_their_evidence() -> None:
    text = explanation(RuleClassifier(CATALOGUE),
                       ReadDocument(form_doc("KM 1", title("KM 1"), 3), None))
    assert "KM 1" in text and "footer_code" in text
    assert "Most probable labels" not in text
