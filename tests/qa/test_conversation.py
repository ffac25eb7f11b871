"""Conversation state: bounded sessions and follow-up resolution."""

from __future__ import annotations

import re
import time

import pytest

from qa.answerer import _WHO_SAID, SPEAKER_CONFIDENCE, Answerer, _who_said, _with_speaker
from qa.conversation import Resolved, Session, SessionStore, Turn, attribution, focus_of, resolve
from qa.evidence import ParagraphEvidence, SentenceEvidence
from qa.extract import Extraction
from qa.settings import Settings
from tests.conftest import index_over

# Two articles that share words ("the company", "jobs", "profits"), so that a follow-up asked alone could
# go to either; the detail each follow-up asks for sits below the lead paragraph.
STEEL = """Steelworks to close with 900 jobs lost

Northfield Steel will close its Rotherham plant next year, the company said on Monday.

About 900 jobs will go. The firm blamed cheap imports and rising energy costs for the closure.

Its chief executive, Alan Pryce, said profits had fallen to 12m pounds in 2004 from 40m pounds in 2003.
"""
BAKERY = """Bakery chain expands across Wales

Crumbs, the bakery chain, will open 30 new shops in Wales and create 400 jobs.

The company said its profits rose to 8m pounds last year on strong sales of sandwiches.

Founder Gwen Morris opened the first shop in Cardiff in 1991.
"""


def session_after(question: str, article: str | None = "a/1", short: str | None = None) -> Session:
    session = Session()
    session.turns.append(Turn(question, question, article, "answer", focus_of(question, short, Resolved(question),
                                                                               session), paragraph_id=7))
    return session


def answerer_over(factory: pytest.TempPathFactory, articles: dict[str, str]) -> Answerer:
    """An answerer over a real index of a few articles (file name without .txt -> text)."""
    return Answerer.load(Settings(index_dir=index_over(factory, articles)))


@pytest.fixture(scope="module")
def news(tmp_path_factory: pytest.TempPathFactory) -> Answerer:
    return answerer_over(tmp_path_factory, {"steel": STEEL, "bakery": BAKERY})


def cited(answer) -> tuple[str, int]:
    return answer.citations[0].article_id, answer.citations[0].paragraph_index


def test_a_new_session_gets_an_id_and_a_known_id_keeps_its_turns():
    store = SessionStore()
    sid, session = store.get(None)
    store.record(session, Turn("q", "q", None, None))
    again_id, again = store.get(sid)
    assert again_id == sid and len(again.turns) == 1


def test_the_store_is_bounded_in_size_and_age():
    store = SessionStore(max_sessions=3, ttl_seconds=0.05)
    ids = [store.get(None)[0] for _ in range(5)]
    assert len(store) == 3
    time.sleep(0.1)
    store.get(None)
    assert len(store) == 1
    assert ids[-1] not in store._sessions


def test_a_year_fragment_replaces_the_year_of_the_previous_question():
    resolved = resolve("And in 2003?", session_after("How much did the company earn in 2004?"))
    assert resolved.followup
    assert resolved.text == "How much did the company earn in 2003?"
    assert resolved.context_article == "a/1"


def test_a_pronoun_stays_with_the_article_last_cited_and_keeps_its_own_words():
    resolved = resolve("How many reports of injury had it received?",
                       session_after("Which company recalled its Zoomster scooters?", short="Zoomco"))
    assert resolved.followup
    assert resolved.text == "How many reports of injury had it received?" and not resolved.extra_terms
    assert resolved.encoded == "How many reports of injury had it received? (Zoomco; Zoomster)", "for the encoder"
    assert (resolved.context_article, resolved.context_paragraph) == ("a/1", 7)


def test_a_pronoun_borrows_the_focus_when_no_article_was_cited():
    resolved = resolve("How many reports of injury had it received?",
                       session_after("Which company recalled its Zoomster scooters?", article=None, short="Zoomco"))
    assert resolved.encoded == "How many reports of injury had it received? (Zoomco; Zoomster)"
    assert set(resolved.extra_terms) == {"zoomco", "zoomster"}
    assert resolved.context_article is None


