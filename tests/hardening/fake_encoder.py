"""`python -m tests.hardening.fake_encoder index build ...`: the real `qa` CLI with a fake encoder.

For tests of what a build reads, skips and holds in memory, where the embedding model is not under test and
would dominate the time (a multi-megabyte paragraph is thousands of passages: minutes on a shared 2-core
CPU). The fake gives each passage a unit vector from a hash of its text, and each sentence the vector of its
passage; everything else (discovery, decoding, parsing, chunking, SQLite, FAISS, BM25, the atomic swap) is
the real build.

As root, a file or folder whose mode grants no read permission is refused as it would be for any other user
(root reads anything, and tests run as root in containers). At exit the process prints its peak RSS on
stderr as `PEAK_RSS_KB=<n>`.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import resource
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import index.build
from index.encoder import CONFIG_FILE, EncoderConfig


class FakeEncoder:
    """The `index.encoder.Encoder` interface the build uses, with hash vectors."""

    def __init__(self, directory: Path, threads: int = 1, graph: Path | None = None, alone: bool = False) -> None:
        self.config = EncoderConfig(**json.loads((directory / CONFIG_FILE).read_text()))

    @property
    def dimension(self) -> int:
        return self.config.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            rng = np.random.default_rng(zlib.crc32(text.encode("utf-8", "surrogatepass")))
            vector = rng.standard_normal(self.dimension).astype(np.float32)
            vectors[row] = vector / np.linalg.norm(vector)
        return vectors

    def encode_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
                          ) -> tuple[np.ndarray, list[np.ndarray]]:
        vectors = self.encode(texts)
        return vectors, [np.repeat(vectors[row:row + 1], len(s), axis=0) for row, s in enumerate(spans)]


def _refuse_unreadable_as_root() -> None:
    """Make permission bits bind root too: reading a file (or listing a folder) with no read bit fails
    with EACCES, as it does for the non-root user a deployment runs as."""
    if os.geteuid() != 0:
        return

    def denied(path: os.PathLike | str) -> bool:
        try:
            return os.stat(path).st_mode & 0o444 == 0
        except OSError:
            return False

    real_read_bytes, real_scandir = pathlib.Path.read_bytes, os.scandir

    def read_bytes(self: Path) -> bytes:
        if denied(self):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(self))
        return real_read_bytes(self)

    def scandir(path: os.PathLike | str = ".") -> object:
        if denied(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return real_scandir(path)

    pathlib.Path.read_bytes = read_bytes  # type: ignore[method-assign]
    os.scandir = scandir  # type: ignore[assignment]


def main(argv: list[str]) -> int:
    from qa.cli import main as qa_main

    index.build.Encoder = FakeEncoder  # type: ignore[assignment,misc]
    _refuse_unreadable_as_root()
    try:
        return qa_main(argv)
    finally:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"PEAK_RSS_KB={peak}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
