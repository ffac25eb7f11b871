"""Pick the answer: the best sentence among the top paragraphs (or two adjacent ones), as the sentence model and
the reader judge them, and the short span the reader reads in it."""

from __future__ import annotations

import math
import re
from concurrent.futures import Future
from dataclasses import dataclass

from index.lexical import terms
from qa.evidence import ParagraphEvidence, Query, SentenceEvidence, typed_near
from qa.names import NAME_WORD, OWNER
from qa.question import ASKS_WHEN, ASKS_WHO, TIME_UNITS, WH_WORDS, AnswerType, Question
from qa.reader import Reader, ReaderResult
from qa.scoring import Weights
from qa.spans import typed_spans
from qa.spare import Spare
from qa.tidy import tidy

TOP_PARAGRAPHS = 3


@dataclass(frozen=True)
class Cascade:
    """Which answer options the reader reads: the best sentence, then the next while it is among the first
    `options`, scores at most `margin` below the best, and could still win: its score plus `lift` must beat the
    best reading so far (sentence score plus `weights.reading`).

    The shipped `CASCADE` was chosen with benchmarks/read_cascade.py, which replays it over a grid (margin 1.5-3,
    lift 1-3.5 and none, 2 or 3 options) on the tuning questions (1500 of even SQuAD v1.1 and v2.0 dev articles, seed
    7; bbc-tune) with the shipped weights, then runs bbc-followups for a few. Against the former 2.5 / 3.5: reads per
    question 1.61 -> 1.38 (v1.1), 1.93 -> 1.65 (v2.0), 2.04 -> 1.75 (bbc-tune), 14% fewer; right + cited +0.5,
    +0.75, +1.0 points; balanced accuracy +0.7 (v2.0), -0.1 (bbc-tune); follow-ups 41 of 63 turns against 43.
    Reading more lets the reader overrule the sentence model where it is less often right. Points cheaper still
    (two options, or lift 1.5) were within 0.3 points of 2.5 / 3.5 on every measure but not above it on SQuAD,
    where 2.0 / 2.0 gains 0.5-0.75; neighbouring points differ by a few questions, so re-check it when the reader
    or the weights change. Re-checked for the 4-epoch reader and its weights: 2.0 / 2.0 reads 1.23 (v1.1), 1.47
    (v2.0), 1.57 (bbc-tune) options a question; every point with 3 options, margin 1.5-3 and lift 1-3.5 is within
    about 1 point of it on each measure (follow-ups 40-41 of 63), two options lose about 1 point of right + cited on
    SQuAD, and reading every option in the margin (lift none) loses 6-7, so it stays."""

    options: int = 3
    margin: float = 2.0
    lift: float = 2.0


CASCADE = Cascade()
_NEGATION = re.compile(r"\b(not|never|no|none|nobody|nothing|neither|nor|without|cannot|fail(?:ed|s)?)\b|n't\b",
                       re.IGNORECASE)
_NUMBER = re.compile(r"\d[\d,.]*")
_WORD = re.compile(r"\w")
QUOTE_MARK = re.compile(r'(?<!\d)"|[“”]')  # not an inch mark: '55" screen'
_LETTER = re.compile(r"[^\W\d_]")
# Whose a person is, before their full name: "Labour's " of "Labour's Omar Haddad", "Kenya's " of "Kenya's Grace
# Wanjiru". No gold answer to the 2,055 questions opening with "who" in the SQuAD dev sets opens with one.
_OWNER_BEFORE_NAME = re.compile(rf"{OWNER}\s+(?={NAME_WORD}\s+[A-Z])")
# What a short answer to a question asking "when" (`ASKS_WHEN`) holds: a number, a month or weekday, or a word of
# time ("the following season", "after the war", "shortly before his death"). None of the 107 questions opening with
# "when" of 1,500 from even SQuAD v1.1 dev articles was given a short answer without one; "When did his trial
# start?" had been answered "Mr Ebbers", the man "his" stands for.
_TIME = re.compile(
    r"\d|\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    rf"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?|(?:mon|tues?|wednes|thurs?|fri|satur|sun)(?:day)?|{TIME_UNITS}|"
    r"spring|summer|autumn|fall|winter|mornings?|evenings?|noon|ago|after|before|during|until|since|later|earlier|"
    r"soon|now|today|tonight|yesterday|tomorrow|times?|ages?|eras?|periods?|wars?|reign|once|first|last|next|early|"
    r"late|mid|beginning|end|start|dawn|dusk)\b", re.IGNORECASE)


