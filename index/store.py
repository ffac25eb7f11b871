"""The index directory: SQLite (articles, paragraphs, sentences, passages), FAISS, vectors, BM25, manifest.

Layout of DIR:
    manifest.json        names the live generation, the model, counts, build time, format version
    gen-<stamp>/         one complete generation: index.sqlite, passages.faiss (+ passages.f32 when the FAISS
                         index is approximate), vectors.json, sentences.f16, bm25/, encoder
    gen-<stamp>.tmp/     a generation being written; never read, removed by the next build if left behind

A generation is written beside the live one and becomes live by an atomic replace of manifest.json, so a
reader sees either the old index or the new one, never half of one. An update (`qa index add/remove`) writes
a whole new generation too, copying the unchanged articles' rows (paragraph ids kept) and stored vectors
from the live one. Vectors are memory-mapped, so processes serving the same generation share one copy in
the page cache. Nothing here uses pickle.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import shutil
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import bm25s
import faiss
import numpy as np

from index.encoder import ENCODER_FILES, PASSAGE_INT8_FILE
from index.lexical import plain
from index.types import Article, web_link
from index.vectors import ANN_THRESHOLD, Cells, VectorIndexInfo, build_vector_index

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DB_FILE = "index.sqlite"
FAISS_FILE = "passages.faiss"
SENTENCE_VECTORS = "sentences.f16"
PASSAGE_VECTORS = "passages.f32"
BM25_DIR = "bm25"
COPY_CHUNK = 65_536
PARAGRAPH_CACHE = 10_000  # paragraph rows (texts, titles) an IndexReader keeps in memory, least recently read out
# Both flat and IVF indexes map their vectors from the file instead of reading them into memory.
FAISS_MMAP = getattr(faiss, "IO_FLAG_MMAP_IFC", faiss.IO_FLAG_MMAP)

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
CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class IndexMissingError(FileNotFoundError):
    """No usable index in the directory: none built yet (`built` False), or one that cannot be read."""

    def __init__(self, message: str, built: bool = True) -> None:
        super().__init__(message)
        self.built = built


def damaged(directory: Path, exc: Exception, what: str = "index files") -> IndexMissingError:
    """The error for files of the index generation in `directory` that cannot be read (`exc` says how)."""
    return IndexMissingError(f"damaged {what} in {directory} ({type(exc).__name__}: {exc}): "
                             "rebuild with `qa index build`")


@dataclass(frozen=True)
class Manifest:
    format_version: int
    generation: str
    model: str
    dimension: int
    counts: dict[str, int]
    built_at: str
    build_seconds: float
    terms_version: int = 1  # `index.lexical.TERMS_VERSION` at the build; manifests before it was written: 1

    @classmethod
    def read(cls, index_dir: Path) -> Manifest:
        path = index_dir / MANIFEST
        try:
            data = json.loads(path.read_text())
            manifest = cls(**data)
        except FileNotFoundError as exc:
            raise IndexMissingError(f"no index in {index_dir}: run `qa index build PATH...` first",
                                    built=False) from exc
        except (ValueError, TypeError) as exc:
            raise IndexMissingError(f"unreadable manifest {path}: {exc}") from exc
        except OSError as exc:  # the index folder is a file, the manifest a folder, ...
            raise IndexMissingError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMissingError(
                f"index format {manifest.format_version!r} in {index_dir}, this version reads {FORMAT_VERSION}:"
                " rebuild with `qa index build`"
            )
        if not manifest.well_formed():
            raise IndexMissingError(f"unreadable manifest {path}: a field has the wrong type or value")
        return manifest

    def generation_dir(self, index_dir: Path) -> Path:
        """The folder of the generation this manifest makes live; IndexMissingError if it is gone."""
        directory = index_dir / self.generation
        if not directory.is_dir():
            raise IndexMissingError(f"index generation {directory} is missing: rebuild with `qa index build`")
        return directory

    def well_formed(self) -> bool:
        """Whether the fields have the types and shapes a build writes (the generation a folder name of it)."""
        return (isinstance(self.generation, str) and re.fullmatch(r"gen-\w+", self.generation) is not None
                and isinstance(self.dimension, int) and self.dimension > 0 and isinstance(self.model, str)
                and isinstance(self.counts, dict) and all(isinstance(v, int) for v in self.counts.values())
                and isinstance(self.terms_version, int))

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
    """Writes one generation directory, article by article, then seals it (vectors, BM25, fsync).

    Articles come from two places: `copy_articles` (an earlier generation's rows and vectors, as they are)
    and `add_article` + `add_passage` (freshly embedded). Copies go first: they keep their paragraph ids,
    new paragraphs get ids above every id the index ever used, so rows stay in paragraph-id order."""

    def __init__(self, directory: Path, dimension: int) -> None:
        self.directory = directory
        self.dimension = dimension
        directory.mkdir(parents=True)
        self.db = sqlite3.connect(directory.absolute().joinpath(DB_FILE).as_uri(), uri=True)
        self.db.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        self._vector_file = open(directory / PASSAGE_VECTORS, "wb")  # noqa: SIM115 - closed in seal()
        self._sentence_file = open(directory / SENTENCE_VECTORS, "wb")  # noqa: SIM115 - closed in seal()
        self.counts = {"articles": 0, "paragraphs": 0, "sentences": 0, "passages": 0}
        self.next_paragraph_id = 1
        self.vector_index: VectorIndexInfo | None = None
        self._previous_cells: Cells | None = None

    def copy_articles(self, previous: IndexReader,
                      article_rowids: Iterable[int]) -> Iterator[tuple[str, str, int, int]]:
        """Copy articles (by row id) of `previous` with their rows and stored vectors, nothing re-embedded:
        article and paragraph rows keep their ids, sentence and passage rows are renumbered in order.

        Returns (title, paragraph text, start, end) of each copied passage, in order (for BM25); read it
        before adding articles."""
        if self.counts["articles"]:
            raise RuntimeError("copy_articles must come before add_article")
        self.next_paragraph_id = max(self.next_paragraph_id, previous.next_paragraph_id())
        self._previous_cells = Cells.of(previous.faiss)
        keep = sorted({int(i) for i in article_rowids})
        if not keep:
            return iter(())
        self.db.execute("ATTACH DATABASE ? AS previous", (previous.directory.absolute().joinpath(DB_FILE).as_uri()
                                                          + "?mode=ro",))
        self.db.execute("CREATE TEMP TABLE keep (id INTEGER PRIMARY KEY)")
        self.db.executemany("INSERT INTO keep (id) VALUES (?)", ((i,) for i in keep))
        self.db.execute(
            "INSERT INTO articles (id, article_id, title, byline, date, url, source, path, content_hash)"
            " SELECT id, article_id, title, byline, date, url, source, path, content_hash FROM previous.articles"
            " WHERE id IN (SELECT id FROM keep) ORDER BY id")
        self.db.execute("INSERT INTO paragraphs (id, article, idx, text) SELECT id, article, idx, text"
                        " FROM previous.paragraphs WHERE article IN (SELECT id FROM keep) ORDER BY id")
        self.db.commit()
        self.db.execute("DETACH DATABASE previous")
        paragraph_ids = np.array(self.db.execute("SELECT id FROM paragraphs ORDER BY id").fetchall(),
                                 dtype=np.int64).reshape(-1)
        self.counts["articles"] += len(keep)
        self.counts["paragraphs"] += len(paragraph_ids)

        sentence_rows = np.flatnonzero(np.isin(previous.sentences[:, 0], paragraph_ids))
        passage_rows = np.flatnonzero(np.isin(previous.passages[:, 0], paragraph_ids))
        renumbered = np.full(len(previous.sentences), -1, dtype=np.int64)
        renumbered[sentence_rows] = np.arange(len(sentence_rows)) + self.counts["sentences"]
        passages = previous.passages[passage_rows].copy()
        passages[:, 3] = renumbered[passages[:, 3]]
        if len(passages) and passages[:, 3].min() < 0:
            raise ValueError(f"{previous.directory}: a passage's sentences belong to another paragraph")
        # Vectors are read from the files (not through the reader's maps, which would keep them all resident).
        sentence_vectors = _RowReader(previous.directory / SENTENCE_VECTORS, np.float16, self.dimension)
        passage_file = previous.directory / PASSAGE_VECTORS
        passage_vectors = (_RowReader(passage_file, np.float32, self.dimension) if passage_file.exists()
                           else previous.passage_vectors)  # a flat index (< ANN_THRESHOLD rows) holds them
        for start in range(0, len(sentence_rows), COPY_CHUNK):
            rows = sentence_rows[start:start + COPY_CHUNK]
            self.db.executemany('INSERT INTO sentences (id, paragraph, start, "end") VALUES (?, ?, ?, ?)',
                                np.column_stack([renumbered[rows], previous.sentences[rows]]).tolist())
            self._sentence_file.write(sentence_vectors[rows].tobytes())
        for start in range(0, len(passage_rows), COPY_CHUNK):
            rows = passage_rows[start:start + COPY_CHUNK]
            ids = np.arange(start, start + len(rows)) + self.counts["passages"]
            self.db.executemany(
                'INSERT INTO passages (id, paragraph, start, "end", first_sentence, sentence_count)'
                " VALUES (?, ?, ?, ?, ?, ?)", np.column_stack([ids, passages[start:start + len(rows)]]).tolist())
            self._vector_file.write(np.asarray(passage_vectors[rows], dtype=np.float32).tobytes())
        self.counts["sentences"] += len(sentence_rows)
        self.counts["passages"] += len(passage_rows)
        return self._texts_of(passages[:, :3])

    def _texts_of(self, passages: np.ndarray) -> Iterator[tuple[str, str, int, int]]:
        """(title, paragraph text, start, end) for (paragraph id, start, end) rows in paragraph-id order;
        each paragraph's text is read once, however many passages it has."""
        rows = self.db.execute("SELECT p.id, a.title, p.text FROM paragraphs p JOIN articles a ON a.id = p.article"
                               " ORDER BY p.id")
        paragraph_id, title, text = -1, "", ""
        for paragraph, start, end in passages.tolist():
            while paragraph_id != paragraph:
                paragraph_id, title, text = next(rows)
            yield title, text, start, end

    def add_article(self, article: Article, path: str, content_hash: str) -> list[int]:
        """Insert an article and its paragraphs; returns the paragraphs' row ids in order."""
        cur = self.db.execute(
            "INSERT INTO articles (article_id, title, byline, date, url, source, path, content_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (article.article_id, article.title, article.byline, article.date, article.url, article.source,
             path, content_hash),
        )
        ids = list(range(self.next_paragraph_id, self.next_paragraph_id + len(article.paragraphs)))
        self.db.executemany("INSERT INTO paragraphs (id, article, idx, text) VALUES (?, ?, ?, ?)",
                            [(pid, cur.lastrowid, idx, text) for idx, (pid, text) in enumerate(zip(
                                ids, article.paragraphs, strict=True))])
        self.next_paragraph_id += len(ids)
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
        self._vector_file.write(passage_vector.astype(np.float32).tobytes())
        self._sentence_file.write(sentence_vectors.astype(np.float16).tobytes())
        self.counts["sentences"] += len(sentences)
        self.counts["passages"] += 1

    def seal(self, lexical_corpus: list[list[str]], encoder_dir: Path, ann_threshold: int = ANN_THRESHOLD,
             questions: Callable[[int], np.ndarray] | None = None, passage_graph: Path | None = None) -> None:
        """Write FAISS (exact, or approximate from `ann_threshold` passages on, tuned on `questions(n)`: n
        question vectors about the corpus), BM25 and the encoder files (with `passage_graph`, the int8 graph the
        passages went through, as `PASSAGE_INT8_FILE`), and flush it all to disk."""
        self._sentence_file.close()
        self._vector_file.close()
        vectors = _map_vectors(self.directory / PASSAGE_VECTORS, np.float32, self.dimension)
        index, self.vector_index = build_vector_index(vectors, ann_threshold, questions or self._no_questions,
                                                      previous=self._previous_cells)
        del vectors
        faiss.write_index(index, str(self.directory / FAISS_FILE))
        del index
        self.vector_index.write(self.directory)
        if self.vector_index.kind == "flat":  # the flat index holds the vectors, row by row: no second copy
            (self.directory / PASSAGE_VECTORS).unlink()
        self.db.execute("INSERT INTO meta (key, value) VALUES ('next_paragraph_id', ?)", (self.next_paragraph_id,))
        self.db.execute("CREATE INDEX paragraphs_article ON paragraphs(article)")
        self.db.execute("CREATE INDEX sentences_paragraph ON sentences(paragraph)")
        self.db.commit()
        self.db.close()
        bm25 = bm25s.BM25()
        bm25.index(lexical_corpus, show_progress=False)
        bm25.save(str(self.directory / BM25_DIR), show_progress=False)
        for name in ENCODER_FILES:
            _link_or_copy(encoder_dir / name, self.directory / name)
        if passage_graph is not None:
            _link_or_copy(passage_graph, self.directory / PASSAGE_INT8_FILE)
        for path in self.directory.rglob("*"):
            if path.is_file():
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
        _fsync_dir(self.directory)

    def sample_passage_texts(self, count: int, seed: int = 0) -> list[str]:
        """The texts of up to `count` stored passages, picked at random (seeded)."""
        total = self.counts["passages"]
        rows = np.random.default_rng(seed).choice(total, min(count, total), replace=False).tolist()
        marks = ",".join("?" * len(rows))
        found = self.db.execute(f'SELECT p.text, s.start, s."end" FROM passages s JOIN paragraphs p'
                                f" ON p.id = s.paragraph WHERE s.id IN ({marks}) ORDER BY s.id", rows).fetchall()
        return [text[start:end] for text, start, end in found]

    @staticmethod
    def _no_questions(count: int) -> np.ndarray:
        raise ValueError("an approximate index needs questions to tune its search on")

    def abort(self) -> None:
        """Close what is open, whatever fails: closing flushes, and the disk that failed the write may fail the
        flush too; the caller removes the directory next, and must get to."""
        for close in (self._sentence_file.close, self._vector_file.close, self.db.close):
            with contextlib.suppress(OSError, sqlite3.Error):
                close()


