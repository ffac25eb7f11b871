"""Follow-up resolution rules: fragments, when a short follow-up stays, answers read only from the article a
follow-up stays with, reading on from the paragraph last cited, and leaving for a rival article on the same story."""

from __future__ import annotations

from dataclasses import replace

import pytest

import qa.answerer
from qa.answerer import Answerer
from qa.conversation import NEAR_BONUS, Resolved, Session, Turn, context_first, resolve, rivals_of
from qa.evidence import ParagraphEvidence, Query
from qa.extract import Extraction
from tests.qa.test_conversation import answerer_over, cited

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
    return answerer_over(tmp_path_factory, {"award": AWARD, "wales": WALES, "tower": TOWER})


def test_a_place_fragment_replaces_the_same_preposition_phrase():
    resolved = resolve("And in the US?", session_after("How much will it cost in the UK?", "£99"))
    assert resolved.text == "How much will it cost in the US?"


@pytest.mark.parametrize(("question", "counterpart"), [
    ("And a monthly pass?", True),
    ("And how much would a year cost?", True),
    ("What about a monthly pass?", True),
    ("What about a monthly pass for students living abroad?", True),  # not read as a follow-up: still a counterpart
    ("But a monthly pass?", True),
    ("Who set the price?", False),
    ("How many visitors does it get each day?", False),
])
def test_a_question_asking_for_a_counterpart_carries_the_short_answer_it_must_not_repeat(question: str,
                                                                                         counterpart: bool):
    session = Session()
    session.turns.append(Turn("How much will an hour cost?", "How much will an hour cost?", "a/1",
                              "An hour costs £4.50 and a monthly pass £35.", (), 7, short_answer="£4.50"))
    assert resolve(question, session).not_answers == (("£4.50",) if counterpart else ())


@pytest.mark.parametrize(("question", "not_answers"), [
    ("Who invited him?", ("Alan Greenspan", "Kirkcaldy")),
    ("And who is the chairman?", ("Alan Greenspan", "Kirkcaldy")),
    ("When did he speak?", ()),
    ("Who else spoke at the lecture in Kirkcaldy?", ()),  # names its own subject: not a follow-up
])
def test_a_followup_asking_who_is_not_answered_with_the_names_it_refers_back_to(question: str,
                                                                                 not_answers: tuple[str, ...]):
    session = Session()
    session.turns.append(Turn("Who gave the lecture in Kirkcaldy?", "Who gave the lecture in Kirkcaldy?", "a/1",
                              "Alan Greenspan gave the lecture.", ("Alan Greenspan", "Kirkcaldy", "400"), 7,
                              short_answer="Alan Greenspan"))
    assert resolve(question, session).not_answers == not_answers


@pytest.mark.parametrize(("question", "followup"), [
    ("Which polling firm did the survey?", True),
    ("How much did fans raise to advertise the new one?", True),
    ("When does the takeover close?", True),
    ("Which polling firm is the biggest in Britain?", False),
    ("What did the survey of Tesco shoppers find?", False),  # says which survey
    ("How many people did the Mori poll ask?", False),
    ("Who will deliver the Budget?", False),  # opens a fresh question as often as it refers back
    ("Who wrote the novel Small Island?", False),
])
def test_a_thing_named_with_the_refers_back_like_a_pronoun(question: str, followup: bool):
    session = session_after("What share of voters would reject the EU constitution?", "45% of people would vote no.")
    assert resolve(question, session).followup is followup


FUEL = """Indonesia to raise fuel prices

Indonesia's government has confirmed it is considering raising fuel prices by as much as 30%.

It spent 59.2 trillion rupiah on fuel subsidies in 2004, a sum far in excess of its original projection of 14.5
trillion rupiah.
"""


