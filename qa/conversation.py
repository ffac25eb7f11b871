"""Conversations: a bounded session store and the resolution of follow-up questions against earlier turns."""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from index.lexical import terms

MAX_TURNS = 6
_ANAPHORA = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|that|this|those|these|there|then|"
    r"the same|such|the (?:company|firm|group|team|club|country|city|man|woman|player|party|government|"
    r"minister|deal|report|figure|number|event|game|match|film|show|band|album|plan|bill|case))\b",
    re.IGNORECASE,
)
_FRAGMENT = re.compile(r"^\s*(?:and|but|what about|how about|and what about|also)\b[\s,]*(.*?)[\s?.!]*$",
                       re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1[0-9]{3}|20[0-9]{2})\b")


@dataclass(frozen=True)
class Turn:
    """One answered question: what it asked (resolved) and where its answer came from."""

    question: str
    resolved: str
    article_id: str | None
    answer: str | None


@dataclass
class Session:
    turns: deque[Turn] = field(default_factory=lambda: deque(maxlen=MAX_TURNS))
    last_used: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Resolved:
    """A question as the retriever should see it, with what it borrowed from the conversation."""

    text: str
    extra_terms: tuple[str, ...] = ()
    context_article: str | None = None
    followup: bool = False


class SessionStore:
    """Sessions by id, bounded in number (least recently used dropped) and in age (idle ones expire)."""

    def __init__(self, max_sessions: int = 10_000, ttl_seconds: float = 3600.0) -> None:
        self.max_sessions = max_sessions
        self.ttl = ttl_seconds
        self._sessions: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> tuple[str, Session]:
        """The session for `session_id`, a fresh one if it is unknown or expired, a new id if None."""
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            session_id = session_id or secrets.token_urlsafe(12)
            session = self._sessions.pop(session_id, None) or Session()
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
    """Rewrite a follow-up with its conversation; a question that stands on its own is left alone."""
    if not session.turns:
        return Resolved(question)
    last = session.turns[-1]
    fragment = _FRAGMENT.match(question)
    own_terms = terms(question)
    if fragment and len(terms(fragment.group(1))) <= 3:
        rewritten = _substitute(last.resolved, fragment.group(1))
        return Resolved(rewritten, (), last.article_id, followup=True)
    if _ANAPHORA.search(question) or len(own_terms) <= 1:
        borrowed = tuple(t for t in terms(last.resolved) if t not in own_terms)
        return Resolved(f"{last.resolved} {question}", borrowed, last.article_id, followup=True)
    return Resolved(question)


def _substitute(previous: str, fragment: str) -> str:
    """'And in 2003?' after 'How much did it earn in 2004?' -> 'How much did it earn in 2003?'."""
    new_year = _YEAR.search(fragment)
    if new_year and _YEAR.search(previous):
        return _YEAR.sub(new_year.group(0), previous, count=1)
    return f"{previous.rstrip('?. ')} {fragment}?"
