"""Typed spans: the answer types questions ask for, and the spans of that type a sentence holds."""

from __future__ import annotations

import pytest

from qa.question import AnswerType, Question
from qa.spans import _MAY_MATCH, _SPELLED_WORDS, PATTERNS, near_terms, speaker_span, typed_sentences, typed_spans


@pytest.mark.parametrize(("question", "kind"), [
    ("How many casualties have North Korean troops suffered?", AnswerType.NUMBER),
    ("How much did the firm pay for the stake?", AnswerType.MONEY),
    ("What percentage of voters backed the plan?", AnswerType.PERCENT),
    ("When was the treaty signed?", AnswerType.DATE),
    ("In what year did the band split?", AnswerType.DATE),
    ("Who scored the winning goal?", AnswerType.PERSON),
    ("Where was the summit held?", AnswerType.PLACE),
    ("Which company bought the airline?", AnswerType.ENTITY),
    ("Why did the shares fall?", AnswerType.OTHER),
    ("How old is Margaret Hassan?", AnswerType.AGE),
    ("At what age did he retire?", AnswerType.AGE),
])
def test_answer_type_comes_from_the_wh_phrase(question, kind):
    assert Question.parse(question).answer_type is kind


@pytest.mark.parametrize(("sentence", "question", "expected"), [
    ("Troops have suffered around 1,100 casualties, the military said on Monday.",
     "How many casualties have North Korean troops suffered?", "1,100"),
    ("The game was played on February 7, 2016, at Levi's Stadium in Santa Clara.",
     "When was the game played?", "February 7, 2016"),
    ("The game was played on February 7, 2016, at Levi's Stadium in Santa Clara.",
     "Where was the game played?", "Levi's Stadium"),
    ("The Denver Broncos defeated the Carolina Panthers 24-10.", "Who won the game?", "Denver Broncos"),
    ("Profits rose to $1.5bn last year.", "How much money did the firm make in profits?", "$1.5bn"),
    ("Turnout was 61.4% in the north.", "What percentage turned out in the north?", "61.4%"),
])
def test_the_typed_span_is_among_the_candidates(sentence, question, expected):
    parsed = Question.parse(question)
    assert expected in [sentence[s.start:s.end] for s in typed_spans(sentence, parsed)]


@pytest.mark.parametrize(("sentence", "age"), [
    ("Mrs Hassan, 59, who led Care International operations in Iraq, was abducted in Baghdad.", "59"),
    ('"I wish I was playing for Real Madrid," the 21-year-old told Cadena Cope.', "21-year-old"),
    ("Tesla died on 7 January 1943, at the age of 86.", "86"),
    ("Luther, aged 41, married Katharina von Bora.", "41"),
    ("Katharina was 26 years old.", "26 years old"),
    ("(Manning was 39, Newton was 26).", "39"),
    ("The fossils are about 515 million years old.", "515 million years old"),
    ("The bones of the 1.6-million-year-old boy were found in 1984.", "1.6-million-year-old"),
])
def test_an_age_is_a_span_of_its_own_kind(sentence, age):
    assert age in [sentence[s.start:s.end] for s in typed_spans(sentence, Question.parse("How old is he?"))]


def test_a_number_that_is_no_age_is_no_answer_to_how_old():
    """Asked "How old is he?", a sum, a year or a share is not an age: the sentence does not match its type."""
    for sentence in ("He joined the Gunners from Seville for £17m at the start of 2004.",
                     "In 2004, 25 people died.", "Turnout was 39 per cent.", "It was 12 million."):
        assert typed_spans(sentence, Question.parse("How old is he?")) == [], sentence


def test_no_typed_span_when_the_question_asks_for_no_type_or_the_type_is_absent():
    assert typed_spans("Shares fell after the warning.", Question.parse("Why did shares fall?")) == []
    assert typed_spans("Shares fell after the warning.", Question.parse("How many shares fell?")) == []


def test_words_of_the_question_are_not_an_answer():
    spans = typed_spans("Arsenal beat Chelsea at Highbury.", Question.parse("Who did Arsenal beat?"))
    assert [s.start for s in spans] == [len("Arsenal beat "), len("Arsenal beat Chelsea at ")]



