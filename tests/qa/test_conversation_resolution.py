"""Follow-up resolution rules: fragments, when a short follow-up stays, answers read only from the article a
follow-up stays with, and reading on from the paragraph last cited."""

from __future__ import annotations

import pytest

from qa.answerer import Answerer
from qa.conversation import Session, Turn, resolve
from qa.settings import Settings
from tests.conftest import make_index

# A two-paragraph article whose follow-ups ("Which country does he coach?") share their words with the other
# article's sentences more than with the answer's.
AWARD = """Coach of the year named in Monaco

Jake White won the coaching prize at the IRB awards on Sunday night.

White has coached the South Africa side since 2004 and guided them to the Tri-Nations title.
"""
WALES = """Wales unveil their new coach

The country will be coached by Mike Ruddock, the Welsh Rugby Union said on Friday.

The new coach of the country said he would coach the side his own way and pick his squad next week.
"""
# An article where the follow-up's words ("developer", "flats") fit a later paragraph better than the one that
# answers it, which comes right after the paragraph last cited.
TOWER = """Tower block sold to developer

Greyfield Council has sold the Kestrel tower block to a developer for 12m pounds, it said on Tuesday.

The buyer, Arlo Homes, plans to turn the block into 200 flats.

The council built the tower in 1968 and it housed 400 people at its peak.

Another developer said last year it would turn the old bus depot into 80 flats, but its plans were dropped.
"""

def session_after(question: str, answer: str | None) -> Session:
    session = Session()
    session.turns.append(Turn(question, question, "a/1", answer, (), 7))
    return session


@pytest.fixture(scope="module")
def answerer(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    articles = tmp_path_factory.mktemp("resolution-articles")
    for name, text in (("award", AWARD), ("wales", WALES), ("tower", TOWER)):
        (articles / f"{name}.txt").write_text(text)
    return Answerer.load(Settings(index_dir=make_index([articles], tmp_path_factory.mktemp("res") / "index")))


def cited(answer) -> tuple[str, int]:
    return answer.citations[0].article_id, answer.citations[0].paragraph_index


def test_a_place_fragment_replaces_the_same_preposition_phrase():
    resolved = resolve("And in the US?", session_after("How much will it cost in the UK?", "£99"))
    assert resolved.text == "How much will it cost in the US?"


def test_a_name_fragment_replaces_the_first_name_of_the_previous_question():
    resolved = resolve("What about Mozilla browsers?",
                       session_after("What share of web surfers use Internet Explorer, according to OneStat?", "89%"))
    assert resolved.text == "What share of web surfers use Mozilla browsers, according to OneStat?"


def test_a_short_followup_stays_however_many_question_words_it_has(answerer: Answerer):
    first = answerer.ask("Who won the coaching prize at the IRB awards?")
    assert cited(first)[0] == "award" and "Jake White" in first.answer
    country = answerer.ask("Which country does he coach?", session_id=first.session_id)
    assert cited(country) == ("award", 1) and "South Africa" in country.answer


def test_a_followup_that_stays_is_answered_from_its_article_only(answerer: Answerer):
    first = answerer.ask("Who won the coaching prize at the IRB awards?")
    side = answerer.ask("Which side does he coach?", session_id=first.session_id)
    assert cited(side) == ("award", 1) and "South Africa" in side.answer, "not the other article's coach"


def test_a_followup_reads_on_to_the_paragraph_after_the_one_last_cited(answerer: Answerer):
    first = answerer.ask("How much did Greyfield Council sell the Kestrel tower for?")
    assert cited(first) == ("tower", 0) and "12m pounds" in first.answer
    flats = answerer.ask("How many flats will the developer make?", session_id=first.session_id)
    assert cited(flats) == ("tower", 1) and "200 flats" in flats.answer
