"""Conversations: a bounded session store and the resolution of follow-up questions against earlier turns."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from index.lexical import terms
from index.store import IndexReader
from qa.evidence import ParagraphEvidence
from qa.metadata import Field
from qa.names import NOT_NAMES, OWNER, names_in
from qa.question import ASKS_WHO, AUXILIARIES, WH_WORDS, Question
from qa.retrieve import Candidate
from qa.spans import SAYS, YEAR

MAX_TURNS = 6
MAX_FOCUS = 4
SHORT_FOLLOWUP_TERMS = 3
# Added to the scores of the paragraph last cited and the next one when a question stays with its article. In the
# dev conversations (bbc-followups) 56 of 63 follow-ups are answered there (33 same paragraph, 23 next); bonuses
# of 2 to 3 gave the same accuracy on them, 1 too little, 5 and more too much.
NEAR_BONUS = 2.0
# A rival of the article a turn answered from is an article whose best paragraph scored above that article's, or
# within RIVAL_MARGIN below, in the ranking that chose it: often another article on the same story. A follow-up
# leaves for a rival that its own ranking puts first when the conversation's article holds less than RIVAL_SHARE
# of the rival's share of its words. On the dev conversations margins of 0.5 and 1 gained a turn (c-014), 2 lost
# one (c-035); without the share a tie in coverage left for a rival (c-029, -1).
RIVAL_MARGIN = 1.0
RIVAL_SHARE = 0.75
_ALL_WORDS = 0.999  # an `article_coverage` of all the question's words (1.0 but for rounding)
# A capitalised word anywhere, the first too: `names_in` passes over a question's opening word, which in a fragment
# ("Yahoo's profits") is the name asked about.
_CAPITALISED = re.compile(r"\b[A-Z][\w'’.\-]*")
PRONOUN = r"(?:it|its|they|them|their|theirs|he|him|his|she|her|hers)"  # personal pronouns, a question's and a text's
# What marks a question as leaning on the turns before: a pronoun, or a thing named with "the" and nothing that
# says which ("Which polling firm did the survey?": dev follow-ups +1, held-out unchanged; "the survey of Tesco
# shoppers", "the Mori poll" say which). Kept to things a news follow-up refers back to: "the budget", "the law",
# "the strike" open fresh questions as often.
_ANAPHORA = re.compile(
    rf"\b({PRONOUN}|it's|that|this|those|these|there|then|"
    r"the same|such|the (?:new|old|latest|other) one|the (?:company|firm|group|team|club|country|city|man|woman|"
    r"player|party|government|minister|deal|report|figure|number|event|game|match|film|show|band|album|plan|bill|"
    r"case)|the (?:survey|poll|study|takeover|merger|bid|sale)(?!\s+(?:of|by|for|from|in|on)\b|\s+(?-i:[A-Z0-9])))\b",
    re.IGNORECASE,
)
_FRAGMENT = re.compile(r"^\s*(?:and|but|what about|how about|and what about|also)\b[\s,]*(.*?)[\s?.!]*$",
                       re.IGNORECASE)
_QUESTION_START = re.compile(rf"(?:{WH_WORDS}|{AUXILIARIES})\b", re.IGNORECASE)
_LEADING_AND = re.compile(r"\s*(?:and|but|also|so)\b", re.IGNORECASE)
# "And in the US?", "What about Mozilla?": asks for the counterpart of the last answer, so not the same value again.
_COUNTERPART = re.compile(r"\s*(?:and|but|what about|how about)\b", re.IGNORECASE)
_PREPOSITIONS = r"(?:in|on|at|to|for|from|by|over|during|among|with)"
_PREPOSITION = re.compile(rf"({_PREPOSITIONS})\s", re.IGNORECASE)
# The object of a preposition phrase a place fragment ("And in the US?") can replace: a name or a number.
_OBJECT = r"(?:the\s+)?(?:\d[\d,.]*|[A-Z][\w.'’-]*)(?:\s+[A-Z][\w.'’-]*)*"
_YEAR = re.compile(rf"\b{YEAR}\b")
_HEAD_WORDS = 4  # the longest fragment whose last word is looked for in the question before ("And the red team?")
_NOT_MODIFIER = re.compile(rf"(?:{WH_WORDS}|{AUXILIARIES}|{_PREPOSITIONS}|of|about|against|between|into|through|"
                           r"under|after|before|than|as|like|per|via|across|around|near|and|or|but)", re.IGNORECASE)
# Whose, perhaps after "the" ("the BBC's")
_OWNER = rf"(?:the\s+)?{OWNER}"
# A fragment naming whose and perhaps what ("Kestrel's dividend"), and whose in a question ("Tesco's profit")
_OWNED = re.compile(rf"({_OWNER})(?:\s+(.+))?")
_OWNER_IN = re.compile(rf"{_OWNER}(?=[\s?.,!;:]|$)")
# Words that add nothing to what a fragment asks about: "And Lucy Tran's too?", "And Kestrel's last year?"
_NOTHING_NEW = frozenset(terms("too also as well then please again instead now last year month week quarter"))
_DETERMINER = re.compile(r"(?:the|a|an|this|that|these|those|its|their|his|her)\s+", re.IGNORECASE)
# "Who said that?": asks who is the source of the last answer, which the sentences around it say.
_SAID_THAT = re.compile(r"\s*(?:and\s+|so\s+)?who\s+(?:said|says|told(?:\s+(?:you|us))?|wrote|claimed|claims|added)"
                        r"\s+(?:that|this|it|so)(?P<more>(?:\s+\w+){0,2})[\s?.!]*$", re.IGNORECASE)
# A question of question words only, which asks about the last answer: "Why?", "When?", "For how long?", "And how
# many?"
_BARE = re.compile(rf"\s*(?:(?:and|so|but)\s+)?(?:(?:for|since|until|from|by|to|in)\s+)?(?:{WH_WORDS})"
                   r"(?:\s+(?:long|much|many|old|often|far|soon|big|large))?(?:\s+exactly)?[\s?.!]*$", re.IGNORECASE)
_ATTRIBUTION = re.compile(rf"\b(?:{SAYS}|according to)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Turn:
    """One answered question: what it asked (resolved), where its answer came from, what it was about."""

    question: str
    resolved: str
    article_id: str | None
    answer: str | None
    focus: tuple[str, ...] = ()
    paragraph_id: int | None = None
    rivals: tuple[str, ...] = ()
    short_answer: str | None = None
    about_article: Field | None = None  # what a question about the article itself asked ("Who wrote it?": its author)


@dataclass
class Session:
    turns: deque[Turn] = field(default_factory=lambda: deque(maxlen=MAX_TURNS))
    last_used: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Resolved:
    """A question as the retriever should see it, with what it borrowed from the conversation;
    `not_answers`: short answers it is not answered with: the last turn's, for a question asking for its
    counterpart ("And in the US?"), and the names a follow-up asking "who" refers back to ("Who invited him?" after
    an answer about Greenspan is not answered "Greenspan"); `mentions`: terms of a fragment, one of which its answer
    must hold (the year it asks about, "And in 2003?", else its names', "What about China?", else its words'): the
    sentence that answered for another year or place is no answer for this one;
    `attributed`: the last answer, whose source "Who said that?" asks for (see `attribution`; "" when the last
    question was not answered); `recalled`: the last answer, which a bare question ("Why?", "For how long?") asks
    about first (see `recall`)."""

    text: str
    extra_terms: tuple[str, ...] = ()
    context_article: str | None = None
    followup: bool = False
    context_paragraph: int | None = None
    focus: tuple[str, ...] = ()
    rivals: tuple[str, ...] = ()
    not_answers: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    attributed: str | None = None
    recalled: str | None = None

    @property
    def encoded(self) -> str:
        """What the encoder sees: the question, and the focus it borrowed in brackets."""
        return f"{self.text} ({'; '.join(self.focus)})" if self.focus else self.text


class SessionStore:
    """Sessions by id, bounded in number (least recently used dropped) and in age (idle ones expire)."""

    def __init__(self, max_sessions: int = 10_000, ttl_seconds: float = 3600.0) -> None:
        self.max_sessions = max_sessions
        self.ttl = ttl_seconds
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> tuple[str, Session]:
        """The session for `session_id`; a new session with a new, unguessable id if it is unknown or expired
        (clients cannot pick ids, so a session is only reachable with the id the server handed out)."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            session = self._sessions.pop(session_id, None) if session_id else None
            if session is None:
                session_id, session = secrets.token_urlsafe(16), Session()
            session.last_used = now
            self._sessions[session_id] = session
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
            return session_id, session

    def record(self, session: Session, turn: Turn) -> None:
        with self._lock:
            session.turns.append(turn)

    def __len__(self) -> int:
        return len(self._sessions)

    def _expire(self, now: float) -> None:
        while self._sessions:
            oldest_id, oldest = next(iter(self._sessions.items()))
            if now - oldest.last_used <= self.ttl:
                break
            del self._sessions[oldest_id]