def test_a_counterpart_question_is_not_given_the_last_short_answer_again(tmp_path_factory: pytest.TempPathFactory):
    answerer = answerer_over(tmp_path_factory, {"fuel": FUEL, "tower": TOWER})
    spent = answerer.ask("How much did Indonesia spend on fuel subsidies in 2004?")
    assert spent.short_answer and "59.2" in spent.short_answer
    expected = answerer.ask("And how much had it originally expected to spend?", session_id=spent.session_id)
    assert expected.answer == spent.answer, "the same sentence holds both"
    assert expected.short_answer and "14.5" in expected.short_answer


TAXES = """Oil firm owner sues over tax bill

The government argued that the oil firm owed more than 27bn dollars in back taxes for the years from 2000 onwards.

Its owner said the firm's shares had been worth 17.8bn dollars before the government's tax claims began.
"""


@pytest.mark.parametrize(("fragment", "mentions"), [
    ("And in 2003?", ("2003",)), ("What about 1998?", ("1998",)), ("And over the whole of 2004?", ("2004",)),
    ("And in the US?", ("us",)), ("What about China?", ("china",)), ("And the year after?", ("year", "after")),
    ("What about Yahoo's profits?", ("yahoo", "profit")),  # not asked before: the profits, perhaps "the firm's"
    ("What about Yahoo's?", ("yahoo",)),
])
def test_a_fragment_must_be_answered_by_a_sentence_that_mentions_its_year_or_else_its_words(
        fragment: str, mentions: tuple[str, ...]):
    assert resolve(fragment, session_after("How much did it owe in 2004?", "10m")).mentions == mentions


def test_a_question_that_is_not_a_fragment_mentions_nothing_in_particular():
    assert resolve("How much did it owe in 2003?", session_after("How much did it owe in 2004?", "10m")).mentions == ()


def test_a_year_fragment_is_not_answered_with_the_sentence_about_other_years(tmp_path_factory: pytest.TempPathFactory):
    """'And in 2003?' after an answer on the years from 2000 onwards: the article gives no figure for 2003, so
    the answer is not that sentence again at a high confidence (it was, at 0.98, over the BBC articles)."""
    answerer = answerer_over(tmp_path_factory, {"taxes": TAXES, "tower": TOWER})
    owed = answerer.ask("How much did the oil firm owe in back taxes?")
    assert owed.found and "27bn" in owed.answer
    again = answerer.ask("And in 2003?", session_id=owed.session_id)
    assert not again.found
    assert again.citations[0].article_id == "taxes", "the closest passages still come from the conversation's article"


CARS = """Carmaker has record year in Asia

The carmaker sold nearly 95,000 cars in Asia last year, up 2.6% on 2003.

China remains its main concern after sales there fell 16% last year.
"""


def test_a_place_fragment_is_not_answered_with_the_sentence_about_the_other_place(
        tmp_path_factory: pytest.TempPathFactory):
    """'What about China?' after the carmaker's sales in Asia: the answer is the sentence on China, not the one
    that answered for Asia again (as it was over the BBC articles, at 0.92)."""
    answerer = answerer_over(tmp_path_factory, {"cars": CARS, "tower": TOWER})
    asia = answerer.ask("How many cars did the carmaker sell in Asia last year?")
    assert asia.found and "95,000" in asia.answer
    china = answerer.ask("What about China?", session_id=asia.session_id)
    assert china.answer is None or "China" in china.answer
    assert china.citations[0].article_id == "cars"
    assert "16%" in china.citations[0].text[china.citations[0].start:china.citations[0].end]


GOOGLE = """Google posts first profit report

Google said it made a net profit of 52m dollars in the three months ending 30 September.
"""
YAHOO = """Yahoo profits rise

During the same quarter, Yahoo earned 187m dollars, helped by online advertising.
"""


