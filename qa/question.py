"""What a question asks for: its content terms and the kind of answer it expects."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

from index.lexical import stem, terms, words


class AnswerType(StrEnum):
    NUMBER = "number"
    MONEY = "money"
    PERCENT = "percent"
    AGE = "age"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    ENTITY = "entity"
    OTHER = "other"


_RULES: tuple[tuple[re.Pattern[str], AnswerType], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"\bhow much (money|did .* (cost|pay|spend|earn|raise)|does .* cost|is .* worth)", AnswerType.MONEY),
        (r"\b(what|which) (was|is) the (cost|price|budget|fee|salary|revenue|value)\b", AnswerType.MONEY),
        (r"\bwhat (percent|percentage|proportion|share|fraction)\b|\bhow many percent\b", AnswerType.PERCENT),
        (r"\bhow old\b|\b(at|from|until|to|what|which) age\b", AnswerType.AGE),
        (r"\bhow (many|much|long|far|big|large|tall|high|often|fast)\b", AnswerType.NUMBER),
        (r"\b(what|which) (number|amount|size|population|score|total)\b|\bwhat (was|is|were) the (final )?score\b",
         AnswerType.NUMBER),
        (r"\bwhen\b|\b(what|which) (year|date|day|month|decade|century|time|period|season|era)\b"
         r"|\bin what year\b|\bhow long ago\b", AnswerType.DATE),
        (r"\bwho(m|se)?\b|\b(what|which) (person|man|woman|player|manager|minister|president|leader|"
         r"singer|actor|actress|director|author|scientist|chancellor|chairman|chief|boss|coach|king|queen)\b",
         AnswerType.PERSON),
        (r"\bwhere\b|\b(what|which) (city|country|place|state|region|town|continent|location|area|nation|"
         r"county|island|river|street|venue|stadium)\b", AnswerType.PLACE),
        (r"\b(what|which) (company|team|club|group|organi[sz]ation|party|band|firm|agency|network|"
         r"channel|film|movie|album|book|show|game|brand|university|school)\b", AnswerType.ENTITY),
    )
)


# Words that shape a question but say nothing about its topic (BM25's English stop list lacks them).
_QUESTION_STEMS = frozenset(stem(w) for w in (
    "who whom whose what which when where why how many much did does do were has have had "
    "s".split()))


# "How old/long/far..." and "What was the score ...?" ask for a measure: the word names the answer's type, not the
# topic (the sentence with "3-1" need not say "score").
_HOW_MEASURE = re.compile(r"\bhow (old|long|far|big|large|tall|high|often|fast|soon|late|early|deep|wide)\b"
                          r"|\b(?:what|which)(?:['’]s|\s+(?:was|is|were))?\s+(?:the\s+)?(?:(?:final|half-time|"
                          r"full-time|latest)\s+)?(score)\b", re.IGNORECASE)


WH_WORDS = "who|whom|whose|what|which|when|where|why|how"
# A question opening with "who" ("And who ...?"): it asks for a person, as a question with "who" further in may not
# ("What was the age of the woman who ...?").
ASKS_WHO = re.compile(r"\s*(?:(?:and|but|so)\s+)?(?:who|whom)\b", re.IGNORECASE)
# Verbs a yes/no question opens with ("Is...", "Did...", "Can...").
AUXILIARIES = "is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|may|might|must|shall"
# A question asking "when" ("When did his trial start?"), not one opening with a "when" clause ("When the Rhine
# leaves Lake Constance, which way does it flow?").
ASKS_WHEN = re.compile(rf"\s*(?:(?:and|but|so)\s+)?when\s+(?:{AUXILIARIES})\b", re.IGNORECASE)
ASKS_WHY = re.compile(r"\s*(?:(?:and|but|so)\s+)?why\b", re.IGNORECASE)
# Units of time: what a short answer to a question asking how long something lasts holds, and words of time
TIME_UNITS = r"minutes?|hours?|days?|nights?|weeks?|months?|years?|decades?|centur(?:y|ies)|seasons?"
# Questions asking for a measure of one kind, and what their answer must hold: how long something takes or lasts,
# or someone's time ("What was her time?": a unit of time or a clock time), how far (a unit of length: "How far from
# Earth is TOI-5521b?" is not "1.8" of "1.8 times the radius of Earth"), the score of a match ("3-1"), how many (a
# number: not "money" for "How much did Whitcombe steal?"). All 16 "how far ... from / apart / away" questions and
# all 9 asking the score in SQuAD v1.1 dev and the BBC sets have a gold answer holding one, as have 696 of the 703
# asking "how many" (the others: "unmanned", "letters", ...) and all 21 asking how much someone paid, stole, ...
_MEASURES: tuple[tuple[re.Pattern[str], re.Pattern[str]], ...] = tuple(
    (re.compile(asks, re.IGNORECASE), re.compile(holds, re.IGNORECASE)) for asks, holds in (
        (r"\b(?:for\s+how\s+long|how\s+long\b(?=.*\b(?:take|takes|took|taken|last|lasts|lasted|spend|spent|stay|"
         r"stayed|wait|waited|serve|served|sentenced|jailed|remain|remained|orbit|orbits|continue|continued)\b))"
         r"|\bwhat\s+(?:was|is|were)\s+(?:(?:his|her|their|its|(?:[\w\-]+\s+){0,2}[\w\-]+['’]s?)\s+(?:\w+\s+)?"
         r"|the\s+(?:winning|finishing)\s+)time\b",
         rf"\b(?<!light )(?<!light-)(?:{TIME_UNITS}|seconds?|mins?|hrs?|fortnights?|terms?|lifetimes?|ages|life|"
         r"overnight)\b"
         r"|\b\d{1,2}:\d{2}(?::\d{2})?\b"),
        # "How far is Warsaw from the Baltic Sea?", not "How far was her time from the record?"
        (r"\bhow\s+far\s+(?:apart|away|from)\b|\bhow\s+far\s+(?:is|are|was|were)\s+(?:(?!time|score|record|total|"
         r"share|price|rate|figure|number)[^?])*?\bfrom\b",
         r"\b(?:(?:kilo|centi|milli|nano)?met(?:re|er)s?|km|miles?|feet|ft|yards?|inch(?:es)?|light[- ]years?|"
         r"parsecs?|astronomical\s+units?)\b|(?<![£$€¥\d.,])\d[\d,.]*\s?(?:km|m|mi|ft|cm|mm|nm)\b"),
        (r"\bwhat(?:['’]s|\s+(?:was|is|were))\s+the\s+(?:(?:final|half-time|full-time|latest)\s+)?score\b"
         r"|\bby\s+what\s+score\b",
         r"\b\d{1,3}\s?[-–]\s?\d{1,3}\b"),
        (r"\bhow\s+many\b|\bhow\s+much\s+(?:money\s+)?(?:did|does|do|has|have|had|will|would)\b.*\b(?:st(?:eal|ole|"
         r"olen)|los[et]|owed?|borrow(?:ed)?|invest(?:ed)?|received?|charged?|saved?|donated?|give|gave|given|make|"
         r"made|win|won|spen[dt]|pay|paid|earn(?:ed)?|raised?|cost)\b",
         r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|twenty|thirty|forty|fifty|"
         r"sixty|seventy|eighty|ninety|hundreds?|thousands?|millions?|billions?|trillions?|dozens?|scores|half|"
         r"quarter|several|few|single|once|twice|no|none|zero|nil)\b"),
    )
)
# Asking who heads an organisation ("Who runs Kestrel Motors?", "Who is the boss of ...?"): news names the head by
# a title instead ("Chief executive Henrik Maalouf said ..."), so each title counts as the question's word for it.
_HEAD_ASKED = re.compile(r"\bwho\s+(?:runs|ran|heads|headed)\b|\bboss(?:es)?\b", re.IGNORECASE)
_HEAD_WORDS = frozenset(stem(w) for w in "runs ran heads headed boss bosses".split())
_HEAD_TITLES = frozenset(stem(w) for w in "boss chief executive ceo chairman chairwoman head director president "
                         "founder owner manager".split())
# What makes a text ask rather than name a topic: a question mark, a wh-word, or an opening verb that asks.
_ASKING = re.compile(rf"\?\s*$|\b({WH_WORDS})\b|^\s*({AUXILIARIES}|tell|name|list|give|show|explain|describe|find)\b",
                     re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    text: str
    terms: tuple[str, ...]
    words: tuple[str, ...]
    answer_type: AnswerType

    @cached_property
    def stems(self) -> frozenset[str]:
        """Stems of all the question's words, stop words included."""
        return frozenset(stem(w) for w in self.words)

    @cached_property
    def asks(self) -> bool:
        """Whether the text asks something rather than names it: a question form, or more than two words. "banana"
        and "asdf qwerty" name a topic, which any sentence holding its words would "answer". Of the 23,224 questions
        of the SQuAD dev sets and the BBC question sets, none has two words or fewer without a question form."""
        return len(self.words) > 2 or bool(_ASKING.search(self.text))

    @cached_property
    def measure(self) -> re.Pattern[str] | None:
        """What the answer must hold when the question asks for a measure of one kind (`_MEASURES`), else None."""
        return next((holds for asks, holds in _MEASURES if asks.search(self.text)), None)

    @cached_property
    def alternatives(self) -> dict[str, frozenset[str]]:
        """Other terms that count as one of the question's own where a sentence holds them (`_HEAD_ASKED`)."""
        if not _HEAD_ASKED.search(self.text):
            return {}
        return {t: _HEAD_TITLES - {t} for t in self.terms if t in _HEAD_WORDS}

    @classmethod
    def parse(cls, text: str) -> Question:
        measure = {stem((m.group(1) or m.group(2)).lower()) for m in _HOW_MEASURE.finditer(text)}
        own = tuple(t for t in terms(text) if t not in _QUESTION_STEMS and t not in measure)
        return cls(text=text, terms=own, words=tuple(words(text)), answer_type=answer_type(text))


def answer_type(text: str) -> AnswerType:
    """The kind of answer a question expects, from its wh-phrase."""
    for pattern, kind in _RULES:
        if pattern.search(text):
            return kind
    return AnswerType.OTHER
