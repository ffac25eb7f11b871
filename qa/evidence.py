"""Second stage: finer evidence for each candidate paragraph and each of its sentences.

Everything here is computed from stored data (passage and sentence vectors, BM25, texts): nothing is
re-embedded at query time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, pairwise
from typing import NamedTuple

import numpy as np

from index.store import IndexReader
from qa.question import Question
from qa.retrieve import Candidate, Lexicon
from qa.spans import near_terms, typed_sentences, typed_spans

PARAGRAPH_FEATURES = (
    "dense", "bm25_rel", "bm25_abs", "best_sentence_cos", "coverage", "best_sentence_coverage",
    "title_coverage", "bigrams", "missing_idf", "dense_rrank", "bm25_rrank", "type_match", "context",
    "article_coverage", "article_dense", "lead_coverage",
)
BORROWED_WEIGHT = 0.5
SENTENCE_FEATURES = (
    "cos", "cos_gap", "coverage", "window_coverage", "type_match", "paragraph", "bigrams", "position",
    "lead_coverage", "typed_near",
)


@dataclass
class SentenceEvidence:
    start: int
    end: int
    terms: list[str]
    features: dict[str, float] = field(default_factory=dict)
    score: float = 0.0


@dataclass
class ParagraphEvidence:
    paragraph_id: int
    article_id: str
    index: int
    title: str
    url: str | None
    text: str
    date: str | None = None
    features: dict[str, float] = field(default_factory=dict)
    sentences: list[SentenceEvidence] = field(default_factory=list)
    score: float = 0.0
    found: frozenset[str] = frozenset()  # the question's terms in the paragraph or its title


@dataclass(frozen=True)
class Query:
    """A question ready for scoring: its vector, terms with idf, and the expected answer type."""

    question: Question
    vector: np.ndarray
    idf: dict[str, float]
    bigrams: frozenset[tuple[str, str]]

    @classmethod
    def make(cls, question: Question, vector: np.ndarray, lexicon: Lexicon, extra_terms: tuple[str, ...] = ()):
        """Terms borrowed from a conversation (`extra_terms`) count at half the weight of the question's own."""
        idf = {t: lexicon.idf(t) for t in dict.fromkeys(question.terms)}
        for t in extra_terms:
            idf.setdefault(t, BORROWED_WEIGHT * lexicon.idf(t))
        bigrams = frozenset(pairwise(question.terms))
        return cls(question, vector, idf, bigrams)

    def found_in(self, terms: Iterable[str]) -> frozenset[str]:
        """The question's terms among `terms`, a term also where one of its alternatives is
        (`Question.alternatives`: "chief" for the "runs" of "Who runs Kestrel Motors?")."""
        if not self._alternative_of:
            return self._terms.intersection(terms)
        terms = list(terms)
        alternatives = (self._alternative_of[t] for t in terms if t in self._alternative_of)
        return self._terms.intersection(terms).union(alternatives)

    def meets_bigram(self, found: frozenset[str]) -> bool:
        """Whether both terms of one of the question's bigrams are in `found` (remembered, as `coverage`)."""
        if found not in self._meets_bigram:
            self._meets_bigram[found] = any(a in found and b in found for a, b in self.bigrams)
        return self._meets_bigram[found]

    def coverage(self, found: frozenset[str]) -> float:
        """The idf-weighted share of the question's terms that are in `found` (remembered: a question meets
        only a few distinct sets of its own terms)."""
        if found not in self._coverage:
            total = sum(self.idf.values())
            self._coverage[found] = sum(w for t, w in self.idf.items() if t in found) / total if total else 0.0
        return self._coverage[found]

    @cached_property
    def _terms(self) -> frozenset[str]:
        return frozenset(self.idf)

    @cached_property
    def _alternative_of(self) -> dict[str, str]:
        return {a: t for t, alternatives in self.question.alternatives.items() if t in self.idf for a in alternatives}

    @cached_property
    def _coverage(self) -> dict[frozenset[str], float]:
        return {}

    @cached_property
    def _meets_bigram(self) -> dict[frozenset[str], bool]:
        return {}


