"""Build an index from article files: discover, parse, chunk, embed, store, swap in atomically."""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from index.chunking import passages_for, split_sentences
from index.discover import Found, discover
from index.encoder import Encoder
from index.export import exported_encoder
from index.formats import read_file
from index.lexical import terms
from index.store import FORMAT_VERSION, MANIFEST, GenerationWriter, Manifest
from index.types import Article, Passage, Skipped

MAX_FILE_BYTES = 64 * 1024 * 1024
BATCH_PASSAGES = 256
ENCODE_BATCH = 32


@dataclass
class BuildSummary:
    """What a build did: counts, what it skipped and why, and how long it took."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    index_dir: Path | None = None

    @property
    def articles_per_second(self) -> float:
        return self.counts.get("articles", 0) / self.seconds if self.seconds else 0.0


@dataclass
class _Pending:
    title: str
    paragraph_id: int
    text: str
    passage: Passage


class BuildLockedError(RuntimeError):
    """Another build is writing to the same index directory."""


def build_index(paths: list[Path], index_dir: Path, model: str, cache_dir: Path,
                progress: bool | None = None) -> BuildSummary:
    """Rebuild the index in `index_dir` from the article files under `paths`."""
    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    with _build_lock(index_dir):
        _remove_leftovers(index_dir)
        encoder_dir = exported_encoder(model, cache_dir)
        encoder = Encoder(encoder_dir, threads=os.cpu_count() or 1)
        generation = f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"
        work = index_dir / f"{generation}.tmp"
        writer = GenerationWriter(work, encoder.dimension)
        summary = BuildSummary(index_dir=index_dir)
        try:
            lexical = _write_articles(paths, writer, encoder, summary, progress)
            if writer.counts["articles"] == 0:
                raise ValueError("no readable articles found in " + ", ".join(map(str, paths)))
            writer.seal(lexical, encoder_dir)
        except BaseException:
            writer.abort()
            shutil.rmtree(work, ignore_errors=True)
            raise
        os.replace(work, index_dir / generation)
        summary.seconds = time.perf_counter() - started
        Manifest(FORMAT_VERSION, generation, encoder.config.model, encoder.dimension, dict(writer.counts),
                 datetime.now(UTC).isoformat(timespec="seconds"), round(summary.seconds, 2)).write(index_dir)
        summary.counts = dict(writer.counts)
        _remove_old_generations(index_dir, keep={generation})
    return summary


def _write_articles(paths: list[Path], writer: GenerationWriter, encoder: Encoder, summary: BuildSummary,
                    progress: bool | None) -> list[list[str]]:
    found: list[Found] = []
    for item in discover(paths, ignore=(writer.directory.parent,)):
        (found if isinstance(item, Found) else summary.skipped).append(item)
    seen: set[str] = set()
    pending: list[_Pending] = []
    lexical: list[list[str]] = []
    with _progress(len(found), progress) as advance:
        for item in found:
            for result in _read(item):
                if isinstance(result, Skipped):
                    summary.skipped.append(result)
                elif result.article_id in seen:
                    reason = f"duplicate article id {result.article_id!r}"
                    summary.skipped.append(Skipped(str(item.path), reason))
                else:
                    seen.add(result.article_id)
                    pending.extend(_add_article(writer, result, str(item.path)))
            if len(pending) >= BATCH_PASSAGES:
                lexical.extend(_embed(pending, writer, encoder))
                pending = []
            advance()
        lexical.extend(_embed(pending, writer, encoder))
    return lexical


def _read(item: Found) -> Iterator[Article | Skipped]:
    try:
        size = item.path.stat().st_size
        if size > MAX_FILE_BYTES:
            reason = f"file too large ({size // 1_048_576} MiB > {MAX_FILE_BYTES >> 20} MiB)"
            yield Skipped(str(item.path), reason)
            return
        data = item.path.read_bytes()
    except OSError as exc:
        yield Skipped(str(item.path), f"cannot read file ({exc.strerror or exc})")
        return
    yield from read_file(item.path, item.article_id, data)


def content_hash(article: Article) -> str:
    """A hash of everything stored for an article, to tell whether it changed."""
    parts = [article.article_id, article.title, article.byline, article.date, article.url, article.source,
             *article.paragraphs]
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def _add_article(writer: GenerationWriter, article: Article, path: str) -> list[_Pending]:
    paragraph_ids = writer.add_article(article, path, content_hash(article))
    pending = []
    for idx, (paragraph_id, text) in enumerate(zip(paragraph_ids, article.paragraphs, strict=True)):
        for passage in passages_for(idx, split_sentences(text)):
            pending.append(_Pending(article.title, paragraph_id, text, passage))
    return pending


def _embed(pending: list[_Pending], writer: GenerationWriter, encoder: Encoder) -> list[list[str]]:
    """Embed and store passages a window at a time, so one huge article never holds all its vectors."""
    lexical = []
    for w in range(0, len(pending), BATCH_PASSAGES):
        lexical.extend(_embed_window(pending[w:w + BATCH_PASSAGES], writer, encoder))
    return lexical


def _embed_window(pending: list[_Pending], writer: GenerationWriter, encoder: Encoder) -> list[list[str]]:
    """Embed passages (title as context) in length-sorted batches; store them in their original order."""
    inputs, spans = [], []
    for p in pending:
        prefix = f"{p.title}. "
        inputs.append(prefix + p.text[p.passage.start:p.passage.end])
        shift = len(prefix) - p.passage.start
        spans.append([(s.start + shift, s.end + shift) for s in p.passage.sentences])
    order = sorted(range(len(pending)), key=lambda i: len(inputs[i]))
    results: dict[int, tuple] = {}
    for b in range(0, len(order), ENCODE_BATCH):
        batch = order[b:b + ENCODE_BATCH]
        vectors, sentence_vectors = encoder.encode_with_spans([inputs[i] for i in batch],
                                                              [spans[i] for i in batch])
        for k, i in enumerate(batch):
            results[i] = (vectors[k], sentence_vectors[k])
    lexical = []
    for i, p in enumerate(pending):
        sentences = [(s.start, s.end) for s in p.passage.sentences]
        writer.add_passage(p.paragraph_id, p.passage.start, p.passage.end, sentences, *results[i])
        lexical.append(terms(inputs[i]))
    return lexical


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    with open(index_dir / ".lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise BuildLockedError(f"another build is running on {index_dir}") from exc
        yield


def _remove_leftovers(index_dir: Path) -> None:
    """Remove what a killed build left behind: its .tmp generation, and its manifest if it was killed
    between writing it and renaming it into place (called under the build lock: no writer is running)."""
    for path in index_dir.glob("gen-*.tmp"):
        shutil.rmtree(path, ignore_errors=True)
    for path in index_dir.glob(f".{MANIFEST}.*.tmp"):
        path.unlink(missing_ok=True)


def _remove_old_generations(index_dir: Path, keep: set[str]) -> None:
    """Drop generations no manifest names; readers that still have one open keep their open files."""
    if not (index_dir / MANIFEST).exists():
        return
    for path in index_dir.glob("gen-*"):
        if path.is_dir() and path.name not in keep and not path.name.endswith(".tmp"):
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _progress(total: int, enabled: bool | None) -> Iterator:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TextColumn("files"),
               TextColumn("{task.speed:.0f}/s" if total else ""), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task("files", total=total)
        yield lambda: bar.advance(task)
