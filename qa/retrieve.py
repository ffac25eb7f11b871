"""First stage: dense (FAISS) and lexical (BM25) search over passages, merged into candidate paragraphs."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from index.lexical import terms
from index.store import IndexReader

MAX_ARTICLE_PARAGRAPHS = 40


@dataclass
class Candidate:
    """A paragraph reached by either search, with its best passage scores and ranks."""

    paragraph_id: int
    dense: float = 0.0
    bm25: float = 0.0
    dense_rank: int = 10_000
    bm25_rank: int = 10_000
    passages: list[int] = field(default_factory=list)


class Lexicon:
    """BM25 over passages, each term's idf (from the same index) for coverage features, and the terms of
    stored sentences and titles (cached: the same paragraphs come back question after question)."""

    def __init__(self, reader: IndexReader) -> None:
        self.sentence_terms = lru_cache(maxsize=20_000)(_sentence_terms)  # tens of MB when full
        self.title_terms = lru_cache(maxsize=50_000)(terms)
        self.bm25 = reader.bm25
        self.vocab: dict[str, int] = reader.bm25.vocab_dict
        df = np.diff(np.asarray(reader.bm25.scores["indptr"]))
        n = max(int(reader.bm25.scores["num_docs"]), 1)
        self.idf_by_id = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        self.unknown_idf = float(np.log(1.0 + (n + 0.5) / 0.5))

    def knows(self, term: str) -> bool:
        """Whether some passage uses the term."""
        return term in self.vocab

    def idf(self, term: str) -> float:
        """A term's idf; one the corpus never uses gets the highest idf (it is informative by absence)."""
        token_id = self.vocab.get(term)
        return float(self.idf_by_id[token_id]) if token_id is not None else self.unknown_idf

    def scores(self, query_terms: list[str]) -> np.ndarray:
        ids = [self.vocab[t] for t in query_terms if t in self.vocab]
        if not ids:
            return np.zeros(int(self.bm25.scores["num_docs"]), dtype=np.float32)
        return self.bm25.get_scores_from_ids(ids)


def _sentence_terms(paragraph_id: int, text: str, spans: tuple[tuple[int, int], ...]) -> tuple[list[str], ...]:
    """Terms of each sentence span of a paragraph (`paragraph_id` keys the cache)."""
    return tuple(terms(text[start:end]) for start, end in spans)


def search(reader: IndexReader, query_vector: np.ndarray, bm25: np.ndarray,
           k: int = 40, keep: int = 30, whole_articles: int = 2) -> list[Candidate]:
    """Top-`k` passages from each search, grouped by paragraph; the `keep` best by reciprocal rank survive,
    joined by every paragraph of the `whole_articles` best articles (news puts the detail a question asks
    for a few paragraphs below the lead that names its subject)."""
    by_paragraph: dict[int, Candidate] = {}

    def candidate(passage: int) -> Candidate:
        paragraph = int(reader.passages[passage, 0])
        found = by_paragraph.setdefault(paragraph, Candidate(paragraph))
        if passage not in found.passages:
            found.passages.append(passage)
        return found

    total = reader.faiss.ntotal
    if total == 0:
        return []
    dense_scores, dense_ids = reader.faiss.search(query_vector.reshape(1, -1).astype(np.float32), min(k, total))
    for rank, (passage, score) in enumerate(zip(dense_ids[0].tolist(), dense_scores[0].tolist(), strict=True)):
        if passage < 0:
            continue
        c = candidate(passage)
        c.dense = max(c.dense, score)
        c.dense_rank = min(c.dense_rank, rank)
    top = np.argpartition(-bm25, min(k, total) - 1)[: min(k, total)]
    top = top[np.argsort(-bm25[top], kind="stable")]
    for rank, (passage, score) in enumerate(zip(top.tolist(), bm25[top].tolist(), strict=True)):
        if score <= 0:
            break
        c = candidate(passage)
        c.bm25 = max(c.bm25, score)
        c.bm25_rank = min(c.bm25_rank, rank)
    ranked = sorted(by_paragraph.values(), key=lambda c: 1 / (1 + c.dense_rank) + 1 / (1 + c.bm25_rank),
                    reverse=True)[:keep]
    chosen = {c.paragraph_id for c in ranked}
    for lead in ranked[:whole_articles]:
        for paragraph in reader.same_article(lead.paragraph_id)[:MAX_ARTICLE_PARAGRAPHS]:
            if int(paragraph) not in chosen:
                chosen.add(int(paragraph))
                ranked.append(Candidate(int(paragraph)))
    return ranked