@pytest.mark.parametrize("question", [
    "How many casualties have North Korean troops suffered?", "How much did the firm pay?", "When did it happen?",
    "Who did Arsenal beat?", "What percentage turned out?", "Why did shares fall?", "Where was the game played?",
])
def test_a_sentence_is_typed_when_typed_spans_finds_a_span_in_it_asked_again_and_again(question):
    sentences = [*_SENTENCES[:9], "Arsenal beat Chelsea at Highbury.", "Troops suffered 1,100 casualties."]
    text = " ".join(sentences)
    starts = [sum(len(s) + 1 for s in sentences[:k]) for k in range(len(sentences))]
    spans = tuple((start, start + len(s)) for start, s in zip(starts, sentences, strict=True))
    parsed = Question.parse(question)
    expected = [bool(typed_spans(text[a:b], parsed)) for a, b in spans]
    assert typed_sentences(text, spans, parsed) == expected
    assert typed_sentences(text, spans, parsed) == expected  # from the per-paragraph cache


@pytest.mark.parametrize(("question", "typed"), [
    ("How far from Earth is TOI-5521b?", [False, True, False]),  # a unit of length
    ("What was the score in the cup final?", [False, False, True]),  # "3-1", and "score" is no word of its topic
    ("How long does TOI-5521b take to orbit its star?", [True, False, False]),  # a unit of time
    ("How many planets were found?", [True, True, True]),  # any number
])
def test_a_sentence_holds_an_answer_to_a_question_asking_a_measure_only_with_what_the_measure_holds(
        question: str, typed: list[bool]):
    sentences = ["TOI-5521b is 1.8 times the size of Earth and orbits every 11 days.",
                 "The planet is 140 light years from Earth.", "Rovers won the final 3-1 on Saturday."]
    text = " ".join(sentences)
    starts = [sum(len(s) + 1 for s in sentences[:k]) for k in range(len(sentences))]
    spans = tuple((start, start + len(s)) for start, s in zip(starts, sentences, strict=True))
    assert typed_sentences(text, spans, Question.parse(question)) == typed
    assert "score" not in Question.parse(question).terms


_SENTENCES = [
    "Profits rose to $1.5bn, up 12 per cent, on 3 March 2004.", "Turnout was 61.4% in the north.",
    "Sales fell by a fifth on Monday.", "It happened in the early 1990s.", "The Sept. meeting was cancelled.",
    "Nobody knows.", "Ticket sales hit £2m.", "Shares fell twenty percent.", "ſeventy cats and a ſhop.",
    *(f"About {word.replace('?', '')} people came" for word in _SPELLED_WORDS),
]


@pytest.mark.parametrize("sentence", [case(s) for s in _SENTENCES for case in (str, str.upper, str.title)])
def test_the_quick_test_before_a_pattern_lets_through_every_sentence_it_matches(sentence):
    for kind, pattern in PATTERNS.items():
        if pattern.search(sentence):
            assert _MAY_MATCH[kind](sentence), kind


@pytest.mark.parametrize(("sentence", "question", "near"), [
    ("Bayern coach Felix Magath said the side had been unlucky.", "Who is Bayern Munich's coach?", True),
    ("Chief executive Jean-Pierre Garnier said it had been a difficult year.",
     "Who runs GlaxoSmithKline as chief executive?", True),
    ("Felix Magath arrived last summer after a long and fruitful spell elsewhere as coach.",
     "Who is Bayern Munich's coach?", False),
    ("The company said it had received 37 reports of injury.", "How many reports of injury were there?", True),
    ("Zoomco, the Leeds toy maker, has recalled 40,000 electric scooters.", "How many reports of injury?", False),
])
def test_a_typed_span_is_near_the_question_when_a_few_words_from_one_of_its_terms(sentence, question, near):
    asked = Question.parse(question)
    assert near_terms(sentence, typed_spans(sentence, asked), asked.terms) is near


