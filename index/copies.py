"""Copies: the same article text under another name (file, format or title) is indexed once, or it would answer and
be cited twice."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from index.types import Article, Skipped

# File names that say "a copy of another file": read last, so that of two files with the same text the one under
# the original name is indexed ("story (1)", "story(1)", "story - Copy", "story copy 2", "Copy of story",
# "Copy (2) of story"). Only the file's own name is looked at, not its folders'.
COPY_NAME = re.compile(r"\s?\(\d{1,2}\)$|(?:\s-\s|\s|_)copy(?:\s?\(?\d{1,2}\)?)?$|^copy(?:\s\(\d{1,2}\))?\sof\s",
                       re.IGNORECASE)
MIN_CHARS = 200


def text_key(paragraphs: list[str]) -> str | None:
    """What tells copies of an article apart from other articles: its paragraphs, whitespace aside; None for a
    text under `MIN_CHARS` characters, too short to call another article its copy ("More details to follow.")."""
    text = "\x1f".join(" ".join(p.split()) for p in paragraphs if p.strip())
    return hashlib.sha256(text.encode()).hexdigest() if len(text) >= MIN_CHARS else None


def copy_skipped(where: str, article_id: str, holder: str) -> Skipped:
    """The report of an article skipped as a copy of `holder`."""
    return Skipped(where, f"article {article_id!r} has the same text as {holder!r}, which is indexed "
                          f"(a copy is indexed once)")


class Texts:
    """Which articles hold each text in the index being written (an index may hold a text twice if it was built
    before copies were looked for: both stay)."""

    def __init__(self, held: Iterable[tuple[str, list[str]]] = ()) -> None:
        self._holders: dict[str, set[str]] = {}
        self._key_of: dict[str, str] = {}
        for article_id, paragraphs in held:
            self._hold(article_id, text_key(paragraphs))

    def claim(self, article: Article) -> str | None:
        """None when `article` may be indexed: its text is now held by it, and the text it held before (an
        edited article's) is given up. Else the id of another article holding its text: `article` is a copy of
        it, and nothing changes."""
        key = text_key(article.paragraphs)
        holders = self._holders.get(key, set()) if key else set()
        if holders and article.article_id not in holders:
            return min(holders)
        self._release(article.article_id)
        self._hold(article.article_id, key)
        return None

    def _hold(self, article_id: str, key: str | None) -> None:
        if key:
            self._holders.setdefault(key, set()).add(article_id)
            self._key_of[article_id] = key

    def _release(self, article_id: str) -> None:
        key = self._key_of.pop(article_id, None)
        if key:
            self._holders[key].discard(article_id)
            if not self._holders[key]:
                del self._holders[key]