# A sentence that asks rather than answers: a question ("So what went wrong?"; 1 of SQuAD v1.1 dev's 10,570 answers
# is in one), or a subheading in question form ("Who is paying").
_QUESTION = re.compile(rf"[^\n]*\?[\s\"'”’)]*$|(?i:{WH_WORDS})\b[^.!:;\n]*$")


@dataclass(frozen=True)
class Extraction:
    """The chosen answer span in its paragraph, with the scores the confidence model reads; `floor` is a
    confidence the answer has whatever they say (a speaker read off the text, see `qa.answerer._with_speaker`)."""

    paragraph: ParagraphEvidence
    start: int
    end: int
    short_start: int | None
    short_end: int | None
    features: dict[str, float]
    floor: float = 0.0


def rank_paragraphs(evidence: list[ParagraphEvidence], weights: Weights) -> list[ParagraphEvidence]:
    for p in evidence:
        p.score = weights.paragraph.score(p.features)
    return sorted(evidence, key=lambda p: p.score, reverse=True)


@dataclass(frozen=True)
class Option:
    """A candidate answer: a sentence of a top paragraph, widened to its window, with the reader's reading;
    `total` is its sentence score plus what `weights.reading` makes of the reading (the score alone if unread)."""

    score: float
    paragraph: ParagraphEvidence
    k: int
    start: int
    end: int
    read: ReaderResult | None
    total: float


def options(ranked: list[ParagraphEvidence], query: Query, weights: Weights, reader: Reader,
            cascade: Cascade = CASCADE, spare: Spare | None = None, mentions: tuple[str, ...] = (),
            sentences: frozenset[int] | None = None) -> list[Option]:
    """The sentences of the top paragraphs, best first by the sentence model, each widened to its answer window;
    the reader reads the ones `cascade` picks (only the best when `weights.reading` is empty). With `mentions`,
    only the windows holding one of those terms are options; with `sentences`, only those (by index).
    With `spare` threads lent, the next option that may still be read is read on one of them while this one is:
    the same readings, sooner, for some reads the cascade then does not use (BENCHMARKS.md: CPU per question)."""
    scored: list[tuple[float, ParagraphEvidence, int]] = []
    for p in ranked[:TOP_PARAGRAPHS]:
        typed_near(p, query)
        for k, s in enumerate(p.sentences):
            if (sentences is not None and k not in sentences) or _QUESTION.match(p.text, s.start, s.end):
                continue
            s.features["paragraph"] = p.score - ranked[0].score
            s.score = weights.sentence.score(s.features)
            scored.append((s.score, p, k))
    scored.sort(key=lambda o: o[0], reverse=True)
    count = cascade.options if weights.reading.weights else 1
    windows = [_widen(p, k, query.question) for _, p, k in scored]
    if mentions:
        kept = [n for n, ((_, p, _), (a, b)) in enumerate(zip(scored, windows, strict=True))
                if not set(mentions).isdisjoint(terms(p.text[a:b]))]
        scored, windows = [scored[n] for n in kept], [windows[n] for n in kept]
    texts = [p.text[a:b] for (_, p, _), (a, b) in zip(scored, windows, strict=True)]

    def could_win(n: int, best: float) -> bool:
        return n < count and scored[n][0] >= scored[0][0] - cascade.margin and scored[n][0] + cascade.lift > best

    found = []
    best = -math.inf
    with _Reads(reader, query.question.text, texts, spare) as reads:
        for n, (score, p, k) in enumerate(scored):
            worth_reading = n == 0 or could_win(n, best)
            if worth_reading and n + 1 < len(scored) and could_win(n + 1, best):  # best only grows: a superset
                reads.ahead(n + 1)
            read = reads.get(n) if worth_reading else None
            total = score + weights.reading.score(reading_features(read))
            if read is not None:
                best = max(best, total)
            found.append(Option(score, p, k, *windows[n], read, total))
    return found


class _Reads:
    """The cascade's reads of the option texts: on the calling thread, unless started ahead on a spare thread.
    Leaving the block cancels the reads started ahead that were not used and have not begun."""

    def __init__(self, reader: Reader, question: str, texts: list[str], spare: Spare | None) -> None:
        self.reader, self.question, self.texts, self.spare = reader, question, texts, spare
        self._started: dict[int, Future[ReaderResult | None]] = {}

    def __enter__(self) -> _Reads:
        return self

    def __exit__(self, *exc: object) -> None:
        for started in self._started.values():
            started.cancel()

    def ahead(self, n: int) -> None:
        """Start reading option `n` on a spare thread, if one is lent."""
        if self.spare is not None and n not in self._started:
            started = self.spare.submit(self.reader.read, self.question, self.texts[n])
            if started is not None:
                self._started[n] = started

    def get(self, n: int) -> ReaderResult | None:
        """Option `n`'s reading: from its read ahead, or read here if it has none or it has not begun (the spare
        threads are still busy, e.g. with an earlier question's unused reads)."""
        started = self._started.pop(n, None)
        if started is None or started.cancel():
            return self.reader.read(self.question, self.texts[n])
        return started.result()


