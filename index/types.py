"""Types that cross module boundaries: what an article is once parsed and chunked."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """One parsed article: metadata plus body paragraphs (title and metadata lines excluded)."""

    article_id: str
    title: str
    paragraphs: tuple[str, ...]
    byline: str | None = None
    date: str | None = None
    url: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class Skipped:
    """A file (or JSON line) that could not be read, and why."""

    where: str
    reason: str


def first_of_each_id(located: Iterable[tuple[Article | Skipped, str]],
                     seen: set[str] | None = None) -> Iterator[Article | Skipped]:
    """Articles (each with where it was read), a repeated id skipped where it repeats; `seen` carries the ids
    already kept across calls (the files of one build)."""
    seen = set() if seen is None else seen
    for item, where in located:
        if isinstance(item, Article):
            if item.article_id in seen:
                item = Skipped(where, f"duplicate article id {item.article_id!r} (the first one read is kept)")
            else:
                seen.add(item.article_id)
        yield item


@dataclass(frozen=True)
class Sentence:
    """A sentence as a character range [start, end) of its paragraph's text."""

    start: int
    end: int


@dataclass(frozen=True)
class Passage:
    """What gets embedded: a window of whole sentences of one paragraph, [start, end) in its text."""

    paragraph_index: int
    start: int
    end: int
    sentences: tuple[Sentence, ...] = field(default=())
