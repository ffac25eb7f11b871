"""The index directory: SQLite (articles, paragraphs, sentences, passages), FAISS, vectors, BM25, manifest.

Layout of DIR:
    manifest.json        names the live generation, the model, counts, build time, format version
    gen-<stamp>/         one complete generation: index.sqlite, passages.faiss, sentences.f16, bm25/, encoder
    gen-<stamp>.tmp/     a generation being written; never read, removed by the next build if left behind

A generation is written beside the live one and becomes live by an atomic replace of manifest.json, so a
reader sees either the old index or the new one, never half of one. Nothing here uses pickle.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import bm25s
import faiss
import numpy as np

from index.encoder import ENCODER_FILES
from index.types import Article

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_FILE = "index.sqlite"
FAISS_FILE = "passages.faiss"
SENTENCE_VECTORS = "sentences.f16"
BM25_DIR = "bm25"

SCHEMA = """
CREATE TABLE articles (
    id INTEGER PRIMARY KEY, article_id TEXT UNIQUE NOT NULL, title TEXT NOT NULL,
    byline TEXT, date TEXT, url TEXT, source TEXT, path TEXT, content_hash TEXT NOT NULL
);
CREATE TABLE paragraphs (
    id INTEGER PRIMARY KEY, article INTEGER NOT NULL REFERENCES articles(id), idx INTEGER NOT NULL,
    text TEXT NOT NULL, UNIQUE (article, idx)
);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, paragraph INTEGER NOT NULL REFERENCES paragraphs(id),
    start INTEGER NOT NULL, "end" INTEGER NOT NULL
);
CREATE TABLE passages (
    id INTEGER PRIMARY KEY, paragraph INTEGER NOT NULL REFERENCES paragraphs(id),
    start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    first_sentence INTEGER NOT NULL, sentence_count INTEGER NOT NULL
);
"""


class IndexMissingError(FileNotFoundError):
    """No usable index in the directory."""


@dataclass(frozen=True)
class Manifest:
    format_version: int
    generation: str
    model: str
    dimension: int
    counts: dict[str, int]
    built_at: str
    build_seconds: float

    @classmethod
    def read(cls, index_dir: Path) -> Manifest:
        path = index_dir / MANIFEST
        try:
            data = json.loads(path.read_text())
            manifest = cls(**data)
        except FileNotFoundError as exc:
            raise IndexMissingError(f"no index in {index_dir}: run `qa index build PATH...` first") from exc
        except (ValueError, TypeError) as exc:
            raise IndexMissingError(f"unreadable manifest {path}: {exc}") from exc
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMissingError(
                f"index format {manifest.format_version} in {index_dir}, this version reads {FORMAT_VERSION}:"
                " rebuild with `qa index build`"
            )
        return manifest

    def write(self, index_dir: Path) -> None:
        """Atomically make this manifest (and so its generation) the live index."""
        tmp = index_dir / f".{MANIFEST}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(self.__dict__, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, index_dir / MANIFEST)
        _fsync_dir(index_dir)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class GenerationWriter:
    """Writes one generation directory, article by article, then seals it (vectors, BM25, fsync)."""

    def __init__(self, directory: Path, dimension: int) -> None:
        self.directory = directory
        directory.mkdir(parents=True)
        self.db = sqlite3.connect(directory / DB_FILE)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        self.faiss = faiss.IndexFlatIP(dimension)
        self._sentence_file = open(directory / SENTENCE_VECTORS, "wb")  # noqa: SIM115 - closed in seal()
        self.counts = {"articles": 0, "paragraphs": 0, "sentences": 0, "passages": 0}

    def add_article(self, article: Article, path: str, content_hash: str) -> list[int]:
        """Insert an article and its paragraphs; returns the paragraphs' row ids in order."""
        cur = self.db.execute(
            "INSERT INTO articles (article_id, title, byline, date, url, source, path, content_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (article.article_id, article.title, article.byline, article.date, article.url, article.source,
             path, content_hash),
        )
        ids = []
        for idx, text in enumerate(article.paragraphs):
            row = self.db.execute("INSERT INTO paragraphs (article, idx, text) VALUES (?, ?, ?)",
                                  (cur.lastrowid, idx, text))
            ids.append(row.lastrowid)
        self.counts["articles"] += 1
        self.counts["paragraphs"] += len(ids)
        return ids

    def add_passage(self, paragraph_id: int, start: int, end: int, sentences: list[tuple[int, int]],
                    passage_vector: np.ndarray, sentence_vectors: np.ndarray) -> None:
        """Store one embedded passage; sentence rows and vectors are appended in the same order."""
        first = self.counts["sentences"]
        self.db.executemany(
            'INSERT INTO sentences (id, paragraph, start, "end") VALUES (?, ?, ?, ?)',
            [(first + k, paragraph_id, s, e) for k, (s, e) in enumerate(sentences)],
        )
        self.db.execute(
            'INSERT INTO passages (id, paragraph, start, "end", first_sentence, sentence_count)'
            " VALUES (?, ?, ?, ?, ?, ?)",
            (self.counts["passages"], paragraph_id, start, end, first, len(sentences)),
        )
        self.faiss.add(passage_vector.reshape(1, -1).astype(np.float32))
        self._sentence_file.write(sentence_vectors.astype(np.float16).tobytes())
        self.counts["sentences"] += len(sentences)
        self.counts["passages"] += 1

    def seal(self, lexical_corpus: list[list[str]], encoder_dir: Path) -> None:
        """Write FAISS, BM25 and the encoder files, and flush everything to disk."""
        self._sentence_file.close()
        self.db.execute("CREATE INDEX paragraphs_article ON paragraphs(article)")
        self.db.execute("CREATE INDEX sentences_paragraph ON sentences(paragraph)")
        self.db.commit()
        self.db.close()
        faiss.write_index(self.faiss, str(self.directory / FAISS_FILE))
        bm25 = bm25s.BM25()
        bm25.index(lexical_corpus, show_progress=False)
        bm25.save(str(self.directory / BM25_DIR), show_progress=False)
        for name in ENCODER_FILES:
            _link_or_copy(encoder_dir / name, self.directory / name)
        for path in self.directory.rglob("*"):
            if path.is_file():
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
        _fsync_dir(self.directory)

    def abort(self) -> None:
        self._sentence_file.close()
        self.db.close()


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


