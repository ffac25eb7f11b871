"""Questions about an article rather than about what it reports ("Who wrote the solar farm article?", "When was
this story published?", "Where can I read the original?"), and the article header they are answered from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# The `paragraph_index` of a citation of an article's header: its byline, date, source and url
HEADER = -1


class Field(StrEnum):
    AUTHOR = "author"
    DATE = "date"
    SOURCE = "source"
    URL = "url"


# What a question calls an article ("the solar farm article", "this story", "the piece about ...")
_NOUN = r"(?:news\s+)?(?:article|story|stories|piece|item|post|write-?up|column|news)s?"
_NAMES_ARTICLE = re.compile(rf"\b{_NOUN}\b|^\s*this(?:\s+one)?\s*$", re.IGNORECASE)
_WHO = r"(?:who(?:'s|’s|\s+is|\s+was)?|what(?:'s|’s|\s+is|\s+was)?)"
_END = r"\s*[?.!]*\s*$"
# (pattern, field, whether the rest must name an article): a rest such as "the novel Small Island" in "Who is the
# author of the novel Small Island?" asks about a book, not about an article.
_PATTERNS: tuple[tuple[re.Pattern[str], Field, bool], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind, named)
    for pattern, kind, named in (
        (rf"^\s*who\s+(?:wrote|writes|authored|penned|filed|reported)\s+(?P<rest>.+?){_END}", Field.AUTHOR, True),
        (rf"^\s*{_WHO}\s+the\s+(?:author|writer|reporter|journalist|byline)(?:\s+(?:of|for|on|behind)\s+"
         rf"(?P<rest>.+?))?{_END}", Field.AUTHOR, True),
        (rf"^\s*who\s+(?:is|was)\s+(?P<rest>.+?)\s+(?:written\s+|reported\s+)?by{_END}", Field.AUTHOR, True),
        (rf"^\s*(?:by\s+whom|whose)\s+(?:is|was)\s+(?P<rest>.+?)(?:\s+written)?{_END}", Field.AUTHOR, True),
        (rf"^\s*when\s+(?:was|were|is)\s+(?P<rest>.+?)\s+(?:published|written|posted|dated|released|filed|"
         rf"put\s+out|from){_END}", Field.DATE, True),
        (rf"^\s*(?:what|which)\s+(?:date|day|year)\s+(?:was|is)\s+(?P<rest>.+?)\s+(?:published|written|posted|"
         rf"dated|released|filed|from){_END}", Field.DATE, True),
        (rf"^\s*{_WHO}\s+the\s+(?:date|publication\s+date|date\s+of\s+publication|dateline)(?:\s+(?:of|on|for)\s+"
         rf"(?P<rest>.+?))?{_END}", Field.DATE, True),
        (rf"^\s*how\s+old\s+is\s+(?P<rest>.+?){_END}", Field.DATE, True),
        (rf"^\s*(?:where|how)\s+can\s+i\s+(?:read|find|see|get)\s+(?:the\s+)?(?:original|full|source)"
         rf"(?:\s+(?:version|text|of|for))?(?:\s+(?P<rest>.+?))?{_END}", Field.URL, False),
        (rf"^\s*{_WHO}\s+the\s+(?:url|link|web\s+address|original\s+(?:url|link|source))(?:\s+(?:of|for|to)\s+"
         rf"(?P<rest>.+?))?{_END}", Field.URL, False),
        (rf"^\s*{_WHO}\s+the\s+source\s+(?:of|for)\s+(?P<rest>.+?){_END}", Field.SOURCE, True),
        (rf"^\s*(?:which|what)\s+(?:newspaper|paper|site|website|publication|outlet|news\s+organi[sz]ation)\s+"
         rf"(?:published|ran|carried|wrote|is|was)\s+(?P<rest>.+?)(?:\s+(?:from|in|on))?{_END}", Field.SOURCE, True),
    )
)
# "an article about Tesla" is one the text tells of, not the one it is
_SOME = re.compile(r"\s*an?\s", re.IGNORECASE)
# The words around an article's topic in the rest: "the", "this", the noun, "about", "on" ...
_AROUND_TOPIC = re.compile(rf"\b(?:the|this|that|these|those|its|their|it|one|{_NOUN}|about|on|regarding|"
                           r"concerning|covering|of|in|which|that|says|said|written|published)\b", re.IGNORECASE)


@dataclass(frozen=True)
class MetadataQuestion:
    """What a question about an article asks (`field`), and the words it names the article by (`topic`: empty for
    "this article")."""

    field: Field
    topic: str


def metadata_question(text: str) -> MetadataQuestion | None:
    """The question as one about an article's author, date, source or url; None for any other question."""
    for pattern, kind, named in _PATTERNS:
        match = pattern.match(text)
        if match is None:
            continue
        rest = match.group("rest") or ""
        if (named and rest and not _NAMES_ARTICLE.search(rest)) or _SOME.match(rest):
            return None
        return MetadataQuestion(kind, " ".join(_AROUND_TOPIC.sub(" ", rest).split()))
    return None


@dataclass(frozen=True)
class Header:
    """An article's metadata as one line ("By AFP · 2024-12-23 · https://..."), as the article page shows it, and
    where each field's value sits in it."""

    text: str
    spans: dict[Field, tuple[int, int, int]]

    @classmethod
    def of(cls, byline: str | None, date: str | None, source: str | None, url: str | None) -> Header:
        text, spans = "", {}
        for kind, value in ((Field.AUTHOR, byline), (Field.DATE, date), (Field.SOURCE, source), (Field.URL, url)):
            if not value:
                continue
            text += " · " if text else ""
            start = len(text)
            if kind is Field.AUTHOR and not value.lower().startswith("by "):
                text += "By "
            spans[kind] = (start, len(text), len(text) + len(value))
            text += value
        return cls(text, spans)

    def answer(self, kind: Field) -> tuple[int, int, int] | None:
        """Where the answer to a question about `kind` sits (start, start of its value, end): a source is also told
        by the url."""
        return self.spans.get(kind) or (self.spans.get(Field.URL) if kind is Field.SOURCE else None)
