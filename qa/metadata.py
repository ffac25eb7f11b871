"""Questions about an article rather than about what it reports ("Who wrote the solar farm article?", "When was
this story published?", "Where can I read the original?"), and the article header they are answered from."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from qa.spans import YEAR

# The `paragraph_index` of a citation of an article's header: its byline, date, source and url
HEADER = -1


class Field(StrEnum):
    AUTHOR = "author"
    DATE = "date"
    YEAR = "year"
    SOURCE = "source"
    URL = "url"


class Reference(StrEnum):
    """How a question points at its article: by its topic ("the solar farm article"), as "this article", by a
    pronoun ("Who wrote it?") or not at all ("Author?")."""

    TOPIC = "topic"
    THIS = "this"
    PRONOUN = "pronoun"
    BARE = "bare"


# What a question calls an article ("the solar farm article", "this story", "the piece about ...", "the obituary", "the
# match report"), not "post-war",
# "a short story", "the story of the film", "the news conference"
_GENERIC = (r"news\s+(?:article|story|item|piece|report)|article|artcle|artical|articel|story|piece|post|write-?up|"
            r"column|live\s?blog|blog\s?post|blog|news(?=\s*$|\s+(?:about|on)\s)")
# Kinds of article, which may tell which one is meant ("the obituary" of a folder with one): words of its topic
_KIND = r"obituary|obit|match\s+report|editorial|op-?ed|opinion\s+piece"
_NOUN = rf"(?<![\w\-])(?<!short\s)(?:{_GENERIC}|{_KIND})(?![\w\-])(?!\s+of\b)"
_NAMES_ARTICLE = re.compile(rf"{_NOUN}|^\s*this(?:\s+one)?\s*$", re.IGNORECASE)
_PRONOUN = re.compile(r"^\s*(?:it|that(?:\s+one)?)\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"\b(?:original|online|full\s+(?:text|version|story|article))\b", re.IGNORECASE)
# Works a pronoun may stand for instead of the article: after "Who wrote the novel Small Island?", "When was it
# published?" asks about the novel
_WORK = re.compile(r"\b(?:novels?|books?|reports?|letters?|songs?|album|films?|movie|play|poems?|papers?|study|"
                   r"survey|statement|document|bill|law|script|memo|e-?mail|speech|plan|manifesto|budget|opera|"
                   r"series|show|programme|program|lyrics|code|guide|magazine|comic|painting|photos?|picture|"
                   r"image|video|tweet|post|lawsuit|claim|complaint|petition|warrant|product)\b", re.IGNORECASE)
# Words that ask about an article whatever "it" was: after "When did the bridge close?", "How old is it?" and "When
# did it go up?" ask about the bridge, "When was it published?" about the article
_PLAINLY = re.compile(r"\b(?:wrote|written|authored|penned|published|posted|byline|author|writer|url|link|"
                      r"dateline|publication)\b", re.IGNORECASE)
# What may open a question before what it asks: "so", "hey", "can you tell me", "give me", "what about"
_FILLER = re.compile(r"^\s*(?:(?:hey|hi|so|and|ok(?:ay)?|well|now|also|then|but|please)\b[,\s]*)*"
                     r"(?:(?:can|could|would)\s+you\s+(?:please\s+)?(?:tell|show|give|send)\s+me|do\s+you\s+know|"
                     r"i(?:'d|’d|\s+would)\s+like\s+to\s+know|i\s+(?:want|need)(?:\s+to\s+know)?|"
                     r"(?:tell|show|give|send)\s+me|can\s+i\s+(?:get|have|see)|what\s+about|how\s+about)?[,\s]*",
                     re.IGNORECASE)
_WHO = r"(?:who(?:'?s|’s|\s+is|\s+was)?|what(?:'?s|’s|\s+is|\s+was)?)"
_OF = r"\s+(?:of|for|on|behind|to|about)\s+"
_PUBLISHED_WORD = r"(?:published|written|posted|dated|released|filed|put\s+out)"
_PUBLISHED = (rf"(?:get\s+|first\s+)?(?:{_PUBLISHED_WORD}|(?:come|came)\s+out|run|ran|go\s+up|went\s+up|"
              r"appear(?:ed)?|from)")
_SOURCE_NOUN = (r"(?:newspaper|paper|site|website|web\s*site|publication|(?:news\s+)?outlet|news\s+organi[sz]ation|"
                r"(?:news\s+)?agency|publisher)")
_URL_NOUN = r"(?:url|link|web\s*address|web\s*page|original\s+(?:url|link|source|article|story))"
_END = r"(?:,? ?(?:please|pls|plz))? ?[?.!]* ?$"  # on text with single spaces (see `metadata_question`)
# (pattern, field, what the rest of the question must name when it names anything: "article", an article ("Who is
# the author of the novel Small Island?" asks about a book, "Who wrote about the great pestilence?" about the text);
# "original", an article or its original ("Where can I read the original?"); "after": nothing, and only after a
# question about the article ("And when?" after "Who wrote the bridge story?"); "same": an article named by its topic,
# and only after a question about an article, whose field it asks about again ("And the library one?" after "Who
# wrote the solar farm article?")). Before "by", another participle than
# "written" and the like asks about the story: "Who was the painting stolen by?"
_PATTERNS: tuple[tuple[re.Pattern[str], Field | None, str], ...] = tuple(
    (re.compile(pattern + _END, re.IGNORECASE), kind, rest)
    for pattern, kind, rest in (
        (r"who\s+(?:wrote|writes|authored|penned|filed|covered(?!.*\bup\b))\s+(?P<rest>.+?)", Field.AUTHOR,
         "article"),
        (r"(?:which|what)\s+(?:reporter|journalist|writer|correspondent)\s+(?:wrote|covered|filed|reported)"
         r"\s+(?P<rest>.+?)", Field.AUTHOR, "article"),
        (r"who\s+reported\s+(?P<rest>(?:(?!\bto\b).)+?)", Field.AUTHOR, "article"),
        (rf"{_WHO}\s+the\s+(?:reporter|journalist|byline)(?:{_OF}(?P<rest>.+?))?", Field.AUTHOR, "article"),
        (rf"{_WHO}\s+the\s+(?:author|writer)(?:{_OF}(?P<rest>.+?))", Field.AUTHOR, "article"),
        (rf"(?:the\s+)?(?:author|writer|byline|reporter|journalist)(?:{_OF}(?P<rest>.+?))?", Field.AUTHOR, "article"),
        (r"who(?:'?s|’s|\s+is|\s+was)\s+(?P<rest>.+?)(?<!ed)(?<!en)(?<!wn)\s+(?:(?:written|reported|filed|authored)\s+)?by",
         Field.AUTHOR, "article"),
        (r"who\s+(?P<rest>.+?)\s+(?:was|is)\s+(?:written|reported|filed|authored)\s+by", Field.AUTHOR, "article"),
        (r"by\s+whom\s+(?:is|was)\s+(?P<rest>.+?)(?:\s+written)?", Field.AUTHOR, "article"),
        (r"whose\s+(?P<rest>.+?)", Field.AUTHOR, "article"),
        (rf"(?:what|which)\s+year\s+(?:was|is|did)\s+(?P<rest>.+?)\s+{_PUBLISHED}", Field.YEAR, "article"),
        (rf"when\s+(?:was|were|is|did)\s+(?P<rest>.+?)\s+{_PUBLISHED}", Field.DATE, "article"),
        (rf"when\s+(?P<rest>.+?)\s+(?:was|were|came|went|got|is)\s+(?:{_PUBLISHED_WORD}|out|up)", Field.DATE,
         "article"),
        (rf"(?:what|which)\s+(?:date|day)\s+(?:was|is|did)\s+(?P<rest>.+?)\s+{_PUBLISHED}", Field.DATE, "article"),
        (r"what\s+date\s+is\s+(?:on\s+)?(?P<rest>.+?)", Field.DATE, "article"),
        (rf"(?:{_WHO}\s+)?(?:the\s+)?(?:date|publication\s+date|date\s+of\s+publication|dateline)"
         rf"(?:{_OF}(?P<rest>.+?))?", Field.DATE, "article"),
        (r"how\s+old\s+is\s+(?P<rest>.+?)", Field.DATE, "article"),
        (r"(?:and\s+)?when(?P<rest>)", Field.DATE, "after"),
        (r"(?:where|how)\s+can\s+i\s+(?:read|find|see|get)\s+(?P<rest>.+?)", Field.URL, "original"),
        (rf"(?:{_WHO}\s+)?(?:the\s+)?{_URL_NOUN}(?:{_OF}(?P<rest>.+?))?", Field.URL, "article"),
        (rf"(?:{_WHO}\s+)?(?:the\s+)?(?:source|{_SOURCE_NOUN})(?:{_OF}(?P<rest>.+?))?", Field.SOURCE, "article"),
        (rf"(?:which|wich|what)\s+{_SOURCE_NOUN}(?:\s+(?:published|ran|carried|wrote|posted|is|was|did)\s+"
         rf"(?P<rest>.+?)(?:\s+(?:from|in|on|come\s+from|run\s+in|appear\s+in))?)?", Field.SOURCE, "article"),
        (r"who\s+(?:published|ran|carried|posted)\s+(?P<rest>.+?)", Field.SOURCE, "article"),
        (r"is\s+there\s+an?\s+(?:source|link|url|original)\s+(?:for|to|of)\s+(?P<rest>.+?)", Field.URL, "article"),
        (r"where\s+(?:was|is|did)\s+(?P<rest>.+?)\s+(?:first\s+)?(?:published|posted|from|come\s+from|appear|"
         r"run)", Field.SOURCE, "article"),
        (rf"(?P<rest>(?:the|that)\s+(?:(?:(?!\bof\b).)+?\s+)?(?:one|{_NOUN})(?:\s+(?:about|on)\s+.+?)?)", None,
         "same"),
    )
)
_YEAR = re.compile(rf"(?<![0-9]){YEAR}(?![0-9])")
# "an article about Tesla" is one the text tells of, not the one it is
_SOME = re.compile(r"\s*an?\s", re.IGNORECASE)
# The words around an article's topic in the rest: "the", "this", the noun, "about", "on", "pls" ...
_AROUND_TOPIC = re.compile(rf"(?<![\w\-])(?:{_GENERIC}|(?<=match\s)report|(?<=opinion\s)piece)(?![\w\-])|"
                           r"\b(?:the|this|that|these|those|its|their|it|one|about|on|regarding|concerning|covering|of|"
                           r"in|which|says|said|written|published|up|original|online|full|is|was|by|please|pls|plz|"
                           r"news)\b", re.IGNORECASE)

# A topic that names no article of its own: "the other one", "the first story"
_VAGUE = re.compile(r"(?:(?:other|another|next|previous|last|first|second|third|same|new|old|latest|left|right|top|"
                    r"bottom|above|below|earlier|later)\b\s*)*", re.IGNORECASE)


@dataclass(frozen=True)
class MetadataQuestion:
    """What a question about an article asks (`field`), how it points at the article, and the words it names it
    by (`topic`: empty but for `Reference.TOPIC`)."""

    field: Field
    reference: Reference
    topic: str = ""


def metadata_question(text: str, previous: str | None = None, after: Field | None = None) -> MetadataQuestion | None:
    """The question as one about an article's author, date, source or url; None for any other question.
    `previous`: the question before it in the conversation, when that one asked about what an article reports:
    after it, a question pointing at nothing ("Source?") or by a pronoun ("How old is it?") asks about the article
    only in words that say so (`_PLAINLY`: "When was it published?"), and not after a question about a book or a
    report ("Who wrote it?" after "Which novel won?"). `after`: what the question before it asked about an article,
    if it did; "And the library one?" then asks it of another article."""
    text = " ".join(text.split())  # single spaces: no pattern backtracks over a run of them
    text = text[_FILLER.match(text).end():]  # type: ignore[union-attr]  # the filler may match nothing
    for pattern, kind, needs in _PATTERNS:
        match = pattern.match(text)
        if match is None or (needs in ("after", "same") and after is None):
            continue
        rest = (match.group("rest") or "").strip()
        if needs == "same":
            topic = " ".join(_AROUND_TOPIC.sub(" ", rest).split())
            return MetadataQuestion(after, Reference.TOPIC, topic) if after and not _VAGUE.fullmatch(topic) else None
        reference = _reference(rest)
        if _SOME.match(rest) or (rest and reference is Reference.TOPIC and not _names_article(rest, needs)):
            return None
        if reference in (Reference.PRONOUN, Reference.BARE) and previous \
                and (_WORK.search(previous) or not _PLAINLY.search(text)):
            return None
        topic = " ".join(_AROUND_TOPIC.sub(" ", rest).split()) if reference is Reference.TOPIC else ""
        return MetadataQuestion(kind, reference if topic or reference is not Reference.TOPIC else Reference.THIS,
                                topic)
    return None


def _reference(rest: str) -> Reference:
    if not rest:
        return Reference.BARE
    if _PRONOUN.match(rest):
        return Reference.PRONOUN
    return Reference.TOPIC


def _names_article(rest: str, needs: str) -> bool:
    return bool(_NAMES_ARTICLE.search(rest) or (needs == "original" and _ORIGINAL.search(rest)))


@dataclass(frozen=True)
class Header:
    """An article's metadata as one line ("By AFP · 2024-12-23 · https://..."), as the article page shows it, and
    where each field sits in it: (start, start of its value, end)."""

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
            if kind is Field.AUTHOR:
                value = by_line(value)
            spans[kind] = (start, start + 3 if kind is Field.AUTHOR else start, start + len(value))
            text += value
        return cls(text, spans)

    def answer(self, kind: Field) -> tuple[int, int, int, int] | None:
        """Where the answer to a question about `kind` sits: (start, end, short answer's start, end); None when
        the header does not give it. A year is read from an ISO date; a source is also told by the url's site."""
        if kind is Field.YEAR:
            span = self.spans.get(Field.DATE)
            if span is None:
                return None
            start, value, end = span
            year = _YEAR.search(self.text, value, end)
            return (start, end, *year.span()) if year else (start, end, value, end)
        if kind is Field.SOURCE and Field.SOURCE not in self.spans and Field.URL in self.spans:
            start, value, end = self.spans[Field.URL]
            site = _site(self.text[value:end])
            at = self.text.lower().find(site, value, end) if site else -1  # a host is matched lower-cased
            return (start, end, at, at + len(site)) if at >= 0 else (start, end, value, end)
        if kind not in self.spans:
            return None
        start, value, end = self.spans[kind]
        if kind is Field.AUTHOR:  # a byline kept whole (JSON, an older index): "Jane Doe | Staff Writer"
            end_of_name = self.text.find(" | ", value, end)
            return start, end, value, end if end_of_name < 0 else end_of_name
        return start, end, value, end


def by_line(byline: str) -> str:
    """A byline as a line that says so: "AFP" -> "By AFP" ("by jane doe" -> "By jane doe")."""
    return f"By {byline[3:] if byline[:3].lower() == 'by ' else byline}"


def _site(url: str) -> str:
    """The site of a url, without "www." ("https://www.reuters.com/x" -> "reuters.com")."""
    host = urlsplit(url).hostname or ""
    return host[4:] if host.startswith("www.") else host
