"""Paragraphs into sentences (offsets into the paragraph) and sentences into passages that fit the model."""

from __future__ import annotations

import itertools
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.chunking import MAX_PASSAGE_CHARS, passages_for, split_sentences
from index.types import Sentence

PARAGRAPH = ("More than 1,000 North Korean soldiers have been killed or wounded, officials said on Monday. "
             "The figure follows a report by Seoul's spy agency!  Is it accurate? "
             "\"We assess that the troops suffered around 1,100 casualties,\" the military said. "
             "Pyongyang declined to comment.")


def texts(paragraph: str, sentences: list[Sentence]) -> list[str]:
    return [paragraph[s.start:s.end] for s in sentences]


def assert_well_formed(text: str, sentences: list[Sentence], max_chars: int) -> None:
    """Every sentence slices to trimmed, non-empty text; in order; no overlap; all non-space text covered."""
    covered = [False] * len(text)
    previous_end = 0
    for s in sentences:
        piece = text[s.start:s.end]
        assert piece and piece == piece.strip(), (s, piece)
        assert previous_end <= s.start < s.end <= len(text), (previous_end, s)
        assert s.end - s.start <= max_chars, s
        covered[s.start:s.end] = [True] * (s.end - s.start)
        previous_end = s.end
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert missing == [], f"characters in no sentence: {[text[i] for i in missing[:20]]}"


def assert_windows(text: str, sentences: list[Sentence], max_chars: int) -> None:
    """Passages are runs of consecutive whole sentences, in order, each at most `max_chars` long."""
    passages = passages_for(3, sentences, max_chars)
    assert [s for p in passages for s in p.sentences] == sentences
    for p in passages:
        assert p.paragraph_index == 3
        assert p.end - p.start <= max_chars
        assert (p.start, p.end) == (p.sentences[0].start, p.sentences[-1].end)


def test_sentence_offsets_slice_exactly_to_the_sentences() -> None:
    assert texts(PARAGRAPH, split_sentences(PARAGRAPH)) == [
        "More than 1,000 North Korean soldiers have been killed or wounded, officials said on Monday.",
        "The figure follows a report by Seoul's spy agency!",
        "Is it accurate?",
        "\"We assess that the troops suffered around 1,100 casualties,\" the military said.",
        "Pyongyang declined to comment.",
    ]


def test_offsets_are_characters_not_bytes_for_non_ascii_text() -> None:
    paragraph = "Der Preis stieg auf 4 € — ein Rekord. 日本語の文です。 Le café coûte £3. 😀 Fin."
    sentences = split_sentences(paragraph)
    assert_well_formed(paragraph, sentences, MAX_PASSAGE_CHARS)
    assert texts(paragraph, sentences)[0] == "Der Preis stieg auf 4 € — ein Rekord."
    assert texts(paragraph, sentences)[-1].endswith("Fin.")


def test_leading_and_trailing_whitespace_is_not_part_of_a_sentence() -> None:
    paragraph = "  \n Indented first sentence.   Second one.\t\n "
    assert texts(paragraph, split_sentences(paragraph)) == ["Indented first sentence.", "Second one."]


@pytest.mark.parametrize("paragraph", ["", " ", "\n\t \n"])
def test_blank_text_has_no_sentences(paragraph: str) -> None:
    assert split_sentences(paragraph) == []
    assert passages_for(0, []) == []


def test_a_sentence_longer_than_the_limit_is_cut_at_whitespace_and_nothing_is_lost() -> None:
    paragraph = " ".join(f"word{i}" for i in range(600)) + "."
    sentences = split_sentences(paragraph, max_chars=200)
    assert len(sentences) > 1
    assert_well_formed(paragraph, sentences, 200)
    assert " ".join(texts(paragraph, sentences)) == paragraph


def test_a_word_longer_than_the_limit_is_cut_too() -> None:
    url = "https://example.com/" + "a" * 2500
    paragraph = f"See {url} for details."
    sentences = split_sentences(paragraph, max_chars=1000)
    assert_well_formed(paragraph, sentences, 1000)
    assert_windows(paragraph, sentences, 1000)
    assert "".join(texts(paragraph, sentences)).replace(" ", "") == paragraph.replace(" ", "")


def test_windows_never_exceed_the_limit_and_cover_all_the_text() -> None:
    paragraph = " ".join([PARAGRAPH] * 40)
    sentences = split_sentences(paragraph)
    passages = passages_for(0, sentences)
    assert len(passages) > 1
    assert_windows(paragraph, sentences, MAX_PASSAGE_CHARS)
    assert passages[0].start == 0 and passages[-1].end == len(paragraph)
    assert all(a.end <= b.start for a, b in itertools.pairwise(passages))


def test_a_short_paragraph_is_one_passage() -> None:
    (passage,) = passages_for(2, split_sentences(PARAGRAPH))
    assert (passage.paragraph_index, passage.start, passage.end) == (2, 0, len(PARAGRAPH))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("unit", [PARAGRAPH + " ", "wordwithoutspaces", "line\n"])
def test_a_multi_megabyte_paragraph_is_chunked_quickly(unit: str) -> None:
    paragraph = unit * (3_000_000 // len(unit))
    started = time.perf_counter()
    sentences = split_sentences(paragraph)
    passages = passages_for(0, sentences)
    elapsed = time.perf_counter() - started
    assert elapsed < 15, f"{elapsed:.1f} s for {len(paragraph):,} characters"
    assert max(p.end - p.start for p in passages) <= MAX_PASSAGE_CHARS
    covered = sum(s.end - s.start for s in sentences)
    assert covered >= len(paragraph.replace(" ", "").replace("\n", ""))


# Text drawn from letters, digits, sentence punctuation, quotes, every kind of whitespace, accented and
# CJK characters, emoji and combining marks: what news paragraphs (and their scraping accidents) contain.
ALPHABET = st.sampled_from(list(
    "abcXYZ019 .!?,;:'\"()-—…“”‘’«»\n\t\r\u00a0\u2009\u3000\u2028\f\v"
    "éüß日本語。！？😀\u0301\u200b\ufeff"
))
PARAGRAPHS = st.one_of(
    st.text(ALPHABET, max_size=400),
    st.text(max_size=200),
    st.lists(st.sampled_from(["Mr. Smith said so.", "Yes!", "  ", "\n\n", "U.S. 1.5 bn.", "x" * 30, "a b"]),
             max_size=40).map("".join),
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=PARAGRAPHS, max_chars=st.sampled_from([8, 40, MAX_PASSAGE_CHARS]))
def test_property_sentences_are_trimmed_ordered_disjoint_and_cover_all_text(text: str,
                                                                            max_chars: int) -> None:
    sentences = split_sentences(text, max_chars=max_chars)
    assert_well_formed(text, sentences, max_chars)
    assert_windows(text, sentences, max_chars)
