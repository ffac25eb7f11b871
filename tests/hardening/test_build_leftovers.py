"""What a build killed at any moment can leave in the index directory is removed by the next build: a
half-written generation (`gen-*.tmp/`) and a half-written manifest (`.manifest.json.<pid>.tmp`, left when
the kill comes between writing it and renaming it into place). The live index is never touched."""

from __future__ import annotations

import resource
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from index.store import MANIFEST, Manifest
from tests.hardening.support import PYTHON, REPO, child_env, run_build


def test_the_next_build_removes_every_kind_of_leftover_of_a_killed_build(news_index: Path, news_corpus: Path,
                                                                         tmp_path: Path):
    index_dir = tmp_path / "index"
    shutil.copytree(news_index, index_dir, symlinks=True)
    live = Manifest.read(index_dir)
    half_generation = index_dir / "gen-20240101T000000000000.tmp"
    (half_generation / "bm25").mkdir(parents=True)
    (half_generation / "index.sqlite").write_bytes(b"SQLite format 3\x00" + bytes(4096))
    (half_generation / "sentences.f16").write_bytes(bytes(768 * 10))
    half_manifest = index_dir / f".{MANIFEST}.99999.tmp"
    half_manifest.write_text('{"format_version": 1, "generation": "gen-2024')
    theirs = [index_dir / "gen-notes", index_dir / "gen-notes.tmp"]  # not a build's: a build leaves them be
    for folder in theirs:
        folder.mkdir()
        (folder / "mine.txt").write_text("keep me")

    assert Manifest.read(index_dir) == live  # neither leftover disturbs the live index
    result = run_build([news_corpus], index_dir, fake_encoder=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not half_generation.exists()
    assert not half_manifest.exists()
    manifest = Manifest.read(index_dir)
    assert manifest.generation != live.generation
    assert all((folder / "mine.txt").read_text() == "keep me" for folder in theirs)
    assert sorted(p.name for p in index_dir.iterdir() if p.name != ".lock") == sorted(
        [manifest.generation, MANIFEST, *(folder.name for folder in theirs)])


@pytest.mark.parametrize(("kib", "said"), [
    (64, "File too large"),  # a vector file's write fails
    (1, "could not write the new index"),  # SQLite's first pages fail: sqlite3.Error, not an OSError
])
def test_a_build_that_runs_out_of_space_leaves_the_live_index_and_no_partial_generation(
        news_index: Path, news_corpus: Path, tmp_path: Path, kib: int, said: str):
    index_dir = tmp_path / "index"
    shutil.copytree(news_index, index_dir, symlinks=True)
    live = Manifest.read(index_dir)

    def small_disk() -> None:  # writes past the limit fail with EFBIG, as on a full disk (not a kill)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (kib * 1024, kib * 1024))

    result = subprocess.run([PYTHON, "-m", "tests.hardening.fake_encoder", "index", "build", str(news_corpus),
                             "--index-dir", str(index_dir)], cwd=REPO, env=child_env(), capture_output=True,
                            text=True, timeout=120, check=False, preexec_fn=small_disk)
    assert result.returncode != 0
    assert said in result.stderr and "Traceback" not in result.stderr, result.stderr
    said_lines = [line for line in result.stderr.splitlines() if not line.startswith("PEAK_RSS_KB=")]
    assert len(said_lines) == 1, result.stderr  # one line (the fake encoder adds its peak memory)
    assert Manifest.read(index_dir) == live
    assert sorted(p.name for p in index_dir.iterdir() if p.name != ".lock") == [live.generation, MANIFEST]