def test_a_fragment_naming_what_the_conversations_article_never_mentions_is_looked_for_elsewhere(
        tmp_path_factory: pytest.TempPathFactory):
    """'What about Yahoo?' after Google's profits: Google's article does not mention Yahoo, so the question leaves
    it (it was declined, every closest passage from Google's article)."""
    answerer = answerer_over(tmp_path_factory, {"google": GOOGLE, "yahoo": YAHOO, "tower": TOWER})
    google = answerer.ask("How much did Google earn?")
    assert cited(google)[0] == "google" and "52m" in google.answer
    yahoo = answerer.ask("What about Yahoo?", session_id=google.session_id)
    assert cited(yahoo)[0] == "yahoo"
    assert yahoo.found and "187m" in yahoo.answer


@pytest.mark.parametrize(("previous", "fragment", "expected"), [
    ("In which year did Arsenal win the league in England?", "And in Spain?",
     "In which year did Arsenal win the league in Spain?"),
    ("How many people in Britain voted for Labour?", "And in France?", "How many people in France voted for Labour?"),
    ("How much will it cost in the UK for students?", "And in the US?",
     "How much will it cost in the US for students?"),
])
def test_a_place_fragment_replaces_only_the_name_its_preposition_leads_to(previous: str, fragment: str,
                                                                          expected: str):
    assert resolve(fragment, session_after(previous, None)).text == expected


def test_a_name_fragment_replaces_a_name_not_a_number():
    resolved = resolve("And Google?", session_after("Who bought 5,000 shares of Apple?", None))
    assert resolved.text == "Who bought 5,000 shares of Google?"


def test_a_name_fragment_replaces_the_first_name_of_the_previous_question():
    resolved = resolve("What about Mozilla browsers?",
                       session_after("What share of web surfers use Internet Explorer, according to OneStat?", "89%"))
    assert resolved.text == "What share of web surfers use Mozilla browsers, according to OneStat?"


@pytest.mark.parametrize(("previous", "fragment", "expected", "mentions"), [
    ("What was Orbital Foods' net income?", "And Kestrel's?", "What was Kestrel's net income?", ("kestrel",)),
    ("What was Orbital Foods' net income?", "And Kestrel's net income?", "What was Kestrel's net income?",
     ("kestrel",)),
    ("How many votes did Haddad get?", "And Lucy Tran's too?", "How many votes did Lucy Tran's get?",
     ("luci", "tran")),
    ("How much did Burger King earn?", "And McDonald's?", "How much did McDonald's earn?", ("mcdonald",)),
    # the one whose the previous question asks about, not its first name
    ("What did Mr Smith say about Apple's revenue?", "And Samsung's?", "What did Mr Smith say about Samsung's revenue?",
     ("samsung",)),
    # something the previous question did not ask about: asked on its own, and to be mentioned in the answer
    ("How did Orbital Foods shares react?", "And Kestrel's dividend?", "What about Kestrel's dividend?",
     ("kestrel", "dividend")),
])
def test_a_fragment_naming_whose_asks_the_previous_question_of_them_or_what_it_names(
        previous: str, fragment: str, expected: str, mentions: tuple[str, ...]):
    resolved = resolve(fragment, session_after(previous, None))
    assert (resolved.text, resolved.mentions) == (expected, mentions)


def test_a_short_followup_stays_however_many_question_words_it_has(answerer: Answerer):
    first = answerer.ask("Who won the coaching prize at the IRB awards?")
    assert cited(first)[0] == "award" and "Jake White" in first.answer
    country = answerer.ask("Which country does he coach?", session_id=first.session_id)
    assert cited(country) == ("award", 1) and "South Africa" in country.answer


def test_a_followup_that_stays_is_answered_from_its_article_only(answerer: Answerer):
    first = answerer.ask("Who won the coaching prize at the IRB awards?")
    side = answerer.ask("Which side does he coach?", session_id=first.session_id)
    assert cited(side) == ("award", 1) and "South Africa" in side.answer, "not the other article's coach"