def test_a_full_question_after_and_is_a_followup_but_not_a_fragment():
    resolved = resolve("And who bought it in 1975?", session_after("When was the Hit Factory founded?"))
    assert resolved.followup and resolved.text == "And who bought it in 1975?"


@pytest.mark.parametrize(("question", "bare"), [
    ("Why?", True), ("For how long?", True), ("and when?", True), ("How many exactly?", True),
    ("Why did it close?", False), ("When was the plant built?", False), ("Who said that?", False),
])
def test_a_bare_question_asks_about_the_last_answer(question: str, bare: bool):
    resolved = resolve(question, session_after("Which plant is Northfield Steel closing?"))
    assert resolved.recalled == ("answer" if bare else None)
    assert resolved.context_article == "a/1"


def test_a_question_that_does_not_read_as_a_followup_is_left_to_the_evidence():
    resolved = resolve("Who won the Australian Open final?", session_after("Which company recalled scooters?"))
    assert not resolved.followup
    assert resolved.text == "Who won the Australian Open final?"
    assert resolved.context_article == "a/1", "kept, so the answerer can stay if that article holds the question"


def test_a_followup_finds_its_detail_further_down_the_article_last_cited(news: Answerer):
    first = news.ask("Which plant is Northfield Steel closing?")
    assert cited(first)[0] == "steel"
    jobs = news.ask("How many jobs will go there?", session_id=first.session_id)
    assert cited(jobs) == ("steel", 1) and "900" in jobs.answer
    boss = news.ask("Who is its chief executive?", session_id=first.session_id)
    assert cited(boss) == ("steel", 2) and "Alan Pryce" in boss.answer
    earlier = news.ask("And in 2003?", session_id=first.session_id)
    assert cited(earlier) == ("steel", 2)


def test_a_followup_does_not_drift_to_an_article_that_shares_its_words(news: Answerer):
    first = news.ask("How many new shops will Crumbs open?")
    assert cited(first)[0] == "bakery"
    profits = news.ask("What were the company's profits?", session_id=first.session_id)
    assert cited(profits) == ("bakery", 1) and "8m pounds" in profits.answer


@pytest.mark.parametrize("nothing", ["And zzzq?", "When was it floated?"])
def test_a_followup_that_asks_nothing_keeps_the_conversations_article(news: Answerer, nothing: str):
    """No article says "floated": read as "When was it?", it would be answered "1991", the founding year. It is
    declined, and the conversation still has its article (it forgot it, and the next follow-up was declined)."""
    first = news.ask("How many new shops will Crumbs open?")
    declined = news.ask(nothing, session_id=first.session_id)
    assert not declined.found and declined.confidence == 0.0
    founder = news.ask("Who is its founder?", session_id=first.session_id)
    assert founder.found and cited(founder) == ("bakery", 2)


def test_a_followup_asking_a_kind_of_answer_the_article_does_not_name_is_answered(
        tmp_path_factory: pytest.TempPathFactory):
    """No article says "time" or "name": "What was her time?" and "What is her name?" still ask something (a
    kind of answer), unlike "When was it floated?"."""
    berlin = ("Marathon record falls in Berlin\n\nKenyan runner Ruth Chepngetich won the Berlin Marathon on Sunday "
              "in 2 hours 9 minutes 56 seconds, a women's world record.\n\nZoo keepers said the mother panda, Xin "
              "Xin, is 12 years old.\n")
    answerer = answerer_over(tmp_path_factory, {"berlin": berlin, "steel": STEEL})
    first = answerer.ask("Who won the Berlin Marathon?")
    assert first.short_answer == "Ruth Chepngetich"
    time = answerer.ask("What was her time?", session_id=first.session_id)
    assert time.found and "2 hours 9 minutes" in time.answer and cited(time) == ("berlin", 0)
    assert time.short_answer is None or "hours" in time.short_answer  # a time, not "Ruth Chepngetich"
    panda = answerer.ask("How old is the mother panda?")
    name = answerer.ask("What is her name?", session_id=panda.session_id)
    assert name.found and "Xin Xin" in name.answer