class _RowReader:
    """Rows of a raw vector file by (sorted) row numbers, read run by run with plain reads."""

    def __init__(self, path: Path, dtype: type, dimension: int) -> None:
        self.path, self.dtype, self.dimension = path, np.dtype(dtype), dimension

    def __getitem__(self, rows: np.ndarray) -> np.ndarray:
        out = np.empty((len(rows), self.dimension), dtype=self.dtype)
        runs = np.split(np.arange(len(rows)), np.flatnonzero(np.diff(rows) != 1) + 1)
        with open(self.path, "rb") as f:
            for run in runs:
                if len(run):
                    f.seek(int(rows[run[0]]) * self.dimension * self.dtype.itemsize)
                    out[run] = np.fromfile(f, dtype=self.dtype, count=len(run) * self.dimension).reshape(
                        -1, self.dimension)
        return out


def _map_vectors(path: Path, dtype: type, dimension: int) -> np.ndarray:
    """A read-only memory map of a raw vector file as rows of `dimension` (an empty file gives 0 rows)."""
    if path.stat().st_size == 0:
        return np.zeros((0, dimension), dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r").reshape(-1, dimension)


def _runs(keys: np.ndarray, ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose (sorted) `keys` equal each of `ids`, concatenated in the order of `ids`, and the bounds
    of each id's run: `rows[bounds[k]:bounds[k + 1]]` are the rows of `ids[k]`."""
    wanted = np.asarray(ids, dtype=np.int64)
    first = np.searchsorted(keys, wanted)
    counts = np.searchsorted(keys, wanted + 1) - first
    bounds = np.zeros(len(wanted) + 1, dtype=np.int64)
    np.cumsum(counts, out=bounds[1:])
    return np.repeat(first - bounds[:-1], counts) + np.arange(bounds[-1]), bounds


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


def _record(row: tuple | list, paragraph_count: int) -> ArticleRecord:
    """An article's stored metadata; its url only as a `web_link` (an index built before urls were checked at
    parsing may hold a 'javascript:' one)."""
    article_id, title, byline, date, url, source = row
    return ArticleRecord(article_id, title, byline, date, web_link(url), source, paragraph_count)


class ParagraphRow(NamedTuple):
    """A paragraph's text and where it stands: its article (title, url, date) and its index there."""

    article_id: str
    index: int
    title: str
    url: str | None
    text: str
    date: str | None


class IndexReader:
    """A loaded generation: vectors memory-mapped, row arrays in memory, texts fetched from SQLite on demand
    (thread-safe)."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.manifest = Manifest.read(index_dir)
        self.directory = self.manifest.generation_dir(index_dir)
        try:
            self._open()
        except (sqlite3.Error, RuntimeError, ValueError, TypeError, OSError) as exc:  # faiss raises RuntimeError
            with contextlib.suppress(AttributeError, sqlite3.Error):
                self._db.close()
            raise damaged(self.directory, exc) from exc

    def _open(self) -> None:
        self._db = sqlite3.connect(f"file:{self.directory / DB_FILE}?mode=ro", uri=True,
                                   check_same_thread=False)
        self._db.create_function("plain", 1, plain, deterministic=True)
        self._lock = threading.Lock()
        self._paragraph_rows: OrderedDict[int, ParagraphRow] = OrderedDict()
        self.faiss = faiss.read_index(str(self.directory / FAISS_FILE), FAISS_MMAP)
        self.vector_index = VectorIndexInfo.read(self.directory)
        # memory-mapped, so that several workers share one copy; never unpickled
        self.bm25 = bm25s.BM25.load(str(self.directory / BM25_DIR), mmap=True)
        dim = self.manifest.dimension
        if self.faiss.d != dim:
            raise ValueError(f"the manifest says {dim} dimensions, the vectors have {self.faiss.d}")
        self.sentence_vectors = _map_vectors(self.directory / SENTENCE_VECTORS, np.float16, dim)
        passages = self._query('SELECT paragraph, start, "end", first_sentence, sentence_count FROM passages'
                               " ORDER BY id")
        self.passages = np.array(passages, dtype=np.int64).reshape(-1, 5)
        sentences = self._query('SELECT paragraph, start, "end" FROM sentences ORDER BY id')
        self.sentences = np.array(sentences, dtype=np.int64).reshape(-1, 3)
        paragraphs = self._query("SELECT id, article FROM paragraphs ORDER BY id")
        self.paragraph_articles = np.array(paragraphs, dtype=np.int64).reshape(-1, 2)
        if (self.directory / PASSAGE_VECTORS).exists():  # an approximate index: vectors kept beside it
            self.passage_vectors = _map_vectors(self.directory / PASSAGE_VECTORS, np.float32, dim)
        else:  # a flat index: a view of its (memory-mapped, read-only) storage
            self.passage_vectors = faiss.rev_swig_ptr(self.faiss.get_xb(),
                                                      self.faiss.ntotal * dim).reshape(-1, dim)
            self.passage_vectors.flags.writeable = False

    def next_paragraph_id(self) -> int:
        """Above every paragraph id this index (and the generations it was updated from) ever used."""
        top = self._query("SELECT COALESCE(MAX(id), 0) + 1 FROM paragraphs")[0][0]
        try:
            stored = self._query("SELECT value FROM meta WHERE key = 'next_paragraph_id'")
        except sqlite3.OperationalError:  # built before the meta table existed
            stored = []
        return max([top, *(row[0] for row in stored)])

    def content_hashes(self) -> dict[str, tuple[int, str]]:
        """article id -> (its row id, the hash of its content) for every stored article."""
        rows = self._query("SELECT article_id, id, content_hash FROM articles")
        return {article_id: (rowid, digest) for article_id, rowid, digest in rows}

    def passage_rows(self, paragraph_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The passages of several paragraphs at once (stored contiguously, in paragraph order): row ids and
        bounds, as `_runs`."""
        return _runs(self.passages[:, 0], paragraph_ids)

    def sentence_rows(self, paragraph_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The sentences of several paragraphs at once: row ids and bounds, as `_runs`."""
        return _runs(self.sentences[:, 0], paragraph_ids)

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

    def paragraphs(self, paragraph_ids: list[int]) -> dict[int, ParagraphRow]:
        """paragraph id -> its text and where it stands. The rows last read are kept in memory (a generation
        never changes; the same paragraphs come back question after question), the others are read with one
        query."""
        wanted = [int(i) for i in paragraph_ids]
        with self._lock:
            found = {i: self._paragraph_rows[i] for i in wanted if i in self._paragraph_rows}
            for i in found:
                self._paragraph_rows.move_to_end(i)
        missing = [i for i in wanted if i not in found]
        if missing:
            rows = self._query(
                f"SELECT p.id, a.article_id, p.idx, a.title, a.url, p.text, a.date FROM paragraphs p"
                f" JOIN articles a ON a.id = p.article WHERE p.id IN ({','.join('?' * len(missing))})",
                tuple(missing),
            )
            read = {row[0]: ParagraphRow(*row[1:4], web_link(row[4]), *row[5:]) for row in rows}
            with self._lock:
                self._paragraph_rows.update(read)
                while len(self._paragraph_rows) > PARAGRAPH_CACHE:
                    self._paragraph_rows.popitem(last=False)
            found.update(read)
        return found

    def article(self, article_id: str) -> tuple[ArticleRecord, list[str]] | None:
        rows = self._query("SELECT id, article_id, title, byline, date, url, source FROM articles"
                           " WHERE article_id = ?", (article_id,))
        if not rows:
            return None
        rowid, *meta = rows[0]
        rows = self._query("SELECT text FROM paragraphs WHERE article = ? ORDER BY idx", (rowid,))
        texts = [r[0] for r in rows]
        return _record(meta, len(texts)), texts

    def article_files(self) -> dict[str, str]:
        """The file each stored article was read from (as the build was given it) -> the article's id, for the
        files that gave one article (a JSON feed's articles name their own ids)."""
        rows = self._query("SELECT path, MIN(article_id) FROM articles WHERE path IS NOT NULL GROUP BY path"
                           " HAVING COUNT(*) = 1")
        return dict(rows)

    def each_article_text(self) -> Iterator[tuple[str, list[str]]]:
        """Every stored article's id and paragraph texts in order, one article at a time (an index's text is
        never held whole)."""
        for article_id, group in itertools.groupby(self._rows("SELECT a.article_id, p.text FROM paragraphs p JOIN"
                                                              " articles a ON p.article = a.id ORDER BY p.article,"
                                                              " p.idx"), key=lambda row: row[0]):
            yield article_id, [text for _, text in group]

    def _rows(self, sql: str, batch: int = 1000) -> Iterator[tuple]:
        """The rows of a query, fetched a batch at a time (the lock is held per batch, not between them)."""
        with self._lock:
            cursor = self._db.execute(sql)
        while True:
            with self._lock:
                rows = cursor.fetchmany(batch)
            if not rows:
                return
            yield from rows

    def articles_headed(self, word: str, limit: int = 5) -> list[str]:
        """Ids of articles whose id, byline, site or url holds `word` (any case, accents aside): "the Reuters
        story", "the Muller story" of a byline "Anna Müller"."""
        word = plain(word)
        like = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        header = "(article_id || ' ' || coalesce(byline, '') || ' ' || coalesce(source, '') || ' ' ||" \
                 " coalesce(url, ''))"
        rows = self._query(f"SELECT article_id FROM articles WHERE {header} LIKE ?1 ESCAPE '\\' OR ({header} GLOB"
                           f" '*[^ -~]*' AND plain({header}) LIKE ?1 ESCAPE '\\') ORDER BY id LIMIT ?2",
                           (like, limit))  # only a header with accents (not ASCII) goes through `plain`
        return [row[0] for row in rows]

    def articles(self, offset: int = 0, limit: int = 100) -> list[ArticleRecord]:
        rows = self._query(
            "SELECT a.article_id, a.title, a.byline, a.date, a.url, a.source,"
            " (SELECT COUNT(*) FROM paragraphs p WHERE p.article = a.id)"
            " FROM articles a ORDER BY a.article_id LIMIT ? OFFSET ?", (limit, offset))
        return [_record(row[:-1], row[-1]) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