def reading_features(read: ReaderResult | None) -> dict[str, float]:
    """The reader's scores as log-odds, for `weights.reading` (none for an option the reader did not read)."""
    if read is None:
        return {}
    return {"answerable": _logit(read.answerable), "span": _logit(read.probability)}


def extract(ranked: list[ParagraphEvidence], query: Query, weights: Weights, reader: Reader,
            among: list[ParagraphEvidence] | None = None, spare: Spare | None = None,
            avoid: tuple[str, ...] = (), cascade: Cascade = CASCADE, mentions: tuple[str, ...] = (),
            sentences: frozenset[int] | None = None) -> Extraction | None:
    """The best answer among the options the reader read, or None if there is no text: sentence score plus
    the reading; its short span is kept when likely enough (`_short_span`), and its scores join the confidence
    features.
    Options come from the top of `among` (a part of the ranking, best first) when given, else of `ranked`;
    the paragraph margin is always taken against the whole ranking. `spare`: threads to read ahead on (`options`).
    `avoid`: short answers not to give (`_short_span`); `cascade`: which options are read; `mentions`: what
    the answer must mention, `sentences`: the only ones that may answer (`options`)."""
    found = options(ranked if among is None else among, query, weights, reader, cascade, spare, mentions, sentences)
    if not found:
        return None
    readable = [n for n, o in enumerate(found) if o.read is not None] or [0]
    best = max(readable, key=lambda n: found[n].total)
    option, score = found[best], found[best].total
    runner_up = max((o.total for n, o in enumerate(found) if n != best), default=score - 5.0)
    paragraph, start, end, read = option.paragraph, option.start, option.end, option.read
    question = query.question
    typed = bool(typed_spans(paragraph.text[start:end], question))
    sentence = paragraph.sentences[option.k]
    features = {
        "paragraph_score": paragraph.score,
        "paragraph_margin": paragraph.score - (ranked[1].score if len(ranked) > 1 else paragraph.score - 5.0),
        "sentence_score": score,
        "sentence_margin": score - runner_up,
        "cos": sentence.features["cos"],
        "coverage": sentence.features["coverage"],
        "window_coverage": sentence.features["window_coverage"],
        "paragraph_coverage": paragraph.features["coverage"],
        "missing_idf": paragraph.features["missing_idf"],
        "dense": paragraph.features["dense"],
        "bm25_abs": paragraph.features["bm25_abs"],
        "context": paragraph.features["context"],
        "typed": 1.0 if question.answer_type is not AnswerType.OTHER else 0.0,
        "type_found": 1.0 if typed else 0.0,
        "typed_missing": 1.0 if question.answer_type is not AnswerType.OTHER and not typed else 0.0,
        "answerable": read.answerable if read else 0.0,
        "span_probability": read.probability if read else 0.0,
        **_mismatch(query, paragraph, start, end),
    }
    short_start, short_end = _short_span(paragraph.text, start, end, read, reader, question, avoid,
                                         weights.span_threshold) or (None, None)
    return Extraction(paragraph, *_whole_quote(paragraph, start, end), short_start, short_end, features)


