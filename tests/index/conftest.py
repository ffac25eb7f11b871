"""Fixtures for the index tests: small article folders written into tmp dirs, and real builds of them.

Builds use the real bundled model (exported once to ONNX in the cache) and real FAISS; a build of a
corpus this small takes a second or two, so the mixed corpus is built once per session and shared.
"""

from __future__ import annotations

import errno
import os
import pathlib
from pathlib import Path

import pytest

from index.build import BuildSummary, build_index
from qa.settings import Settings
from tests.index.index_corpus import Build, MixedBuild, write_mixed_corpus


@pytest.fixture(scope="session")
def build() -> Build:
    """Run a real build (bundled model, real FAISS) of `paths` into `index_dir`."""
    settings = Settings()

    def run(paths: list[Path], index_dir: Path) -> BuildSummary:
        return build_index(paths, index_dir, settings.model, settings.cache_dir, progress=False)

    return run


@pytest.fixture(scope="session")
def mixed_build(tmp_path_factory: pytest.TempPathFactory, build: Build) -> MixedBuild:
    """One real build of the mixed corpus; the read of bad/locked.txt fails with EACCES (as for a file the
    build may not read: chmod 000 cannot stop root, which the tests may run as)."""
    root = tmp_path_factory.mktemp("mixed")
    corpus = root / "corpus"
    expected = write_mixed_corpus(corpus)
    real_read_bytes = pathlib.Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.txt":
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real_read_bytes(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pathlib.Path, "read_bytes", read_bytes)
        summary = build([corpus], root / "index")
    return MixedBuild(corpus, root / "index", summary, expected)