def gather(reader: IndexReader, lexicon: Lexicon, query: Query, candidates: list[Candidate],
           bm25: np.ndarray) -> list[ParagraphEvidence]:
    """Evidence for each candidate paragraph and its sentences (unscored; see `qa.scoring`). The "context"
    feature is 0 here; the answerer sets it on the paragraphs of the article a conversation stays with."""
    ids = [c.paragraph_id for c in candidates]
    rows = reader.paragraphs(ids)
    dense, lexical = _best_passages(reader, ids, query, bm25)
    spans, cos, bounds = _all_sentences(reader, ids, query)
    leads = _leads(reader, lexicon, query, {rows[i].article_id: i for i in ids})
    best_bm25 = max((c.bm25 for c in candidates), default=0.0) or 1.0
    idf_total = sum(query.idf.values()) or 1.0
    evidence = []
    for k, c in enumerate(candidates):
        row = rows[c.paragraph_id]
        p = ParagraphEvidence(c.paragraph_id, row.article_id, row.index, row.title, row.url, row.text, row.date)
        run = slice(bounds[k], bounds[k + 1])
        in_title = query.found_in(lexicon.title_terms(row.title))
        around = in_title | leads.get(row.article_id, frozenset())
        summary = _sentences(lexicon, query, p, tuple(spans[run]), cos[run], around)
        p.found = summary.found | in_title
        p.features = {
            "dense": dense[k],
            "bm25_rel": lexical[k] / best_bm25,
            "bm25_abs": lexical[k] / idf_total,
            "best_sentence_cos": max(cos[run], default=0.0),
            "coverage": query.coverage(p.found),
            "best_sentence_coverage": summary.best_coverage,
            "title_coverage": query.coverage(in_title),
            "bigrams": summary.bigrams,
            "missing_idf": max((w for t, w in query.idf.items() if t not in p.found), default=0.0)
            / lexicon.unknown_idf,
            "dense_rrank": 1.0 / (1 + c.dense_rank),
            "bm25_rrank": 1.0 / (1 + c.bm25_rank),
            "type_match": summary.type_match,
            "lead_coverage": summary.lead_coverage,
            "context": 0.0,
        }
        evidence.append(p)
    _article_features(query, evidence)
    return evidence


def _leads(reader: IndexReader, lexicon: Lexicon, query: Query, articles: dict[str, int]) -> dict[str, frozenset[str]]:
    """The question's terms in the first sentence of each article (`articles`: one paragraph id of each). News
    names its subject in the lead and refers back to it below ("the 73-year-old", "the firm"), where the detail
    a question asks for is: a sentence's `lead_coverage` counts the terms of its article's headline and lead."""
    firsts = sorted({int(reader.same_article(paragraph_id)[0]) for paragraph_id in articles.values()})
    rows = reader.paragraphs(firsts)
    sentences, bounds = reader.sentence_rows(firsts)
    leads = {}
    for k, paragraph_id in enumerate(firsts):
        run = sentences[bounds[k]:bounds[k + 1]]
        if paragraph_id in rows and len(run):
            row = rows[paragraph_id]
            leads[row.article_id] = query.found_in(
                lexicon.sentence_terms(paragraph_id, row.text, _spans(reader, run[:1]))[0])
    return leads


def _best_passages(reader: IndexReader, ids: list[int], query: Query, bm25: np.ndarray
                   ) -> tuple[list[float], list[float]]:
    """Each paragraph's best passage cosine to the question and best BM25 score (0.0 without passages)."""
    rows, bounds = reader.passage_rows(ids)
    cos = _dots(np.asarray(reader.passage_vectors[rows]), bounds, query.vector)
    return _run_max(cos, bounds), _run_max(bm25[rows], bounds)


def _all_sentences(reader: IndexReader, ids: list[int], query: Query
                   ) -> tuple[list[tuple[int, int]], list[float], list[int]]:
    """The sentences of all paragraphs, one paragraph's run after the other: their spans, their cosines to the
    question, and where each paragraph's run starts and ends (`bounds[k]:bounds[k + 1]`)."""
    rows, bounds = reader.sentence_rows(ids)
    cos = _dots(np.asarray(reader.sentence_vectors[rows], dtype=np.float32), bounds, query.vector).tolist()
    return list(_spans(reader, rows)), cos, bounds.tolist()


def _spans(reader: IndexReader, rows: np.ndarray) -> tuple[tuple[int, int], ...]:
    """The (start, end) of the stored sentences at `rows`."""
    return tuple(zip(reader.sentences[rows, 1].tolist(), reader.sentences[rows, 2].tolist(), strict=True))


def _dots(vectors: np.ndarray, bounds: np.ndarray, query: np.ndarray) -> np.ndarray:
    """`vectors @ query`, one paragraph's run of rows at a time: BLAS sums in an order that depends on the
    number of rows, and a paragraph's scores should not depend on which other paragraphs are candidates."""
    return np.concatenate([vectors[a:b] @ query for a, b in pairwise(bounds.tolist())]
                          + [np.zeros(0, dtype=np.float32)])


def _run_max(values: np.ndarray, bounds: np.ndarray) -> list[float]:
    """The largest of each run of `values` (`values[bounds[k]:bounds[k + 1]]`); 0.0 for an empty run."""
    peaks = np.zeros(len(bounds) - 1, dtype=values.dtype)
    full = bounds[1:] > bounds[:-1]
    if full.any():
        peaks[full] = np.maximum.reduceat(values, bounds[:-1][full])
    return peaks.tolist()


