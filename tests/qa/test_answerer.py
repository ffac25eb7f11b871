"""Answers from a real index (bundled model, real FAISS): found, cited, offsets exact, or declined."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qa.answerer import NAME_ABSENT_CONFIDENCE, Answerer, LoadedIndex
from qa.conversation import Resolved
from qa.evidence import _leads, typed_near
from qa.extract import extract
from qa.scoring import WEIGHTS_FILE
from qa.settings import Settings
from tests.conftest import SEED_ID, index_over, make_index
from tests.qa.test_conversation import answerer_over

SCOOTER = """Toy maker recalls 40,000 scooters

Zoomco, the Leeds toy maker, has recalled 40,000 electric scooters after complaints about faulty brakes.

The company said it had received 37 reports of injury since the scooters went on sale in March 2004.

Chief executive Martha Reyes said the firm was "deeply sorry" and would refund every customer.
"""
FOOTBALL = """Arsenal edge past Chelsea

Thierry Henry scored the winning goal as Arsenal beat Chelsea 2-1 at Highbury on Saturday.

The result lifts Arsenal to the top of the Premiership, three points clear of Manchester United.
"""

LIBRARY = """Carrowmore opens its new library

The new library in Carrowmore opened to the public on a wet morning in October, after three years of planning
and two years of building work.

The project cost 13.9 million pounds, most of it paid by the county council, and employed 40 workers at its
busiest.

