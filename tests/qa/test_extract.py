"""The read cascade on the real model and reader: a later option is read only while it could still win."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from qa.answerer import Answerer
from qa.conversation import Resolved
from qa.extract import CASCADE, _short_span, extract, options, reading_features
from qa.question import Question
from qa.reader import Reader, ReaderResult
from qa.settings import Settings
from qa.spare import Spare
from tests.qa.test_conversation import answerer_over

QUESTIONS = ("How many casualties have North Korean troops suffered?", "Where are the North Korean troops fighting?",
             "Who said the troops had suffered casualties?", "What did the officials say about Ukraine?")


class CountingReader:
    """The real reader, counting its reads."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self.reads = 0

    def read(self, question: str, window: str) -> ReaderResult | None:
        self.reads += 1
        return self.reader.read(question, window)


@pytest.fixture(scope="module")
def answerer(seed_settings: Settings) -> Answerer:
    return Answerer.load(seed_settings)


@pytest.mark.parametrize("question", QUESTIONS)
def test_a_later_option_is_read_only_while_it_could_win(answerer: Answerer, question: str) -> None:
    query, ranked = answerer.rank(answerer.index, Resolved(question))
    found = options(ranked, query, answerer.weights, answerer.reader)
    assert found[0].read is not None
    best = -math.inf
    for n, option in enumerate(found):
        near = n < CASCADE.options and option.score >= found[0].score - CASCADE.margin
        could_win = near and option.score + CASCADE.lift > best
        assert (option.read is not None) == (n == 0 or could_win)
        if option.read is not None:
            best = max(best, option.score + answerer.weights.reading.score(reading_features(option.read)))


def test_a_clear_answer_is_read_once_and_chosen_as_when_reading_all(answerer: Answerer) -> None:
    query, ranked = answerer.rank(answerer.index, Resolved(QUESTIONS[0]))
    cascade = CountingReader(answerer.reader)
    chosen = extract(ranked, query, answerer.weights, cascade)
    everything = CountingReader(answerer.reader)
    alone = extract(ranked, query, answerer.weights, everything, cascade=replace(CASCADE, lift=math.inf))
    assert chosen is not None and alone is not None
    assert cascade.reads == 1 < everything.reads
    span = (chosen.paragraph.paragraph_id, chosen.start, chosen.end, chosen.short_start, chosen.short_end)
    assert span == (alone.paragraph.paragraph_id, alone.start, alone.end, alone.short_start, alone.short_end)


class CountingSpare(Spare):
    """Two spare threads, counting the reads started on them."""

    def __init__(self) -> None:
        super().__init__(2)
        self.started = 0

    def submit(self, fn, *args):
        started = super().submit(fn, *args)
        self.started += started is not None
        return started


@pytest.mark.parametrize("question", QUESTIONS)
def test_reading_ahead_on_spare_threads_gives_the_same_options(answerer: Answerer, question: str) -> None:
    query, ranked = answerer.rank(answerer.index, Resolved(question))
    serial = options(ranked, query, answerer.weights, answerer.reader)
    spare = CountingSpare()
    with spare.asking():
        ahead = options(ranked, query, answerer.weights, answerer.reader, spare=spare)
    assert [(o.paragraph.paragraph_id, o.k, o.start, o.end, o.read, o.total) for o in ahead] == \
        [(o.paragraph.paragraph_id, o.k, o.start, o.end, o.read, o.total) for o in serial]
    reads = sum(o.read is not None for o in serial)
    assert spare.started >= reads - 1  # every read after the first was started ahead, with the threads idle


def test_a_clear_answer_reads_the_next_option_ahead_and_leaves_it_unused(answerer: Answerer) -> None:
    query, ranked = answerer.rank(answerer.index, Resolved(QUESTIONS[0]))
    spare = CountingSpare()
    with spare.asking():
        found = options(ranked, query, answerer.weights, answerer.reader, spare=spare)
    assert spare.started == 1
    assert found[0].read is not None and all(o.read is None for o in found[1:])


def test_the_short_answer_to_avoid_is_matched_as_a_whole_word(answerer: Answerer) -> None:
    """A counterpart question must not get the last short answer again, but "5" is not in "15"."""
    text = "Police said 15 people were hurt in the crash, against 5 a year earlier."
    question = "How many people were hurt in the crash?"
    read = answerer.reader.read(question, text)
    assert read is not None and text[read.start:read.end] == "15"
    kept = _short_span(text, 0, len(text), read, answerer.reader, Question.parse(question), ("5",), 0.0)
    assert kept is not None and text[slice(*kept)] == "15"
    other = _short_span(text, 0, len(text), read, answerer.reader, Question.parse(question), ("15",), 0.0)
    assert other is None or "15" not in text[slice(*other)]


def test_a_short_answer_without_a_word_is_no_short_answer(answerer: Answerer) -> None:
    """The reader can pick a sentence's closing mark ("Why?" after a quote gave '.'): nothing to show in bold."""
    text = '"We have a lot of hard work ahead," he said.'
    mark = ReaderResult(len(text) - 1, len(text), 0.9, 0.9, (0.0, 0.0))
    why = Question.parse("Why?")
    assert _short_span(text, 0, len(text), mark, answerer.reader, why, (), 0.0) is None
    word = ReaderResult(text.index("hard"), text.index("hard") + 9, 0.9, 0.9, (0.0, 0.0))
    assert _short_span(text, 0, len(text), word, answerer.reader, why, (), 0.0) == (word.start, word.end)


