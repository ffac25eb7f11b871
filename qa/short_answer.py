"""Short answers: score every short word span of the answer sentence and keep the best if it is reliable.

Candidates are runs of up to `MAX_WORDS` words that do not contain the question's own words. Each gets
features (length, closeness to the question's words on either side, capitals, digits, whether it is a span
of the type the question asks for, ...) and a linear model fitted on even-numbered SQuAD articles picks one
(softmax over the sentence's candidates). The answer is given only when its probability clears a threshold.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from index.lexical import stem
from qa.question import AnswerType, Question
from qa.scoring import LinearModel
from qa.spans import Span, typed_spans

MAX_WORDS = 7
_WH_WORDS = ("who", "what", "which", "when", "where", "how")
SPAN_FEATURES = (
    "len1", "len2", "len3", "len4", "len5p", "left1", "left2", "left3", "right1", "right2", "right3",
    "near_anchor", "anchors_around", "typed_exact", "typed_overlap", "typed_question", "capitals",
    "capitals_other", "digits", "digits_other", "comma", "after_preposition", "after_copula", "in_brackets",
    "stop_share", "first_in_sentence", "cuts_name", "clause_end", "clause_start",
    *(f"{wh}_capitals" for wh in _WH_WORDS), *(f"{wh}_digits" for wh in _WH_WORDS),
)
_WORD = re.compile(r"[$£€¥]?\w[\w'’.,%\-/]*\w%?|[$£€¥]?\w%?")
_STOP = frozenset(
    "a an the of in on at by for from to with and or but as is was are were be been being has have had do "
    "did does this that these those it its he she they them his her their who whom which what when where "
    "why how not no than then also into onto over after before about".split()
)
_PREPOSITIONS = frozenset("in on at by from to of for with into during since until near".split())
_COPULA = frozenset("is was are were called named known became become as".split())
_CLAUSE_MARKS = ",;:()\"“”—–"


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    features: dict[str, float]


@dataclass(frozen=True)
class _Words:
    """The sentence's words with what the features need: offsets, lower case, question-word marks."""

    sentence: str
    tokens: list[tuple[int, int]]
    lowered: list[str]
    anchor: list[bool]
    typed: list[Span]
    typed_question: bool
    wh: str | None


def candidates(sentence: str, question: Question) -> list[Candidate]:
    """Word spans of `sentence` that could answer `question`, with their features."""
    tokens = [(m.start(), _strip_end(sentence, m.start(), m.end())) for m in _WORD.finditer(sentence)]
    if not tokens:
        return []
    asked = {stem(w) for w in question.words if w not in _STOP}
    lowered = [sentence[s:e].lower() for s, e in tokens]
    wh = next((w for w in question.words if w in _WH_WORDS), None)
    words = _Words(sentence, tokens, lowered, [stem(w) in asked for w in lowered], typed_spans(sentence, question),
                   question.answer_type is not AnswerType.OTHER, wh)
    found = []
    for i in range(len(tokens)):
        if words.anchor[i] or lowered[i] in _STOP:
            continue
        for j in range(i, min(len(tokens), i + MAX_WORDS)):
            if words.anchor[j]:
                break
            if lowered[j] not in _STOP:
                found.append(Candidate(tokens[i][0], tokens[j][1], _features(words, i, j)))
    return found


def _strip_end(text: str, start: int, end: int) -> int:
    while end > start + 1 and text[end - 1] in ".,'’-/":
        end -= 1
    return end


def _features(w: _Words, i: int, j: int) -> dict[str, float]:
    n = j - i + 1
    sentence, tokens = w.sentence, w.tokens
    start, end = tokens[i][0], tokens[j][1]
    left = next((i - k for k in range(i - 1, max(-1, i - 4), -1) if w.anchor[k]), 0)
    right = next((k - j for k in range(j + 1, min(len(tokens), j + 4)) if w.anchor[k]), 0)
    anchors = [k for k, a in enumerate(w.anchor) if a]
    distance = min((min(abs(k - i), abs(k - j)) for k in anchors), default=len(tokens))
    around = sum(1 for k in anchors if i - 4 <= k <= j + 4) / max(1, len(anchors))
    text = sentence[start:end]
    span_words = [sentence[s:e] for s, e in tokens[i:j + 1]]
    capitals = sum(x[:1].isupper() for x in span_words) / n
    digits = 1.0 if any(ch.isdigit() for ch in text) else 0.0
    before = w.lowered[i - 1] if i else ""
    capital_before = i > 0 and sentence[tokens[i - 1][0]].isupper() and span_words[0][:1].isupper()
    capital_after = j + 1 < len(tokens) and sentence[tokens[j + 1][0]].isupper() and span_words[-1][:1].isupper()
    features = {
        "len1": float(n == 1), "len2": float(n == 2), "len3": float(n == 3), "len4": float(n == 4),
        "len5p": float(n >= 5),
        "left1": float(left == 1), "left2": float(left == 2), "left3": float(left == 3),
        "right1": float(right == 1), "right2": float(right == 2), "right3": float(right == 3),
        "near_anchor": 1.0 / (1 + distance),
        "anchors_around": around,
        "typed_exact": float(any(s.start == start and s.end == end for s in w.typed)),
        "typed_overlap": float(any(s.start < end and start < s.end for s in w.typed)),
        "typed_question": float(w.typed_question),
        "capitals": capitals if w.typed_question else 0.0,
        "capitals_other": 0.0 if w.typed_question else capitals,
        "digits": digits if w.typed_question else 0.0,
        "digits_other": 0.0 if w.typed_question else digits,
        "comma": float("," in text or ";" in text),
        "after_preposition": float(before in _PREPOSITIONS),
        "after_copula": float(before in _COPULA),
        "in_brackets": float(start > 0 and sentence[start - 1] == "(" and sentence[end:end + 1] == ")"),
        "stop_share": sum(x.lower() in _STOP for x in span_words) / n,
        "first_in_sentence": float(i == 0),
        "cuts_name": float(capital_before or capital_after),
        "clause_end": float(end >= len(sentence) or sentence[end] in _CLAUSE_MARKS + ".?!"),
        "clause_start": float(i == 0 or any(ch in _CLAUSE_MARKS for ch in sentence[tokens[i - 1][1]:start])),
    }
    if w.wh:
        features[f"{w.wh}_capitals"] = capitals
        features[f"{w.wh}_digits"] = digits
    return features


def pick(sentence: str, question: Question, model: LinearModel, threshold: float) -> Span | None:
    """The most likely short answer in `sentence`, or None when none is likely enough."""
    found = candidates(sentence, question)
    if not found:
        return None
    scores = [model.score(c.features) for c in found]
    top = max(scores)
    total = sum(math.exp(s - top) for s in scores)
    best = found[scores.index(top)]
    if 1.0 / total < threshold:
        return None
    return Span(best.start, best.end, "short")
