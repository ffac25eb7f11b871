"""What a build killed at any moment can leave in the index directory is removed by the next build: a
half-written generation (`gen-*.tmp/`) and a half-written manifest (`.manifest.json.<pid>.tmp`, left when
the kill comes between writing it and renaming it into place). The live index is never touched."""

from __future__ import annotations

import shutil
from pathlib import Path

from index.store import MANIFEST, Manifest
from tests.hardening.support import run_build


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

    assert Manifest.read(index_dir) == live  # neither leftover disturbs the live index
    result = run_build([news_corpus], index_dir, fake_encoder=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not half_generation.exists()
    assert not half_manifest.exists()
    manifest = Manifest.read(index_dir)
    assert manifest.generation != live.generation
    assert sorted(p.name for p in index_dir.iterdir() if p.name != ".lock") == [manifest.generation, MANIFEST]
