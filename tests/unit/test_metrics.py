"""The evaluation metrics, checked by hand on a ten-document table with known answers."""

from __future__ import annotations

import pytest

from classifiers.base import Classification
from classifiers.metrics import (
    Prediction,
    compute_metrics,
    confusion,
    label_of,
    meets_goals,
    sort_labels,
    threshold_curve,
)

H1, H2, H3, H4, H5, H6, H7, H8 = (
    "010594Y9032", "020516C903K", "010594Y9043", "010594Y9054",
    "010594Y9065", "010594Y9076", "010594Y9087", "010594Y9098",
)  # test codes (900-999); the metrics only compare strings

# #   truth                 answer                conf  hetu truth  hetu found
TABLE = [
    ("TO 1", "TO 1", 0.95, H1, H1),                                 # 1 right, hetu right
    ("TO 1", "TO 1", 0.90, H2, None),                               # 2 right, hetu missed
    ("AT 1", "AT 1", 0.80, None, None),                             # 3 right
    ("AT 1", "TO 1", 0.70, H3, H3),                                 # 4 WRONG answer, hetu right
    ("SV 4", "unknown", 0.30, H4, H5),                              # 5 abstained, hetu wrong
    ("attachment/pay_slip", "attachment/pay_slip", 0.85, None, None),  # 6 right
    ("attachment/pay_slip", "unknown", 0.20, H8, None),             # 7 abstained, hetu missed
    ("unknown", "unknown", 0.40, None, None),                       # 8 out-of-cat, right
    ("unknown", "TO 1", 0.75, None, H6),                            # 9 out-of-cat given a form
    ("unknown", "unknown", 0.10, H7, H7),                           # 10 out-of-cat, hetu right
]
PREDICTIONS = [Prediction(*row) for row in TABLE]


def test_each_metric_matches_the_hand_count_of_the_table() -> None:
    """GIVEN 7 in-catalogue docs (5 answered, 4 right) and 3 out-of-catalogue (1 given a form)
    WHEN metrics are computed THEN each equals the count done by hand."""
    m = compute_metrics(PREDICTIONS)
    assert (m["documents"], m["in_catalogue"], m["out_of_catalogue"], m["answered"]) == (
        10, 7, 3, 5)
    assert m["accuracy"] == pytest.approx(4 / 5)          # #1 #2 #3 #6 right of #1-4, #6
    assert m["coverage"] == pytest.approx(5 / 7)          # #5 #7 abstained
    assert m["confidently_wrong"] == 2                    # #4 wrong answer + #9 non-form as TO 1
    assert m["confidently_wrong_rate"] == pytest.approx(2 / 10)
    assert m["unknown_as_form_rate"] == pytest.approx(1 / 3)
    # hetu: truths #1 #2 #4 #5 #7 #10 (6); found #1 #4 #5 #9 #10 (5); right #1 #4 #10 (3)
    assert (m["hetu_documents"], m["hetu_found"], m["hetu_right"]) == (6, 5, 3)
    assert m["hetu_recall"] == pytest.approx(3 / 6)
    assert m["hetu_precision"] == pytest.approx(3 / 5)


def test_per_class_precision_and_recall_match_the_hand_count() -> None:
    """GIVEN the table WHEN per-class metrics are computed THEN every class, unknown included,
    has the precision and recall counted by hand, in catalogue-like order."""
    per = compute_metrics(PREDICTIONS)["per_class"]
    assert list(per) == ["AT 1", "SV 4", "TO 1", "attachment/pay_slip", "unknown"]
    assert per["TO 1"] == {"precision": 0.5, "recall": 1.0, "support": 2, "predicted": 4}
    assert per["AT 1"] == {"precision": 1.0, "recall": 0.5, "support": 2, "predicted": 1}
    assert per["SV 4"] == {"precision": None, "recall": 0.0, "support": 1, "predicted": 0}
    assert per["attachment/pay_slip"] == {
        "precision": 1.0, "recall": 0.5, "support": 2, "predicted": 1}
    assert per["unknown"]["precision"] == pytest.approx(2 / 4)
    assert per["unknown"]["recall"] == pytest.approx(2 / 3)


def test_no_out_of_catalogue_documents_leaves_the_unknown_rate_null() -> None:
    """GIVEN only in-catalogue docs WHEN metrics are computed THEN unknown_as_form_rate is null
    (not 0: the goal was never tested) while the confidently-wrong rate is still counted."""
    m = compute_metrics(PREDICTIONS[:7])
    assert m["out_of_catalogue"] == 0
    assert m["unknown_as_form_rate"] is None
    assert m["confidently_wrong_rate"] == pytest.approx(1 / 7)


def test_nothing_answered_gives_null_accuracy_and_zero_coverage() -> None:
    """GIVEN in-catalogue docs that all came out unknown WHEN metrics are computed
    THEN accuracy is null (nothing to be right about), coverage 0, nothing confidently wrong."""
    m = compute_metrics([Prediction("TO 1", "unknown", 0.1, None, None),
                         Prediction("AT 1", "unknown", 0.2, None, None)])
    assert m["accuracy"] is None
    assert m["coverage"] == 0.0
    assert m["confidently_wrong_rate"] == 0.0
    assert m["hetu_recall"] is None and m["hetu_precision"] is None


