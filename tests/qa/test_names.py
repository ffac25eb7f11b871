"""A name the question gives that the answer's article never mentions: that article answers another question."""

from __future__ import annotations

import pytest

from qa.names import absent_names, article_terms

BRIDGE = article_terms(["Harbor Bridge reopens", "The Harbor Bridge reopened on Monday after a repair that cost "
                        "$212 million, Mayor Tony Blair said. Saharan dust fell on the United Nations building. "
                        "Schrödinger's cat and South Korea were not involved, nor was Ana Łukasz."])


@pytest.mark.parametrize(("question", "absent"), [
    ("How much did the Harbor Bridge repair cost?", []),
    ("How much did the Golden Gate Bridge repair cost?", ["Golden Gate Bridge"]),
    ("What did Mr Blair say?", []),  # a title is no word of the name
    ("How much Sahara dust fell?", []),  # "Sahara" opens "Saharan"
    ("What share of South Koreans use it?", []),
    ("What did Schrodinger's cat do?", []),  # accents aside
    ("What UN body met in Feb 2010?", []),  # short initialisms and month abbreviations are written many ways
    ("Which bridge reopened in Canada?", ["Canada"]),
    ("How Much Did The Harbor Bridge Repair Cost?", []),  # in capitals throughout: no telling names
    ("What did the UK's mayor do on Tuesday?", []),
    ("What did Ana Lukasz say?", []),  # "Łukasz" in the article
    ("Which French firm and British bank fund the Harbor Bridge?", []),  # peoples are written many ways
    ("What did the Harbor-funded report say?", []),  # the capitalised parts of a hyphenated name
    ("What did Łukasz Nowak say?", ["Lukasz Nowak"]),
    ("What did Tony Blair tell Gordon Brown?", ["Gordon Brown"]),
    ("Harbor Bridge: what did it cost?", []),  # the first word is not looked at, a name or not
])
def test_the_names_a_question_gives_that_the_article_lacks(question: str, absent: list[str]):
    assert absent_names(question, BRIDGE) == absent
