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
SPAN_FEATURES = (
    "len1", "len2", "len3", "len4", "len5p", "left_anchor", "right_anchor", "near_anchor", "typed_exact",
    "typed_overlap", "typed_question", "capitals", "capitals_other", "digits", "digits_other", "comma",
    "after_preposition", "after_copula", "in_brackets", "stop_share", "first_in_sentence",
)
_WORD = re.compile(r"[$£€¥]?\w[\w'’.,%\-/]*\w%?|[$£€¥]?\w%?")
_STOP = frozenset(
    "a an the of in on at by for from to with and or but as is was are were be been being has have had do "
    "did does this that these those it its he she they them his her their who whom which what when where "
    "why how not no than then also into onto over after before about".split()
)
_PREPOSITIONS = frozenset("in on at by from to of for with into during since until near".split())
_COPULA = frozenset("is was are were called named known became become as".split())


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    features: dict[str, float]


def candidates(sentence: str, question: Question) -> list[Candidate]:
    """Word spans of `sentence` that could answer `question`, with their features."""
    tokens = [(m.start(), _strip_end(sentence, m.start(), m.end())) for m in _WORD.finditer(sentence)]
    if not tokens:
        return []
    asked = {stem(w) for w in question.words if w not in _STOP}
    lowered = [sentence[s:e].lower() for s, e in tokens]
    anchor = [stem(w) in asked for w in lowered]
    typed = typed_spans(sentence, question)
    typed_question = question.answer_type is not AnswerType.OTHER
    found = []
    for i in range(len(tokens)):
        if anchor[i] or lowered[i] in _STOP:
            continue
        for j in range(i, min(len(tokens), i + MAX_WORDS)):
            if anchor[j]:
                break
            if lowered[j] in _STOP:
                continue
            start, end = tokens[i][0], tokens[j][1]
            features = _features(sentence, tokens, lowered, anchor, i, j, typed, typed_question)
            found.append(Candidate(start, end, features))
    return found


def _strip_end(text: str, start: int, end: int) -> int:
    while end > start + 1 and text[end - 1] in ".,'’-/":
        end -= 1
    return end


def _features(sentence, tokens, lowered, anchor, i, j, typed: list[Span], typed_question: bool) -> dict:
    n = j - i + 1
    start, end = tokens[i][0], tokens[j][1]
    left = next((i - k for k in range(i - 1, max(-1, i - 4), -1) if anchor[k]), None)
    right = next((k - j for k in range(j + 1, min(len(tokens), j + 4)) if anchor[k]), None)
    anchors = [k for k, a in enumerate(anchor) if a]
    distance = min((min(abs(k - i), abs(k - j)) for k in anchors), default=len(tokens))
    words = [sentence[s:e] for s, e in tokens[i:j + 1]]
    capitals = sum(w[:1].isupper() for w in words) / n
    digits = 1.0 if any(ch.isdigit() for w in words for ch in w) else 0.0
    exact = any(s.start == start and s.end == end for s in typed)
    overlap = any(s.start < end and start < s.end for s in typed)
    before = lowered[i - 1] if i else ""
    text = sentence[start:end]
    return {
        "len1": float(n == 1), "len2": float(n == 2), "len3": float(n == 3), "len4": float(n == 4),
        "len5p": float(n >= 5),
        "left_anchor": 1.0 / left if left else 0.0,
        "right_anchor": 1.0 / right if right else 0.0,
        "near_anchor": 1.0 / (1 + distance),
        "typed_exact": float(exact), "typed_overlap": float(overlap), "typed_question": float(typed_question),
        "capitals": capitals if typed_question else 0.0,
        "capitals_other": 0.0 if typed_question else capitals,
        "digits": digits if typed_question else 0.0,
        "digits_other": 0.0 if typed_question else digits,
        "comma": float("," in text or ";" in text),
        "after_preposition": float(before in _PREPOSITIONS),
        "after_copula": float(before in _COPULA),
        "in_brackets": float(start > 0 and sentence[start - 1] == "(" and sentence[end:end + 1] == ")"),
        "stop_share": sum(w.lower() in _STOP for w in words) / n,
        "first_in_sentence": float(i == 0),
    }


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