def test_a_bare_question_is_answered_from_the_last_answer_when_it_says_what_is_asked(
        tmp_path_factory: pytest.TempPathFactory):
    """"For how long?" and "When?" ask about the strike the last answer told of: its sentence says both. "How old?"
    finds no age there, and no name is read as one."""
    strike = ("Bus drivers to strike\n\nBus drivers in Northport have voted to strike for 10 days starting February "
              "17, their union said, in a dispute over pay and rest breaks.\n\nThe operator said the union's "
              "demands would cost 4m pounds a year.\n\nTalks are set to resume on Thursday.\n")
    answerer = answerer_over(tmp_path_factory, {"strike": strike, "steel": STEEL})
    first = answerer.ask("Are Northport bus drivers going on strike?")
    assert cited(first) == ("strike", 0)
    for question, short in (("For how long?", "10 days"), ("When?", "February 17"),
                            ("Why?", "in a dispute over pay and rest breaks")):
        asked = answerer.ask(question, session_id=first.session_id)
        assert asked.found and asked.short_answer == short and cited(asked) == ("strike", 0), question
    age = answerer.ask("How old?", session_id=first.session_id)
    assert not (age.found and age.short_answer and not any(c.isdigit() for c in age.short_answer))


def test_a_change_of_topic_goes_where_its_own_words_lead(news: Answerer):
    first = news.ask("Which plant is Northfield Steel closing?")
    other = news.ask("When did Gwen Morris open the first Crumbs shop in Cardiff?", session_id=first.session_id)
    assert cited(other) == ("bakery", 2) and "1991" in other.answer


def test_who_said_that_is_answered_from_the_sentence_that_says_who_said_the_last_answer(news: Answerer):
    first = news.ask("What had Northfield Steel's profits fallen to in 2004?")
    assert cited(first) == ("steel", 2) and "12m pounds" in first.answer
    said = news.ask("Who said that?", session_id=first.session_id)
    assert cited(said) == ("steel", 2) and said.answer == first.answer and said.short_answer == "Alan Pryce"
    assert said.found and said.confidence >= SPEAKER_CONFIDENCE  # read off the text, whatever the question's words


def test_who_said_that_is_declined_when_nothing_around_the_last_answer_names_a_speaker(news: Answerer):
    """The article states the job losses itself: the speaker of another sentence ("Alan Pryce") would be a
    confident wrong answer. After a declined question there is nothing to attribute at all."""
    first = news.ask("How many jobs will go at Northfield Steel?")
    assert cited(first) == ("steel", 1) and first.found and "900" in first.answer
    said = news.ask("Who said that?", session_id=first.session_id)
    assert not said.found and said.confidence == 0.0
    nothing = news.ask("What colour are the furnaces?")
    assert not nothing.found
    said = news.ask("Who said that?", session_id=nothing.session_id)
    assert not said.found and said.confidence == 0.0


def test_who_said_that_with_more_words_is_looked_up_when_the_last_answer_names_no_speaker(news: Answerer):
    first = news.ask("How many jobs will go at Northfield Steel?")
    said = news.ask("Who said that about profits?", session_id=first.session_id)
    assert said.found and "Alan Pryce" in said.answer