def _article_features(query: Query, evidence: list[ParagraphEvidence]) -> None:
    """What the paragraph's whole article (as far as retrieved) says: its coverage and best dense score."""
    by_article: dict[str, list[ParagraphEvidence]] = {}
    for p in evidence:
        by_article.setdefault(p.article_id, []).append(p)
    for paragraphs in by_article.values():
        coverage = query.coverage(frozenset().union(*(p.found for p in paragraphs)))
        dense = max(p.features["dense"] for p in paragraphs)
        for p in paragraphs:
            p.features["article_coverage"] = coverage
            p.features["article_dense"] = dense


class _Sentences(NamedTuple):
    """What a paragraph's sentences add up to: the question's terms in them, the share of its bigrams, and the
    best sentence coverage, type match and coverage with the lead."""

    found: frozenset[str] = frozenset()
    bigrams: float = 0.0
    best_coverage: float = 0.0
    type_match: float = 0.0
    lead_coverage: float = 0.0


def _sentences(lexicon: Lexicon, query: Query, p: ParagraphEvidence, spans: tuple[tuple[int, int], ...],
               cos: list[float], around: frozenset[str]) -> _Sentences:
    """Fill in `p.sentences` (at `spans`, with their cosines to the question; `around`: the question's terms in
    the article's headline and lead)."""
    if not spans:
        return _Sentences()
    sentences = lexicon.sentence_terms(p.paragraph_id, p.text, spans)
    found = [query.found_in(t) for t in sentences]
    in_text = frozenset().union(*found)
    coverage = [query.coverage(f) for f in found]
    lead_coverage = [query.coverage(f | around) for f in found]
    window_coverage = [query.coverage(f) for f in _windows(found)] if in_text else coverage
    bigrams, paragraph_bigrams = _bigram_shares(query, sentences, found, in_text)
    typed = [1.0 if t else 0.0 for t in typed_sentences(p.text, spans, query.question)]
    best = max(cos)
    for k, (start, end) in enumerate(spans):
        p.sentences.append(SentenceEvidence(start, end, sentences[k], {
            "cos": cos[k],
            "cos_gap": cos[k] - best,
            "coverage": coverage[k],
            "window_coverage": window_coverage[k],
            "type_match": typed[k],
            "bigrams": bigrams[k],
            "position": 1.0 / (1 + k),
            "lead_coverage": lead_coverage[k],
        }))
    return _Sentences(in_text, paragraph_bigrams, max(coverage), max(typed), max(lead_coverage))


def typed_near(p: ParagraphEvidence, query: Query) -> None:
    """Set each sentence's `typed_near`: whether a span of the type the question asks for sits a few words from
    one of its terms ("Bayern coach Felix Magath" for "Who is Bayern Munich's coach?"). It scans a sentence for
    every such span, so only the paragraphs whose sentences are scored get it (`qa.extract.options`). Set once:
    evidence belongs to one query (`gather` makes it anew for each)."""
    asked = frozenset(query.idf)
    for s in p.sentences:
        if "typed_near" not in s.features:
            text = p.text[s.start:s.end]
            near = s.features["type_match"] and s.features["coverage"] and near_terms(
                text, typed_spans(text, query.question), asked)
            s.features["typed_near"] = 1.0 if near else 0.0


def _windows(found: list[frozenset[str]]) -> list[frozenset[str]]:
    """Each sentence's found terms joined with those of the sentences either side."""
    padded = [frozenset(), *found, frozenset()]
    return [before | here | after for before, here, after in zip(padded[:-2], found, padded[2:], strict=True)]


def _bigram_shares(query: Query, sentences: tuple[list[str], ...], found: list[frozenset[str]],
                   in_text: frozenset[str]) -> tuple[list[float], float]:
    """The share of the question's bigrams that each sentence holds, and that the paragraph holds (`found`,
    `in_text`: the question's terms in each and in all)."""
    if not query.meets_bigram(in_text):
        return [0.0] * len(found), 0.0
    shares = [_bigram_share(query, t, f) for t, f in zip(sentences, found, strict=True)]
    return shares, _bigram_share(query, chain.from_iterable(sentences), in_text)


def _bigram_share(query: Query, sequence: Iterable[str], found: frozenset[str]) -> float:
    """The share of the question's bigrams that `sequence` holds (`found`: the question's terms in it)."""
    if not query.meets_bigram(found):
        return 0.0
    return len(query.bigrams & set(pairwise(sequence))) / len(query.bigrams)