@pytest.mark.parametrize(("question", "answered"), [
    ("Who was arrested?", False),
    ("And who was arrested?", False),
    ("How old was the woman arrested?", True),
    ("What was the age of the woman who was arrested?", True),  # "who", but not asking for a person
])
def test_a_question_opening_with_who_is_not_answered_with_a_number(answerer: Answerer, question: str,
                                                                   answered: bool) -> None:
    text = "An 18-year-old woman in the car was arrested for giving false information to Officer Dan Reyes."
    age = ReaderResult(text.index("18"), text.index("18") + 2, 0.9, 0.9, (0.0, 0.0))
    short = _short_span(text, 0, len(text), age, answerer.reader, Question.parse(question), (), 0.0)
    assert short == ((age.start, age.end) if answered else None)


@pytest.mark.parametrize(("question", "span", "answered"), [
    ("Who won the by-election?", "Labour's Omar Haddad", "Omar Haddad"),
    ("Who won the by-election?", "Omar Haddad", "Omar Haddad"),
    ("Which party won the by-election?", "Labour's Omar Haddad", "Labour's Omar Haddad"),  # not "who"
    ("Who came second?", "the Green Party's Lucy Tran", "the Green Party's Lucy Tran"),  # lower case: kept whole
])
def test_a_who_answer_is_the_person_not_whose_they_are(answerer: Answerer, question: str, span: str,
                                                       answered: str) -> None:
    text = "Labour's Omar Haddad, ahead of the Green Party's Lucy Tran, won the seat by 212 votes."
    read = ReaderResult(text.index(span), text.index(span) + len(span), 0.9, 0.9, (0.0, 0.0))
    short = _short_span(text, 0, len(text), read, answerer.reader, Question.parse(question), (), 0.0)
    assert short is not None and text[slice(*short)] == answered


@pytest.mark.parametrize(("question", "span", "answered"), [
    ("When did his trial start?", "Mr Ebbers", False),
    ("And when did his trial start?", "Mr Ebbers", False),
    ("When did his trial start?", "on Monday", True),
    ("When did his trial start?", "shortly after his arrest", True),
    ("Who went on trial on Monday?", "Mr Ebbers", True),
    ("When Mr Ebbers went on trial, who was arrested?", "Mr Ebbers", True),  # a "when" clause, not "when?"
])
def test_a_question_opening_with_when_is_answered_with_a_time(answerer: Answerer, question: str, span: str,
                                                              answered: bool) -> None:
    text = "Mr Ebbers went on trial on Monday, shortly after his arrest."
    read = ReaderResult(text.index(span), text.index(span) + len(span), 0.9, 0.9, (0.0, 0.0))
    short = _short_span(text, 0, len(text), read, answerer.reader, Question.parse(question), (), 0.0)
    assert short == ((read.start, read.end) if answered else None)


@pytest.mark.parametrize(("question", "span", "answered"), [
    ("How long does TOI-5521b take to orbit its star?", "1.8", False),
    ("How long does TOI-5521b take to orbit its star?", "every 11 days", True),
    ("For how long?", "1.8", False),
    ("How long is TOI-5521b compared with Earth?", "1.8", True),  # not how long it takes
    ("How long did the orbit take?", "2:07:55", True),  # a clock time
    ("How far from Earth is TOI-5521b?", "1.8", False),
    ("How far is TOI-5521b from Earth?", "140 light years", True),
    ("How far did its orbit shrink?", "1.8", True),  # not how far apart: a share, a place ... may answer
    ("How long does TOI-5521b take to orbit its star?", "140 light years", False),
    ("What was the score of the race?", "2:07:55", False),
    ("By what score did Rovers win?", "3-1", True),
    ("How many laps did it take?", "a lap", False),  # a number
    ("How much did Rovers win?", "Rovers", False),
    ("How many goals did Rovers score?", "3-1", True),
    ("What was her time?", "2:07:55", True), ("What was her time?", "Rovers", False),
])
def test_a_question_asking_a_measure_is_answered_with_what_the_measure_holds(answerer: Answerer, question: str,
                                                                            span: str, answered: bool) -> None:
    text = ("TOI-5521b is about 1.8 times the radius of Earth and completes an orbit every 11 days (2:07:55 a lap), "
            "140 light years away; Rovers won 3-1.")
    read = ReaderResult(text.index(span), text.index(span) + len(span), 0.9, 0.9, (0.0, 0.0))
    short = _short_span(text, 0, len(text), read, answerer.reader, Question.parse(question), (), 0.0)
    assert short == ((read.start, read.end) if answered else None)


SONY = """Sony unveils its new games console

Sony has shown its new console to developers in Los Angeles ahead of its launch next spring.

"It has gaming at its core, but it's not a gaming device. It's an entertainment device," said Kaz Hirai, president \
of Sony Computer Entertainment America. The machine plays films and music as well as games.
"""


def test_an_answer_inside_a_quotation_is_given_with_the_sentence_that_opens_it(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    answerer = answerer_over(tmp_path_factory, {"sony": SONY})
    answer = answerer.ask("Who is the president of Sony Computer Entertainment America?")
    assert answer.found and answer.short_answer == "Kaz Hirai"
    assert answer.answer.startswith('"It has gaming at its core') and answer.answer.count('"') == 2
    cited = answer.citations[0]
    assert cited.text[cited.start:cited.end] == answer.answer
