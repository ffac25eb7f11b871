"""Short answers: spans of a sentence that have the type a question asks for (number, date, name, ...)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from index.lexical import stem, word_spans, words

if TYPE_CHECKING:
    from qa.question import Question

# Months but May, which is also a name (Theresa May): no speaker is a month, but May may be
_MONTH_BUT_MAY = r"(?:January|February|March|April|June|July|August|September|October|November|December)"
MONTH_ABBREVIATION = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)"
_MONTH = rf"(?:{_MONTH_BUT_MAY}|May|{MONTH_ABBREVIATION})\.?"
WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
YEAR = r"(?:1[0-9]{3}|20[0-9]{2})"  # a year of the last thousand
_SPELLED_WORDS = (
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
    "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty", "fifty",
    "sixty", "seventy", "eighty", "ninety", "hundred", "a hundred", "a thousand", "dozens?", "a dozen", "hundreds",
    "thousands", "millions", "half",
)


def _by_first_letter(alternatives: tuple[str, ...]) -> str:
    """`(?:one|two|...)` written as `(?:o(?:ne)|t(?:wo|...)|...)`: the same matches (branches keep their order,
    and two first letters never match the same character), but the regex engine tries one branch per letter
    instead of every word, which halves the time the number patterns take."""
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        groups.setdefault(alternative[0], []).append(alternative[1:])
    return "(?:" + "|".join(f"{first}(?:{'|'.join(rest)})" for first, rest in groups.items()) + ")"


_SPELLED = _by_first_letter(_SPELLED_WORDS)
_NUM = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_SCALE = r"(?:\s?(?:million|billion|trillion|thousand|hundred|bn|m|k)\b)?"
_UNIT = (r"(?:\s(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|miles?|km|"
         r"kilometres?|kilometers?|metres?|meters?|feet|foot|inches|yards|tonnes?|tons?|kg|pounds|points?|"
         r"goals?|games?|matches|times|people|seats|votes|sq\s?mi|square\s(?:miles|kilometres|kilometers)))?")
_CURRENCY = r"(?:dollars|pounds|euros|yen|yuan|rupees|francs|US\s?dollars|\$|£|€|¥)"

PATTERNS: dict[str, re.Pattern[str]] = {
    "money": re.compile(
        rf"(?:US)?[$£€¥]\s?{_NUM}{_SCALE}|\b{_NUM}{_SCALE}\s?(?:{_CURRENCY}|p\b)|\b{_NUM}\s?(?:bn|m)\s{_CURRENCY}",
        re.IGNORECASE),
    "percent": re.compile(rf"\b{_NUM}\s?(?:%|per\s?cent|percent)|\b{_SPELLED}\s(?:per\s?cent|percent)",
                          re.IGNORECASE),
    "date": re.compile(
        rf"\b{_MONTH}\s{_DAY},?\s{YEAR}\b|\b{_DAY}\s(?:of\s)?{_MONTH},?\s{YEAR}\b|\b{_MONTH}\s{YEAR}\b"
        rf"|\b{_MONTH}\s{_DAY}\b|\b{_DAY}\s{_MONTH}\b|\b(?:early|mid|late)[- ]{YEAR}s?\b"
        rf"|\b{YEAR}s?(?:[–-]\d{{2,4}})?\b"
        rf"|\b{WEEKDAY}\b|\b\d{{1,2}}(?:st|nd|rd|th)\scentury\b"),
    "number": re.compile(rf"\b{_NUM}{_SCALE}(?:[–-]{_NUM})?{_UNIT}|\b{_SPELLED}\b{_UNIT}", re.IGNORECASE),
    # "the 25-year-old", "26 years old", "aged 59", "at the age of 60", "Mrs Hassan, 59,", "Manning was 39",
    # "515 million years"
    "age": re.compile(
        rf"\b(?:{_NUM}|{_SPELLED})(?:[\s-](?:million|billion))?[\s-](?:years?|months?|weeks?)(?:[\s-]old)?\b"
        rf"|(?:(?<=\b[Aa]ged )|(?<=\b[Aa]ge )|(?<=\b[Aa]ge of ))(?:{_NUM}|{_SPELLED})\b|(?<=[a-z], )\d{{1,3}}(?=,)"
        r"|(?:(?<=\bwas )|(?<=\bis )|(?<=\bturned )|(?<=\bturns ))\d{1,3}(?=[,.;)]*(?:\s|$)(?!per|million|billion))"),
    "name": re.compile(
        r"\b[A-Z][\w'’.\-]*(?:\s(?:of|the|de|del|da|di|du|van|von|der|den|la|le|al|bin|and|&)){0,2}"
        r"(?:\s[A-Z][\w'’.\-]*)*"),
}
TYPE_PATTERNS = {
    "money": ("money", "number"),
    "percent": ("percent", "number"),
    "number": ("number", "money", "percent"),
    "age": ("age",),
    "date": ("date",),
    "person": ("name",),
    "place": ("name",),
    "entity": ("name",),
    "other": (),
}
# Every spelled-out number `_SPELLED_WORDS` accepts contains one of these pieces ("fif" for fifteen and fifty, ...).
_SPELLED_PIECES = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twe",
                   "thir", "fif", "forty", "hundred", "thousand", "dozen", "million", "half")
_DIGIT = re.compile(r"\d")


def _may_be_number(sentence: str) -> bool:
    """False only when `sentence` has neither digits nor a spelled-out number (ASCII text is tested for the
    pieces of one in lower case: scanning `_SPELLED` case-insensitively is slow)."""
    if _DIGIT.search(sentence) or not sentence.isascii():
        return True
    lowered = sentence.lower()
    return any(piece in lowered for piece in _SPELLED_PIECES)


# Quick tests of what a sentence must contain for a pattern to match anywhere in it: most sentences hold no
# number, and the full patterns take tens of microseconds to scan one.
_MAY_MATCH: dict[str, Callable[[str], object]] = {
    "money": _DIGIT.search,  # every amount has digits
    "percent": re.compile(r"\d|per", re.IGNORECASE).search,
    "date": re.compile(r"\d|Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|day").search,  # months, weekdays
    "number": _may_be_number,
    "age": _may_be_number,
    "name": bool,  # any non-empty sentence may hold a name: nothing quicker to test
}
_CALENDAR = re.compile(rf"(?:{_MONTH}|{WEEKDAY})")
_LEADING_STOP = frozenset("the a an in on at by for from to of and but as with he she it they we i this that "
                          "these those his her its their after before when while if".split())


NEAR_WORDS = 3


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


def typed_spans(sentence: str, question: Question) -> list[Span]:
    """Spans of `sentence` of the type `question` asks for, leaving out words the question itself uses."""
    kinds = TYPE_PATTERNS[question.answer_type.value]
    if not kinds:
        return []
    asked = question.stems
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []
    for kind in kinds:
        for start, end, kept_start, stems in _matches(sentence, kind):
            if any(s < end and start < e for s, e in taken) or not stems or all(t in asked for t in stems):
                continue
            if kept_start is not None:
                spans.append(Span(kept_start, end, kind))
                taken.append((kept_start, end))
    return spans


def near_terms(sentence: str, spans: list[Span], wanted: Iterable[str], distance: int = NEAR_WORDS) -> bool:
    """Whether one of `spans` starts or ends within `distance` words of a word whose stem is in `wanted`."""
    if not spans:
        return False
    tokens = _tokens(sentence)
    wanted = frozenset(wanted)
    at = [i for i, (_, _, t) in enumerate(tokens) if t in wanted]
    if not at:
        return False
    for span in spans:
        inside = [i for i, (start, end, _) in enumerate(tokens) if start < span.end and span.start < end]
        if inside and any(abs(i - j) <= distance for i in (inside[0], inside[-1]) for j in at):
            return True
    return False


@lru_cache(maxsize=20_000)
def _tokens(sentence: str) -> tuple[tuple[int, int, str], ...]:
    """Each word of `sentence`: where it starts and ends, and its stem (cached: the same sentences come back)."""
    return tuple((start, end, stem(word)) for start, end, word in word_spans(sentence))


def typed_sentences(text: str, sentences: tuple[tuple[int, int], ...], question: Question) -> list[bool]:
    """For each sentence `text[start:end]`, whether `typed_spans` finds a span in it (the first span found
    cannot overlap an earlier one, so: whether some match has a word the question does not use) and, for a
    question asking a measure of one kind, what its answer holds (`Question.measure`: a unit of length, ...)."""
    measure = question.measure
    lacking = [measure is not None and not measure.search(text, start, end) for start, end in sentences]
    typed = [False] * len(sentences)
    asked = question.stems
    for kind in TYPE_PATTERNS[question.answer_type]:
        for k, first in enumerate(_first_candidates(text, sentences, kind)):
            if first is not None and not typed[k] and not lacking[k]:
                typed[k] = not asked.issuperset(first) or _has_new_words(text[slice(*sentences[k])], kind, asked)
    return typed


def _has_new_words(sentence: str, kind: str, asked: frozenset[str]) -> bool:
    """Whether a match of `kind` that can be a span has a word outside `asked`."""
    return any(not asked.issuperset(stems) for stems in _candidates(sentence, kind))


@lru_cache(maxsize=20_000)
def _first_candidates(text: str, sentences: tuple[tuple[int, int], ...], kind: str
                      ) -> tuple[tuple[str, ...] | None, ...]:
    """The stems of each sentence's first match of `kind` that can be a span (cached per paragraph: most
    questions stop at it, and the same paragraphs come back question after question)."""
    return tuple(next(_candidates(text[start:end], kind), None) for start, end in sentences)


def _candidates(sentence: str, kind: str) -> Iterator[tuple[str, ...]]:
    """The stems of each match that can be a span: one with words, and a name where a name is wanted."""
    return (stems for _, _, kept, stems in _each_match(sentence, kind) if kept is not None and stems)


@lru_cache(maxsize=100_000)
def _matches(sentence: str, kind: str) -> tuple[tuple[int, int, int | None, tuple[str, ...]], ...]:
    """Every match of one pattern (see `_each_match`). Independent of the question, so sentences that come
    back are not re-scanned."""
    return tuple(_each_match(sentence, kind))


def _each_match(sentence: str, kind: str) -> Iterator[tuple[int, int, int | None, tuple[str, ...]]]:
    """The matches of one pattern, trimmed, with their word stems and where a name really starts (None when
    nothing of it is a name)."""
    if not _MAY_MATCH[kind](sentence):
        return
    for m in PATTERNS[kind].finditer(sentence):
        start, end = _trim(sentence, m.start(), m.end())
        if end <= start:
            continue
        kept: int | None = start
        if kind == "name":
            kept = _strip_leading_stop(sentence, start, end)
            if kept >= end or _CALENDAR.fullmatch(sentence[kept:end]):
                kept = None
        yield start, end, kept, tuple(stem(w) for w in words(sentence[start:end]))


_TITLE_WORD = r"(?:Mr|Mrs|Ms|Dr|Sir|Lord|Lady|Prof)\.?\s"  # "Mr ", "Dr. "
_TITLED = rf"(?:{_TITLE_WORD})?[A-Z][\w'’\-]+(?:\s(?:de\s|van\s|von\s)?[A-Z][\w'’\-]+)*"
_ROLE = (r"(?:executive|officer|president|director|minister|secretary|spokes(?:man|woman|person)|chair(?:man|woman)?|"
         r"head|chief|manager|coach|analyst|economist|leader|boss|founder|editor|correspondent|captain|governor|"
         r"mayor|commissioner|advis[eo]r|lawyer|professor|researcher|official|partner|owner|producer|striker|star)")
# Who else may be the source of a statement, unnamed: "the county clerk", "police", "officials"
_AGENT = (rf"(?:(?:{_ROLE}|clerk|official|investigator|prosecutor|organi[sz]er|source|resident|doctor|expert|"
          r"engineer|inspector|auditor|regulator|scientist|judge)s?|police|authorit(?:y|ies)|witness(?:es)?|"
          r"spokes(?:men|women|people))")
# Verbs that report speech: "said Tim Osborne", "Mr Blair told MPs" (and `qa.conversation`'s attribution test).
SAYS = (r"(?:said|says|told|tells|added|adds|warned|warns|argued|argues|claimed|claims|insisted|insists|explained|"
        r"wrote|writes|stated|commented|announced)")
# A day or month is no speaker: "Jack Straw, who will hold talks on Thursday, said" is Jack Straw's word.
_NOT_SPEAKER = rf"(?!(?:{WEEKDAY}|{_MONTH_BUT_MAY})\b(?!\s+[A-Z]))"  # but "the Sunday Times"
# A name that goes on ("said Ask Jeeves", when the name is "Ask Jeeves"), is a possessive ("said Lord Goldsmith's
# admission") or is followed by a verb is the subject of what was said ("he said Brown was arrested", "says Lord
# Goldsmith warned", "said Hereford hospital was", "said John Smith, 41, had"), not who said it.
_WHOLE_NAME = r"(?<!['’]s)(?![\w'’\-])(?!\s(?:de\s|van\s|von\s)?[A-Z])"
_NOT_SUBJECT = (_WHOLE_NAME + r"(?!(?:,\s*\d{1,3},)?\s+(?:(?!who\b|which\b)[a-z]+\s+)?(?:was|is|were|are|had|has|"
                r"have|would|will|could|should|might|may|must|did|does|\w+ed)\b)")
# A name after "of", "in", "and", ... is named in passing ("allies of Mr Blair and Mr Brown, said", "who lives in
# Cleveland, said").
_OBJECT_OF = ("of", "in", "on", "at", "to", "for", "from", "with", "by", "and", "or")
_NOT_AN_OBJECT = "".join(rf"(?<!\b{word}\s)" for word in _OBJECT_OF)
# What comes before a name cut from a longer one `_NOT_AN_OBJECT` turned down ("of Mr Brown" -> "Brown")
_INNER_TITLE = re.compile(rf"\s{_TITLE_WORD}")
_NAME_BEFORE = re.compile(rf"(?:\b(?:{'|'.join(_OBJECT_OF)})\s(?:{_NOT_SPEAKER}[A-Z][\w'’\-]*\s)+"
                          rf"|\b{_TITLE_WORD})$")
# Lower-case words of a post before a name ("police inspector"), not "press reports in" before "China" or "a report
# last" before "May"
_ROLE_WORDS = (r"(?:(?!(?:in|of|from|by|at|for|with|on|to|and|last|next|this|early|late|since|until)\b)"
               r"[a-z][\w\-]*\s+){0,3}")
_CLAUSE_END = r"(?=\s*[,.;:]|\s*$)"  # "according to the Bank of Mexico's figures" names the figures' source only
_SPEAKER = (  # best first: "..., said Tim Osborne", "according to Mr Brown", "Mr Blair said", "Ms Kelly, 41, told"
    # "said Sun's chief operating officer Jonathan Schwartz", "said BIFA founder and director Elliot Grove": the
    # name after the post ("said Labour's plans would hurt Britain" names no one)
    re.compile(rf"\b{SAYS}\s+(?:[A-Z][\w\-]*(?:['’]s)?\s+)?(?:[a-z][\w\-]*\s+){{0,4}}{_ROLE}\s+({_TITLED})"),
    # "told MPs", "warned Tony Blair": whom, not who; but '"...," warned Mr Smith' is who
    re.compile(rf"\b(?!told\b|tells\b|warned\b|warns\b){SAYS}\s+{_NOT_SPEAKER}({_TITLED}){_NOT_SUBJECT}"),
    re.compile(rf"[,\"”]\s*(?:warned|warns)\s+{_NOT_SPEAKER}({_TITLED}){_NOT_SUBJECT}"),
    # "according to Tass news agency", "according to police inspector Sofie Berg", "according to the Financial Times"
    re.compile(rf"\b[Aa]ccording to\s+{_NOT_SPEAKER}({_TITLED})"),
    re.compile(rf"\b[Aa]ccording to\s+(?:(?:the|a)\s+)?{_ROLE_WORDS}{_NOT_SPEAKER}({_TITLED}){_CLAUSE_END}"),
    re.compile(rf"{_NOT_AN_OBJECT}{_NOT_SPEAKER}({_TITLED})\s+{SAYS}\b"),
    # "Mr Aitken, who lives in Cleveland, said": the name before the clause
    re.compile(rf"{_NOT_AN_OBJECT}({_TITLED}),[^,\"“”]{{1,80}},\s+{SAYS}\b"),
    re.compile(rf"{_NOT_AN_OBJECT}{_NOT_SPEAKER}({_TITLED}),\s+{SAYS}\b"),
    # last, when no name is given: "according to the county clerk", "according to police", a post or a body
    re.compile(rf"\b[Aa]ccording to\s+((?:(?:the|a|an)\s+)?{_ROLE_WORDS}{_AGENT}){_CLAUSE_END}"),
)


PRONOUN_SAYS = re.compile(rf"\b(?:(?:he|she)\s+{SAYS}|{SAYS}\s+(?:he|she))\b", re.IGNORECASE)
_SUBJECT = re.compile(rf"\s*({_TITLED})\s+[a-z]")  # "Gerald Krasner refused", "Mr Bates said": a name, a verb
_TITLE = re.compile(_TITLE_WORD)
_NOT_A_PERSON = frozenset("united city town rovers county club trust party council group bank fund union office "
                          "ministry department commission association corporation company news times post police "
                          "prices sales shares markets officials analysts investors".split())
# Capitalised words that open a sentence and are no name: function words, "Yesterday", "Asked about ..."
_NOT_NAME = _LEADING_STOP | frozenset("yesterday today last next earlier later meanwhile however despite asked "
                                      "speaking looking although".split())


def subject_span(text: str, start: int, end: int, article: str | None = None) -> tuple[int, int] | None:
    """The person whose name opens the sentence `text[start:end]` as its subject, as offsets into `text`: a name
    with a title ("Mr Bates said"), of two or three words ("Gerald Krasner refused"), or one word the paragraph
    (or the whole `article`) gives in full elsewhere ("Krasner" after "Gerald Krasner"); None when it opens
    otherwise ("The 73-year-old chairman", "Shares rose", "Leeds United said", a quotation)."""
    found = _SUBJECT.match(text, start, end)
    if found is None:
        return None
    a, b = found.span(1)
    a = _strip_leading_stop(text, a, b, _NOT_NAME)
    name = text[a:b].split()
    if not name or name[-1].lower() in _NOT_A_PERSON or len(name) > 3:
        return None
    if _TITLE.match(text, a) or len(name) > 1 or _given_in_full(article or text, name[0]):
        return a, b
    return None


def _given_in_full(text: str, surname: str) -> bool:
    """Whether `text` names someone `surname` in full ("Gerald Krasner", "Mr Krasner"; not "Consumer Prices Index")."""
    return any(m.group(1).lower() not in _NOT_NAME
               for m in re.finditer(rf"\b([A-Z][\w'’\-]+\.?)\s{re.escape(surname)}\b(?!\s+[A-Z])", text))


def speaker_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Where `text[start:end]` names whose words it reports ("said Tim Osborne", "Mr Blair said"), as offsets into
    `text`; None when it names no one (a pronoun, "the company")."""
    sentence = text[start:end]
    for pattern in _SPEAKER:
        for found in pattern.finditer(sentence):
            a, b = found.span(1)
            if _NAME_BEFORE.search(sentence, 0, a):
                continue
            a = _from_the_title(sentence, _strip_leading_stop(sentence, a, b), b)
            if a < b:
                return start + a, start + b
            break
    return None


def _from_the_title(sentence: str, start: int, end: int) -> int:
    """Where a name with a title starts in the capitalised run `sentence[start:end]` ("On Tuesday Mr Brown" ->
    "Mr Brown", "In London Mr Smith" -> "Mr Smith"), or `start`."""
    title = _INNER_TITLE.search(sentence, start + 1, end)
    return title.start() + 1 if title else start


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while end > start and text[end - 1] in " .,;:'’\"":
        end -= 1
    while start < end and text[start] in " '\"":
        start += 1
    return start, end


def _strip_leading_stop(sentence: str, start: int, end: int, stops: frozenset[str] = _LEADING_STOP) -> int:
    """Drop capitalised function words (`stops`) from the front of a name ('The Denver Broncos' -> 'Denver
    Broncos')."""
    while True:
        first, _, rest = sentence[start:end].partition(" ")
        if first.lower() not in stops:
            return start
        if not rest:
            return end
        start += len(first) + 1
