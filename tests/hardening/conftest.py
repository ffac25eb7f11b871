"""Fixtures of the hardening tests: a generated news corpus, its real index, a real `qa serve` over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import make_index
from tests.hardening.support import (
    EVIL,
    TRAVERSAL,
    NewsArticle,
    Server,
    news_articles,
    warm_up,
    write_news_corpus,
)

NEWS_COUNT = 40


@pytest.fixture(scope="session")
def news() -> list[NewsArticle]:
    return news_articles(NEWS_COUNT)


@pytest.fixture(scope="session")
def news_corpus(news: list[NewsArticle], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 40 generated articles, plus one with hostile markup in every field and one whose id is a path."""
    return write_news_corpus(tmp_path_factory.mktemp("news") / "corpus", news, [EVIL, TRAVERSAL])


@pytest.fixture(scope="session")
def news_index(news_corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real index (bundled model, real FAISS) of the news corpus; never modified by tests."""
    return make_index([news_corpus], tmp_path_factory.mktemp("news-index") / "index")


@pytest.fixture(scope="session")
def live(news_index: Path, news: list[NewsArticle], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`qa serve` over the news index, default host and settings (tests must not change its state)."""
    with Server(news_index, tmp_path_factory.mktemp("live") / "serve.log") as server:
        warm_up(server.port, news)
        yield server
