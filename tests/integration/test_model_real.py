"""The trained model end to end on real tesseract output: train on one seed, judge another.

Small on purpose (one clean page per document): four forms in Finnish and Swedish plus
out-of-catalogue letters to train; one new document of each, rendered with another seed, to
judge. 15 pages of OCR in all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from classifiers.catalogue import load_catalogue
from classifiers.dataset import Sample, write_labels
from classifiers.evaluate import predict_documents, read_dataset
from classifiers.explain import explain_command
from classifiers.metrics import compute_metrics
from classifiers.modelfile import load_model, read_header
from classifiers.synth import Rendered, render_form, render_letter
from classifiers.training import train_command

pytestmark = pytest.mark.integration

CATALOGUE = load_catalogue()
CODES = ("TO 1", "AT 1", "SV 8", "KM 1")


def _documents(seed: int, languages: tuple[str, ...]) -> list[Rendered]:
    docs = [render_form(CATALOGUE.by_code(code)[0], lang, seed=seed + i, pages=1)
            for i, code in enumerate(CODES) for lang in languages]
    mentions = ("TO 1", None)
    docs += [render_letter(lang, seed=seed + 10 + i, mention_code=mentions[i % 2])
             for i, lang in enumerate(languages)]
    return docs


def _dataset(folder: Path, docs: list[Rendered]) -> Path:
    samples = []
    for number, doc in enumerate(docs, start=1):
        path = folder / f"doc{number:02d}.png"
        doc.pages[0].convert("L").save(path, dpi=(300, 300))
        samples.append(Sample((path,), doc.label, doc.language, doc.hetu, number))
    write_labels(folder, samples)
    return folder


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model file trained by the admin command on two documents per label (fi and sv)."""
    folder = _dataset(tmp_path_factory.mktemp("train"), _documents(100, ("fi", "sv")))
    out = folder.parent / "model.joblib"
    assert train_command(folder, out) == 0
    return out


@pytest.fixture(scope="module")
def held_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One new document per label, another seed; Finnish forms, a Swedish letter."""
    docs = _documents(500, ("fi",))
    docs[-1] = render_letter("sv", seed=531, mention_code="AT 1")
    return _dataset(tmp_path_factory.mktemp("held_out"), docs)


def test_training_writes_a_model_file_with_its_origin_and_metrics(trained: Path) -> None:
    header = read_header(trained)
    assert header["catalogue_digest"] == CATALOGUE.digest
    assert set(header["labels"]) == {*CODES, "unknown"}
    assert header["metrics"]["on"] == "training set"
    assert header["metrics"]["documents"] == 10


def test_documents_of_another_seed_are_classified_right(trained: Path, held_out: Path) -> None:
    """GIVEN a model trained on seed 100 WHEN clean pages of seed 500 are classified THEN every
    form gets its code and the letter (naming a code in its text) comes out unknown."""
    model = load_model(trained, CATALOGUE)
    samples, documents = read_dataset(held_out)
    predictions = predict_documents(model, samples, documents)
    assert [(p.label, p.predicted) for p in predictions] == [
        (p.label, p.label) for p in predictions]
    metrics = compute_metrics(predictions)
    assert (metrics["accuracy"], metrics["coverage"], metrics["unknown_as_form_rate"]) == (
        1.0, 1.0, 0.0)


def test_explain_shows_answer_probabilities_and_the_header_code_evidence(
    trained: Path, held_out: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """GIVEN a held-out SV 8 page WHEN explained THEN the output names the answer, the top
    labels with probabilities, the rule classifier's header code clue and model features."""
    page = held_out / "doc03.png"
    assert Image.open(page).size[0] > 0
    assert explain_command([page], trained) == 0
    out = capsys.readouterr().out
    assert "SV 8" in out
    assert "Most probable labels" in out and "probability" in out
    assert "header_code" in out
    assert "feature:" in out
