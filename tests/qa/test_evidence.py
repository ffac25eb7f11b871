"""Evidence helpers: the question's coverage and bigrams in a paragraph's sentences."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from index.lexical import terms
from qa.evidence import Query, _bigram_shares
from qa.question import Question

SENTENCES = tuple(terms(s) for s in (
    "The central bank raised interest.", "Rates rose in May.", "Savings rates rise slowly."))


class _Lexicon:
    unknown_idf = 10.0

    def idf(self, term: str) -> float:
        return float(len(term))


def _query(question: str) -> Query:
    return Query.make(Question.parse(question), np.zeros(4, dtype=np.float32), _Lexicon())


def test_bigram_shares_count_the_questions_bigrams_in_each_sentence_and_across_sentence_ends():
    query = _query("Why did interest rates rise?")
    found = [query.found_in(t) for t in SENTENCES]
    assert _bigram_shares(query, SENTENCES, found, frozenset().union(*found)) == ([0.0, 0.0, 0.5], 1.0)
    assert [len(query.bigrams & set(pairwise(t))) / len(query.bigrams) for t in SENTENCES] == [0.0, 0.0, 0.5]


def test_no_bigram_share_without_both_terms_of_a_question_bigram():
    assert _bigram_shares(_query("Who won the cup?"), SENTENCES, [frozenset()] * 3, frozenset()) == ([0.0] * 3, 0.0)
    query = _query("Why did rates rise?")
    assert not query.meets_bigram(frozenset({"rate"})) and query.meets_bigram(frozenset({"rate", "rise"}))
    assert _bigram_shares(query, SENTENCES, [frozenset({"rate"})] * 3, frozenset({"rate"})) == ([0.0] * 3, 0.0)


def test_a_title_counts_as_the_word_a_question_asks_who_heads_an_organisation_by():
    """News names the head by a title: "Who runs Kestrel Motors?" is answered by "Chief executive Henrik Maalouf
    said ...", and coverage must see its "runs" there, as its "boss" in "Who is the boss of Kestrel Motors?"."""
    chief = terms("Chief executive Henrik Maalouf said 2025 would be a year of discipline.")
    assert _query("Who runs Kestrel Motors?").found_in(chief) == {"run"}
    assert _query("Who is the boss of Kestrel Motors?").found_in(chief) == {"boss"}
    assert _query("Who is the boss of Kestrel Motors?").found_in(terms("Kestrel Motors boss")) == {"boss", "kestrel",
                                                                                                "motor"}
    assert _query("How many runs did he score?").found_in(chief) == frozenset()  # runs of cricket: no title