def resolve(question: str, session: Session) -> Resolved:
    """The question with what the conversation offers it: the article last cited (to stay with, if the
    evidence agrees; see `stays`) and, for a follow-up, what the question leaves out. A bare question ("Why?",
    "For how long?") also carries the last answer, where it is looked for first (`recall`).

    A fragment ("And in 2003?") is rewritten from the previous question. A question marked as a follow-up
    (a pronoun, a leading "And", or a single word) keeps its own words, and the encoder sees the conversation's
    focus (names asked about, the short answer got) beside them; only when no article was cited last does it
    also borrow the focus's terms to find one.
    """
    if not session.turns:
        return Resolved(question)
    last = session.turns[-1]
    before = (last.short_answer,) if _COUNTERPART.match(question) and last.short_answer else ()
    fragment = _FRAGMENT.match(question)
    if fragment and len(terms(fragment.group(1))) <= 3 and not _QUESTION_START.match(fragment.group(1)):
        year = _YEAR.search(fragment.group(1))
        text = _substitute(last.resolved, fragment.group(1))
        again = text.rstrip("?. ").lower() == last.resolved.rstrip("?. ").lower()  # asked again: "And the turnout?"
        return Resolved(text, (), last.article_id, True, last.paragraph_id, rivals=last.rivals,
                        not_answers=() if again else before,
                        mentions=(year.group(0),) if year else _fragment_mentions(fragment.group(1), last.resolved))
    if (said := _SAID_THAT.match(question)) and (last.answer or not said.group("more")):
        return Resolved(question, (), last.article_id, True, last.paragraph_id, last.focus, last.rivals,
                        attributed=last.answer if last.paragraph_id is not None and last.answer else "")
    if _BARE.match(question) and last.answer:
        return Resolved(question, (), last.article_id, True, last.paragraph_id, last.focus, last.rivals,
                        not_answers=before, recalled=last.answer)
    if not _ANAPHORA.search(question) and not _LEADING_AND.match(question) and len(terms(question)) > 1:
        return Resolved(question, (), last.article_id, False, last.paragraph_id, rivals=last.rivals,
                        not_answers=before)
    if ASKS_WHO.match(question):
        before = tuple(dict.fromkeys(before + tuple(f for f in last.focus if f[:1].isalpha())))
    if last.article_id is not None or not last.focus:
        return Resolved(question, (), last.article_id, True, last.paragraph_id, last.focus, last.rivals, before)
    own = set(terms(question))
    borrowed = tuple(t for phrase in last.focus for t in terms(phrase) if t not in own)
    return Resolved(question, borrowed, followup=True, focus=last.focus, not_answers=before)


