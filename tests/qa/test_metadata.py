"""Questions about an article ("Who wrote the scooter story?") are answered from its header, cited as paragraph -1."""

from __future__ import annotations

import pytest

from qa.answerer import Answerer
from qa.metadata import HEADER, Field, Header, MetadataQuestion, Reference, metadata_question
from qa.render import answer_text
from tests.qa.test_conversation import answerer_over

SCOOTERS = """# Toy maker recalls 40,000 scooters

By Jane Okafor

March 3, 2005

Zoomco, the Leeds toy maker, has recalled 40,000 electric scooters after complaints about faulty brakes.

The company said it had received 37 reports of injury since the scooters went on sale in March 2004.

Original url: https://news.example/zoomco-recall
"""
FOOTBALL = """# Arsenal edge past Chelsea

April 9, 2005

Thierry Henry scored the winning goal as Arsenal beat Chelsea 2-1 at Highbury on Saturday.

The result lifts Arsenal to the top of the Premiership, three points clear of Manchester United.
"""


A, D, Y, S, U = Field.AUTHOR, Field.DATE, Field.YEAR, Field.SOURCE, Field.URL
TOPIC, THIS, PRONOUN, BARE = Reference.TOPIC, Reference.THIS, Reference.PRONOUN, Reference.BARE


@pytest.mark.parametrize(("question", "field", "reference", "topic"), [
    ("Who wrote the article?", A, THIS, ""),
    ("Who wrote the scooter recall story?", A, TOPIC, "scooter recall"),
    ("Who is the author of the article about the Arsenal match?", A, TOPIC, "Arsenal match"),
    ("Who was this story written by?", A, THIS, ""),
    ("whos the author of the bridge story", A, TOPIC, "bridge"),
    ("So who wrote the piece on the harbor bridge?", A, TOPIC, "harbor bridge"),
    ("Can you tell me who wrote the solar farm artcle?", A, TOPIC, "solar farm"),
    ("Which journalist covered the bus strike story?", A, TOPIC, "bus strike"),
    ("Who covered the bus strike story?", A, TOPIC, "bus strike"),
    ("Which newspaper?", S, BARE, ""),
    ("What site?", S, BARE, ""),
    ("Whose story is this?", A, THIS, ""),
    ("Author?", A, BARE, ""),
    ("Who wrote it?", A, PRONOUN, ""),
    ("When was this article published?", D, THIS, ""),
    ("What date was the football story published?", D, TOPIC, "football"),
    ("When did the museum theft story come out?", D, TOPIC, "museum theft"),
    ("Do you know when the bridge story was published?", D, TOPIC, "bridge"),
    ("Give me the date of the museum article", D, TOPIC, "museum"),
    ("What about the date?", D, BARE, ""),
    ("How old is this article?", D, THIS, ""),
    ("When was the news about the panda cubs published?", D, TOPIC, "panda cubs"),
    ("What year was the harbor bridge story published?", Y, TOPIC, "harbor bridge"),
    ("Where can I read the original?", U, THIS, ""),
    ("What's the link to the scooter story?", U, TOPIC, "scooter"),
    ("url of the bridge story?", U, TOPIC, "bridge"),
    ("And the link?", U, BARE, ""),
    ("Which website published the vaccine trial story?", S, TOPIC, "vaccine trial"),
    ("Where was the vaccine article published?", S, TOPIC, "vaccine"),
    ("Who published the harbor bridge article?", S, TOPIC, "harbor bridge"),
    ("Where is this from?", S, THIS, ""),
    ("What's the source?", S, BARE, ""),
])
def test_a_question_about_an_article_says_what_it_asks_and_which_article(question, field, reference, topic):
    assert metadata_question(question) == MetadataQuestion(field, reference, topic)


@pytest.mark.parametrize("question", [
    "Who wrote the novel Small Island?",  # a book, not the article
    "Who wrote the report?",  # a report the article tells of
    "Who covered the bus strike?",  # the strike, not a story of it
    "Who covered up the story?",
    "Who covered the story up?",
    "Who wrote the short story?",
    "Who wrote the Harry Potter stories?",
    "Who wrote the story of the film Ray?",
    "Who wrote the post-war constitution?",
    "When was the post-mortem published?",
    "What was the date of the news conference?",
    "Who was the item stolen by?",
    "Who wrote about the great pestilence in 1893?",
    "Where did the earliest item in the V&A glass collection come from?",
    "Which newspaper did he speak to about it?",
    "Who reported the story to police?",
    "What is the link to the union?",
    "What's the web address for the solar farm developer?",
    "How old is Joan Becker?",
    "What publication published an article about Tesla in 1912?",  # an article the text tells of
    "What is the source of the funding?",
    "How many scooters were recalled?",
    "When was the bridge built?",
])
def test_other_questions_are_not_about_the_article(question):
    assert metadata_question(question) is None


