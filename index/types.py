"""Types that cross module boundaries: what an article is once parsed and chunked."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from urllib.parse import urlsplit

_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> str:
    """`text` with each lone surrogate (a JSON escape such as "\\ud800", an undecodable byte of a file name) as
    U+FFFD: such text cannot be stored or printed as UTF-8. One code point for one, so offsets still hold."""
    return _SURROGATE.sub("\ufffd", text) if _SURROGATE.search(text) else text


class _Encodable:
    """Frozen dataclasses whose text fields (strings, tuples of strings) are made `encodable` on creation."""

    def __post_init__(self) -> None:
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if isinstance(value, str):
                object.__setattr__(self, f.name, encodable(value))
            elif isinstance(value, tuple) and all(isinstance(v, str) for v in value):
                object.__setattr__(self, f.name, tuple(encodable(v) for v in value))


def web_link(url: str | None) -> str | None:
    """The URL if it may become a link (absolute http or https), else None: no javascript:, data:, etc."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc and not any(c in url for c in "\r\n\t"):
        return url.strip()
    return None


@dataclass(frozen=True)
class Article(_Encodable):
    """One parsed article: metadata plus body paragraphs (title and metadata lines excluded); `url` only as a
    `web_link` (an article's "url: javascript:..." is not kept, so neither the API nor a page hands it on)."""

    article_id: str
    title: str
    paragraphs: tuple[str, ...]
    byline: str | None = None
    date: str | None = None
    url: str | None = None
    source: str | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "url", web_link(self.url))


@dataclass(frozen=True)
class Skipped(_Encodable):
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