@pytest.mark.parametrize(("paragraph", "answer", "speaker"), [
    ('"We are back," said Moira Kerr. Tickets cost 7 pounds.', '"We are back," said Moira Kerr.', "Moira Kerr"),
    ('Gerald Krasner left. Krasner refused to give details. He told BBC Five Live: "No figures."',  # "he told"
     'Krasner refused to give details. He told BBC Five Live: "No figures."', "Krasner"),  # the sentence before
    ('Shares in the club rose. He told BBC Five Live: "No figures."', 'He told BBC Five Live: "No figures."', None),
    ('The BBC asked him. He said: "No figures."', 'He said: "No figures."', None),
    ('Leeds United agreed. He said: "No figures."', 'He said: "No figures."', None),
    ('Ms Todd joins the board. "It is a fine club," she said.',
     'Ms Todd joins the board. "It is a fine club," she said.', "Ms Todd"),
    ('The 73-year-old sealed the deal. He said: "I am delighted."', 'He said: "I am delighted."', None),
    ('The club sealed the deal. It said: "We are delighted."', 'It said: "We are delighted."', None),
])
def test_who_said_that_names_the_speaker_and_takes_in_the_sentence_naming_he_or_she(
        paragraph: str, answer: str, speaker: str | None):
    sentences = [SentenceEvidence(m.start(), m.end(), []) for m in re.finditer(r'[^.]+\."?', paragraph)]
    last = sentences[-1] if speaker != "Moira Kerr" else sentences[0]
    evidence = ParagraphEvidence(1, "a", 0, "A", None, paragraph, sentences=sentences)
    said = _with_speaker(Extraction(evidence, last.start, last.end, None, None, {}), paragraph)
    short = paragraph[said.short_start:said.short_end] if said.short_start is not None else None
    assert (paragraph[said.start:said.end].strip(), short) == (answer, speaker)
    assert said.floor == (SPEAKER_CONFIDENCE if speaker == "Moira Kerr" else 0.0)  # only a speaker its sentence names


@pytest.mark.parametrize(("question", "asks_the_speaker"), [
    ("Who said footfall is the lifeblood of the high street?", True), ("Which judge said it had no merit?", True),
    ("And who claimed the tax was unfair?", True),
    ("Who told police the car was speeding?", False), ("Who added a second goal?", False),
    ("Who wrote the report?", False), ("Who won the race?", False),
])
def test_only_a_question_for_who_said_something_is_answered_with_the_speaker(question: str,
                                                                             asks_the_speaker: bool):
    assert bool(_WHO_SAID.match(question)) is asks_the_speaker


@pytest.mark.parametrize(("paragraph", "short", "speaker"), [
    ('Sarah Dunmore runs a bakery. "Footfall is the lifeblood of this street," she said.', "she", "Sarah Dunmore"),
    ('"The alternative is cutting the bus that 2,000 people use," Kane said.', "2,000 people", "Kane"),
    ('Bell conceded. "The people have spoken," he said.', "people", None),  # "she" or "he" is no answer
    ('"The players were brave and they deserved it."', "deserved it", "deserved it"),  # says no speaker: kept
])
def test_who_said_something_is_answered_with_the_speaker_the_sentence_names(
        paragraph: str, short: str, speaker: str | None):
    """"Who said footfall is the lifeblood ...?" was answered "she" at 0.94: the reader's span is replaced by the
    speaker, and the confidence (no floor: the sentence was found, not given) stays."""
    sentences = [SentenceEvidence(m.start(), m.end(), []) for m in re.finditer(r'[^.]+\.(?:"[^"]*")?', paragraph)]
    last = sentences[-1]
    at = paragraph.index(short)
    evidence = ParagraphEvidence(1, "a", 0, "A", None, paragraph, sentences=sentences)
    said = _who_said(Extraction(evidence, last.start, last.end, at, at + len(short), {}), paragraph)
    found = paragraph[said.short_start:said.short_end] if said.short_start is not None else None
    assert found == speaker and said.floor == 0.0


@pytest.mark.parametrize(("paragraph", "article", "speaker"), [
    # the speaker of a quotation going on from the sentence before
    ('"I have waited for this," said Rovers manager Ellen Stroud.|"The players were brave."', "", "Ellen Stroud"),
    ('Rovers won the cup.|"The players were brave."', "", "brave"),  # no one named: the reader's span is kept
    ('Shares fell, according to Reuters.|"The players were brave."', "", "brave"),  # a source, no quotation before
    ('Prices rose.|"The players were brave," he said.', "The Consumer Prices Index rose.", None),  # no one's name
    # a surname the article gives in full elsewhere
    ('Bell conceded.|"The people have spoken," he said.', "Gordon Bell lost the election.", "Bell"),
    ('Bell conceded.|"The people have spoken," he said.', "Bell lost the election.", None),
])
def test_who_said_something_is_answered_with_the_speaker_named_before(paragraph: str, article: str,
                                                                      speaker: str | None):
    first, second = paragraph.split("|")
    text = f"{first} {second}"
    sentences = [SentenceEvidence(0, len(first), []), SentenceEvidence(len(first) + 1, len(text), [])]
    evidence = ParagraphEvidence(1, "a", 0, "A", None, text, sentences=sentences)
    at = text.index("brave") if "brave" in text else text.index("people")
    said = _who_said(Extraction(evidence, len(first) + 1, len(text), at, at + 5, {}), f"{article}\n{text}")
    found = text[said.short_start:said.short_end] if said.short_start is not None else None
    assert found == speaker
    assert said.start == (0 if speaker in ("Ellen Stroud", "Bell") else len(first) + 1)  # the naming sentence too


