"""Second stage: finer evidence for each candidate paragraph and each of its sentences.

Everything here is computed from stored data (passage and sentence vectors, BM25, texts): nothing is
re-embedded at query time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np

from index.lexical import terms
from index.store import IndexReader
from qa.question import Question
from qa.retrieve import Candidate, Lexicon
from qa.spans import typed_spans

PARAGRAPH_FEATURES = (
    "dense", "bm25_rel", "bm25_abs", "best_sentence_cos", "coverage", "best_sentence_coverage",
    "title_coverage", "bigrams", "missing_idf", "dense_rrank", "bm25_rrank", "type_match", "context",
    "article_coverage", "article_dense",
)
BORROWED_WEIGHT = 0.5
SENTENCE_FEATURES = (
    "cos", "cos_gap", "coverage", "window_coverage", "type_match", "paragraph", "bigrams", "position",
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
    features: dict[str, float] = field(default_factory=dict)
    sentences: list[SentenceEvidence] = field(default_factory=list)
    score: float = 0.0
    terms: set[str] = field(default_factory=set)


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

    def coverage(self, present: set[str]) -> float:
        total = sum(self.idf.values())
        return sum(w for t, w in self.idf.items() if t in present) / total if total else 0.0


def gather(reader: IndexReader, lexicon: Lexicon, query: Query, candidates: list[Candidate],
           bm25: np.ndarray, context_article: str | None = None) -> list[ParagraphEvidence]:
    """Evidence for each candidate paragraph and its sentences (unscored; see `qa.scoring`)."""
    rows = reader.paragraphs([c.paragraph_id for c in candidates])
    best_bm25 = max((c.bm25 for c in candidates), default=0.0) or 1.0
    idf_total = sum(query.idf.values()) or 1.0
    evidence = []
    for c in candidates:
        article_id, index, title, url, text = rows[c.paragraph_id]
        p = ParagraphEvidence(c.paragraph_id, article_id, index, title, url, text)
        passages = reader.passages_of(c.paragraph_id)
        dense = float((reader.passage_vectors[passages] @ query.vector).max()) if len(passages) else 0.0
        lexical = float(bm25[passages].max()) if len(passages) else 0.0
        _sentences(reader, lexicon, query, p)
        paragraph_terms = [t for s in p.sentences for t in s.terms]
        present = set(paragraph_terms)
        title_terms = set(terms(title))
        missing = [w for t, w in query.idf.items() if t not in present and t not in title_terms]
        p.features = {
            "dense": dense,
            "bm25_rel": lexical / best_bm25,
            "bm25_abs": lexical / idf_total,
            "best_sentence_cos": max((s.features["cos"] for s in p.sentences), default=0.0),
            "coverage": query.coverage(present | title_terms),
            "best_sentence_coverage": max((s.features["coverage"] for s in p.sentences), default=0.0),
            "title_coverage": query.coverage(title_terms),
            "bigrams": _bigram_share(query, paragraph_terms),
            "missing_idf": max(missing, default=0.0) / lexicon.unknown_idf,
            "dense_rrank": 1.0 / (1 + c.dense_rank),
            "bm25_rrank": 1.0 / (1 + c.bm25_rank),
            "type_match": max((s.features["type_match"] for s in p.sentences), default=0.0),
            "context": 1.0 if context_article and article_id == context_article else 0.0,
        }
        p.terms = present | title_terms
        evidence.append(p)
    _article_features(query, evidence)
    return evidence


def _article_features(query: Query, evidence: list[ParagraphEvidence]) -> None:
    """What the paragraph's whole article (as far as retrieved) says: its coverage and best dense score."""
    by_article: dict[str, list[ParagraphEvidence]] = {}
    for p in evidence:
        by_article.setdefault(p.article_id, []).append(p)
    for paragraphs in by_article.values():
        coverage = query.coverage(set().union(*(p.terms for p in paragraphs)))
        dense = max(p.features["dense"] for p in paragraphs)
        for p in paragraphs:
            p.features["article_coverage"] = coverage
            p.features["article_dense"] = dense


def _sentences(reader: IndexReader, lexicon: Lexicon, query: Query, p: ParagraphEvidence) -> None:
    ids = reader.sentences_of(p.paragraph_id)
    if not len(ids):
        return
    cos = reader.sentence_vectors[ids].astype(np.float32) @ query.vector
    spans = tuple((int(s), int(e)) for s, e in reader.sentences[ids, 1:3])
    sentence_terms = lexicon.sentence_terms(p.paragraph_id, p.text, spans)
    p.sentences = [SentenceEvidence(s, e, t) for (s, e), t in zip(spans, sentence_terms, strict=True)]
    best = float(cos.max())
    for k, s in enumerate(p.sentences):
        window = set(s.terms)
        for neighbour in p.sentences[max(0, k - 1):k + 2]:
            window.update(neighbour.terms)
        s.features = {
            "cos": float(cos[k]),
            "cos_gap": float(cos[k]) - best,
            "coverage": query.coverage(set(s.terms)),
            "window_coverage": query.coverage(window),
            "type_match": 1.0 if typed_spans(p.text[s.start:s.end], query.question) else 0.0,
            "bigrams": _bigram_share(query, s.terms),
            "position": 1.0 / (1 + k),
        }


def _bigram_share(query: Query, sequence: list[str]) -> float:
    if not query.bigrams:
        return 0.0
    return len(query.bigrams & set(pairwise(sequence))) / len(query.bigrams)