def stays(ranked: list[ParagraphEvidence], resolved: Resolved, question: Question) -> bool:
    """Whether the question (ranked without leaning on the conversation) stays with the conversation's
    article: that article must hold a share of the question's words (idf-weighted) that another article's
    share does not beat by too much (see `_needed_share`), and a rival it was nearly mistaken for must not hold
    the question clearly better (see `rivals_of`). `question` is `resolved.text` as parsed for the query."""
    here = max((p.features["article_coverage"] for p in ranked if p.article_id == resolved.context_article),
               default=0.0)
    elsewhere = max((p.features["article_coverage"] for p in ranked if p.article_id != resolved.context_article),
                    default=0.0)
    return here >= elsewhere * _needed_share(resolved, question) and not _rival_leads(ranked, resolved, here) \
        and not _names_what_it_lacks(ranked, resolved) and not _elsewhere(resolved, question, here, elsewhere)


def _elsewhere(resolved: Resolved, question: Question, here: float, elsewhere: float) -> bool:
    """Whether a question of two words or more that does not point back at the conversation (no pronoun, no "the
    company", not a fragment; a leading "And" may open it) is about another article: the conversation's holds none
    of its words and another holds them all ("And how many homes were evacuated?" after the bridge story is about
    the flood; "And what was the total cost?" after the coach crash may still be about the crash)."""
    return here == 0 and elsewhere >= _ALL_WORDS and len(question.terms) > 1 and not resolved.mentions \
        and resolved.attributed is None and not _ANAPHORA.search(resolved.text)


