"""Types that cross module boundaries: what an article is once parsed and chunked."""

from __future__ import annotations

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