Mayor Ann Lee said the town had waited since 1950 for a library of its own.
"""


@pytest.fixture(scope="module")
def seed_answerer(seed_settings: Settings) -> Answerer:
    return Answerer.load(seed_settings)


@pytest.fixture(scope="module")
def two_articles(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    return answerer_over(tmp_path_factory, {"scooters": SCOOTER, "football": FOOTBALL})


def test_an_article_that_lacks_a_name_the_question_gives_does_not_answer_it(two_articles: Answerer):
    """The scooter recall story says how many Zoomco recalled, not how many Segway did."""
    right = two_articles.ask("How many scooters has Zoomco recalled?")
    assert right.found and right.short_answer == "40,000"
    other = two_articles.ask("How many scooters has Segway recalled?")
    assert not other.found and other.confidence == NAME_ABSENT_CONFIDENCE
    assert other.citations[0].article_id == "scooters"  # the closest passage is still cited


def test_the_seed_question_is_answered_with_an_exact_citation(seed_answerer: Answerer):
    answer = seed_answerer.ask("How many casualties have North Korean troops suffered?")
    assert answer.found
    assert "1,100" in answer.answer
    assert answer.short_answer == "1,100"
    cited = answer.citations[0]
    assert (cited.article_id, cited.paragraph_index) == (SEED_ID, 2)
    assert cited.text[cited.start:cited.end] == answer.answer
    assert answer.short_answer in answer.answer
    assert 0.0 <= answer.confidence <= 1.0


@pytest.mark.parametrize("question", [
    "What might Russia offer North Korea?",  # the reader's span starts inside one quotation and ends in another
    "drones?",  # ... or stops one character short of a closing quote
    "What has the North supplied?",
])
def test_short_answers_from_quoted_sentences_have_their_quotes_paired(seed_settings: Settings, question: str):
    answer = Answerer.load(seed_settings.model_copy(update={"answer_threshold": 0.0})).ask(question)
    assert answer.found and answer.short_answer
    cited = answer.citations[0]
    inside = cited.text.count('"', 0, cited.start + answer.answer.index(answer.short_answer)) % 2 == 1
    marks = answer.short_answer.count('"')
    assert marks == 0 if inside else marks % 2 == 0, "a quote mark of the short answer has no partner in it"


def test_questions_are_encoded_in_int8_unless_turned_off(seed_settings: Settings, tmp_path: Path):
    question = "How many casualties have North Korean troops suffered?"
    fp32 = Answerer.load(seed_settings.model_copy(update={"query_int8": False}))
    assert fp32.index.int8_cache is None
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")  # a cache nothing can be written to (chmod cannot stop root): the fp32 graph
    fallback = LoadedIndex.open(seed_settings.index_dir, blocked / "cache")
    assert np.array_equal(fallback.encoder.encode([question]), fp32.index.encoder.encode([question]))
    int8 = Answerer.load(seed_settings)
    assert int8.index.int8_cache == seed_settings.cache_dir
    assert int8.ask(question).short_answer == fp32.ask(question).short_answer == "1,100"
    fallback.reader.close()


def test_an_index_built_before_words_were_split_as_now_is_served_with_a_warning_to_rebuild(
        seed_settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture):
    manifest = json.loads((seed_settings.index_dir / "manifest.json").read_text())
    del manifest["terms_version"]
    (tmp_path / manifest["generation"]).symlink_to(seed_settings.index_dir / manifest["generation"])
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with caplog.at_level("WARNING"):
        old = LoadedIndex.open(tmp_path)
    assert "rebuild it with `qa index build`" in caplog.text
    caplog.clear()
    LoadedIndex.open(seed_settings.index_dir).reader.close()
    assert caplog.text == ""
    old.reader.close()


def test_reading_ahead_can_be_turned_off_and_does_not_change_answers(seed_settings: Settings):
    serial = Answerer.load(seed_settings.model_copy(update={"read_ahead": False}))
    with serial.spare.asking():
        assert serial.spare.submit(sum, (1, 2)) is None
    ahead = Answerer.load(seed_settings)
    for question in ("How many casualties have North Korean troops suffered?", "Who said the troops had casualties?",
                     "Where are the North Korean troops fighting?"):
        one, other = ahead.ask(question), serial.ask(question)
        assert (one.found, one.answer, one.short_answer, one.confidence, one.citations) == \
            (other.found, other.answer, other.short_answer, other.confidence, other.citations)


@pytest.mark.parametrize("question", [
    "What is the best recipe for a chocolate cake?",
    "Who won the 1998 football World Cup?",
])
def test_a_question_the_articles_do_not_address_is_declined(seed_answerer: Answerer, question: str):
    answer = seed_answerer.ask(question)
    assert not answer.found
    assert answer.answer is None and answer.short_answer is None
    assert answer.citations, "the closest passages are still listed"
    assert 0.0 <= answer.confidence <= 1.0


@pytest.mark.parametrize("question", ["a", "What?", "the", "🤔", "?"])
def test_a_question_without_a_content_word_is_declined_with_no_confidence(two_articles: Answerer, question: str):
    """Nothing in it to look for, so no passage is closer to it than another: none is cited."""
    answer = two_articles.ask(question)
    assert (answer.found, answer.answer, answer.confidence, answer.citations) == (False, None, 0.0, ())


@pytest.mark.parametrize("text", ["scooters", "electric scooters", "asdf qwerty"])
def test_a_topic_named_without_asking_is_declined_but_its_passages_are_cited(two_articles: Answerer, text: str):
    """A word or two that ask nothing: no sentence answers them, however many of their words it holds; the
    closest passages serve as search results."""
    answer = two_articles.ask(text)
    assert (answer.found, answer.answer, answer.confidence) == (False, None, 0.0)
    assert answer.citations


@pytest.mark.parametrize("text", ["Scooters?", "Who recalled scooters", "Name the toy company", "toy company recalls",
                                  "Scooterz?"])  # a word no article uses: the dense search may still find it
def test_a_short_text_that_asks_is_answered(two_articles: Answerer, text: str):
    assert two_articles.ask(text).confidence > 0.0


def test_a_followup_without_a_content_word_still_reads_the_conversation(two_articles: Answerer):
    first = two_articles.ask("Which toy company recalled its electric scooters?")
    why = two_articles.ask("Why?", session_id=first.session_id)
    assert why.confidence > 0.0 and why.citations[0].article_id == "scooters"


@pytest.mark.parametrize("text", ["???", "AAAA", "AAAA?", "Blorfx?"])
def test_text_that_asks_nothing_is_declined_inside_a_conversation_too(two_articles: Answerer, text: str):
    """No word, or only words no article uses: the conversation does not lend them a meaning. A one-word text
    used to be read as a follow-up and answered from the conversation's article at 0.57."""
    first = two_articles.ask("Which toy company recalled its electric scooters?")
    answer = two_articles.ask(text, session_id=first.session_id)
    assert (answer.found, answer.answer, answer.confidence) == (False, None, 0.0)
    after = two_articles.ask(text, session_id=two_articles.ask("???", session_id=first.session_id).session_id)
    assert (after.found, after.confidence) == (False, 0.0), "nor after a declined turn, with its borrowed terms"