def test_a_question_term_is_found_near_a_span_whatever_apostrophe_the_text_uses():
    asked = Question.parse("Who did Munich choose?")
    sentence = "Felix Magath, Munich’s choice, arrived in the summer."
    assert near_terms(sentence, typed_spans(sentence, asked), asked.terms)


def test_nothing_is_near_without_spans_or_question_terms_in_the_sentence():
    asked = Question.parse("Who is Bayern Munich's coach?")
    sentence = "Felix Magath said the side had been unlucky."
    assert not near_terms(sentence, [], asked.terms)
    assert not near_terms(sentence, typed_spans(sentence, asked), asked.terms)


@pytest.mark.parametrize(("sentence", "speaker"), [
    ('"We have warned them," said Tim Osborne, a director of Group Menatep.', "Tim Osborne"),
    ("Its chief executive, Alan Pryce, said profits had fallen.", "Alan Pryce"),
    ("Ruth Kelly, the education secretary, told MPs the plan would work.", "Ruth Kelly"),  # not whom she told
    ('But Sevastis said: "It does not matter."', "Sevastis"),
    ("Yesterday, Mr Brown said so.", "Mr Brown"),
    ("Prices rose, according to Dr Ann Lee.", "Dr Ann Lee"),
    ("The road will reopen in May, according to police inspector Sofie Berg.", "Sofie Berg"),
    ("Mr Glazer is advised by NM Rothschild, according to the Financial Times.", "Financial Times"),
    ("Gazprom made no bid, according to Tass news agency.", "Tass"),
    ("Sales rose, according to press reports in China.", None),  # where the reports are, not who
    ("Growth slowed, according to the Bank of Mexico's figures.", None),  # not "Bank"
    ("Turnout was 61%, according to the county clerk.", "county clerk"),  # a post, no name
    ("Two men were held, according to police.", "police"),
    ("It will reopen in May, according to a senior city engineer.", "senior city engineer"),
    ("Sales fell, according to the clerk's figures.", None),  # the figures'
    ("Sales fell, according to officials in Ohio.", None),  # `_CLAUSE_END`: not cut from a longer phrase
    ("Its owner, Tom Hill, said sales fell, according to police.", "Tom Hill"),  # a name before a post
    ("Sales fell 5%, according to figures released Monday.", None),
    ("Sales fell, according to a report last May.", None),
    ("According to police inspector Sofie Berg, the thieves fled.", "Sofie Berg"),
    ("It could mature, said Sun's chief operating officer Jonathan Schwartz.", "Jonathan Schwartz"),  # not "Sun's"
    ('"It is strong," said BIFA founder and director Elliot Grove.', "Elliot Grove"),
    ("Jack Straw, who will hold talks in Beijing on Thursday, said the code works.", "Jack Straw"),
    ("He said Brown was arrested at his hotel.", None),  # whom he spoke of
    ("He said Ask Jeeves was keen.", None),
    ("Police said John Smith, 41, had been arrested.", "Police"),  # the one arrested, of his age, said nothing
    ('"We are sorry," said John Smith, 41, who runs the shop.', "John Smith"),
    ("On Tuesday Mr Brown said the plan would work.", "Mr Brown"),
    ('"This is a disaster," warned Mr Smith.', "Mr Smith"),
    ("The plan failed, said Mr Brown who had led it.", "Mr Brown"),
    ('In a statement issued on Wednesday Lord Woolf said: "No doubt."', "Lord Woolf"),
    ("Mr Aitken, who lives in Cleveland, said he ran.", "Mr Aitken"),
    ('Sources, all "allies" of Mr Blair and Mr Brown, said he was tired.', None),
    ("Philippe Sands says Lord Goldsmith warned Tony Blair.", "Philippe Sands"),
    ('"I thought so," he said, "but it worked."', None),  # a pronoun names no one
    ("The company said profits rose.", None),
])
def test_the_speaker_a_sentence_names(sentence: str, speaker: str | None):
    found = speaker_span(sentence, 0, len(sentence))
    assert (sentence[found[0]:found[1]] if found else None) == speaker

