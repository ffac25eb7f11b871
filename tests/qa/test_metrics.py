"""The evaluation metrics, checked against hand-computed examples."""

from __future__ import annotations

import pytest

from qa.evaluate import calibration, contains_answer, exact_match, f1_score, normalize_answer, summarize


def test_normalisation_follows_squad():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an apple, a pear") == "apple pear"


def test_exact_match_ignores_case_punctuation_and_articles():
    assert exact_match("the Denver Broncos.", "Denver Broncos") == 1.0
    assert exact_match("Broncos", "Denver Broncos") == 0.0


def test_f1_is_token_overlap():
    # prediction {cat, sat}, gold {cat, sat, down}: precision 1, recall 2/3 -> F1 0.8
    assert f1_score("the cat sat", "cat sat down") == pytest.approx(0.8)
    assert f1_score("dog", "cat") == 0.0


def test_contains_answer_matches_whole_words_only():
    assert contains_answer("Around 1,100 casualties were reported.", ("1,100",))
    assert not contains_answer("In 11,100 cases.", ("1,100",))
    assert not contains_answer("anything", ("",))


def outcome(**kw):
    base = {"p_at_1": True, "r_at_5": True, "correct": True, "found": True, "impossible": False,
            "confidence": 0.9, "words": 10, "short_given": True, "em": 1.0, "f1": 1.0, "took_ms": 10.0}
    return base | kw


def test_summary_counts_declines_as_wrong_and_scores_unanswerable():
    report = summarize([
        outcome(),
        outcome(p_at_1=False, correct=False, found=False, short_given=False, em=0.0, f1=0.0, words=0),
        outcome(impossible=True, found=False, correct=False),
        outcome(impossible=True, found=True, correct=False, confidence=0.3),
    ])
    assert report["paragraph_p_at_1"] == 0.5
    assert report["answer_correct_with_citation"] == 0.5
    assert report["unanswerable_declined"] == 0.5
    assert report["balanced_accuracy"] == 0.5
    assert report["short_answer_f1"] == 0.5
    assert report["short_answer_f1_when_given"] == 1.0


def test_calibration_bins_answers_by_confidence():
    rows = calibration([outcome(confidence=0.85), outcome(confidence=0.95, correct=False),
                        outcome(confidence=0.1, correct=False)])
    assert rows == [
        {"bin": "0.0-0.2", "answers": 1, "mean_confidence": 0.1, "right": 0.0},
        {"bin": "0.8-1.0", "answers": 2, "mean_confidence": 0.9, "right": 0.5},
    ]
