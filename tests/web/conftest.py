"""Fixtures for the web tests: apps over real indexes (real model, real FAISS), driven with TestClient.

One app over the seed index is shared by the whole session (loading is the slow part); tests that need
their own index (hostile text, hot swap, no index) build a tiny corpus into tmp_path.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # `tests.web.web_corpus` must import whether or not tests/ is a package
    sys.path.insert(0, str(REPO))

from qa.answerer import Answerer  # noqa: E402
from qa.settings import Settings  # noqa: E402
from tests.web.web_corpus import HOSTILE_CORPUS, make_index, write_jsonl  # noqa: E402
from web.app import create_app  # noqa: E402


@pytest.fixture(scope="session")
def seed_answerer(seed_settings: Settings) -> Answerer:
    return Answerer.load(seed_settings)


@pytest.fixture(scope="session")
def client(seed_settings: Settings, seed_answerer: Answerer) -> Iterator[TestClient]:
    """The app over the seed index, shared by the session (tests must not change its settings)."""
    with TestClient(create_app(seed_settings, seed_answerer)) as c:
        yield c


@pytest.fixture(scope="session")
def hostile_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-article index whose first article's title, text, byline and url are hostile HTML/JS."""
    root = tmp_path_factory.mktemp("hostile")
    return make_index([write_jsonl(root / "corpus" / "articles.jsonl", HOSTILE_CORPUS)], root / "index")


@pytest.fixture(scope="session")
def hostile_client(hostile_index: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(index_dir=hostile_index))) as c:
        yield c


@pytest.fixture
def app_client() -> Callable[..., AbstractContextManager[TestClient]]:
    """`with app_client(settings) as c:` an app of its own (its lifespan loads the index and polls it)."""

    @contextmanager
    def make(settings: Settings, answerer: object | None = None) -> Iterator[TestClient]:
        with TestClient(create_app(settings, answerer)) as c:  # type: ignore[arg-type]
            yield c

    return make