def test_a_declined_answer_cites_first_the_sentence_it_came_closest_with(tmp_path_factory: pytest.TempPathFactory):
    """The mayor's paragraph ("a library of its own") ranks first; the reader finds the opening month in the
    lead. Declined, the first citation is still the lead, at the sentence an answer would have been."""
    settings = Settings(index_dir=index_over(tmp_path_factory,
                                             {"library": LIBRARY, "football": FOOTBALL, "scooters": SCOOTER}))
    question = "In which month did the Carrowmore library open?"
    declined = Answerer.load(settings.model_copy(update={"answer_threshold": 1.0})).ask(question)
    answered = Answerer.load(settings.model_copy(update={"answer_threshold": 0.0})).ask(question)
    assert not declined.found and answered.found and "October" in answered.answer
    closest = declined.citations[0]
    assert closest.text[closest.start:closest.end] == answered.answer
    assert [c.paragraph_index for c in declined.citations] == [c.paragraph_index for c in answered.citations]


def test_citations_are_numbered_best_first_and_bounded_by_top_k(seed_answerer: Answerer):
    answer = seed_answerer.ask("What weapons has North Korea supplied to Russia?", top_k=4)
    assert [c.n for c in answer.citations] == [1, 2, 3, 4]
    for c in answer.citations:
        assert 0 <= c.start < c.end <= len(c.text)