def _names_what_it_lacks(ranked: list[ParagraphEvidence], resolved: Resolved) -> bool:
    """Whether a fragment names something the conversation's article never mentions: "What about Yahoo?" after
    an answer on Google's profits asks about Yahoo, wherever it is. A year it lacks ("And in 2003?") is still asked
    of that article: the conversation is about its company, and another's figure for that year is no answer."""
    if not resolved.mentions or _YEAR.fullmatch(resolved.mentions[0]):
        return False
    held = {t for p in ranked if p.article_id == resolved.context_article for t in terms(f"{p.title}\n{p.text}")}
    return held.isdisjoint(resolved.mentions)


def _rival_leads(ranked: list[ParagraphEvidence], resolved: Resolved, here: float) -> bool:
    """Whether the question's own ranking puts a rival of the conversation's article first, and that rival holds
    clearly more of its words ("What is his new band called?" after an answer from the other article on the
    same band)."""
    return bool(ranked) and ranked[0].article_id in resolved.rivals \
        and here < ranked[0].features["article_coverage"] * RIVAL_SHARE


def rivals_of(ranked: list[ParagraphEvidence], article: str) -> tuple[str, ...]:
    """The articles whose best paragraph scores above `article`'s best, or within `RIVAL_MARGIN` below it, in a
    ranking made without leaning on the conversation."""
    best: dict[str, float] = {}
    for p in ranked:
        best.setdefault(p.article_id, p.score)
    if article not in best:
        return ()
    return tuple(a for a, score in best.items() if a != article and score >= best[article] - RIVAL_MARGIN)


def _needed_share(resolved: Resolved, question: Question) -> float:
    """How much of the best other article's coverage the conversation's article needs. A short follow-up's
    few words (question words aside: "Where will most of them go?" has three) say little about where it belongs,
    so it always stays; a longer one ("Which company made the phone that Vodafone launched?") names enough to
    leave when another article holds four times as much; a question that does not read as a follow-up stays only
    with at least as much."""
    if not resolved.followup:
        return 1.0
    return 0.0 if len(question.terms) <= SHORT_FOLLOWUP_TERMS else 0.25


def staying(ranked: list[ParagraphEvidence]) -> list[ParagraphEvidence]:
    """Where the answer is read from: only the conversation's article when the question stays with it
    (`context` marks its paragraphs then), else the whole ranking."""
    return [p for p in ranked if p.features["context"]] or ranked


def context_first(ranked: list[ParagraphEvidence], resolved: Resolved) -> list[ParagraphEvidence]:
    """The ranking with the conversation's article on top (its paragraphs first, each group best first), where
    the paragraph last cited and the next one gain `NEAR_BONUS`: a conversation reads on from where it was."""
    last = next((p.index for p in ranked
                 if p.paragraph_id == resolved.context_paragraph and p.article_id == resolved.context_article), None)
    for p in ranked:
        if last is not None and p.article_id == resolved.context_article and 0 <= p.index - last <= 1:
            p.score += NEAR_BONUS
    return sorted(ranked, key=lambda p: (p.article_id != resolved.context_article, -p.score))


def focus_of(question: str, short_answer: str | None, resolved: Resolved, session: Session) -> tuple[str, ...]:
    """What a turn is about: names in its question and its short answer, then (for a follow-up) the focus
    it inherited; at most `MAX_FOCUS` phrases, newest first."""
    found = [m.group(0) for m in names_in(question)]
    if short_answer:
        found.insert(0, short_answer)
    if resolved.followup and session.turns:
        found.extend(session.turns[-1].focus)
    return tuple(dict.fromkeys(found))[:MAX_FOCUS]