@dataclass(frozen=True)
class ArticleRecord:
    """An article's metadata as stored."""

    article_id: str
    title: str
    byline: str | None
    date: str | None
    url: str | None
    source: str | None
    paragraph_count: int


class IndexReader:
    """A loaded generation: vectors in memory, texts fetched from SQLite on demand (thread-safe)."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.manifest = Manifest.read(index_dir)
        self.directory = index_dir / self.manifest.generation
        if not self.directory.is_dir():
            raise IndexMissingError(
                f"index generation {self.directory} is missing: rebuild with `qa index build`")
        self._db = sqlite3.connect(f"file:{self.directory / DB_FILE}?mode=ro", uri=True,
                                   check_same_thread=False)
        self._lock = threading.Lock()
        self.faiss = faiss.read_index(str(self.directory / FAISS_FILE))
        self.bm25 = bm25s.BM25.load(str(self.directory / BM25_DIR), mmap=False)
        dim = self.manifest.dimension
        self.sentence_vectors = np.fromfile(self.directory / SENTENCE_VECTORS,
                                            dtype=np.float16).reshape(-1, dim)
        passages = self._query('SELECT paragraph, start, "end", first_sentence, sentence_count FROM passages'
                               " ORDER BY id")
        self.passages = np.array(passages, dtype=np.int64).reshape(-1, 5)
        sentences = self._query('SELECT paragraph, start, "end" FROM sentences ORDER BY id')
        self.sentences = np.array(sentences, dtype=np.int64).reshape(-1, 3)
        paragraphs = self._query("SELECT id, article FROM paragraphs ORDER BY id")
        self.paragraph_articles = np.array(paragraphs, dtype=np.int64).reshape(-1, 2)
        self.passage_vectors = faiss.rev_swig_ptr(self.faiss.get_xb(),
                                                  self.faiss.ntotal * dim).reshape(-1, dim)

    def passages_of(self, paragraph_id: int) -> np.ndarray:
        """Row ids of a paragraph's passages (they are stored contiguously, in paragraph order)."""
        lo, hi = np.searchsorted(self.passages[:, 0], [paragraph_id, paragraph_id + 1])
        return np.arange(lo, hi)

    def sentences_of(self, paragraph_id: int) -> np.ndarray:
        """Row ids of a paragraph's sentences, in order."""
        lo, hi = np.searchsorted(self.sentences[:, 0], [paragraph_id, paragraph_id + 1])
        return np.arange(lo, hi)

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def same_article(self, paragraph_id: int) -> np.ndarray:
        """Ids of all paragraphs of the article `paragraph_id` belongs to (stored contiguously), in order."""
        rows = self.paragraph_articles
        k = np.searchsorted(rows[:, 0], paragraph_id)
        if k >= len(rows) or rows[k, 0] != paragraph_id:
            return np.array([paragraph_id])
        article = rows[k, 1]
        lo, hi = k, k + 1
        while lo > 0 and rows[lo - 1, 1] == article:
            lo -= 1
        while hi < len(rows) and rows[hi, 1] == article:
            hi += 1
        return rows[lo:hi, 0]

    def paragraphs(self, paragraph_ids: list[int]) -> dict[int, tuple[str, int, str, str | None, str]]:
        """paragraph id -> (article_id, paragraph index, title, url, text)."""
        if not paragraph_ids:
            return {}
        marks = ",".join("?" * len(paragraph_ids))
        rows = self._query(
            f"SELECT p.id, a.article_id, p.idx, a.title, a.url, p.text FROM paragraphs p"
            f" JOIN articles a ON a.id = p.article WHERE p.id IN ({marks})",
            tuple(int(i) for i in paragraph_ids),
        )
        return {row[0]: row[1:] for row in rows}

    def article(self, article_id: str) -> tuple[ArticleRecord, list[str]] | None:
        rows = self._query("SELECT id, article_id, title, byline, date, url, source FROM articles"
                           " WHERE article_id = ?", (article_id,))
        if not rows:
            return None
        rowid, *meta = rows[0]
        rows = self._query("SELECT text FROM paragraphs WHERE article = ? ORDER BY idx", (rowid,))
        texts = [r[0] for r in rows]
        return ArticleRecord(*meta, paragraph_count=len(texts)), texts

    def articles(self, offset: int = 0, limit: int = 100) -> list[ArticleRecord]:
        rows = self._query(
            "SELECT a.article_id, a.title, a.byline, a.date, a.url, a.source,"
            " (SELECT COUNT(*) FROM paragraphs p WHERE p.article = a.id)"
            " FROM articles a ORDER BY a.article_id LIMIT ? OFFSET ?", (limit, offset))
        return [ArticleRecord(*row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
