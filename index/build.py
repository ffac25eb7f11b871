"""Build or update an index from article files: discover, parse, chunk, embed, store, swap in atomically.

`build_index` writes a generation from scratch; `add_to_index` and `remove_from_index` write one from the live
generation, copying what did not change (rows with their paragraph ids, stored vectors) and embedding only
new or changed articles. All three go through `_write_generation`, which writes the new generation beside
the live one and swaps the manifest, under one lock per index directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.chunking import passages_for, split_sentences
from index.copies import COPY_NAME, Texts, copy_skipped
from index.discover import Found, discover
from index.encoder import ONNX_FILE, Encoder, passage_graph, usable_cores
from index.export import exported_encoder
from index.formats import READERS, read_file
from index.graph_cache import int8_graph
from index.lexical import TERMS_VERSION, terms
from index.store import FORMAT_VERSION, MANIFEST, GenerationWriter, IndexReader, Manifest
from index.types import Article, Passage, Skipped, encodable, first_of_each_id
from index.vectors import ANN_THRESHOLD, VectorIndexInfo, pseudo_question

MAX_FILE_BYTES = 64 * 1024 * 1024  # an article file; a .json/.jsonl feed of many articles may hold more
MAX_FEED_BYTES = 256 * 1024 * 1024  # parsed whole: a feed takes about four times its size in memory
BATCH_PASSAGES = 256
GENERATION_NAME = re.compile(r"gen-\d{8}T\d{12}")  # as `_new_generation` names one: the only folders a build removes


@dataclass
class BuildSummary:
    """What a build or an update did: counts, what it skipped and why, and how long it took.

    For an update also which articles it added, replaced (changed) and removed, how many of the articles it
    was given were already stored unchanged, and how many passages it embedded and copied."""

    counts: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    seconds: float = 0.0
    index_dir: Path | None = None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded: int = 0
    copied: int = 0
    vector_index: VectorIndexInfo | None = None

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


class UnknownArticleError(LookupError):
    """`remove` was given article ids the index does not hold (and so removed nothing)."""


# What fills a new generation: given the writer and the encoder, store articles and return the BM25 terms of
# every stored passage, in passage order.
Fill = Callable[[GenerationWriter, Encoder], list[list[str]]]
# Question vectors (as many as asked for) about what a writer holds, to tune an approximate index on.
Questions = Callable[[GenerationWriter, Encoder], Callable[[int], np.ndarray]]


def build_index(paths: list[Path], index_dir: Path, model: str, cache_dir: Path,
                progress: bool | None = None, ann_threshold: int = ANN_THRESHOLD, int8: bool = False) -> BuildSummary:
    """Rebuild the index in `index_dir` from the article files under `paths`.

    From `ann_threshold` passages on, dense search uses an approximate (IVF) FAISS index. With `int8`, passages
    go through the int8 copy of the encoder graph (`index.graph_cache.int8_graph`, the one questions go through
    by default): about twice as fast, with the answer quality BENCHMARKS.md reports. The generation keeps that
    graph (`PASSAGE_INT8_FILE`), so updates embed the same way."""
    started = time.perf_counter()
    if index_dir.exists() and not index_dir.is_dir():
        raise ValueError(f"{index_dir} is a file, not a folder to keep the index in")
    with _index_folder(index_dir):
        _remove_leftovers(index_dir)
        encoder_dir = exported_encoder(model, cache_dir)
        summary = BuildSummary(index_dir=index_dir)

        def fill(writer: GenerationWriter, encoder: Encoder) -> list[list[str]]:
            lexical = _write_articles(paths, writer, encoder, summary, progress)
            if writer.counts["articles"] == 0:
                raise _nothing_readable(paths, index_dir, summary)
            summary.embedded = writer.counts["passages"]
            return lexical

        graph = int8_graph(encoder_dir, cache_dir) if int8 else None
        if graph == encoder_dir / ONNX_FILE:
            raise ValueError(f"cannot make the int8 copy of the encoder in {cache_dir} (see the warning above); "
                             "build without --int8, or set QA_CACHE_DIR to a writable folder")
        _write_generation(index_dir, encoder_dir, fill, summary, started, ann_threshold, graph=graph)
    return summary


def add_to_index(paths: list[Path], index_dir: Path, progress: bool | None = None,
                 ann_threshold: int = ANN_THRESHOLD) -> BuildSummary:
    """Add the articles under `paths` to the index in `index_dir`; an article whose id is already stored
    replaces it when its content differs and is left as it is otherwise. Only new and changed articles are
    embedded (with the index's own encoder); every other article is copied with its paragraph ids."""

    def plan(previous: IndexReader, summary: BuildSummary) -> tuple[list[int], list[tuple[Article, str]]]:
        stored = previous.content_hashes()
        files = _stored_files(previous)
        new: list[tuple[Article, str]] = []
        for article, path in _readable(_discover(paths, index_dir, summary), summary, progress=False):
            if article.article_id not in stored and READERS.get(Path(path).suffix.lower()) != "json" \
                    and (same := files.get(_resolved(path))) is not None:
                article = replace(article, article_id=same)  # the stored file, named from another folder
            known = stored.get(article.article_id)
            if known is not None and known[1] == content_hash(article):
                summary.unchanged += 1
            else:
                new.append((article, path))
        # Edited articles claim their text before new ones: an edit gives its old text up to a new file holding it,
        # and a new copy of a stored article (kept or edited) is skipped.
        texts = Texts(previous.each_article_text())
        embed: list[tuple[Article, str]] = []
        for article, path in sorted(new, key=lambda read: read[0].article_id not in stored):
            if holder := texts.claim(article):
                summary.skipped.append(copy_skipped(path, article.article_id, holder))
                continue
            (summary.added if article.article_id not in stored else summary.changed).append(article.article_id)
            embed.append((article, path))
        if not new and not summary.unchanged:  # copies of stored articles were read: nothing to add, no error
            raise _nothing_readable(paths, index_dir, summary)
        replaced = set(summary.changed)
        return [rowid for article_id, (rowid, _) in stored.items() if article_id not in replaced], embed

    return _update(index_dir, plan, progress, ann_threshold)


def _stored_files(previous: IndexReader) -> dict[Path, str]:
    """The stored articles' ids by their files (an index built before paths were stored absolute: resolved from
    here): `qa index add news/tech/004.txt` after `qa index build news` is that article (id "tech/004"), not a new
    one with id "004" beside its old text. (A JSON feed's articles keep the ids they give.)"""
    files = {}
    for path, article_id in previous.article_files().items():
        if (resolved := _resolved(path)) is not None:
            files[resolved] = article_id
    return files


def _resolved(path: str) -> Path | None:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL in the name
        return None


def remove_from_index(article_ids: list[str], index_dir: Path,
                      ann_threshold: int = ANN_THRESHOLD) -> BuildSummary:
    """Remove articles by id. All or nothing: if any id is not in the index, nothing is removed
    (`UnknownArticleError`); removing every article is refused too (build a new index instead)."""

    def plan(previous: IndexReader, summary: BuildSummary) -> tuple[list[int], list[tuple[Article, str]]]:
        stored = previous.content_hashes()
        wanted = list(dict.fromkeys(article_ids))
        unknown = [article_id for article_id in wanted if article_id not in stored]
        if unknown:
            raise UnknownArticleError(f"not in the index: {', '.join(map(repr, unknown))} (nothing removed)")
        if len(wanted) == len(stored):
            raise ValueError("removing every article would leave the index empty; build a new one instead")
        summary.removed = wanted
        removed = set(wanted)
        return [rowid for article_id, (rowid, _) in stored.items() if article_id not in removed], []

    return _update(index_dir, plan, False, ann_threshold)


def _update(index_dir: Path,
            plan: Callable[[IndexReader, BuildSummary], tuple[list[int], list[tuple[Article, str]]]],
            progress: bool | None, ann_threshold: int) -> BuildSummary:
    """A new generation from the live one: `plan` says which stored articles to keep (row ids) and which
    articles to embed; nothing is written when it keeps everything and embeds nothing."""
    started = time.perf_counter()
    Manifest.read(index_dir)  # no index, no update (and no lock file in a folder that is not an index)
    with _build_lock(index_dir):
        _remove_leftovers(index_dir)
        previous = IndexReader(index_dir)
        try:
            summary = BuildSummary(index_dir=index_dir)
            keep, embed = plan(previous, summary)
            if not embed and len(keep) == previous.manifest.counts["articles"]:
                summary.counts = dict(previous.manifest.counts)
                summary.vector_index = previous.vector_index
                summary.seconds = time.perf_counter() - started
                return summary

            def fill(writer: GenerationWriter, encoder: Encoder) -> list[list[str]]:
                lexical = [terms(passage_input(*row)) for row in writer.copy_articles(previous, keep)]
                summary.copied = writer.counts["passages"]
                lexical.extend(_embed_articles(_tracked(embed, progress, "articles"), writer, encoder))
                summary.embedded = writer.counts["passages"] - summary.copied
                return lexical

            # The encoder files live in every generation: an update embeds as the index was built, model and graph.
            _write_generation(index_dir, previous.directory, fill, summary, started, ann_threshold,
                              graph=passage_graph(previous.directory))
        finally:
            previous.close()
    return summary


def _nothing_readable(paths: list[Path], index_dir: Path, summary: BuildSummary) -> ValueError:
    """The error of a build that found no article: with why the first files were skipped, and whether the index
    folder is (or holds) a path given, which is never read as articles."""
    where = ", ".join(map(str, paths))
    home = index_dir.resolve()
    inside = [str(p) for p in paths if p.resolve() == home or home in p.resolve().parents]
    notes = []
    if inside:
        notes.append(f"{', '.join(inside)} is in the index folder, which is never read as articles")
    if summary.skipped:
        more = len(summary.skipped) - 5
        shown = "; ".join(f"{s.where}: {s.reason}" for s in summary.skipped[:5])
        notes.append(f"skipped {shown}" + (f"; and {more} more" if more > 0 else ""))
    return ValueError(f"no readable articles found in {where}" + (f" ({'; '.join(notes)})" if notes else ""))


def _write_generation(index_dir: Path, encoder_dir: Path, fill: Fill, summary: BuildSummary, started: float,
                      ann_threshold: int, questions: Questions | None = None,
                      graph: Path | None = None) -> None:
    """Write a new generation beside the live one with `fill`, seal it, and make it live by replacing the
    manifest; on any error (or a kill) the live index stays as it was and the partial one is removed.
    `questions` gives the question vectors an approximate index is tuned on (default: pseudo-questions);
    `graph`, an int8 graph of the encoder to embed with instead of its own (kept in the generation)."""
    encoder = Encoder(encoder_dir, threads=usable_cores(), graph=graph, alone=True)
    generation = _new_generation()
    work = index_dir / f"{generation}.tmp"
    writer: GenerationWriter | None = None
    try:
        writer = GenerationWriter(work, encoder.dimension)
        lexical = fill(writer, encoder)
        writer.seal(lexical, encoder_dir, ann_threshold, (questions or _pseudo_questions)(writer, encoder),
                    graph)
    except BaseException as exc:
        if writer is not None:
            writer.abort()
        shutil.rmtree(work, ignore_errors=True)
        if isinstance(exc, sqlite3.Error | RuntimeError):  # SQLite's and FAISS's own errors when a write fails
            raise OSError(f"could not write the new index in {index_dir}: {_first_line(exc)} (the index in use "
                          "is unchanged)") from exc
        raise
    os.replace(work, index_dir / generation)
    summary.seconds = time.perf_counter() - started
    Manifest(FORMAT_VERSION, generation, encoder.config.model, encoder.dimension, dict(writer.counts),
             datetime.now(UTC).isoformat(timespec="seconds"), round(summary.seconds, 2), TERMS_VERSION).write(index_dir)
    summary.counts = dict(writer.counts)
    summary.vector_index = writer.vector_index
    _remove_old_generations(index_dir, keep={generation})


def _write_articles(paths: list[Path], writer: GenerationWriter, encoder: Encoder, summary: BuildSummary,
                    progress: bool | None) -> list[list[str]]:
    """Discover, read, embed and store every article under `paths`; returns their passages' BM25 terms."""
    found = _discover(paths, writer.directory.parent, summary)
    return _embed_articles(_readable(found, summary, progress, Texts()), writer, encoder)


def _discover(paths: list[Path], index_dir: Path, summary: BuildSummary) -> list[Found]:
    """The article files under `paths`, those named as copies (`COPY_NAME`) last."""
    found: list[Found] = []
    for item in discover(paths, ignore=(index_dir,)):
        (found if isinstance(item, Found) else summary.skipped).append(item)
    return sorted(found, key=lambda f: COPY_NAME.search(f.path.stem) is not None)


def _readable(found: list[Found], summary: BuildSummary, progress: bool | None,
              texts: Texts | None = None) -> Iterator[tuple[Article, str]]:
    """Each readable article of the files (with its file's path), first of its id and, given `texts`, of its
    text (`Texts.claim`); the rest is skipped."""
    seen: set[str] = set()
    with _progress(len(found), progress, "files") as advance:
        for item in found:
            where = str(item.path)
            for result in first_of_each_id(((r, where) for r in _read(item)), seen):
                if isinstance(result, Article) and texts is not None and (holder := texts.claim(result)):
                    seen.discard(result.article_id)  # its id is free for an article of its own
                    result = copy_skipped(where, result.article_id, holder)
                if isinstance(result, Skipped):
                    summary.skipped.append(result)
                else:
                    yield result, encodable(where)
            advance()


def _tracked(items: list, progress: bool | None, unit: str) -> Iterator:
    with _progress(len(items), progress, unit) as advance:
        for item in items:
            yield item
            advance()


def _embed_articles(articles: Iterable[tuple[Article, str]], writer: GenerationWriter,
                    encoder: Encoder) -> list[list[str]]:
    """Store articles and embed their passages in batches; returns the passages' BM25 terms, in order."""
    pending: list[_Pending] = []
    lexical: list[list[str]] = []
    for article, path in articles:
        pending.extend(_add_article(writer, article, path))
        if len(pending) >= BATCH_PASSAGES:
            lexical.extend(_embed(pending, writer, encoder))
            pending = []
    lexical.extend(_embed(pending, writer, encoder))
    return lexical


def _pseudo_questions(writer: GenerationWriter, encoder: Encoder) -> Callable[[int], np.ndarray]:
    """Question-like queries made of random stored passages, embedded by the index's own encoder."""

    def make(count: int) -> np.ndarray:
        rng = np.random.default_rng(0)
        return encoder.encode([pseudo_question(text, rng) for text in writer.sample_passage_texts(count)])

    return make


def passage_input(title: str, text: str, start: int, end: int) -> str:
    """What is embedded and BM25-indexed for a passage: its article's title as context, then its text."""
    return f"{title}. {text[start:end]}"


def _read(item: Found) -> Iterator[Article | Skipped]:
    try:
        size = item.path.stat().st_size
        limit = MAX_FEED_BYTES if item.path.suffix.lower() in (".json", ".jsonl") else MAX_FILE_BYTES
        if size > limit:
            reason = f"file too large ({size // 1_048_576} MiB > {limit >> 20} MiB)"
            yield Skipped(str(item.path), reason)
            return
        data = item.path.read_bytes()
    except OSError as exc:
        yield Skipped(str(item.path), f"cannot read file ({exc.strerror or exc})")
        return
    try:
        yield from read_file(item.path, item.article_id, data)
    except Exception as exc:  # a parser that fails on one file costs that file (and says why), not the build
        yield Skipped(str(item.path), f"could not be parsed ({type(exc).__name__}: {exc})")


def content_hash(article: Article) -> str:
    """A hash of everything stored for an article, to tell whether it changed."""
    parts = [article.article_id, article.title, article.byline, article.date, article.url, article.source,
             *article.paragraphs]
    return hashlib.sha256("\x1f".join(p or "" for p in parts).encode()).hexdigest()


def _add_article(writer: GenerationWriter, article: Article, path: str) -> list[_Pending]:
    paragraph_ids = writer.add_article(article, os.path.abspath(path), content_hash(article))
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
    """Embed passages (title as context) and store them, in order."""
    inputs, spans = [], []
    for p in pending:
        inputs.append(passage_input(p.title, p.text, p.passage.start, p.passage.end))
        shift = len(inputs[-1]) - p.passage.end
        spans.append([(s.start + shift, s.end + shift) for s in p.passage.sentences])
    vectors, sentence_vectors = encoder.encode_with_spans(inputs, spans)
    lexical = []
    for i, p in enumerate(pending):
        sentences = [(s.start, s.end) for s in p.passage.sentences]
        writer.add_passage(p.paragraph_id, p.passage.start, p.passage.end, sentences, vectors[i], sentence_vectors[i])
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


@contextmanager
def _index_folder(index_dir: Path) -> Iterator[None]:
    """`index_dir`, made if missing (with its missing parents), locked for the build (`_build_lock`); removed
    again, still locked, if the build fails before anything but its lock is in it: a build of nothing readable
    leaves no empty folder behind."""
    made = [folder for folder in (index_dir, *index_dir.parents) if not folder.exists()]
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OSError(f"cannot make the index folder {index_dir}: {exc.strerror or exc}") from exc
    with _build_lock(index_dir):
        try:
            yield
        except BaseException:
            if made and all(p.name == ".lock" for p in index_dir.iterdir()):
                (index_dir / ".lock").unlink(missing_ok=True)
                for folder in made:  # innermost first; one holding anything else stays
                    with contextlib.suppress(OSError):
                        folder.rmdir()
            raise


def _new_generation() -> str:
    """A new generation's folder name (`GENERATION_NAME`): its UTC time to the microsecond."""
    return f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S%f}"


