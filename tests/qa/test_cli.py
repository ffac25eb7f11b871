"""`qa ask` and `qa eval` from the terminal, on the seed article's index: answers, the answering threshold
(`--threshold`, `QA_ANSWER_THRESHOLD`) and one-line errors for settings that do not fit."""

from __future__ import annotations

import json
from pathlib import Path
from unittest.mock import ANY

import pytest

from tests.conftest import SEED_ID
from tests.index.test_index_cli import assert_one_line_error, qa

ANSWERABLE = "How many casualties have North Korean troops suffered?"
UNANSWERABLE = "What is the best recipe for a chocolate cake?"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One question the seed article answers (paragraph 2) and one it does not, in the shared data's format."""
    folder = tmp_path_factory.mktemp("seed-questions")
    rows = [
        {"id": "a", "question": ANSWERABLE, "answers": ["1,100"], "article_id": SEED_ID, "paragraph_index": 2,
         "answer_starts": [0], "is_impossible": False},
        {"id": "b", "question": UNANSWERABLE, "answers": [], "article_id": None, "paragraph_index": None,
         "answer_starts": [], "is_impossible": True},
    ]
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def ask_json(seed_index: Path, question: str, *flags: str, env: dict[str, str] | None = None) -> dict:
    run = qa("ask", question, "--json", "--index-dir", seed_index, *flags, cwd=seed_index.parent, env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_ask_json_prints_the_api_answer(seed_index: Path):
    answer = ask_json(seed_index, ANSWERABLE)
    assert answer["found"] and "1,100" in answer["answer"]
    cited = answer["citations"][0]
    assert (cited["article_id"], cited["paragraph_index"]) == (SEED_ID, 2)
    assert cited["text"][cited["start"]:cited["end"]] == answer["answer"]


def test_ask_prints_the_answer_and_its_sources_with_their_dates(seed_index: Path):
    run = qa("ask", ANSWERABLE, "--index-dir", seed_index, cwd=seed_index.parent)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "1,100" in lines[0] and lines[1] == "  -> 1,100"
    assert any(line.startswith("[1] North Korean Soldiers Suffer 1,100 Casualties") and ", 2024-12-23 (" in line
               and f"({SEED_ID}, paragraph 2)" in line for line in lines)


def test_a_threshold_above_the_answers_confidence_declines_it_and_changes_nothing_else(seed_index: Path):
    answered = ask_json(seed_index, ANSWERABLE)
    declined = ask_json(seed_index, ANSWERABLE, "--threshold", "1")
    assert not declined["found"] and declined["answer"] is None and declined["short_answer"] is None
    assert declined["confidence"] == answered["confidence"]
    assert declined["citations"], "the closest passages are still listed"
    assert ask_json(seed_index, ANSWERABLE, env={"QA_ANSWER_THRESHOLD": "1"})["found"] is False
    assert ask_json(seed_index, ANSWERABLE, env={"QA_ANSWER_THRESHOLD": ""}) == answered | {  # empty: unset
        "session_id": ANY, "took_ms": ANY}


def test_eval_reports_at_the_threshold_asked_for(seed_index: Path, dataset: Path):
    def report(*flags: str) -> dict:
        run = qa("eval", dataset, "--json", "--index-dir", seed_index, *flags, cwd=seed_index.parent)
        assert run.returncode == 0, run.stderr
        return json.loads(run.stdout)

    fitted = report()
    assert fitted["answer_correct_with_citation"] == 1.0 and fitted["unanswerable_declined"] == 1.0
    assert 0.0 < fitted["threshold"] < 1.0
    eager = report("--threshold", "0")  # every question gets its best sentence as the answer
    assert eager["answer_correct_with_citation"] == 1.0 and eager["unanswerable_declined"] == 0.0
    assert eager["threshold"] == 0.0


@pytest.mark.parametrize(("env", "words"), [
    ({"QA_ANSWER_THRESHOLD": "3"}, ("QA_ANSWER_THRESHOLD", "'3'")),
    ({"QA_PORT": "eighty"}, ("QA_PORT", "'eighty'")),
])
def test_a_setting_that_does_not_fit_is_a_one_line_error(seed_index: Path, env: dict[str, str], words: tuple):
    assert_one_line_error(qa("ask", ANSWERABLE, "--index-dir", seed_index, cwd=seed_index.parent, env=env), *words)


@pytest.mark.parametrize("value", ["2", "-0.1", "high"])
def test_a_threshold_flag_outside_0_to_1_is_refused_by_the_parser(seed_index: Path, value: str):
    run = qa("ask", ANSWERABLE, "--index-dir", seed_index, "--threshold", value, cwd=seed_index.parent)
    assert run.returncode == 2 and "--threshold" in run.stderr and "Traceback" not in run.stderr