def _short_span(text: str, start: int, end: int, read: ReaderResult | None, reader: Reader, question: Question,
                avoid: tuple[str, ...], threshold: float) -> tuple[int, int] | None:
    """The reader's span in the window `text[start:end]`, as offsets into `text`, when likely enough; tidied
    (`tidy`: whole brackets and quotations, no full stop); None if no word is left (a full stop alone answers
    nothing), no letter for a question opening with "who" ("Who was arrested?" is not answered "18", of "an
    18-year-old woman": none of SQuAD v1.1 dev's 1,062 such questions has a gold answer without a letter; "What
    was the age of the woman who was arrested?" may be), no word of time for one asking "when" (`_TIME`), or no
    unit of time, of length or a score for one asking such a measure (`Question.measure`).
    If it overlaps one of `avoid` (answers the question is not given: `Resolved.not_answers`), found as a whole
    word or phrase, the best span elsewhere in the window."""
    if read is None or read.probability < threshold:
        return None
    window = text[start:end]
    places = tuple((m.start(), m.end()) for phrase in avoid
                   for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", window, re.IGNORECASE))
    if any(a < read.end and b > read.start for a, b in places):
        read = reader.read(question.text, window, avoid=places)
        if read is None or read.probability < threshold or read.end <= read.start:
            return None
    a, b = tidy(text, start + read.start, start + read.end, limit=end)
    if ASKS_WHO.match(question.text) and (owner := _OWNER_BEFORE_NAME.match(text, a, b)):
        a = owner.end()
    return (a, b) if _holds_what_is_asked(question).search(text, a, b) else None


def _holds_what_is_asked(question: Question) -> re.Pattern[str]:
    """What a short answer must hold: a letter for "who" (a name), what a measure asked for holds (a unit of time
    for "how long" something takes or lasts: "How long does TOI-5521b take to orbit its star?" is not "1.8", of "1.8
    times the radius of Earth ... every 11 days"), a word of time for "when", else a word."""
    if ASKS_WHO.match(question.text):
        return _LETTER
    if question.measure is not None:
        return question.measure
    return _TIME if ASKS_WHEN.match(question.text) else _WORD


def _whole_quote(p: ParagraphEvidence, start: int, end: int) -> tuple[int, int]:
    """The answer with the sentence before it when it opens by closing a quotation that sentence opens, and with the
    sentence after it when it ends by opening one that sentence closes: not 'It's an entertainment device," said
    Kaz Hirai' without the quote's first sentence. Quote marks are read in the sentences themselves (an inch mark,
    '55"', is none), so a quotation opened further back leaves the answer as it is."""
    inside = [k for k, s in enumerate(p.sentences) if s.start < end and s.end > start]
    if not inside:
        return start, end
    first, last = inside[0], inside[-1]
    marks = _quote_marks(p.text, start, end)
    if marks and not marks[0] and first > 0:
        before = p.sentences[first - 1]
        if (opened := _quote_marks(p.text, before.start, before.end)) and opened[-1]:
            start = before.start
    if marks and marks[-1] and last + 1 < len(p.sentences):
        after = p.sentences[last + 1]
        if (closed := _quote_marks(p.text, after.start, after.end)) and not closed[0]:
            end = after.end
    return start, end


def _quote_marks(text: str, start: int, end: int) -> list[bool]:
    """The double quote marks of `text[start:end]` in order, True for one that opens a quotation: a curly one by
    its shape, a straight one after a space, a bracket or a dash, or at the start."""
    return [m.group() == "“" or (m.group() == '"' and (m.start() == 0 or text[m.start() - 1] in " \t\n([{—–-"))
            for m in QUOTE_MARK.finditer(text, start, end)]


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _mismatch(query: Query, p: ParagraphEvidence, start: int, end: int) -> dict[str, float]:
    """Signs that the answer is a near miss: question words, numbers or negation the answer lacks."""
    answer = p.text[start:end]
    present = query.found_in(terms(answer)) | query.found_in(terms(p.title))
    missing = sorted((w for t, w in query.idf.items() if t not in present), reverse=True)
    total = sum(query.idf.values()) or 1.0
    numbers = set(_NUMBER.findall(query.question.text))
    return {
        "answer_missing_idf": (missing[0] if missing else 0.0) / 12.0,
        "answer_missing_second": (missing[1] if len(missing) > 1 else 0.0) / 12.0,
        "answer_coverage": 1.0 - sum(missing) / total,
        "number_mismatch": 1.0 if numbers - set(_NUMBER.findall(p.text)) else 0.0,
        "negation_mismatch": 1.0 if bool(_NEGATION.search(query.question.text)) != bool(_NEGATION.search(answer))
        else 0.0,
    }


def _widen(p: ParagraphEvidence, k: int, question: Question) -> tuple[int, int]:
    """One sentence, or two adjacent ones when the first lacks the asked-for type and its neighbour has it."""
    sentence: SentenceEvidence = p.sentences[k]
    if question.answer_type is AnswerType.OTHER or sentence.features.get("type_match"):
        return sentence.start, sentence.end
    for j in (k + 1, k - 1):
        if 0 <= j < len(p.sentences) and p.sentences[j].features.get("type_match"):
            other = p.sentences[j]
            if other.features["cos"] >= sentence.features["cos"] - 0.15:
                return min(sentence.start, other.start), max(sentence.end, other.end)
    return sentence.start, sentence.end