def _first_line(exc: BaseException) -> str:
    """An error's message without FAISS's C++ trace: 'No space left on device', not the file and line."""
    text = str(exc).strip()
    if found := re.search(r"\(([^()]*)\)\s*$", text):  # FAISS: "Error in ... at file.cpp:288: ... (reason)"
        return found.group(1)
    return text.splitlines()[0] if text else type(exc).__name__


def _remove_leftovers(index_dir: Path) -> None:
    """Remove what a killed build left behind: its .tmp generation, and its manifest if it was killed
    between writing it and renaming it into place (called under the build lock: no writer is running)."""
    for path in index_dir.glob("gen-*.tmp"):
        if GENERATION_NAME.fullmatch(path.name.removesuffix(".tmp")):
            shutil.rmtree(path, ignore_errors=True)
    for path in index_dir.glob(f".{MANIFEST}.*.tmp"):
        path.unlink(missing_ok=True)


def _remove_old_generations(index_dir: Path, keep: set[str]) -> None:
    """Drop generations no manifest names; readers that still have one open keep their open files."""
    if not (index_dir / MANIFEST).exists():
        return
    for path in index_dir.glob("gen-*"):
        if path.is_dir() and path.name not in keep and GENERATION_NAME.fullmatch(path.name):
            shutil.rmtree(path, ignore_errors=True)


@contextmanager
def _progress(total: int, enabled: bool | None, unit: str) -> Iterator:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        yield lambda: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        Task,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        """Items a second, once there is a rate to show (none before the second item is done)."""

        def render(self, task: Task) -> Text:
            return Text(f"{task.speed:.0f}/s" if task.speed else "")

    columns = (TextColumn("indexing"), BarColumn(), MofNCompleteColumn(), TextColumn(unit), Rate(),
               TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(unit, total=total)
        yield lambda: bar.advance(task)
