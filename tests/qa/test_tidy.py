"""Short answers keep brackets and quotations whole and drop a sentence's full stop (spans the reader
returned on real sentences)."""

import pytest

from qa.tidy import tidy


def tidied(text: str, span: str) -> str:
    start = text.index(span)
    a, b = tidy(text, start, start + len(span))
    return text[a:b]


@pytest.mark.parametrize(("text", "span", "expected"), [
    # a bracket closed just after the span is taken in
    ("It was priced at $2,115 (£1,140) in the UK.", "$2,115 (£1,140", "$2,115 (£1,140)"),
    ("The cylindrical Service Module (SM) supported it.", "cylindrical Service Module (SM",
     "cylindrical Service Module (SM)"),
    # a bracket opened before the span ends it
    ("Most are Asian (Hmong or Laotian) populations.", "Hmong or Laotian) populations", "Hmong or Laotian"),
    # a quotation closed just after the span is taken in
    ('Pyongyang is "producing and providing self-destructible drones" to Russia.',
     'Pyongyang is "producing and providing self-destructible drones',
     'Pyongyang is "producing and providing self-destructible drones"'),
    # a quotation opened before the span ends it, however far the span runs on
    ('Kennedy spoke of a "missile gap" that he and many senators felt had formed.',
     'missile gap" that he and many senators felt had formed', "missile gap"),
    ('The episode is called "Utopia".', 'Utopia"', "Utopia"),
    # a closing mark too far away: the span stops before the mark it cannot close
    ("It runs for 13 episodes (each of them 60 minutes long, with adverts and trailers) a year.",
     "13 episodes (each of them", "13 episodes"),
    # a closing mark in the next sentence is not taken in
    ('He said "we will win. Then we go home" and left.', 'said "we will win', "said"),
    # curly quotes and square brackets are paired too
    ("She called it “a triumph” on stage.", "a triumph” on stage", "a triumph"),
    ("The ruling [issued in May] was final.", "The ruling [issued in", "The ruling"),
    # loose commas and spaces at the ends go
    ("Goals came from Owen, Rooney and Gerrard.", "Owen,", "Owen"),
])
def test_short_answers_keep_marks_paired(text: str, span: str, expected: str) -> None:
    assert tidied(text, span) == expected


@pytest.mark.parametrize(("text", "span"), [
    ("Shares rose 4.75% on Monday.", "4.75%"),
    ('The band "Keane" (from Sussex) won.', '"Keane" (from Sussex)'),
    ('He said "yes" and then "no" twice.', '"yes" and then "no"'),
])
def test_a_span_whose_marks_are_paired_is_kept_as_it_is(text: str, span: str) -> None:
    assert tidied(text, span) == span


@pytest.mark.parametrize(("text", "span", "expected"), [
    ("She walked out after learning she would face a fifth Bushtucker Trial.", "fifth Bushtucker Trial.",
     "fifth Bushtucker Trial"),
    ("The phrase was first recorded in 1538.", "in 1538.", "in 1538"),
    ("It was sold to Capital Cities/ABC, Inc.", "Capital Cities/ABC, Inc.", "Capital Cities/ABC, Inc."),
    ("The kick was returned by Ted Ginn Jr.", "Ted Ginn Jr.", "Ted Ginn Jr."),
    ("The bank was Dillon, Read & Co.", "Dillon, Read & Co.", "Dillon, Read & Co."),
    ("The polls close at 10 p.m.", "10 p.m.", "10 p.m."),
    ("Troops were sent to Iraq.", "Iraq.", "Iraq"),
    ("The vote is due in May.", "in May.", "in May"),
    ("It sells books, music, games etc.", "books, music, games etc.", "books, music, games etc."),
    ('The episode was called "Utopia".', '"Utopia".', '"Utopia"'),
    ("Shares rose by 4.75%.", "4.75%.", "4.75%"),
])
def test_a_sentences_full_stop_goes_and_an_abbreviations_stays(text: str, span: str, expected: str) -> None:
    assert tidied(text, span) == expected


def test_whether_a_straight_quote_opens_is_counted_from_the_start_of_the_paragraph() -> None:
    """The window (the second sentence) starts inside a quotation opened in the first."""
    text = '"We are ready. The team is strong," he said, adding that "nothing" would stop them.'
    assert tidied(text, 'that "nothing') == 'that "nothing"'
    assert tidied(text[text.index("The team"):], 'that "nothing') == "that", "the window alone miscounts"


def test_a_closing_mark_past_the_limit_is_not_taken_in() -> None:
    text = "It was priced at $2,115 (£1,140) in the UK."
    start = text.index("$2,115")
    end = text.index(")")
    assert text[slice(*tidy(text, start, end))] == "$2,115 (£1,140)"
    assert text[slice(*tidy(text, start, end, limit=end))] == "$2,115"


def test_marks_with_no_word_before_them_are_dropped_not_cut_to() -> None:
    assert tidied("A reading of [(12 was taken.", "[(12") == "12"


def test_a_span_of_nothing_but_a_mark_is_kept_rather_than_emptied() -> None:
    assert tidied('He paused: " then went on.', '"') == '"'
