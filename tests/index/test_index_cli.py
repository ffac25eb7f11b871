"""The `qa index` commands, run as a user runs them: exit 0 on success, else one line on stderr."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.hardening.support import child_env
from tests.index.index_corpus import REPO, plain_article, write


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def qa(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Run:
    environment = child_env(PYTHONPATH=str(REPO), **(env or {}))
    done = subprocess.run([sys.executable, "-m", "qa.cli", *map(str, args)], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=120)
    return Run(done.returncode, done.stdout, done.stderr)


def assert_one_line_error(run: Run, *words: str) -> None:
    assert run.returncode != 0
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("qa: error: ")
    for word in words:
        assert word in lines[0]


@dataclass(frozen=True)
class Built:
    workdir: Path
    corpus: Path
    index_dir: Path
    run: Run


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """`qa index build` of three articles and one empty file, into ./var/index (the default index dir)."""
    workdir = tmp_path_factory.mktemp("cli")
    corpus = workdir / "articles"
    write(corpus / "world" / "bridge.txt", plain_article("Bridge reopens", ["The bridge reopened on Tuesday.",
                                                                          "Repairs took eight months."]))
    write(corpus / "world" / "rain.txt", plain_article("Rain due", ["Rain is expected on Sunday."]))
    write(corpus / "prices.jsonl", json.dumps({"id": "prices", "title": "Bread", "paragraphs": ["£1.20."]}))
    write(corpus / "empty.txt", b"")
    run = qa("index", "build", "articles", cwd=workdir)
    return Built(workdir, corpus, workdir / "var" / "index", run)


def test_build_exits_0_and_prints_the_summary(built: Built) -> None:
    assert built.run.returncode == 0, built.run.stderr
    assert "Traceback" not in built.run.stderr
    out = built.run.stdout
    assert out.startswith("indexed 3 articles, 4 paragraphs, ")
    assert " s (" in out.splitlines()[0]
    assert "skipped 1:" in out
    assert f"{Path('articles') / 'empty.txt'}: empty file" in out


def qa_in_a_terminal(*args: str | Path, cwd: Path) -> tuple[int, str]:
    """`qa` with a pseudo-terminal as its stdin, stdout and stderr, as a person runs it: what it printed there."""
    controller, terminal = os.openpty()
    child = subprocess.Popen([sys.executable, "-m", "qa.cli", *map(str, args)], cwd=cwd,
                             env=child_env(PYTHONPATH=str(REPO), COLUMNS="100"),
                             stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    shown = bytearray()
    with contextlib.suppress(OSError):  # EIO once the child has closed the terminal
        while chunk := os.read(controller, 65536):
            shown += chunk
    os.close(controller)
    return child.wait(timeout=120), shown.decode("utf-8", "replace")


def test_a_build_and_an_add_run_in_a_terminal_show_progress_and_succeed(built: Built, tmp_path: Path) -> None:
    """With a terminal on stderr, the build draws a progress bar (it used to crash drawing the rate before the
    first file was done)."""
    code, shown = qa_in_a_terminal("index", "build", built.corpus, "--index-dir", tmp_path / "index", cwd=tmp_path)
    assert code == 0 and "Traceback" not in shown, shown
    assert "indexed 3 articles" in shown
    write(tmp_path / "more" / "snow.txt", plain_article("Snow falls", ["Snow fell on the hills overnight."]))
    code, shown = qa_in_a_terminal("index", "add", tmp_path / "more", "--index-dir", tmp_path / "index", cwd=tmp_path)
    assert code == 0 and "Traceback" not in shown, shown


def test_build_without_index_dir_writes_to_var_index(built: Built) -> None:
    assert (built.index_dir / "manifest.json").is_file()


def test_stats_after_a_build_shows_the_counts(built: Built) -> None:
    run = qa("index", "stats", "--index-dir", built.index_dir, cwd=built.workdir.parent)
    assert run.returncode == 0, run.stderr
    assert "all-MiniLM-L6-v2 (384 dimensions)" in run.stdout
    for line in ("articles:   3", "paragraphs: 4"):
        assert line in run.stdout


def test_stats_json_prints_the_manifest(built: Built) -> None:
    run = qa("index", "stats", "--json", cwd=built.workdir.parent, env={"QA_INDEX_DIR": str(built.index_dir)})
    assert run.returncode == 0, run.stderr
    manifest = json.loads(run.stdout)
    assert manifest["counts"]["articles"] == 3
    assert manifest == json.loads((built.index_dir / "manifest.json").read_text())


def test_build_of_a_missing_path_fails_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    run = qa("index", "build", tmp_path / "no-such-folder", "--index-dir", tmp_path / "index", cwd=tmp_path)
    assert_one_line_error(run, "no such file or directory", "no-such-folder")
    assert run.stdout == ""
    assert not (tmp_path / "index").exists()


def test_build_with_nothing_readable_fails_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / "junk" / "empty.txt", b"")
    run = qa("index", "build", tmp_path / "junk", "--index-dir", tmp_path / "index", cwd=tmp_path)
    assert_one_line_error(run, "no readable articles", "empty.txt: empty file")
    assert not (tmp_path / "index").exists(), "the index folder it made is removed again"
    run = qa("index", "build", tmp_path / "junk", "--index-dir", tmp_path / "new" / "deep" / "index", cwd=tmp_path)
    assert run.returncode == 1 and not (tmp_path / "new").exists(), "and the parents it made"
    (tmp_path / "kept").mkdir()
    run = qa("index", "build", tmp_path / "junk", "--index-dir", tmp_path / "kept", cwd=tmp_path)
    assert run.returncode == 1 and (tmp_path / "kept").is_dir(), "a folder that was there stays"


def test_an_index_folder_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    write(tmp_path / "corpus" / "a.txt", "Pier reopens\n\nThe pier reopened on Monday.\n")
    write(tmp_path / "a-file", "")
    run = qa("index", "build", tmp_path / "corpus", "--index-dir", tmp_path / "a-file" / "index", cwd=tmp_path)
    assert_one_line_error(run, "cannot make the index folder", "Not a directory")


def test_a_build_into_the_corpus_folder_itself_says_the_index_folder_is_not_read(tmp_path: Path) -> None:
    write(tmp_path / "corpus" / "a.txt", "Pier reopens\n\nThe pier reopened on Monday.\n")
    run = qa("index", "build", tmp_path / "corpus", "--index-dir", tmp_path / "corpus", cwd=tmp_path)
    assert_one_line_error(run, "no readable articles", "never read as articles")


@pytest.mark.parametrize("model", ["{tmp}/no-such-model", "./no-such-model", "some-org/no-such-model"])
def test_build_with_a_model_that_cannot_be_loaded_fails_with_one_line(tmp_path: Path, model: str) -> None:
    write(tmp_path / "a" / "story.txt", plain_article("Story", ["Body."]))
    run = qa("index", "build", tmp_path / "a", "--index-dir", tmp_path / "index",
             "--model", model.format(tmp=tmp_path), cwd=tmp_path)
    assert_one_line_error(run, "no-such-model")


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_stats_without_an_index_fails_with_one_line(tmp_path: Path, folder: str) -> None:
    if folder == "empty":
        (tmp_path / folder).mkdir()
    run = qa("index", "stats", "--index-dir", tmp_path / folder, cwd=tmp_path)
    assert_one_line_error(run, "no index")
    assert run.stdout == ""


def test_stats_with_a_corrupt_manifest_fails_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / "index" / "manifest.json", '{"format_version": 1, "generat')
    run = qa("index", "stats", "--index-dir", tmp_path / "index", cwd=tmp_path)
    assert_one_line_error(run, "manifest")


def test_stats_of_an_index_whose_generation_is_gone_fails_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / "index" / "manifest.json", json.dumps({
        "format_version": 1, "generation": "gen-20240101T000000000000", "model": "m", "dimension": 384,
        "counts": {"articles": 1}, "built_at": "2024-01-01T00:00:00+00:00", "build_seconds": 1.0}))
    run = qa("index", "stats", "--index-dir", tmp_path / "index", cwd=tmp_path)
    assert_one_line_error(run, "gen-20240101T000000000000", "missing")


def test_a_build_into_an_index_folder_that_is_a_file_fails_with_one_line(tmp_path: Path) -> None:
    write(tmp_path / "corpus" / "a.txt", "Pier reopens\n\nThe pier reopened on Monday.\n")
    write(tmp_path / "index", "not a folder")
    run = qa("index", "build", tmp_path / "corpus", "--index-dir", tmp_path / "index", cwd=tmp_path)
    assert_one_line_error(run, "is a file, not a folder")