# A one-paragraph article: a follow-up that stays with it reads only that paragraph, but is judged against the
# whole ranking (the next paragraph is the other article's).
MUSEUM = """Harbour Museum reopens in Dunmore

The Harbour Museum in Dunmore reopened on Saturday after two years of repairs, and 5,000 visitors came on the first
day.
"""


@pytest.fixture(scope="module")
def one_paragraph(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    return answerer_over(tmp_path_factory, {"museum": MUSEUM, "tower": TOWER})


def test_a_followup_that_stays_is_judged_against_the_whole_ranking(one_paragraph: Answerer,
                                                                   monkeypatch: pytest.MonkeyPatch):
    first = one_paragraph.ask("When did the Harbour Museum in Dunmore reopen?")
    assert cited(first) == ("museum", 0)
    rankings, extractions = [], []
    rank, extract = Answerer.rank, qa.answerer.extract

    def spied_rank(self: Answerer, *args) -> tuple[Query, list[ParagraphEvidence]]:
        query, ranked = rank(self, *args)
        rankings.append(ranked)
        return query, ranked

    def spied_extract(*args, **kwargs) -> Extraction | None:
        extractions.append(extract(*args, **kwargs))
        return extractions[-1]

    monkeypatch.setattr(Answerer, "rank", spied_rank)
    monkeypatch.setattr(qa.answerer, "extract", spied_extract)
    one_paragraph.ask("How many visitors came on its first day?", session_id=first.session_id)
    (ranked,), (chosen,) = rankings, extractions
    assert chosen.paragraph.article_id == "museum" and chosen.features["context"] == 1.0
    assert ranked[1].article_id == "tower"
    assert chosen.features["paragraph_margin"] == pytest.approx(chosen.paragraph.score - ranked[1].score)


def test_a_followup_reads_on_to_the_paragraph_after_the_one_last_cited(answerer: Answerer):
    first = answerer.ask("How much did Greyfield Council sell the Kestrel tower for?")
    assert cited(first) == ("tower", 0) and "12m pounds" in first.answer
    flats = answerer.ask("How many flats will the developer make?", session_id=first.session_id)
    assert cited(flats) == ("tower", 1) and "200 flats" in flats.answer


# Two articles on the same story: the detail a follow-up asks for ("Warwick") is only in the second.
BREAK = """Busted to take a break

Pop band Busted will take a break, their record company Universal said on Friday.

Singer Charlie Simpson will spend some time with his other band, Fightstar.
"""
GIG = """Simpson plays first gig with Fightstar

Charlie Simpson played his first gig with his new band Fightstar on Friday night.

The band played for around 45 minutes at the University of Warwick, to a crowd of 1,400 fans.
"""


@pytest.fixture(scope="module")
def same_story(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    return answerer_over(tmp_path_factory, {"break": BREAK, "gig": GIG})


def after_break(answerer: Answerer, rivals: tuple[str, ...]) -> str:
    """A session whose last turn was answered from the first article, with `rivals` as the ones it nearly was."""
    first = answerer.ask("Which record company said Busted will take a break?")
    assert cited(first) == ("break", 0) and "Universal" in first.answer
    _, session = answerer.sessions.get(first.session_id)
    session.turns[-1] = replace(session.turns[-1], rivals=rivals)
    return first.session_id


def test_a_followup_moves_to_a_rival_that_holds_it_clearly_better(same_story: Answerer):
    moved = same_story.ask("How long did they play for at Warwick?", session_id=after_break(same_story, ("gig",)))
    assert cited(moved) == ("gig", 1) and "45 minutes" in moved.answer


def test_a_followup_stays_when_the_other_article_was_no_rival(same_story: Answerer):
    kept = same_story.ask("How long did they play for at Warwick?", session_id=after_break(same_story, ()))
    assert cited(kept)[0] == "break"


def test_rivals_are_the_articles_ranked_above_the_one_answered_from_or_within_the_margin_below():
    scores = (("a", 15.5), ("b", 15.4), ("b", 15.0), ("c", 14.5), ("d", 14.0), ("e", 12.0))
    ranked = [ParagraphEvidence(n, article, n, "title", "url", "text", score=score)
              for n, (article, score) in enumerate(scores)]
    assert rivals_of(ranked, "b") == ("a", "c")
    assert rivals_of(ranked, "e") == ("a", "b", "c", "d")
    assert rivals_of(ranked, "f") == ()



def test_the_paragraph_last_cited_counts_only_if_it_is_in_the_conversations_article():
    ranked = [ParagraphEvidence(n, article, index, "title", "url", "text", score=10.0)
              for n, (article, index) in enumerate((("a", 0), ("a", 1), ("b", 1)))]
    context_first(ranked, Resolved("q", context_article="a", context_paragraph=2))
    assert [p.score for p in ranked] == [10.0, 10.0, 10.0], "paragraph 2 is in b: no bonus for a's paragraph 1"
    context_first(ranked, Resolved("q", context_article="a", context_paragraph=0))
    assert [p.score for p in ranked] == [10.0 + NEAR_BONUS, 10.0 + NEAR_BONUS, 10.0]


@pytest.mark.parametrize(("previous", "fragment", "expected"), [
    ("What was the efficacy in the low-dose group?", "And the high-dose group?",
     "What was the efficacy in the high-dose group?"),
    ("What is the price of a single ticket?", "What about a return ticket?", "What is the price of a return ticket?"),
    ("How many points did the red team score?", "And the blue team?", "How many points did the blue team score?"),
])
def test_a_fragment_replaces_the_phrase_that_ends_with_the_same_word(previous: str, fragment: str, expected: str):
    """It used to be put after the question ("... in the low-dose group the high-dose group?"), which the low-dose
    sentence answered at 0.97."""
    assert resolve(fragment, session_after(previous, None)).text == expected


def test_a_fragment_asking_the_same_again_may_get_the_same_answer():
    session = Session()
    session.turns.append(Turn("What was the turnout in the strike ballot?", "What was the turnout in the strike "
                              "ballot?", "a/1", "91% backed the strike, on a turnout of 78%.", (), 7,
                              short_answer="78%"))
    assert resolve("And the turnout?", session).not_answers == ()
    assert resolve("And the margin?", session).not_answers == ("78%",)


def test_a_question_opening_with_and_whose_words_the_conversations_article_lacks_leaves_it(
        tmp_path_factory: pytest.TempPathFactory):
    """A leading "And" marks a follow-up, and a short follow-up stayed with the conversation's article whatever it
    held: "And how many flats does the buyer plan?" after a question on Wales's coach was read in the Welsh story.
    It leaves when another article holds all its words."""
    answerer = answerer_over(tmp_path_factory, {"award": AWARD, "wales": WALES, "tower": TOWER})
    coach = answerer.ask("Who will coach Wales?")
    assert cited(coach)[0] == "wales"
    flats = answerer.ask("And how many flats does the buyer plan?", session_id=coach.session_id)
    assert cited(flats)[0] == "tower" and flats.found and "200 flats" in flats.answer


@pytest.mark.parametrize(("previous", "fragment", "expected"), [
    ("What did Labour say about the plan?", "And the Tory plan?", "What did Labour say about the Tory plan?"),
    ("What was the turnout in the strike ballot?", "And the ballot?", "What was the turnout in the strike ballot?"),
    ("Which team won?", "And the team?", "Which team won?"),
    ("How many adults and children were hurt?", "And the children?", "How many adults and children were hurt?"),
])
def test_a_fragment_keeps_the_question_whole_and_names_the_same_thing_once(previous: str, fragment: str,
                                                                              expected: str):
    """Not "What did Labour say the Tory plan?", "... in the the ballot?", "Which the team won?"."""
    assert resolve(fragment, session_after(previous, None)).text == expected
