"""The index: what a build stores reads back identical, with consistent rows and unit vectors."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime

import numpy as np
import pytest

from index.chunking import MAX_PASSAGE_CHARS
from index.encoder import Encoder
from index.lexical import TERMS_VERSION
from index.store import DB_FILE, FORMAT_VERSION, MANIFEST, IndexReader
from tests.index.index_corpus import (
    BRIDGE_PARAGRAPHS,
    BRIDGE_TITLE,
    BUDGET_PARAGRAPHS,
    HTML_PARAGRAPHS,
    JSON_ONE_PARAGRAPHS,
    PRICES_PARAGRAPHS,
    MixedBuild,
)


@pytest.fixture(scope="module")
def reader(mixed_build: MixedBuild) -> Iterator[IndexReader]:
    reader = IndexReader(mixed_build.index_dir)
    yield reader
    reader.close()


@pytest.fixture(scope="module")
def db(reader: IndexReader) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{reader.directory / DB_FILE}?mode=ro", uri=True)
    yield connection
    connection.close()


def paragraph_ids(db: sqlite3.Connection) -> list[tuple[int, str]]:
    return db.execute("SELECT id, text FROM paragraphs ORDER BY id").fetchall()


def test_manifest_names_model_dimension_format_counts_and_build_time(mixed_build: MixedBuild) -> None:
    manifest = json.loads((mixed_build.index_dir / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == "all-MiniLM-L6-v2"
    assert manifest["dimension"] == 384
    assert manifest["counts"] == mixed_build.summary.counts
    assert set(manifest["counts"]) == {"articles", "paragraphs", "sentences", "passages"}
    assert datetime.fromisoformat(manifest["built_at"]).tzinfo is not None
    assert manifest["build_seconds"] > 0
    assert manifest["terms_version"] == TERMS_VERSION
    assert (mixed_build.index_dir / manifest["generation"]).is_dir()


def test_manifest_counts_are_the_rows_and_vectors_stored(reader: IndexReader, db: sqlite3.Connection) -> None:
    counts = reader.manifest.counts
    for table in ("articles", "paragraphs", "sentences", "passages"):
        assert db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == counts[table], table
    assert reader.faiss.ntotal == len(reader.passages) == counts["passages"]
    assert reader.sentence_vectors.shape == (counts["sentences"], 384)
    assert reader.bm25.scores["num_docs"] == counts["passages"]
    assert sum(a.paragraph_count for a in reader.articles(limit=1000)) == counts["paragraphs"]


@pytest.mark.parametrize("article_id, title, paragraphs", [
    ("world/bridge", BRIDGE_TITLE, BRIDGE_PARAGRAPHS),
    ("money/prices", "Bread prices rise", PRICES_PARAGRAPHS),
    ("money/budget", "Council budget approved", BUDGET_PARAGRAPHS),
    ("pages/story", "Harbour Bridge Reopens After Repairs", HTML_PARAGRAPHS),
    ("json-one", "Museum reopens", JSON_ONE_PARAGRAPHS),
    ("feed-1", "Rain expected", ["Rain is expected on Sunday."]),
])
def test_paragraph_texts_read_back_identical_to_the_source(reader: IndexReader, article_id: str, title: str,
                                                           paragraphs: list[str]) -> None:
    record, texts = reader.article(article_id)
    assert record.title == title
    assert texts == paragraphs
    assert record.paragraph_count == len(paragraphs)


def test_metadata_reads_back(reader: IndexReader) -> None:
    feed, _ = reader.article("feed-1")
    assert (feed.url, feed.date, feed.byline, feed.source) == (
        "https://example.com/rain", "2024-05-01", "Met Desk", "Example")
    seed, texts = reader.article("world/seed")
    assert (seed.byline, seed.date) == ("AFP", "2024-12-23")
    assert seed.url.startswith("https://www.themoscowtimes.com/2024/12/23/")
    assert len(texts) == 9
    story, _ = reader.article("pages/story")
    assert story.url == "https://news.example.com/2024/03/05/harbour-bridge-reopens"


def test_paragraph_index_counts_body_paragraphs_from_zero(reader: IndexReader,
                                                          db: sqlite3.Connection) -> None:
    rows = db.execute("SELECT a.article_id, p.idx FROM paragraphs p JOIN articles a ON a.id = p.article"
                      " ORDER BY p.id").fetchall()
    by_article: dict[str, list[int]] = {}
    for article_id, idx in rows:
        by_article.setdefault(article_id, []).append(idx)
    assert all(indexes == list(range(len(indexes))) for indexes in by_article.values())
    # an empty JSON paragraph keeps its place, so later indexes still match the source
    assert reader.article("json-one")[1][2] == "Visitors queued for two hours."


def test_sentence_rows_slice_their_paragraph_and_cover_it(reader: IndexReader,
                                                          db: sqlite3.Connection) -> None:
    for pid, text in paragraph_ids(db):
        rows = reader.sentences[reader.sentence_rows([pid])[0]]
        previous_end = 0
        covered = [False] * len(text)
        for paragraph, start, end in rows.tolist():
            assert paragraph == pid
            piece = text[start:end]
            assert piece and piece == piece.strip()
            assert previous_end <= start < end <= len(text)
            covered[start:end] = [True] * (end - start)
            previous_end = end
        assert all(covered[i] for i, ch in enumerate(text) if not ch.isspace()), text


def test_passage_rows_are_windows_of_their_paragraphs_sentences(reader: IndexReader,
                                                                 db: sqlite3.Connection) -> None:
    for pid, _ in paragraph_ids(db):
        sentence_rows = list(reader.sentence_rows([pid])[0])
        in_passages: list[int] = []
        for row in reader.passage_rows([pid])[0]:
            paragraph, start, end, first, count = reader.passages[row].tolist()
            assert paragraph == pid
            assert count >= 1
            members = list(range(first, first + count))
            assert reader.sentences[members[0]][1] == start
            assert reader.sentences[members[-1]][2] == end
            assert end - start <= MAX_PASSAGE_CHARS
            in_passages.extend(members)
        assert in_passages == sentence_rows


def test_vectors_are_unit_norm_and_384_dimensional(reader: IndexReader) -> None:
    assert reader.faiss.d == 384
    assert reader.passage_vectors.shape == (reader.faiss.ntotal, 384)
    np.testing.assert_allclose(np.linalg.norm(reader.passage_vectors, axis=1), 1.0, atol=1e-4)
    sentence_norms = np.linalg.norm(reader.sentence_vectors.astype(np.float32), axis=1)
    np.testing.assert_allclose(sentence_norms, 1.0, atol=1e-2)


def test_passage_vectors_are_the_embeddings_of_their_text(reader: IndexReader) -> None:
    """A question about one article finds that article's passage first (the vectors belong to the texts)."""
    encoder = Encoder(reader.directory)
    query = encoder.encode(["How much does a loaf of bread cost in London?"])
    _, rows = reader.faiss.search(query, 1)
    paragraph_id = int(reader.passages[rows[0][0]][0])
    (article_id, idx, *_), = reader.paragraphs([paragraph_id]).values()
    assert (article_id, idx) == ("money/prices", 0)
