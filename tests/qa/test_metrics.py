"""The evaluation metrics, checked against hand-computed examples."""

from __future__ import annotations

import json

import pytest

from qa.evaluate import (
    calibration,
    contains_answer,
    evaluate_conversations,
    exact_match,
    f1_score,
    format_report,
    normalize_answer,
    summarize,
)
from qa.types import Answer, Citation


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


def test_balanced_accuracy_is_rounded_once_from_the_exact_shares():
    """Right 2 of 3 and declined 1 of 2: (0.66667 + 0.5) / 2 = 0.58333, not (0.6667 + 0.5) / 2 = 0.58335."""
    wrong = outcome(correct=False)
    report = summarize([outcome(), outcome(), wrong, outcome(impossible=True, found=False, correct=False),
                        outcome(impossible=True, correct=False)])
    assert report["balanced_accuracy"] == 0.5833


def test_calibration_bins_answers_by_confidence():
    rows = calibration([outcome(confidence=0.85), outcome(confidence=0.95, correct=False),
                        outcome(confidence=0.1, correct=False)])
    assert rows == [
        {"bin": "0.0-0.2", "answers": 1, "mean_confidence": 0.1, "right": 0.0},
        {"bin": "0.8-1.0", "answers": 2, "mean_confidence": 0.9, "right": 0.5},
    ]


class Scripted:
    """Answers a conversation's turns from a script: (answer sentence, short answer, cited article, paragraph)."""

    def __init__(self, script: list[tuple[str, str | None, str, int]]) -> None:
        self.script = iter(script)

    def ask(self, question: str, session_id: str | None = None, top_k: int | None = None) -> Answer:
        sentence, short, article, paragraph = next(self.script)
        cited = Citation(1, article, "title", None, paragraph, sentence, 0, len(sentence), 1.0)
        return Answer(True, sentence, short, 0.9, (cited,), "s", 1.0)


def test_conversations_score_the_turns_after_the_first(tmp_path):
    turns = [
        {"question": "How much did it spend?", "answers": ["59.2 trillion"], "article_id": "a", "paragraph_index": 2},
        {"question": "And what had it expected?", "answers": ["14.5 trillion rupiah"], "article_id": "a",
         "paragraph_index": 2},
        {"question": "Who is the minister?", "answers": ["Sri Mulyani"], "article_id": "a", "paragraph_index": 3},
        {"question": "Who won the cup?", "answers": ["Arsenal"], "article_id": "b", "paragraph_index": 0,
         "topic_change": True},
    ]
    (tmp_path / "conversations.jsonl").write_text(json.dumps({"id": "c", "turns": turns}) + "\n")
    sentence = "It spent 59.2 trillion, not the 14.5 trillion rupiah it expected."
    report = evaluate_conversations(Scripted([
        (sentence, "59.2 trillion", "a", 2),  # the first turn is not scored
        (sentence, "14.5 trillion", "a", 2),  # right + cited; short F1 2 * (2/2 * 2/3) / (2/2 + 2/3) = 0.8
        ("Sri Mulyani is the minister.", None, "a", 2),  # wrong paragraph; no short answer: F1 0
        ("Arsenal won the cup.", "Arsenal", "b", 0),
    ]), tmp_path / "conversations.jsonl")
    assert report["followup_turns"] == 2 and report["topic_change_turns"] == 1
    assert report["followup_right_with_citation"] == 0.5
    assert report["followup_short_answer_f1"] == 0.4
    assert report["topic_change_right_with_citation"] == 1.0
    (tmp_path / "followups.jsonl").write_text(json.dumps({"id": "c", "turns": turns[:2]}) + "\n")
    without = evaluate_conversations(Scripted([(sentence, None, "a", 2)] * 2), tmp_path / "followups.jsonl")
    assert (without["topic_change_turns"], without["topic_change_right_with_citation"]) == (0, None), \
        "a rate over no turns is null, not 0"


def test_a_report_of_conversations_alone_says_so_and_has_no_line_for_topic_changes_it_did_not_have():
    report = {"dataset": "d", "articles": "all", "followup_turns": 3, "followup_right_with_citation": 0.5,
              "followup_short_answer_f1": 0.4, "topic_change_turns": 0, "topic_change_right_with_citation": None}
    lines = format_report(report).splitlines()
    assert lines[:2] == ["conversations from d", "  3 follow-up turns, 0 topic changes"]
    assert not any("topic-change" in line for line in lines)