SAYING = """Ferry returns to Inchmore

The Inchmore ferry returned to service on Friday after six weeks of repairs.

"We never thought the repairs would take so long," said Moira Kerr. Tickets will cost 7 pounds.

The ferry will sail twice a day. "It is good to be back," he said.
"""


@pytest.mark.parametrize(("answer", "paragraph", "sentences"), [
    ('"We never thought the repairs would take so long," said Moira Kerr.', 2, {0}),  # its own sentence
    ("The ferry will sail twice a day.", 3, {1}),  # the next one ("he said")
    ("Tickets will cost 7 pounds.", 2, {0}),  # the one before
    ("The Inchmore ferry returned to service on Friday after six weeks of repairs.", 1, None),  # no one said it
])
def test_who_said_that_looks_for_the_source_in_and_around_the_last_answer(answer: str, paragraph: int,
                                                                           sentences: set[int] | None):
    paragraphs = SAYING.split("\n\n")
    ranked = [ParagraphEvidence(10 + n, "ferry", n, paragraphs[0], None, text, sentences=[
        SentenceEvidence(m.start(), m.end(), []) for m in re.finditer(r"[^.]+\.(?:\"|$)?", text)])
        for n, text in enumerate(paragraphs)]
    resolved = resolve("Who said that?", session_with(Turn("q", "q", "ferry", answer, (), 10 + paragraph)))
    found = attribution(ranked, resolved)
    assert (found[1] if found else None) == sentences
    if found:
        assert found[0].index == paragraph


@pytest.mark.parametrize(("question", "asks_the_source"), [
    ("Who said that?", True), ("And who said it?", True), ("Who said so?", True), ("who told you that", True),
    ("Who said the plant would close?", False), ("Who was that?", False), ("What did he say?", False),
])
def test_only_a_question_for_the_source_of_the_last_answer_is_read_as_one(question: str, asks_the_source: bool):
    last = Turn("q", "q", "ferry", "Tickets will cost 7 pounds.", (), 12)
    assert resolve(question, session_with(last)).attributed == (last.answer if asks_the_source else None)


def session_with(turn: Turn) -> Session:
    session = Session()
    session.turns.append(turn)
    return session


def test_the_first_question_of_a_session_is_never_a_followup():
    assert not resolve("Who said that?", Session()).followup


def test_an_id_the_server_never_handed_out_gets_a_new_session():
    store = SessionStore()
    sid, _ = store.get("made-up-by-the-client")
    assert sid != "made-up-by-the-client"
    assert len(sid) >= 16


def test_a_subheading_or_a_question_in_the_text_is_never_the_answer(tmp_path_factory: pytest.TempPathFactory):
    """"Who is paying for it?" was answered "Who is paying" (short answer "Who", 0.91): a scraped page's subheading."""
    solar = ("Solar farm gets go-ahead\n\nThe Sunridge solar farm will power 90,000 homes.\n\nWho is paying\n\n"
             "So who pays for the farm?\n\nHelios Partners will pay $110 million for the farm.\n")
    answerer = answerer_over(tmp_path_factory, {"solar": solar, "steel": STEEL})
    first = answerer.ask("How many homes will the Sunridge solar farm power?")
    paying = answerer.ask("Who is paying for it?", session_id=first.session_id)
    assert paying.found and "Helios Partners" in paying.answer
