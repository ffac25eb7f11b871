"""The names a question gives, and which of them an article never mentions: an answer from an article that does not
name what the question is about answers another question ("How much did the Golden Gate Bridge repair cost?"
answered from the Harbor Bridge story)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from index.lexical import folded, terms
from qa.spans import MONTH_ABBREVIATION, WEEKDAY

# A capitalised word or run of them, not opening the question or a sentence in it ("the Golden Gate Bridge",
# "Bank of England"), or a number
_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b[A-Z][\w'’.\-]*(?:\s(?:of|the|de|von|van)?\s?[A-Z][\w'’.\-]*)*|\d[\d,.]*")
# A word of a name: capitalised, perhaps with an apostrophe inside ("O'Neill"), not a possessive one
NAME_WORD = r"[A-ZÀ-ÖØ-Þ](?:[\w\-]|['’](?!s\b)(?=\w))*"
# Whose, by name: "Kestrel's", "Orbital Foods'", "O'Neill's"
OWNER = rf"(?:{NAME_WORD}\s+)*{NAME_WORD}['’]s?"
NOT_NAMES = frozenset("who whom whose what which when where why how is are was were do does did has have had can "
                      "could will would should and but the a an in on at i".split())
# Names an article may well write otherwise: short initialisms ("UN" for the United Nations, "TV"), month
# abbreviations ("Feb"), days (an article may say "yesterday"); and titles ("Mr Blair" where the article says "Tony
# Blair").
_LOOSE = re.compile(rf"(?:[A-Z]{{1,3}}|{MONTH_ABBREVIATION}\.?|{WEEKDAY})(?:['’]s)?")
_TITLES = frozenset({"mr", "mrs", "ms", "dr", "sir", "lord", "st"})
# Peoples and countries an article names in other words ("French" for France, "America" for the US, "British" for
# the UK)
_NATIONS = frozenset("american british english scottish welsh irish french german dutch spanish italian portuguese "
                     "european african asian chinese japanese korean indian russian australian canadian brazilian "
                     "mexican swiss swedish norwegian danish finnish polish greek turkish israeli iranian iraqi "
                     "arab america britain holland".split())
_CAPITAL = re.compile(r"\b[A-Z]")


def article_terms(texts: Iterable[str]) -> frozenset[str]:
    """The terms of an article's title and paragraphs (accents aside, as all terms), for `absent_names`."""
    return frozenset(t for text in texts for t in terms(text))


def names_in(text: str) -> list[re.Match[str]]:
    """The names (and numbers) in `text`, question words and other capitalised function words (`NOT_NAMES`)
    aside."""
    return [m for m in _NAME.finditer(text) if m.group(0).split()[0].lower() not in NOT_NAMES]


def absent_names(question: str, article: frozenset[str]) -> list[str]:
    """The names of `question` of which the article (its `article_terms`) has a word nowhere. A word is found by
    its stem's opening letters, all but its last three (at least three), so "Saharan" finds "Sahara" and "South
    Koreans" "South Korea". A question in capitals throughout ("How Much Did The Bridge Cost?") names nothing."""
    if len(_CAPITAL.findall(question)) * 4 > len(question.split()) * 3:
        return []
    absent = []
    for found in names_in(folded(question)):
        name = found.group(0)
        if name[0].isdigit() or _LOOSE.fullmatch(name) or name.lower() in _NATIONS:
            continue
        stems = [t for part in name.split("-") if part[:1].isupper() for t in terms(part) if t not in _TITLES]
        if any(not any(term.startswith(t[:max(3, len(t) - 3)]) for term in article) for t in stems):
            absent.append(name)
    return absent