def test_an_empty_dataset_has_only_null_rates() -> None:
    """GIVEN no predictions WHEN metrics are computed THEN counts are 0 and every rate null."""
    m = compute_metrics([])
    assert m["documents"] == 0
    for key in ("accuracy", "coverage", "confidently_wrong_rate", "unknown_as_form_rate",
                "hetu_recall", "hetu_precision", "classify_ms_mean"):
        assert m[key] is None, key
    assert m["per_class"] == {}


def test_a_hetu_found_with_all_but_the_century_sign_right_is_wrong() -> None:
    """GIVEN a found code differing from the truth only in the century sign (another person)
    WHEN hetu metrics are computed THEN it counts neither for recall nor precision."""
    m = compute_metrics([Prediction("TO 1", "TO 1", 0.9, "010594Y9032", "010594-9032")])
    assert (m["hetu_recall"], m["hetu_precision"]) == (0.0, 0.0)


def test_confusion_counts_truth_rows_against_predicted_columns() -> None:
    """GIVEN the table WHEN the confusion matrix is built THEN cell [truth][answer] counts
    documents, and the counts add up to the dataset."""
    labels, counts = confusion(PREDICTIONS)
    at = labels.index
    assert counts[at("TO 1")][at("TO 1")] == 2
    assert counts[at("AT 1")][at("TO 1")] == 1
    assert counts[at("unknown")][at("TO 1")] == 1
    assert counts[at("unknown")][at("unknown")] == 2
    assert sum(map(sum, counts)) == 10


def test_threshold_curve_abstains_below_each_threshold() -> None:
    """GIVEN best labels with probabilities WHEN the curve is computed at 0, 0.5 and 0.8
    THEN answers below the threshold become unknown and the rates follow by hand."""
    probas = [("TO 1", "TO 1", 0.9), ("TO 1", "AT 1", 0.6), ("AT 1", "AT 1", 0.4),
              ("unknown", "TO 1", 0.7), ("unknown", "unknown", 0.95)]
    at0, at5, at8 = threshold_curve(probas, [0.0, 0.5, 0.8])
    # t=0: in-cat all answered (3), right 2; out-of-cat: 1 of 2 given a form
    assert (at0["coverage"], at0["accuracy"]) == (1.0, pytest.approx(2 / 3))
    assert at0["confidently_wrong_rate"] == pytest.approx(2 / 5)
    assert at0["unknown_as_form_rate"] == 0.5
    # t=0.5: AT 1 at 0.4 abstains; the rest as before
    assert (at5["coverage"], at5["accuracy"]) == (pytest.approx(2 / 3), 0.5)
    assert at5["confidently_wrong_rate"] == pytest.approx(2 / 5)
    # t=0.8: only TO 1 at 0.9 answered; the out-of-cat doc at 0.7 now abstains
    assert (at8["coverage"], at8["accuracy"]) == (pytest.approx(1 / 3), 1.0)
    assert (at8["confidently_wrong_rate"], at8["unknown_as_form_rate"]) == (0.0, 0.0)
    # a best label of "unknown" is never an answer, however sure
    assert at8["answered"] == 1


def test_goals_are_met_only_when_every_measured_goal_is() -> None:
    """GIVEN metrics at, below and without the goal values WHEN checked THEN only all-met passes
    and an unmeasured (null) rate does not fail."""
    good = {"accuracy": 0.995, "coverage": 0.98, "confidently_wrong_rate": 0.002,
            "unknown_as_form_rate": 0.02}
    assert meets_goals(good)
    assert meets_goals({**good, "unknown_as_form_rate": None})
    assert not meets_goals({**good, "accuracy": 0.994})
    assert not meets_goals({**good, "confidently_wrong_rate": 0.0021})
    assert not meets_goals({**good, "accuracy": None, "coverage": 0.0})


@pytest.mark.parametrize(("kind", "code", "label"), [
    ("form", "TO 1", "TO 1"),
    ("attachment/pay_slip", None, "attachment/pay_slip"),
    ("attachment/other", None, "unknown"),
    ("unknown", None, "unknown"),
])
def test_a_classification_maps_to_its_dataset_label(kind: str, code: str | None,
                                                    label: str) -> None:
    """GIVEN an answer WHEN mapped to a dataset label THEN forms give their code, named
    attachments their kind, and attachment/other counts as unknown (it names no entry)."""
    answer = Classification(code, kind, "fi", 0.9, "rule")  # type: ignore[arg-type]
    assert label_of(answer) == label


def test_labels_sort_by_family_and_number_with_unknown_last() -> None:
    """GIVEN mixed labels WHEN sorted THEN SV 4 precedes SV 28, attachments follow forms."""
    assert sort_labels(["unknown", "attachment/pay_slip", "SV 28", "AT 1", "SV 4"]) == [
        "AT 1", "SV 4", "SV 28", "attachment/pay_slip", "unknown"]
