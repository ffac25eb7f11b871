"""Conversation state: bounded sessions and follow-up resolution."""

from __future__ import annotations

import time

from qa.conversation import Resolved, Session, SessionStore, Turn, focus_of, resolve


def session_after(question: str, article: str = "a/1", short: str | None = None) -> Session:
    session = Session()
    session.turns.append(Turn(question, question, article, "answer", focus_of(question, short, Resolved(question),
                                                                               session)))
    return session


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


def test_a_pronoun_borrows_the_focus_of_the_previous_turn():
    resolved = resolve("How many reports of injury had it received?",
                       session_after("Which company recalled its Zoomster scooters?", short="Zoomco"))
    assert resolved.followup
    assert resolved.text == "How many reports of injury had it received? (Zoomco; Zoomster)"
    assert set(resolved.extra_terms) == {"zoomco", "zoomster"}
    assert resolved.context_article == "a/1"


def test_a_full_question_after_and_is_not_a_fragment():
    resolved = resolve("And who bought it in 1975?", session_after("When was the Hit Factory founded?"))
    assert resolved.text.startswith("And who bought it in 1975?")


def test_a_standalone_question_is_left_alone():
    resolved = resolve("Who won the Australian Open final?", session_after("Which company recalled scooters?"))
    assert not resolved.followup
    assert resolved.text == "Who won the Australian Open final?"
    assert resolved.context_article is None


def test_the_first_question_of_a_session_is_never_a_followup():
    assert not resolve("Who said that?", Session()).followup


def test_an_id_the_server_never_handed_out_gets_a_new_session():
    store = SessionStore()
    sid, _ = store.get("made-up-by-the-client")
    assert sid != "made-up-by-the-client"
    assert len(sid) >= 16
