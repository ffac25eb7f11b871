"""`qa ask` and `qa eval` from the terminal, on the seed article's index: answers, the answering threshold
(`--threshold`, `QA_ANSWER_THRESHOLD`) and one-line errors for settings that do not fit."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from unittest.mock import ANY

import pytest

from tests.conftest import SEED_ID
from tests.hardening.support import REPO, child_env
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


def test_ask_says_plainly_that_nothing_answers_a_text_without_a_content_word(seed_index: Path):
    run = qa("ask", "???", "--index-dir", seed_index, cwd=seed_index.parent)
    assert (run.returncode, run.stdout) == (0, "Not in the articles.\n")


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
    ({"QA_PORT": "70000"}, ("QA_PORT", "65535")),
    ({"QA_MAX_QUESTION_CHARS": "-1"}, ("QA_MAX_QUESTION_CHARS",)),
    ({"QA_RELOAD_CHECK_SECONDS": "-1"}, ("QA_RELOAD_CHECK_SECONDS",)),
])
def test_a_setting_that_does_not_fit_is_a_one_line_error(seed_index: Path, env: dict[str, str], words: tuple):
    assert_one_line_error(qa("ask", ANSWERABLE, "--index-dir", seed_index, cwd=seed_index.parent, env=env), *words)


@pytest.mark.parametrize("value", ["2", "-0.1", "high"])
def test_a_threshold_flag_outside_0_to_1_is_refused_by_the_parser(seed_index: Path, value: str):
    run = qa("ask", ANSWERABLE, "--index-dir", seed_index, "--threshold", value, cwd=seed_index.parent)
    assert run.returncode == 2
    assert_one_line_error(run, "--threshold", "(see 'qa ask --help')")


def damaged_copy(seed_index: Path, tmp_path: Path, damage: str) -> Path:
    """A copy of the seed index with one kind of damage: a generation file cut short, or a manifest field that
    has the wrong type or value, or the index folder a plain file."""
    index_dir = tmp_path / "index"
    if damage == "index folder is a file":
        index_dir.write_text("not an index")
        return index_dir
    shutil.copytree(seed_index, index_dir)
    manifest = json.loads((index_dir / "manifest.json").read_text())
    if damage.startswith("manifest "):
        field, value = damage.removeprefix("manifest ").split("=")
        (index_dir / "manifest.json").write_text(json.dumps(manifest | {field: json.loads(value)}))
    else:
        with open(index_dir / manifest["generation"] / damage, "r+b") as f:
            f.truncate(7)
    return index_dir


@pytest.mark.parametrize("damage", ["index.sqlite", "passages.faiss", "sentences.f16", "vectors.json",
                                    "encoder.onnx", "tokenizer.json", 'manifest generation=null',
                                    'manifest generation="../.."', "manifest dimension=10",
                                    "index folder is a file"])
def test_a_damaged_index_is_a_one_line_error_saying_to_rebuild_it(seed_index: Path, tmp_path: Path, damage: str):
    index_dir = damaged_copy(seed_index, tmp_path, damage)
    run = qa("ask", ANSWERABLE, "--index-dir", index_dir, cwd=tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stderr, run.stderr
    error = run.stderr.strip().splitlines()[-1]  # a damaged encoder.onnx is first warned about as its int8 copy fails
    assert error.startswith("qa: error: ") and str(index_dir) in error, run.stderr


@pytest.mark.parametrize("command", ["ask", "serve"])
def test_a_weights_file_that_cannot_be_read_is_a_one_line_error(seed_index: Path, tmp_path: Path, command: str):
    (tmp_path / "weights.json").write_text("")
    run = qa(*([command, ANSWERABLE] if command == "ask" else [command]), "--index-dir", seed_index, cwd=tmp_path,
             env={"QA_WEIGHTS_FILE": str(tmp_path / "weights.json")})
    assert_one_line_error(run, "weights file", "weights.json")


@pytest.mark.parametrize(("name", "line", "words"), [
    ("questions.jsonl", "{not json", ("questions.jsonl:1", "invalid JSON")),
    ("questions.jsonl", json.dumps({"id": "q", "question": "How many?", "answers": "1,100", "article_id": SEED_ID,
                                    "paragraph_index": 0}), ("questions.jsonl:1", '"answers"')),
    ("questions.jsonl", json.dumps({"id": "q", "answers": []}), ("questions.jsonl:1", '"question"')),
    ("conversations.jsonl", "{}", ("conversations.jsonl:1", '"turns"')),
    ("questions.jsonl", json.dumps({"id": "q", "question": "Who?"}),
     ("questions.jsonl:1", '"answers" and "article_id"')),
])
def test_a_dataset_line_that_cannot_be_read_is_a_one_line_error_naming_it(seed_index: Path, tmp_path: Path,
                                                                          name: str, line: str, words: tuple):
    (tmp_path / name).write_text(line + "\n")
    assert_one_line_error(qa("eval", tmp_path, "--index-dir", seed_index, cwd=tmp_path), *words)


def test_a_question_over_the_length_limit_is_refused_as_the_api_refuses_it(seed_index: Path):
    run = qa("ask", "Why? " * 30, "--index-dir", seed_index, cwd=seed_index.parent,
             env={"QA_MAX_QUESTION_CHARS": "100"})
    assert_one_line_error(run, "150 characters", "QA_MAX_QUESTION_CHARS")


def test_an_even_or_odd_split_needs_the_articles_file_that_numbers_the_articles(seed_index: Path, dataset: Path):
    run = qa("eval", dataset, "--articles", "odd", "--index-dir", seed_index, cwd=seed_index.parent)
    assert_one_line_error(run, "articles.jsonl", "does not exist")


def test_eval_warns_when_no_article_of_the_dataset_is_in_the_index(seed_index: Path, tmp_path: Path):
    (tmp_path / "questions.jsonl").write_text(json.dumps({"id": "q", "question": ANSWERABLE, "answers": ["1,100"],
                                                          "article_id": "elsewhere/1", "paragraph_index": 0}) + "\n")
    run = qa("eval", tmp_path, "--index-dir", seed_index, cwd=tmp_path)
    assert run.returncode == 0 and run.stdout.startswith("1 questions")
    assert run.stderr.startswith("qa: warning: none of the 1 articles") and "--index-dir" in run.stderr


def test_eval_of_a_file_says_to_pass_the_dataset_folder(seed_index: Path, dataset: Path):
    run = qa("eval", dataset / "questions.jsonl", "--index-dir", seed_index, cwd=seed_index.parent)
    assert_one_line_error(run, "is not a folder")


@pytest.mark.parametrize("flags", [("--top-k", "0"), ("--top-k", "11"), ("--top-k", "two")])
def test_a_top_k_outside_1_to_10_is_refused_by_the_parser(seed_index: Path, flags: tuple[str, str]):
    run = qa("ask", ANSWERABLE, "--index-dir", seed_index, *flags, cwd=seed_index.parent)
    assert run.returncode == 2
    assert_one_line_error(run, "--top-k", "(see 'qa ask --help')")


@pytest.mark.parametrize("args", [("serve", "--port", "99999"), ("eval",), ("ask", "x", "--bogus"), ("frobnicate",)])
def test_a_usage_mistake_is_one_line_pointing_at_the_help(args: tuple[str, ...], tmp_path: Path):
    run = qa(*args, cwd=tmp_path)
    assert run.returncode == 2
    assert_one_line_error(run, "--help")


def test_output_into_a_closed_pipe_ends_quietly(seed_index: Path):
    command = [sys.executable, "-m", "qa.cli", "ask", ANSWERABLE, "--index-dir", str(seed_index)]
    with subprocess.Popen(command, cwd=REPO, env=child_env(PYTHONPATH=str(REPO)), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        process.stdout.close()  # the reader goes away before the answer is printed, as `| head -0` would
        stderr = process.stderr.read().decode()
        assert process.wait(timeout=120) != 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


@pytest.mark.parametrize(("content", "expected"), [
    (b'{"id": "q", "question": "Caf\xe9?", "answers": ["x"], "article_id": "a", "paragraph_index": 0}\n',
     "not UTF-8 text"),
    (b"", "has no questions"),
])
def test_eval_of_a_questions_file_it_cannot_use_is_a_one_line_error(seed_index: Path, tmp_path: Path,
                                                                     content: bytes, expected: str):
    (tmp_path / "questions.jsonl").write_bytes(content)
    run = qa("eval", tmp_path, "--index-dir", seed_index, cwd=tmp_path)
    assert_one_line_error(run, "questions.jsonl", expected)


def test_eval_reads_a_questions_file_with_a_byte_order_mark(seed_index: Path, dataset: Path, tmp_path: Path):
    (tmp_path / "questions.jsonl").write_bytes((dataset / "questions.jsonl").read_text().encode("utf-8-sig"))
    run = qa("eval", tmp_path, "--index-dir", seed_index, "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["questions"] == 2
    assert report["balanced_accuracy"] == round(report["balanced_accuracy"], 4)
