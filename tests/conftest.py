"""Shared fixtures: the seed article, small real indexes (real model, real FAISS), and ../shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# a developer's own answering settings must not change what the tests see: they answer as shipped
os.environ.pop("QA_ANSWER_THRESHOLD", None)
os.environ.pop("QA_WEIGHTS_FILE", None)

from index.build import build_index
from qa.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SEED_DIR = REPO / "examples" / "articles"
SEED_FILE = SEED_DIR / "000_d16ca97c03054509.txt"
SEED_ID = "000_d16ca97c03054509"
SHARED = REPO.parent / "shared"
CACHE_DIR = Path(os.environ.get("QA_CACHE_DIR", Path.home() / ".cache" / "article-qa"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared from the repo root; tests that need it skip with a reason when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"shared data not found at {SHARED} (only present on the team's machines)")
    return SHARED


@pytest.fixture(scope="session")
def cache_dir() -> Path:
    return CACHE_DIR


def make_index(paths: list[Path], index_dir: Path) -> Path:
    """Build a real index (bundled model, real FAISS) and return its directory."""
    build_index(paths, index_dir, Settings().model, CACHE_DIR, progress=False)
    return index_dir


def index_over(factory: pytest.TempPathFactory, articles: dict[str, str]) -> Path:
    """A real index of a few articles (file name without .txt -> text); its directory."""
    folder = factory.mktemp("articles")
    for name, text in articles.items():
        (folder / f"{name}.txt").write_text(text)
    return make_index([folder], factory.mktemp("index") / "index")


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An index of the demo seed article alone."""
    return make_index([SEED_DIR], tmp_path_factory.mktemp("seed-index") / "index")


@pytest.fixture(scope="session")
def seed_settings(seed_index: Path) -> Settings:
    return Settings(index_dir=seed_index)
