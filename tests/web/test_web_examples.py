"""Example questions for the chat page, made from article titles: a few shapes that read naturally."""

from __future__ import annotations

import pytest

from web.examples import example_questions, questions_for


@pytest.mark.parametrize(("title", "question"), [
    ("North Korean Soldiers Suffer 1,100 Casualties in Ukraine War, South Korean Military Says",
     "How many casualties did North Korean Soldiers suffer in Ukraine War?"),
    ("Telegraph newspapers axe 90 jobs", "How many jobs did Telegraph newspapers axe?"),
    ("US insurer Marsh cuts 2,500 jobs", "How many jobs did US insurer Marsh cut?"),
    ("Ad firm WPP's profits surge 15%", "By how much did Ad firm WPP's profits surge?"),
    ("Ethiopia's crop production up 24%", "By how much is Ethiopia's crop production up?"),
    ("Petrol duties frozen, Brown says", "What did Brown say?"),
    ("Ireland 21-19 Argentina", "Who won the match between Ireland and Argentina?"),
    ("Genghis_Khan", "What do we know about Genghis Khan?"),
    ("Sky_(United_Kingdom)", "What do we know about Sky?"),
    ("Newcastle_upon_Tyne", "What do we know about Newcastle upon Tyne?"),
])
def test_a_title_of_a_known_shape_gives_a_natural_question(title, question):
    assert questions_for(title)[0] == question


@pytest.mark.parametrize("title", [
    "Dollar gains on Greenspan speech",          # no safe template: better no example than a clumsy one
    "US trade gap hits record in 2004",          # a year is not a count
    "Rover deal 'may cost 2,000 jobs'",          # quoted claims stay out
    "Iran jails blogger for 14 years",           # "for" is not a verb
    "Court rejects $280bn tobacco case",
    "Housewives lift Channel 4 ratings",
    "",
    "   ",
])
def test_titles_without_a_safe_shape_give_no_question(title):
    assert questions_for(title) == []


def test_examples_come_from_different_articles_first():
    titles = ["North Korean Soldiers Suffer 1,100 Casualties in Ukraine War, South Korean Military Says",
              "Telegraph newspapers axe 90 jobs", "Dollar gains on Greenspan speech", "Genghis_Khan"]
    assert example_questions(titles, 3) == [
        "How many casualties did North Korean Soldiers suffer in Ukraine War?",
        "How many jobs did Telegraph newspapers axe?",
        "What do we know about Genghis Khan?",
    ]
    assert example_questions(titles[:1], 3) == [
        "How many casualties did North Korean Soldiers suffer in Ukraine War?",
        "What did the South Korean Military say?",
    ]
    assert example_questions([], 3) == []


def test_examples_are_the_best_answered_of_the_first_questions_tried():
    titles = ["Telegraph newspapers axe 90 jobs", "US insurer Marsh cuts 2,500 jobs", "Ad firm WPP's profits surge 15%",
              "Petrol duties frozen, Brown says"]
    ratings = {"How many jobs did Telegraph newspapers axe?": 0.5, "How many jobs did US insurer Marsh cut?": 0.0,
               "By how much did Ad firm WPP's profits surge?": 0.9, "What did Brown say?": 0.7}
    asked = []

    def rate(n: int, question: str) -> float:
        asked.append((titles[n], question))
        return ratings[question]

    assert example_questions(titles, 3, rate) == ["By how much did Ad firm WPP's profits surge?",
                                                  "What did Brown say?", "How many jobs did Telegraph newspapers axe?"]
    assert all(questions_for(title) == [question] for title, question in asked), "rated with its own title"
    assert example_questions(titles, 3, rate, tries=2) == ["How many jobs did Telegraph newspapers axe?"]
