"""Paragraphs into sentences (character offsets into the paragraph) and sentences into passages.

A passage is a window of whole sentences that fits the embedding model; a paragraph that is too long is
covered by several passages, and a sentence that alone is too long is cut at whitespace, so no text is lost.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import blingfire

from index.types import Passage, Sentence

MAX_PASSAGE_CHARS = 1000
_SPLIT_BLOCK = 100_000
_WORD = re.compile(r"\S+")


def split_sentences(text: str, max_chars: int = MAX_PASSAGE_CHARS) -> list[Sentence]:
    """Sentences of `text` as [start, end) offsets, whitespace trimmed, none longer than `max_chars`."""
    sentences: list[Sentence] = []
    for block_start, block in _blocks(text):
        # Blingfire's sentence ends are used as cut points only: the splitter drops characters it does not
        # know (control characters, some symbols), and cutting at its ends keeps every character of the text.
        _, offsets = blingfire.text_to_sentences_and_offsets(block)
        cut = 0
        for _, end in offsets:
            end = min(end, len(block))
            if end > cut:
                sentences.extend(_cap(text, block_start + cut, block_start + end, max_chars))
                cut = end
        sentences.extend(_cap(text, block_start + cut, block_start + len(block), max_chars))
    return sentences


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    """Cut huge text at whitespace into blocks, so the splitter's work and memory stay bounded."""
    start = 0
    while start < len(text):
        end = min(len(text), start + _SPLIT_BLOCK)
        if end < len(text):
            space = text.rfind(" ", start + _SPLIT_BLOCK // 2, end)
            end = space + 1 if space > 0 else end
        yield start, text[start:end]
        start = end


def _cap(text: str, start: int, end: int, max_chars: int) -> Iterator[Sentence]:
    """Trim a sentence's whitespace and cut it at word boundaries when longer than `max_chars`.

    A single "word" longer than `max_chars` (a URL, a table flattened without spaces) is cut into pieces.
    """
    piece_start = piece_end = -1
    for word_start, word_end in _words(text, start, end, max_chars):
        if piece_start < 0:
            piece_start = word_start
        elif word_end - piece_start > max_chars:
            yield Sentence(piece_start, piece_end)
            piece_start = word_start
        piece_end = word_end
    if piece_start >= 0:
        yield Sentence(piece_start, piece_end)


def _words(text: str, start: int, end: int, max_chars: int) -> Iterator[tuple[int, int]]:
    for m in _WORD.finditer(text, start, end):
        for piece in range(m.start(), m.end(), max_chars):
            yield piece, min(piece + max_chars, m.end())


def passages_for(paragraph_index: int, sentences: list[Sentence],
                 max_chars: int = MAX_PASSAGE_CHARS) -> list[Passage]:
    """Group consecutive sentences into windows of at most `max_chars` characters."""
    passages: list[Passage] = []
    window: list[Sentence] = []
    for sentence in sentences:
        if window and sentence.end - window[0].start > max_chars:
            passages.append(Passage(paragraph_index, window[0].start, window[-1].end, tuple(window)))
            window = []
        window.append(sentence)
    if window:
        passages.append(Passage(paragraph_index, window[0].start, window[-1].end, tuple(window)))
    return passages