def _substitute(previous: str, fragment: str) -> str:
    """'And in 2003?' after 'How much did it earn in 2004?' -> 'How much did it earn in 2003?'; 'And in the US?'
    after 'How much will it cost in the UK?' -> 'How much will it cost in the US?'; 'What about Mozilla browsers?'
    after 'What share of surfers use Internet Explorer?' -> 'What share of surfers use Mozilla browsers?'; 'And the
    high-dose group?' after 'What was the efficacy in the low-dose group?' -> '... in the high-dose group?'; else
    the fragment is appended."""
    new_year = _YEAR.search(fragment)
    if new_year and _YEAR.search(previous):
        return _YEAR.sub(new_year.group(0), previous, count=1)
    asked = previous.rstrip("?. ")
    if (owned := _owned(asked, fragment)) is not None:
        return owned
    counterpart = _counterpart(asked, fragment)
    if counterpart is None:
        return f"{asked} {fragment}?"
    start, end = counterpart
    replaced, named = _without_determiner(asked[start:end]), _without_determiner(fragment)
    if replaced == named or replaced.endswith(f" {named}"):  # the same again: "And the ballot?", "And the team?"
        return previous
    return f"{asked[:start]}{fragment}{asked[end:]}?"


def _owned(asked: str, fragment: str) -> str | None:
    """For a fragment naming whose: the previous question about that owner, who stands for the one whose it asked
    about or else its first name ('And Kestrel's net income?' after "What was Orbital Foods' net income?" -> "What
    was Kestrel's net income?"; "And Lucy Tran's?" after 'How many votes did Haddad get?' -> "How many votes did
    Lucy Tran's get?", which BM25 and the encoder read as "Lucy Tran"), or a question about what it names when the
    previous question does not ask it ('And Kestrel's dividend?' after 'How did Orbital Foods shares react?' ->
    "What about Kestrel's dividend?"); None for another fragment, or when the previous question names no one."""
    if (owned := _OWNED.fullmatch(fragment)) is None:
        return None
    if _new_thing(asked, fragment):
        return f"What about {fragment}?"
    if place := next((m for m in _OWNER_IN.finditer(asked) if m.start() > 0), None):
        start, end = place.span()
    elif names := [m for m in names_in(asked) if m.group(0)[0].isalpha()]:
        start, end = names[0].span()
    else:
        return None
    return f"{asked[:start]}{owned.group(1)}{asked[end:]}?"


def _new_thing(asked: str, fragment: str) -> tuple[str, ...]:
    """The terms of what a fragment naming whose asks about when the previous question does not ("dividend" of
    "Kestrel's dividend" after 'How did Orbital Foods shares react?'; not "too" of "Lucy Tran's too"), and of
    whose; none for another fragment."""
    owned = _OWNED.fullmatch(fragment)
    thing = terms(owned.group(2)) if owned and owned.group(2) else []
    known = _NOTHING_NEW.union(terms(asked))
    if any(t not in known and not t[:1].isdigit() for t in thing):
        return tuple(dict.fromkeys(terms(owned.group(1)) + thing))
    return ()


def _without_determiner(phrase: str) -> str:
    return phrase[m.end():].lower() if (m := _DETERMINER.match(phrase)) else phrase.lower()


def _counterpart(asked: str, fragment: str) -> tuple[int, int] | None:
    """Where the fragment's counterpart stands in the previous question: for 'in the US', its last phrase led by
    the same preposition (not opening the question) whose object is a name or a number; for a name ('Mozilla
    browsers'), its first name."""
    lead = _PREPOSITION.match(fragment)
    if lead:
        phrases = list(re.finditer(rf"(?<!^)\b(?i:{lead.group(1)})\s+{_OBJECT}", asked))
        return phrases[-1].span() if phrases else None
    names = [m for m in names_in(asked) if m.group(0)[0].isalpha()]
    if names and fragment[:1].isupper():
        return names[0].span()
    return _same_head(asked, fragment)


def _same_head(asked: str, fragment: str) -> tuple[int, int] | None:
    """For 'the high-dose group' after 'What was the efficacy in the low-dose group?': the phrase that ends with
    the fragment's last word (not opening the question), taking in as many words before it as the fragment has,
    up to a preposition or a question word ('the low-dose group')."""
    words = fragment.split()
    if not 0 < len(words) <= _HEAD_WORDS or len(words[-1]) < 3 or not terms(words[-1]):
        return None
    ends = list(re.finditer(rf"(?<!^)\b{re.escape(words[-1])}\b", asked, re.IGNORECASE))
    if not ends:
        return None
    start, end = ends[-1].span()
    modifiers = list(re.finditer(r"\S+", asked[:start]))[-(len(words) - 1):] if len(words) > 1 else []
    for word in reversed(modifiers):
        if _NOT_MODIFIER.fullmatch(word.group(0)):
            break
        start = word.start()
    if _DETERMINER.match(fragment) and not _DETERMINER.match(asked, start):  # 'the ballot' for 'the strike ballot'
        determiner = re.search(r"(\S+)\s+$", asked[:start])
        start = determiner.start(1) if determiner and _DETERMINER.fullmatch(determiner.group(0)) else start
    return start, end


