"""Tidy short answers: a span the reader cut inside "(...)" or a quotation is closed when its closing mark
follows at once, else cut before the mark it cannot close; loose commas and a sentence's full stop go."""

from __future__ import annotations

import re

REACH = 3  # how far (characters) past the span a closing mark may be to be taken in: a mark right after it
_DIRECTED = (("(", ")"), ("[", "]"), ("“", "”"))
_STRAIGHT = '"'
_SENTENCE_END = re.compile(r"[.!?]\s")
_LOOSE = " \t\n,;:"
_LAST_TOKEN = re.compile(r"(\S+)\.$")
_DOTTED = re.compile(r"\W*(?:\w\.)+\w\W*|\W*[A-Z]\W*")  # "U.S", "p.m", an initial "J"
_ABBREVIATIONS = frozenset("inc ltd co corp bros jr sr st dr mr mrs ms prof gen gov sen rep no nos etc vs".split())


def tidy(text: str, start: int, end: int, limit: int | None = None) -> tuple[int, int]:
    """`text[start:end]` widened (never past `limit`) or narrowed so that every bracket and quotation mark in it
    has its partner, without loose spaces or commas at its ends nor the full stop of the sentence it ends (an
    abbreviation's stays: "Inc.", "a.m."); the span as given if nothing would be left. `text` is the whole
    paragraph: whether a straight quote opens or closes depends on the quotes before it."""
    limit = len(text) if limit is None else min(limit, len(text))
    span = start, end
    for _ in range(3):  # a cut can leave another mark unpaired
        before = span
        for opener, closer in _DIRECTED:
            span = _directed(text, *span, opener, closer, limit)
        span = _straight(text, *span, limit)
        if span == before:
            break
    a, b = span
    while a < b and text[a] in _LOOSE:
        a += 1
    while b > a and text[b - 1] in _LOOSE:
        b -= 1
    if _ends_a_sentence(text, a, b):
        b -= 1
    return (a, b) if a < b else (start, end)


def _ends_a_sentence(text: str, start: int, end: int) -> bool:
    """Whether the span ends with a full stop that is not an abbreviation's."""
    last = _LAST_TOKEN.search(text, start, end)
    if last is None:
        return False
    token = last.group(1)
    return not (_DOTTED.fullmatch(token) or token.strip("\"'“”‘’()[]").lower() in _ABBREVIATIONS)


def _directed(text: str, start: int, end: int, opener: str, closer: str, limit: int) -> tuple[int, int]:
    open_at: list[int] = []
    for i in range(start, end):
        if text[i] == opener:
            open_at.append(i)
        elif text[i] == closer:
            if not open_at:  # closes a bracket opened before the span
                return _cut(text, start, end, i)
            open_at.pop()
    if open_at:
        return _close(text, start, end, open_at[0], closer, limit)
    return start, end


def _straight(text: str, start: int, end: int, limit: int) -> tuple[int, int]:
    """Straight quotes alternate: one is an opener when an even number of them come before it in `text`."""
    inside = text.count(_STRAIGHT, 0, start) % 2 == 1
    marks = [i for i in range(start, end) if text[i] == _STRAIGHT]
    if inside and marks:  # the first mark closes a quotation opened before the span
        return _cut(text, start, end, marks[0])
    if len(marks) % 2:
        return _close(text, start, end, marks[-1], _STRAIGHT, limit)
    return start, end


def _close(text: str, start: int, end: int, opened: int, closer: str, limit: int) -> tuple[int, int]:
    """Take in the closing mark of the one opened at `opened` when it follows within `REACH` (and before
    `limit`) in the same sentence, else cut the span before the opening mark."""
    found = text.find(closer, end, min(end + REACH + 1, limit))
    if found != -1 and not _SENTENCE_END.search(text, end, found):
        return start, found + 1
    return _cut(text, start, end, opened)


def _cut(text: str, start: int, end: int, mark: int) -> tuple[int, int]:
    """The span before `mark`, or after it when no word comes before it."""
    return (start, mark) if re.search(r"\w", text[start:mark]) else (mark + 1, end)