def test_a_run_of_spaces_is_read_at_once():
    """A thousand spaces before a stray letter once made the patterns backtrack for seconds."""
    assert metadata_question("source" + " " * 992 + "?x") is None
    assert metadata_question("Who   wrote\n\tthe   article ?") == MetadataQuestion(A, THIS)


@pytest.mark.parametrize(("question", "previous"), [
    ("How old is it?", "When did the Harbor Bridge close?"),  # the bridge
    ("When did it go up?", "What did the price of eggs rise to?"),
    ("And when?", "Who won the election?"),
    ("Who reported it?", "What was stolen from the museum?"),
    ("Where did it come from?", "Which virus spread?"),
    ("What is the source?", "Which river floods?"),
    ("Which newspaper?", "What did the minister tell a newspaper?"),
])
def test_after_a_question_about_the_story_it_is_what_the_story_tells_of(question, previous):
    assert metadata_question(question, previous) is None


def test_and_when_follows_a_question_about_the_article():
    assert metadata_question("And when?", after=A) == MetadataQuestion(D, BARE)
    assert metadata_question("And when?") is None, "on its own it asks nothing"


@pytest.mark.parametrize(("question", "topic"), [
    ("Who wrote the obituary?", "obituary"), ("When was the Margaret Hollis obituary published?",
                                              "Margaret Hollis obituary"),
    ("Who wrote the match report?", "match"), ("Who wrote the editorial on parking?", "editorial parking"),
])
def test_a_kind_of_article_is_a_word_of_its_topic(question: str, topic: str):
    """"The obituary" tells which article is meant as "the solar farm article" does (it was declined as "this
    article" of no conversation); "report" alone is a report the article tells of."""
    asked = metadata_question(question)
    assert asked is not None and (asked.reference, asked.topic) == (TOPIC, topic)


@pytest.mark.parametrize(("question", "topic"), [
    ("And the library one?", "library"),
    ("What about the bridge story?", "bridge"),
    ("And the one about the museum theft?", "museum theft"),
])
def test_after_a_question_about_an_article_another_article_named_is_asked_the_same(question, topic):
    assert metadata_question(question, after=A) == MetadataQuestion(A, TOPIC, topic)
    assert metadata_question(question) is None, "on its own it names a topic, not a question"


@pytest.mark.parametrize("question", ["And the other one?", "And the turnout?", "What about the strike ballot?",
                                      "What about the price of the new one?", "And the one on the left?"])
def test_a_fragment_naming_no_article_is_not_about_one(question):
    assert metadata_question(question, after=A) is None


def test_after_a_question_about_an_article_another_field_asked_is_that_field():
    assert metadata_question("The url of the library story?", after=A) == MetadataQuestion(Field.URL, TOPIC,
                                                                                          "library")


def test_after_a_question_about_a_book_it_is_the_book():
    assert metadata_question("When was it published?", "Who wrote the novel Small Island?") is None
    assert metadata_question("Who is the author?", "Which novel won the prize?") is None
    assert metadata_question("When was it published?", "How many scooters were recalled?") == \
        MetadataQuestion(D, PRONOUN)


def test_the_header_says_where_each_field_sits():
    header = Header.of("Jane Okafor", "2005-03-03", None, "https://news.example/a")
    assert header.text == "By Jane Okafor · 2005-03-03 · https://news.example/a"
    start, end, short_start, short_end = header.answer(Field.AUTHOR)
    assert (header.text[start:end], header.text[short_start:short_end]) == ("By Jane Okafor", "Jane Okafor")
    start, end, short_start, short_end = header.answer(Field.SOURCE)
    assert (header.text[start:end], header.text[short_start:short_end]) == ("https://news.example/a", "news.example")
    start, end, short_start, short_end = header.answer(Field.YEAR)
    assert (header.text[start:end], header.text[short_start:short_end]) == ("2005-03-03", "2005")
    assert Header.of("By AP", None, None, None).text == "By AP"
    barred = Header.of("Elena Sokolova | Northport Herald", None, None, None)
    assert barred.text[slice(*barred.answer(Field.AUTHOR)[2:])] == "Elena Sokolova"
    lower = Header.of("by jane doe", "18/09/2024", None, "https://WWW.Example.COM/x")
    assert [lower.text[a:b] for _, _, a, b in map(lower.answer, (Field.AUTHOR, Field.YEAR, Field.SOURCE))] == \
        ["jane doe", "2024", "Example.COM"]
    assert Header.of(None, None, None, None).answer(Field.DATE) is None