def _fragment_mentions(fragment: str, asked: str) -> tuple[str, ...]:
    """The terms of what is new in a fragment after the question `asked`: what it asks about of someone, and whose
    ("kestrel", "dividend" of "And Kestrel's dividend?" after a question about shares), else the names it gives
    ("Yahoo" of "What about Yahoo's profits?" after one about profits: they are the last answer's too), else all its
    words ("And best actress?")."""
    if new := _new_thing(asked, fragment):
        return new
    named = [t for word in _CAPITALISED.findall(fragment) if word.lower() not in NOT_NAMES for t in terms(word)]
    return tuple(named or terms(fragment))


def with_context(reader: IndexReader, candidates: list[Candidate], resolved: Resolved) -> list[Candidate]:
    """The candidates plus every paragraph of the article the conversation was looking at, so a follow-up can
    reach the detail further down that article even when its own words retrieve other articles."""
    if resolved.context_paragraph is None:
        return candidates
    anchor = reader.paragraphs([resolved.context_paragraph]).get(resolved.context_paragraph)
    if anchor is None or anchor.article_id != resolved.context_article:  # the index changed under the session
        return candidates
    chosen = {c.paragraph_id for c in candidates}
    extra = [Candidate(int(p)) for p in reader.same_article(resolved.context_paragraph) if int(p) not in chosen]
    return candidates + extra


def asks_only_the_source(question: str) -> bool:
    """Whether the question asks who said the last answer and nothing more ("Who said that?", not "Who said that
    about shoppers?")."""
    said = _SAID_THAT.match(question)
    return bool(said) and not said.group("more")


def recall(ranked: list[ParagraphEvidence], resolved: Resolved) -> tuple[ParagraphEvidence, frozenset[int]] | None:
    """For a bare question ("Why?", "When?"): the paragraph of the last answer and that answer's sentences, where
    it is looked for first ("For how long?" after "Bus drivers have voted to strike for 10 days starting February
    17, ..."); None when the last answer is not in the ranking."""
    if not resolved.recalled:
        return None
    found = _answer_sentences(ranked, resolved.context_paragraph, resolved.recalled)
    return (found[0], frozenset(found[1])) if found else None


def _answer_sentences(ranked: list[ParagraphEvidence], paragraph_id: int | None,
                      answer: str) -> tuple[ParagraphEvidence, list[int]] | None:
    """The paragraph `paragraph_id` in the ranking and which of its sentences `answer` spans."""
    paragraph = next((p for p in ranked if p.paragraph_id == paragraph_id), None)
    if paragraph is None or (at := paragraph.text.find(answer)) < 0:
        return None
    end = at + len(answer)
    own = [k for k, s in enumerate(paragraph.sentences) if s.start < end and s.end > at]
    return (paragraph, own) if own else None


def attribution(ranked: list[ParagraphEvidence], resolved: Resolved) -> tuple[ParagraphEvidence, frozenset[int]] | None:
    """For "Who said that?": the paragraph of the last answer and the sentences that say whose words it was: the
    answer's own sentences if they name a speaker ("said Tim Osborne", "he said", "according to"), else the one
    after it, else the one before; None when none of them does (a bare "Who said that?" is then declined,
    any other question answered as any other)."""
    found = _answer_sentences(ranked, resolved.context_paragraph, resolved.attributed) \
        if resolved.attributed else None
    if found is None:
        return None
    paragraph, own = found
    for group in (own, [own[-1] + 1], [own[0] - 1]):
        saying = frozenset(k for k in group if 0 <= k < len(paragraph.sentences)
                           and _ATTRIBUTION.search(paragraph.text, paragraph.sentences[k].start,
                                                   paragraph.sentences[k].end))
        if saying:
            return paragraph, saying
    return None

