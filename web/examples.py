"""Example questions for the chat page's empty state, made from the titles of indexed articles.

Headlines rarely turn into good questions by a template, so only a few shapes are used, each of which
reads naturally: a count in the headline ("Telegraph newspapers axe 90 jobs" -> "How many jobs did
Telegraph newspapers axe?"), a percentage ("Ad firm WPP's profits surge 15%" -> "By how much did Ad firm
WPP's profits surge?"), an attribution ("..., South Korean Military Says" -> "What did the South Korean
Military say?") and short encyclopedic titles ("Genghis_Khan" -> "What do we know about Genghis Khan?").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

_ATTRIBUTION = re.compile(
    r"^(?P<core>.+?)\s*(?:[,:;]|\s[-–—])\s*(?P<who>[A-Z][^,:;'\"‘’“”]{1,60}?)\s+(?:says?|said|claims?)\.?$",
    re.IGNORECASE,
)
_COUNT = re.compile(
    r"^(?P<subject>.+?)\s+(?P<verb>[A-Za-z]+)\s+(?P<number>\d{1,3}(?:,\d{3})+|\d+)"
    r"(?:\s+(?P<unit>[A-Za-z]+s)|(?P<percent>%))(?P<rest>(?:\s+.*)?)$"
)
_SCORE = re.compile(r"^(?P<home>[A-Z][\w .&]*?)\s+\d{1,3}-\d{1,3}\s+(?P<away>[A-Z][\w .&]*)$")
_QUOTED = re.compile(r"(?:^|\s)['‘\"“]|['’\"”](?:\s|$)|[\"“”]")
_YEAR = re.compile(r"^(?:1[5-9]|20)\d\d$")
_PARENS = re.compile(r"\s*\([^)]*\)")
_ORGANISATIONS = {
    "military", "army", "government", "ministry", "police", "officials", "minister", "bank", "court",
    "agency", "company", "report", "union", "committee", "council", "commission", "spokesman", "spokeswoman",
    "president", "prime", "chief", "board", "regulator", "watchdog", "firm", "group", "office", "service",
}
_LEVEL_WORDS = {"up", "down"}
_NOT_VERBS = {
    "to", "by", "of", "for", "in", "on", "at", "from", "with", "than", "over", "under", "about", "after",
    "average", "and", "or", "the", "a", "an", "top", "first", "last", "next", "all", "only", "some",
}
_CONNECTORS = {"of", "and", "the", "upon", "on", "in", "de", "du", "la", "le", "von", "van", "for", "&"}


def _clean(title: str) -> str:
    return " ".join(title.replace("_", " ").split()).strip(" .")


def _verb_base(verb: str) -> str:
    verb = verb.lower()
    if verb.endswith(("sses", "shes", "ches", "xes", "zes")):
        return verb[:-2]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb[:-1]
    return verb


def _title_case(words: list[str]) -> bool:
    """Headline Style With Capitals (then a verb may be capitalised) rather than sentence case."""
    long_words = [w for w in words if len(w) > 3]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) >= 0.8 * len(long_words)


def _count_question(core: str) -> str | None:
    m = _COUNT.match(core)
    if not m or _QUOTED.search(core) or _YEAR.match(m["number"]) or len(m["subject"].split()) > 6:
        return None
    subject, verb, rest = m["subject"], m["verb"], m["rest"].strip()
    if verb.lower() in _NOT_VERBS or (verb[0].isupper() and not _title_case(core.split())):
        return None
    tail = f" {rest}" if rest else ""
    if m["percent"]:
        if verb.lower() in _LEVEL_WORDS:
            return f"By how much is {subject} {verb.lower()}{tail}?" if len(subject.split()) <= 3 else None
        return f"By how much did {subject} {_verb_base(verb)}{tail}?"
    if verb.lower() in _LEVEL_WORDS:
        return None
    return f"How many {m['unit'].lower()} did {subject} {_verb_base(verb)}{tail}?"


def _who(who: str) -> str:
    words = who.split()
    if len(words) >= 2 and words[-1].lower() in _ORGANISATIONS and words[0].lower() != "the":
        return f"the {who}"
    return who


def _is_name(headline: str) -> bool:
    """A short encyclopedic title ("Genghis Khan", "Newcastle upon Tyne", "Prime number"), not a headline."""
    words = headline.replace(",", " ").split()
    if not words or len(words) > 4 or any(c in headline for c in "'\"‘’“”?!:;"):
        return False
    if len(words) <= 2:
        return True
    return all(w[0].isupper() or w[0].isdigit() or w.lower() in _CONNECTORS for w in words)


def questions_for(title: str) -> list[str]:
    """The example questions one title gives, best first (possibly none)."""
    headline = _clean(_PARENS.sub("", title)) or _clean(title)
    if not headline:
        return []
    found: list[str] = []
    core, who = headline, None
    attribution = _ATTRIBUTION.match(headline)
    if attribution:
        core, who = attribution["core"], attribution["who"]
    score = _SCORE.match(headline)
    if score:
        return [f"Who won the match between {score['home']} and {score['away']}?"]
    count = _count_question(core)
    if count:
        found.append(count)
    if who:
        found.append(f"What did {_who(who)} say?")
    if not found and _is_name(headline):
        found.append(f"What do we know about {headline}?")
    return found


def example_questions(titles: Sequence[str], k: int = 3, rate: Callable[[int, str], float] | None = None,
                      tries: int = 12) -> list[str]:
    """Up to k example questions: the first question of as many different articles as possible, then more.
    With `rate` (a title's position and a question -> how well the index answers it, 0 if not at all), the k
    best rated of the first `tries` questions, leaving out those it does not answer: an example's answer is
    the first one a newcomer sees."""
    first: dict[str, int] = {}  # question -> the first title giving it
    for n, question in _candidates(titles):
        first.setdefault(question, n)
    questions = list(first)
    if rate is None:
        return questions[:k]
    rated = [(rate(first[q], q), q) for q in questions[:tries]]
    return [q for score, q in sorted(rated, key=lambda r: -r[0]) if score > 0][:k]


def _candidates(titles: Sequence[str]) -> list[tuple[int, str]]:
    """(title position, question) of every title's questions: each title's first question, then their second..."""
    per_title = [(n, questions_for(t)) for n, t in enumerate(titles)]
    depth = max((len(qs) for _, qs in per_title), default=0)
    return [(n, qs[d]) for d in range(depth) for n, qs in per_title if len(qs) > d]