@pytest.fixture(scope="module")
def two_articles(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    return answerer_over(tmp_path_factory, {"scooters": SCOOTERS, "football": FOOTBALL})


def test_the_article_named_by_its_topic_answers_from_its_header(two_articles: Answerer):
    answer = two_articles.ask("Who wrote the scooter recall story?")
    assert answer.found and answer.answer == "By Jane Okafor" and answer.short_answer == "Jane Okafor"
    cited = answer.citations[0]
    assert (cited.article_id, cited.paragraph_index) == ("scooters", HEADER)
    assert cited.text[cited.start:cited.end] == answer.answer
    assert "(scooters, header)" in answer_text(answer)
    dated = two_articles.ask("When was the Arsenal story published?")
    assert dated.found and dated.short_answer == "2005-04-09"


def test_what_the_header_lacks_is_not_in_the_articles(two_articles: Answerer):
    unsigned = two_articles.ask("Who wrote the Arsenal article?")
    assert not unsigned.found and unsigned.answer is None
    assert unsigned.citations[0].article_id == "football", "the article looked at is cited"


def test_an_article_without_a_header_is_cited_by_its_first_paragraph(tmp_path_factory: pytest.TempPathFactory):
    plain = answerer_over(tmp_path_factory, {"scooters": SCOOTERS.replace("By Jane Okafor", "")
                                             .replace("March 3, 2005", "").replace("Original url:", "See")})
    answer = plain.ask("When was the scooter story published?")
    assert not answer.found
    (cited,) = answer.citations
    assert (cited.paragraph_index, cited.start, cited.end) == (0, 0, 0) and cited.text.startswith("Zoomco")
    assert "(scooters, paragraph 0): Zoomco, the Leeds toy maker" in answer_text(answer)


def test_the_same_question_of_another_article(two_articles: Answerer):
    first = two_articles.ask("When was the scooter story published?")
    assert first.short_answer == "2005-03-03"
    other = two_articles.ask("And the Arsenal one?", session_id=first.session_id)
    assert other.found and other.short_answer == "2005-04-09" and other.citations[0].article_id == "football"


def test_an_article_is_found_by_its_byline(two_articles: Answerer):
    answer = two_articles.ask("When was the Okafor story published?")
    assert answer.found and answer.citations[0].article_id == "scooters" and answer.short_answer == "2005-03-03"


@pytest.mark.parametrize("named", ["Muller", "Müller"])
def test_an_article_is_found_by_its_byline_with_or_without_its_accents(tmp_path_factory: pytest.TempPathFactory,
                                                                        named: str):
    """The byline is stored as written ("Anna Müller"); the name is asked either way."""
    signed = SCOOTERS.replace("Jane Okafor", "Anna Müller")
    answerer = answerer_over(tmp_path_factory, {"scooters": signed, "football": FOOTBALL})
    answer = answerer.ask(f"When was the {named} story published?")
    assert answer.found and answer.citations[0].article_id == "scooters" and answer.short_answer == "2005-03-03"


def test_a_topic_no_article_holds_leaves_the_conversation_where_it_was(two_articles: Answerer):
    first = two_articles.ask("Who scored the winning goal for Arsenal?")
    assert first.citations[0].article_id == "football"
    unknown = two_articles.ask("Who wrote the quantum zeppelin article?", session_id=first.session_id)
    assert not unknown.found and unknown.citations == ()
    dated = two_articles.ask("When was it published?", session_id=first.session_id)
    assert dated.found and dated.citations[0].article_id == "football" and dated.short_answer == "2005-04-09"


def test_an_article_the_index_does_not_hold_is_not_answered_for(two_articles: Answerer):
    assert not two_articles.ask("Who wrote the Golden Gate Bridge story?").found
    assert not two_articles.ask("Who wrote the article?").found, "two articles: which one is not said"


def test_this_article_is_the_one_the_conversation_is_about(two_articles: Answerer):
    first = two_articles.ask("How many scooters did Zoomco recall?")
    assert first.citations[0].article_id == "scooters"
    author = two_articles.ask("Who wrote this article?", session_id=first.session_id)
    assert author.found and author.short_answer == "Jane Okafor"
    link = two_articles.ask("Where can I read the original?", session_id=first.session_id)
    assert link.short_answer == "https://news.example/zoomco-recall"
    when = two_articles.ask("And when?", session_id=first.session_id)
    assert when.found and when.short_answer == "2005-03-03"
    after = two_articles.ask("How many reports of injury had it received?", session_id=first.session_id)
    assert after.found and after.short_answer == "37", "the conversation goes on with the article"


def test_a_one_article_index_answers_about_its_article(seed_answerer_for_metadata: Answerer):
    answer = seed_answerer_for_metadata.ask("When was the article published?")
    assert answer.found and answer.short_answer == "2024-12-23" and answer.confidence >= 0.9


@pytest.fixture(scope="module")
def seed_answerer_for_metadata(seed_settings) -> Answerer:
    return Answerer.load(seed_settings)
