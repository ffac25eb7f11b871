"""The words BM25 and term matching see: stop words out, stems, and what a dot inside a word means."""

import pytest

from index.lexical import terms, word_spans, words


def test_terms_are_lower_cased_stems_without_stop_words():
    assert terms("The Reports of the injuries") == ["report", "injuri"]


def test_a_web_address_is_its_names_so_the_bare_name_finds_it():
    assert words("Net monitor OneStat.com said") == ["net", "monitor", "onestat", "com", "said"]
    assert "onestat" in terms("Net monitor OneStat.com said")


@pytest.mark.parametrize("text, word", [
    ("up 1.5% today", "1.5"), ("a No.1 hit", "no.1"),
    ("it's late", "it's"),
])
def test_abbreviations_decimals_and_apostrophes_stay_one_word(text: str, word: str):
    assert word in words(text)


@pytest.mark.parametrize("dotted, plain", [("U.S.", "US"), ("the U.N.", "the UN"), ("U.K.-based", "UK-based"),
                                           ("e.g.", "eg")])
def test_initials_with_dots_are_the_same_word_as_without(dotted: str, plain: str):
    assert terms(dotted) == terms(plain) != []


def test_a_missing_space_after_a_full_stop_does_not_glue_two_words():
    assert words("on the website.He said") == ["on", "the", "website", "he", "said"]


def test_word_spans_give_each_word_where_it_stands():
    text = "See OneStat.com now"
    assert [(text[a:b].lower(), w) for a, b, w in word_spans(text)] == [
        ("see", "see"), ("onestat", "onestat"), ("com", "com"), ("now", "now")]


def test_word_spans_give_initials_as_words_does_and_their_dotted_place():
    text = "the U.S. economy"
    assert [w for _, _, w in word_spans(text)] == words(text) == ["the", "us", "economy"]
    assert [text[a:b] for a, b, _ in word_spans(text)] == ["the", "U.S", "economy"]


@pytest.mark.parametrize("accented, plain", [("the café", "the cafe"), ("Pelé", "Pele"), ("São Paulo", "Sao Paulo"),
                                             ("Zürich", "Zurich"), ("Łukasz", "Lukasz"), ("Straße", "Strasse")])
def test_accents_aside_a_word_is_the_same_word(accented: str, plain: str):
    assert terms(accented) == terms(plain) != []


def test_word_spans_give_a_folded_word_where_its_accented_text_stands():
    text = "at Café Nero’s"
    assert [(text[a:b], w) for a, b, w in word_spans(text)] == [("at", "at"), ("Café", "cafe"), ("Nero’s", "nero's")]


@pytest.mark.parametrize(("written", "asked"), [
    ("stole", "steal"), ("stolen", "steal"), ("spent", "spending"), ("won", "wins"), ("paid", "pay"),
    ("built", "build"),
])
def test_an_irregular_past_form_is_the_same_term_as_its_verb(written: str, asked: str):
    """"How much did he steal?" finds "he stole £1.2m"."""
    assert terms(written) == terms(asked)


def test_a_past_form_that_is_as_often_a_noun_or_a_name_or_says_little_stays_itself():
    assert terms("Rose left the found object") == ["rose", "left", "found", "object"]
    assert terms("The Met Office said it made") == ["met", "offic", "said", "made"]