@pytest.fixture(scope="module")
def saved_twice(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    """The scooter article under two names, and the football one."""
    return answerer_over(tmp_path_factory, {"scooters": SCOOTER, "scooters-again": SCOOTER, "football": FOOTBALL})


def test_an_article_saved_twice_is_cited_once_and_answered_as_surely_as_one_copy(
        saved_twice: Answerer, two_articles: Answerer):
    twice = saved_twice
    question = "How many reports of injury had Zoomco received?"
    answer, single = twice.ask(question, top_k=5), two_articles.ask(question, top_k=5)
    assert answer.found and "37" in answer.answer
    texts = [c.text for c in answer.citations]
    assert len(texts) == len(set(texts)) == 5, texts  # the 3 + 2 distinct paragraphs, none twice
    assert answer.confidence == pytest.approx(single.confidence, abs=0.01)  # no margin lost to its own copy


def test_a_sentence_of_a_near_copy_differing_in_punctuation_is_not_cited_twice(
        tmp_path_factory: pytest.TempPathFactory):
    near_copy = SCOOTER.replace("37 reports", "37 reports,").replace("Chief executive", "Chief-executive")
    answerer = answerer_over(tmp_path_factory, {"scooters": SCOOTER, "near-copy": near_copy, "football": FOOTBALL})
    answer = answerer.ask("How many reports of injury had Zoomco received?", top_k=5)
    assert answer.found and "37" in answer.answer
    assert {c.article_id for c in answer.citations} >= {"scooters", "near-copy"}
    said = ["".join(ch for ch in c.text[c.start:c.end].lower() if ch.isalnum()) for c in answer.citations]
    assert len(said) == len(set(said)), said


def test_a_followup_stays_with_the_copy_the_conversation_was_answered_from(saved_twice: Answerer):
    first = saved_twice.ask("Which toy company recalled its electric scooters?")
    assert first.found and first.citations[0].article_id in ("scooters", "scooters-again")
    followup = saved_twice.ask("How many reports of injury had it received?", session_id=first.session_id)
    assert followup.found and "37" in followup.answer
    assert followup.citations[0].article_id == first.citations[0].article_id
    texts = [c.text for c in followup.citations]
    assert len(texts) == len(set(texts)), texts


def test_a_followup_is_resolved_with_the_previous_turn(two_articles: Answerer):
    first = two_articles.ask("Which toy company recalled its electric scooters?")
    assert first.found and first.citations[0].article_id == "scooters"
    followup = two_articles.ask("How many reports of injury had it received?", session_id=first.session_id)
    assert followup.session_id == first.session_id
    assert followup.found and "37" in followup.answer
    assert followup.citations[0].article_id == "scooters"
    said = two_articles.ask("Who said the firm was sorry?", session_id=first.session_id)
    assert said.found and "Martha Reyes" in said.answer


def test_a_change_of_topic_is_not_hijacked_by_the_conversation(two_articles: Answerer):
    first = two_articles.ask("Which toy company recalled its electric scooters?")
    other = two_articles.ask("Who scored the winning goal for Arsenal?", session_id=first.session_id)
    assert other.found and other.citations[0].article_id == "football"
    assert other.short_answer == "Thierry Henry"


def test_sessions_are_independent(two_articles: Answerer):
    first = two_articles.ask("Which toy company recalled its electric scooters?")
    second = two_articles.ask("Who scored the winning goal for Arsenal?")
    assert first.session_id != second.session_id


def test_answer_serialises_to_the_contract_fields(seed_answerer: Answerer):
    """The contract's fields, and one added since: the article's date."""
    body = seed_answerer.ask("How many casualties have North Korean troops suffered?").to_dict()
    assert set(body) == {"found", "answer", "short_answer", "confidence", "citations", "session_id", "took_ms"}
    assert set(body["citations"][0]) == {"n", "article_id", "title", "url", "paragraph_index", "text", "start",
                                         "end", "score", "date"}
    assert body["citations"][0]["url"].startswith("https://www.themoscowtimes.com/")
    assert body["citations"][0]["date"] == "2024-12-23"  # "December 23, 2024" in the file


def test_a_citation_of_an_article_without_a_date_has_none(two_articles: Answerer):
    answer = two_articles.ask("Who scored the winning goal?")
    assert answer.citations and all(c.date is None for c in answer.citations)


def test_a_rebuilt_index_is_swapped_in(tmp_path: Path):
    first = tmp_path / "a"
    first.mkdir()
    (first / "football.txt").write_text(FOOTBALL)
    index_dir = make_index([first], tmp_path / "index")
    answerer = Answerer.load(Settings(index_dir=index_dir))
    assert not answerer.reload_if_changed()
    second = tmp_path / "b"
    second.mkdir()
    (second / "scooters.txt").write_text(SCOOTER)
    make_index([second], index_dir)
    assert answerer.reload_if_changed()
    answer = answerer.ask("How many scooters did Zoomco recall?")
    assert answer.found and answer.citations[0].article_id == "scooters"


def test_a_question_with_undecodable_characters_is_still_answered(seed_answerer: Answerer):
    answer = seed_answerer.ask("How many casualties \ud800 have North Korean troops suffered?")
    assert answer.citations


def test_a_deployment_can_use_its_own_weights_file(seed_settings: Settings, tmp_path: Path):
    """`QA_WEIGHTS_FILE` (or `weights_file`) replaces the shipped weights: here a stricter threshold."""
    shipped = json.loads(WEIGHTS_FILE.read_text())
    strict = tmp_path / "weights.json"
    strict.write_text(json.dumps({**shipped, "threshold": 1.01}))
    answerer = Answerer.load(seed_settings.model_copy(update={"weights_file": strict}))
    answer = answerer.ask("How many casualties have North Korean troops suffered?")
    assert not answer.found and answer.answer is None
    assert answer.citations[0].paragraph_index == 2  # still shows where it looked


def test_the_answer_is_the_sentence_that_answers_not_the_lead_that_names_the_subject(
        tmp_path_factory: pytest.TempPathFactory):
    """The lead repeats the question's words; the answer is in a later paragraph that says "the project". The
    extraction (found or not: `extract` is what the confidence then judges) picks it, and the reader its span."""
    answerer = answerer_over(tmp_path_factory, {"library": LIBRARY, "football": FOOTBALL})
    query, ranked = answerer.rank(answerer.index, Resolved("How much did the new library in Carrowmore cost?"))
    extraction = extract(ranked, query, answerer.weights, answerer.reader)
    assert extraction is not None and extraction.paragraph.index == 1
    assert extraction.paragraph.text[extraction.short_start:extraction.short_end] == "13.9 million pounds"
    assert 0.0 <= extraction.features["answerable"] <= 1.0


def test_a_sentence_that_refers_back_to_the_lead_is_credited_with_the_leads_terms(two_articles: Answerer):
    """"The company said it had received 37 reports of injury" names neither Zoomco nor the scooters: its
    article's headline and lead do, and the number it holds sits next to the question's "reports"."""
    query, ranked = two_articles.rank(two_articles.index, Resolved("How many reports of injury has Zoomco had?"))
    by_paragraph = {(p.article_id, p.index): p for p in ranked}
    for p in by_paragraph.values():
        typed_near(p, query)
    detail = by_paragraph[("scooters", 1)].sentences[0]
    lead = by_paragraph[("scooters", 0)].sentences[0]
    assert detail.features["lead_coverage"] > detail.features["coverage"]
    assert lead.features["lead_coverage"] == lead.features["coverage"] > 0
    assert (detail.features["typed_near"], lead.features["typed_near"]) == (1.0, 0.0)


def test_any_paragraph_of_an_article_finds_the_articles_first_sentence(two_articles: Answerer):
    index = two_articles.index
    query, ranked = two_articles.rank(index, Resolved("How many reports of injury has Zoomco had?"))
    third = next(p for p in ranked if (p.article_id, p.index) == ("scooters", 2))
    assert _leads(index.reader, index.lexicon, query, {"scooters": third.paragraph_id}) == {
        "scooters": query.found_in(["zoomco"])}


def test_a_question_asked_without_remembering_leaves_no_session(two_articles: Answerer):
    before = len(two_articles.sessions)
    answer = two_articles.ask("Which toy company recalled its electric scooters?", remember=False)
    assert answer.found and answer.session_id == ""
    assert len(two_articles.sessions) == before


def test_a_question_naming_its_subject_only_by_a_pronoun_is_answered_only_in_a_conversation(
        two_articles: Answerer):
    """Out of a conversation "he" or "it" could be anyone: "How many did it recall?" asks nothing."""
    alone = two_articles.ask("How many did it recall?")
    assert (alone.found, alone.confidence) == (False, 0.0)
    first = two_articles.ask("Which toy company recalled its electric scooters?")
    followup = two_articles.ask("How many did it recall?", session_id=first.session_id)
    assert followup.found and "40,000" in followup.answer
    assert two_articles.ask("How many scooters did Zoomco recall?").found, "a name says who"


def test_a_word_typed_without_its_accent_finds_the_accented_one(tmp_path_factory: pytest.TempPathFactory):
    cafe = ("Café Sirocco raises hospice funds\n\nCafé Sirocco in Otley raised £12,000 for St Gemma's hospice with "
            "a week of charity breakfasts, its owner José Ibáñez said.\n\nThe café plans another week in spring.")
    answerer = answerer_over(tmp_path_factory, {"cafe": cafe, "football": FOOTBALL})
    assert answerer.index.lexicon.knows("cafe") and answerer.index.lexicon.knows("ibanez")
    answer = answerer.ask("How much did Cafe Sirocco raise for the hospice, according to Jose Ibanez?")
    assert answer.found and answer.short_answer == "£12,000" and answer.citations[0].article_id == "cafe"
