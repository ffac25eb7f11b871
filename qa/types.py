"""The answer object of the contract, as frozen dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Citation:
    """Where an answer (or a close passage) comes from: `text[start:end]` is the cited span; `date` is the
    article's date, when it gives one (YYYY-MM-DD for text and HTML articles, as given for JSON ones)."""

    n: int
    article_id: str
    title: str
    url: str | None
    paragraph_index: int
    text: str
    start: int
    end: int
    score: float
    date: str | None = None


@dataclass(frozen=True)
class Answer:
    """What `/api/ask` returns. `answer` is verbatim from `citations[0].text` when `found`."""

    found: bool
    answer: str | None
    short_answer: str | None
    confidence: float
    citations: tuple[Citation, ...]
    session_id: str
    took_ms: float

    def to_dict(self) -> dict:
        return asdict(self)
