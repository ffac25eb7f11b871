"""Scale benchmark: a synthetic 1M-passage index through the real index code, on one machine.

    .venv/bin/python benchmarks/scale.py [--passages 1000000] [--queries 200] [--update] [--keep]

No model runs: passage, sentence and query vectors are generated (see `synthetic_vectors`), and so are short
passage texts for BM25. Everything else is the real code path: `index.build._write_generation` with the
`GenerationWriter` (SQLite rows, vector files, BM25 via bm25s, the FAISS index chosen by size, fsync,
manifest swap), then `IndexReader` + `qa.retrieve.search` in a fresh process. Measured:

- build: seconds (without generating the synthetic data), FAISS part (k-means, adding, tuning nprobe), BM25
  part, peak RSS of the build process, index size on disk by file;
- load: seconds and memory of a fresh process that opens the index (RSS, and USS: what is private to it; the
  rest are memory-mapped pages that every worker serving the same generation shares), and of a second such
  process opened beside it;
- queries: latency p50/p99 of the FAISS search, of BM25 (scores + top 40), and of `qa.retrieve.search`
  (both plus merging into candidate paragraphs), one thread, after a warm-up; an exact flat search for
  comparison; recall@10 of the FAISS index against exact search on the held-out queries;
- with `--update`: `qa index remove` of one article (a whole new generation, copying everything else).

Writes benchmarks/results/scale.json and benchmarks/results/scale.md (a fragment for BENCHMARKS.md). The
work directory (var/scale by default, several GB at 1M passages) is removed at the end unless `--keep`.

The synthetic vectors are matched to real MiniLM passage vectors of the BBC corpus on first-order
statistics (see `SYNTHETIC`): nearest-neighbour cosines between passages, question-to-passage cosines,
how many dimensions carry 50/80/90% of the variance, the norm of the mean vector. They are not real data:
recall on real questions is measured separately (see index/vectors.py: BBC, 250 questions).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"
DIM = 384
SENTENCES_PER_PASSAGE = 2
TOP_K = 40  # what qa.retrieve.search asks each search for
WARMUP = 20
CHILD_TIMEOUT = 1500

# Generator parameters, fitted by hand to BBC (11,432 MiniLM passages, 250 questions); measured with
# `python benchmarks/scale.py --describe` at that size:
#   BBC:       passage nearest-neighbour cos 0.80 (10th 0.55), question best cos 0.59 (10th 0.43),
#              50/80/90% of variance in 39/119/175 dims, mean vector norm 0.28
#   synthetic: 0.74 (0.51), 0.59 (0.42), 35/133/211 dims, 0.22
SYNTHETIC = {"spectrum": 0.4, "article_spread": 0.9, "passage_spread": 0.9, "question_spread": 1.5,
             "mean_norm": 0.35, "question_offset": 0.6, "passages_per_topic": 50, "passages_per_article": 5}


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


class SyntheticCorpus:
    """Topics -> articles -> passages as Gaussian clusters in an anisotropic space (a power-law variance
    spectrum), shifted by a common mean, normalized; questions near an article, shifted by a common
    'question' direction (questions are not passages). Deterministic for a seed; generated in chunks."""

    def __init__(self, passages: int, dim: int = DIM, seed: int = 0, **overrides: float) -> None:
        p = {**SYNTHETIC, **overrides}
        self.p, self.dim, self.count = p, dim, passages
        self.rng = np.random.default_rng(seed)
        scale = np.arange(1, dim + 1, dtype=np.float32) ** -p["spectrum"]
        self.scale = (scale * math.sqrt(dim) / np.linalg.norm(scale)).astype(np.float32)
        topics = max(1, round(passages / p["passages_per_topic"]))
        articles = max(1, round(passages / p["passages_per_article"]))
        topic_of = self.rng.integers(0, topics, articles)
        self.topic_of = topic_of
        self.articles = self._noise(topics)[topic_of] + p["article_spread"] * self._noise(articles)
        self.mean = _unit(self.rng.standard_normal((1, dim)))[0] * p["mean_norm"]
        self.offset = _unit(self.rng.standard_normal((1, dim)))[0] * p["question_offset"]
        # passages per article: a multinomial draw, so articles differ in length; some get none
        self.sizes = np.bincount(self.rng.integers(0, articles, passages), minlength=articles)

    def _noise(self, rows: int) -> np.ndarray:
        return self.rng.standard_normal((rows, self.dim), dtype=np.float32) * (self.scale / math.sqrt(self.dim))

    def passage_vectors(self, article_rows: np.ndarray) -> np.ndarray:
        """Vectors of the passages of the articles `article_rows` (each article's passages in a row)."""
        centers = np.repeat(self.articles[article_rows], self.sizes[article_rows], axis=0)
        return _unit(centers + self.p["passage_spread"] * self._noise(len(centers)) + self.mean)

    def questions(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """`count` question vectors, and the article each is about."""
        about = self.rng.choice(np.flatnonzero(self.sizes), count)
        vectors = self.articles[about] + self.p["question_spread"] * self._noise(count) + self.mean + self.offset
        return _unit(vectors), about


def synthetic_vectors(passages: int, questions: int, dim: int = DIM, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Passage vectors and question vectors of a synthetic corpus (in memory: for tests and small sizes)."""
    corpus = SyntheticCorpus(passages, dim, seed)
    return corpus.passage_vectors(np.arange(len(corpus.sizes))), corpus.questions(questions)[0]


class SyntheticTexts:
    """Short texts for BM25: each topic has its own words, mixed with common (Zipf-distributed) words."""

    WORDS = 40_000
    TOPIC_WORDS = 40

    def __init__(self, topics: int, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed + 1)
        syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]  # 70
        self.words = np.array([syllables[i % 70] + syllables[i // 70 % 70] + syllables[i // 4900 % 70] + "x"
                               for i in self.rng.permutation(70 ** 3)[:self.WORDS]])
        zipf = 1.0 / np.arange(1, self.WORDS + 1)
        self.common = zipf / zipf.sum()
        self.topic_words = self.rng.integers(0, self.WORDS, (topics, self.TOPIC_WORDS))

    def passages(self, topics: np.ndarray) -> list[str]:
        """One passage text (two sentences, 24 words) per entry of `topics`."""
        n = len(topics)
        common = self.rng.choice(self.WORDS, (n, 16), p=self.common)
        own = self.topic_words[topics[:, None], self.rng.integers(0, self.TOPIC_WORDS, (n, 8))]
        words = self.words[np.hstack([own[:, :4], common[:, :8], own[:, 4:], common[:, 8:]])]
        return [" ".join(w[:12]) + ". " + " ".join(w[12:]) + "." for w in words.tolist()]

    def title(self, topic: int) -> str:
        return " ".join(self.words[self.topic_words[topic, :4]]).capitalize()

    def question(self, topic: int) -> str:
        own = self.words[self.topic_words[topic, self.rng.integers(0, self.TOPIC_WORDS, 3)]]
        return " ".join([*own, self.words[self.rng.choice(self.WORDS, p=self.common)]])


# -- phases (each runs in its own process) --------------------------------------------------------------------

def phase_build(args: argparse.Namespace) -> dict:
    import bm25s

    import index.build as build
    from index.export import exported_encoder
    from index.lexical import terms
    from index.types import Article
    from qa.settings import Settings

    memory = PeakMemory()
    settings = Settings()
    encoder_dir = exported_encoder(settings.model, settings.cache_dir)
    index_dir = Path(args.workdir) / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    index_dir.mkdir(parents=True)
    timing = {"generate": 0.0, "terms": 0.0, "bm25": 0.0}

    real_index = bm25s.BM25.index

    def timed_index(self, *a, **kw):
        started = time.perf_counter()
        try:
            return real_index(self, *a, **kw)
        finally:
            timing["bm25"] += time.perf_counter() - started

    bm25s.BM25.index = timed_index
    corpus = SyntheticCorpus(args.passages, seed=args.seed)
    texts = SyntheticTexts(int(corpus.topic_of.max()) + 1, seed=args.seed)
    chunk = 5_000  # articles at a time

    def fill(writer, encoder) -> list[list[str]]:
        lexical: list[list[str]] = []
        for first in range(0, len(corpus.sizes), chunk):
            started = time.perf_counter()
            rows = np.arange(first, min(first + chunk, len(corpus.sizes)))
            rows = rows[corpus.sizes[rows] > 0]
            vectors = corpus.passage_vectors(rows)
            topics = np.repeat(corpus.topic_of[rows], corpus.sizes[rows])
            bodies = texts.passages(topics)
            sentence_noise = corpus.rng.standard_normal((len(vectors), SENTENCES_PER_PASSAGE, DIM),
                                                        dtype=np.float32) * 0.04
            sentences = (vectors[:, None, :] + sentence_noise).astype(np.float16)
            timing["generate"] += time.perf_counter() - started
            at = 0
            for row in rows.tolist():
                size = int(corpus.sizes[row])
                title = texts.title(int(corpus.topic_of[row]))
                paragraphs = tuple(bodies[at:at + size])
                ids = writer.add_article(Article(f"synthetic/{row}", title, paragraphs), "synthetic", "-")
                for k, (paragraph_id, body) in enumerate(zip(ids, paragraphs, strict=True)):
                    cut = body.index(". ") + 1
                    writer.add_passage(paragraph_id, 0, len(body), [(0, cut), (cut + 1, len(body))],
                                       vectors[at + k], sentences[at + k])
                    started = time.perf_counter()
                    lexical.append(terms(build.passage_input(title, body, 0, len(body))))
                    timing["terms"] += time.perf_counter() - started
                at += size
        return lexical

    summary = build.BuildSummary(index_dir=index_dir)
    started = time.perf_counter()
    # nprobe is tuned on synthetic questions (a draw separate from the held-out ones measured below), as a
    # real build tunes it on pseudo-questions made from its passages
    build._write_generation(index_dir, encoder_dir, fill, summary, started, args.ann_threshold,
                            questions=lambda writer, encoder: lambda count: corpus.questions(count)[0])
    total = time.perf_counter() - started
    questions, about = corpus.questions(args.queries + WARMUP)
    np.save(Path(args.workdir) / "questions.npy", questions)
    question_terms = [terms(texts.question(int(corpus.topic_of[a]))) for a in about]
    (Path(args.workdir) / "question_terms.json").write_text(json.dumps(question_terms))
    info = summary.vector_index
    generation = index_dir / json.loads((index_dir / "manifest.json").read_text())["generation"]
    return {
        "counts": summary.counts,
        "seconds": round(total - timing["generate"], 1),
        "generate_seconds": round(timing["generate"], 1),
        "faiss_seconds": info.build_seconds,
        "bm25_index_seconds": round(timing["bm25"], 1),
        "bm25_terms_seconds": round(timing["terms"], 1),
        **memory.result(),
        "vector_index": info.__dict__,
        "size_mb": _sizes(generation),
    }


class PeakMemory:
    """Samples this process' resident memory (anonymous and file-backed) every 0.2 s; keeps the peaks.
    File-backed pages are read-only maps of index files: they count in RSS but are page cache, shared and
    reclaimable; anonymous memory is what the process really holds."""

    def __init__(self) -> None:
        import threading

        self.peak = {"RssAnon": 0, "RssFile": 0, "VmRSS": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in self.peak:
                self.peak[key] = max(self.peak[key], int(value.split()[0]))

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self._sample()

    def result(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join()
        self._sample()
        return {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "peak_anon_mb": round(self.peak["RssAnon"] / 1024), "peak_file_mb": round(self.peak["RssFile"] / 1024)}


def _sizes(generation: Path) -> dict[str, float]:
    parts: dict[str, float] = {}
    for path in generation.rglob("*"):
        if path.is_file():
            key = path.relative_to(generation).parts[0]
            parts[key] = parts.get(key, 0) + path.stat().st_size / 2**20
    parts = {k: round(v, 1) for k, v in sorted(parts.items(), key=lambda kv: -kv[1])}
    parts["total"] = round(sum(parts.values()), 1)
    return parts


def _memory() -> dict[str, float]:
    import psutil

    info = psutil.Process().memory_full_info()
    return {"rss_mb": round(info.rss / 2**20), "uss_mb": round(info.uss / 2**20), "pss_mb": round(info.pss / 2**20)}


def _stats(seconds: list[float]) -> dict[str, float]:
    ms = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "mean_ms": round(float(ms.mean()), 2), "n": len(ms)}


def phase_query(args: argparse.Namespace) -> dict:
    import faiss

    from index.store import IndexReader
    from index.vectors import exact_top_k, recall_at_k
    from qa.retrieve import Lexicon, search

    faiss.omp_set_num_threads(1)  # as qa.answerer.LoadedIndex does
    index_dir = Path(args.workdir) / "index"
    started = time.perf_counter()
    reader = IndexReader(index_dir)
    lexicon = Lexicon(reader)
    load_seconds = time.perf_counter() - started
    loaded = _memory()
    questions = np.load(Path(args.workdir) / "questions.npy")
    question_terms = json.loads((Path(args.workdir) / "question_terms.json").read_text())
    if args.second:  # a second worker: open the index beside the first, answer the warm-up questions
        for vector, query_terms in zip(questions[:WARMUP], question_terms[:WARMUP], strict=True):
            search(reader, vector, lexicon.scores(query_terms))
        return {"load_seconds": round(load_seconds, 2), "loaded": loaded, "after_queries": _memory()}

    for vector, query_terms in zip(questions[:WARMUP], question_terms[:WARMUP], strict=True):
        search(reader, vector, lexicon.scores(query_terms))
    second = subprocess.run([sys.executable, __file__, "--phase", "query", "--second", "--workdir", args.workdir],
                            capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=True)
    times: dict[str, list[float]] = {"faiss": [], "bm25": [], "retrieve": []}
    found = []
    total = reader.faiss.ntotal
    for i, (vector, query_terms) in enumerate(zip(questions, question_terms, strict=True)):
        q = vector.reshape(1, -1)
        t0 = time.perf_counter()
        _, ids = reader.faiss.search(q, TOP_K)
        t1 = time.perf_counter()
        scores = lexicon.scores(query_terms)
        top = np.argpartition(-scores, TOP_K - 1)[:TOP_K]
        _ = top[np.argsort(-scores[top], kind="stable")]
        t2 = time.perf_counter()
        search(reader, vector, lexicon.scores(query_terms))
        t3 = time.perf_counter()
        if i >= WARMUP:
            times["faiss"].append(t1 - t0)
            times["bm25"].append(t2 - t1)
            times["retrieve"].append(t3 - t2)
            found.append(ids[0, :10])
    after_queries = _memory()
    held_out = questions[WARMUP:]
    started = time.perf_counter()
    truth = exact_top_k(reader.passage_vectors, held_out, 10)
    exact_batch_seconds = time.perf_counter() - started
    recall = recall_at_k(np.array(found), truth)

    curve = []  # recall and latency at other nprobe values: the trade-off the tuning picked from
    if isinstance(reader.faiss, faiss.IndexIVF):
        tuned = reader.faiss.nprobe
        for nprobe in sorted({max(1, tuned // 16), max(1, tuned // 4), max(1, tuned // 2), tuned,
                              min(reader.faiss.nlist, tuned * 2)}):
            reader.faiss.nprobe = nprobe
            spent, ids = [], []
            for vector in held_out:
                t0 = time.perf_counter()
                ids.append(reader.faiss.search(vector.reshape(1, -1), 10)[1][0])
                spent.append(time.perf_counter() - t0)
            curve.append({"nprobe": nprobe, "recall_at_10": round(recall_at_k(np.array(ids), truth), 4),
                          **_stats(spent)})
        reader.faiss.nprobe = tuned

    flat = faiss.IndexFlatIP(reader.manifest.dimension)  # exact search, for comparison (1.5 GB at 1M)
    for start in range(0, total, 65_536):
        flat.add(np.ascontiguousarray(reader.passage_vectors[start:start + 65_536]))
    flat_times = []
    for vector in held_out[:50]:
        t0 = time.perf_counter()
        flat.search(vector.reshape(1, -1), TOP_K)
        flat_times.append(time.perf_counter() - t0)
    return {
        "load_seconds": round(load_seconds, 2),
        "loaded": loaded,
        "after_queries": after_queries,
        "second_process": json.loads(second.stdout.strip().splitlines()[-1]),
        "latency": {name: _stats(values) for name, values in times.items()},
        "exact_flat_latency": _stats(flat_times),
        "recall_at_10": round(recall, 4),
        "nprobe_curve": curve,
        "exact_top10_batch_seconds": round(exact_batch_seconds, 1),
    }


def phase_update(args: argparse.Namespace) -> dict:
    from index.build import remove_from_index

    memory = PeakMemory()
    index_dir = Path(args.workdir) / "index"
    started = time.perf_counter()
    summary = remove_from_index(["synthetic/0"], index_dir, ann_threshold=args.ann_threshold)
    return {"remove_one_seconds": round(time.perf_counter() - started, 1), "copied_passages": summary.copied,
            **memory.result(), "vector_index": summary.vector_index.__dict__}


def phase_describe(args: argparse.Namespace) -> dict:
    """The statistics SYNTHETIC was fitted on, for the synthetic corpus at `--passages`."""
    vectors, questions = synthetic_vectors(args.passages, args.queries, seed=args.seed)
    sample = vectors[: min(1000, len(vectors))]
    neighbours = np.sort(sample @ vectors.T, axis=1)[:, ::-1]
    asked = np.sort(questions @ vectors.T, axis=1)[:, ::-1]
    centred = vectors[:5000] - vectors.mean(axis=0)
    variance = np.linalg.svd(centred, compute_uv=False) ** 2
    cumulative = np.cumsum(variance / variance.sum())
    return {"passage_nn_cos": [round(float(neighbours[:, 1].mean()), 3), round(float(neighbours[:, 10].mean()), 3)],
            "question_cos": [round(float(asked[:, 0].mean()), 3), round(float(asked[:, 9].mean()), 3)],
            "dims_for_50_80_90_percent": [int(np.searchsorted(cumulative, t)) + 1 for t in (0.5, 0.8, 0.9)],
            "mean_norm": round(float(np.linalg.norm(vectors.mean(axis=0))), 3)}


def _child(phase: str, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--phase", phase, "--workdir", args.workdir, "--passages",
               str(args.passages), "--queries", str(args.queries), "--seed", str(args.seed),
               "--ann-threshold", str(args.ann_threshold)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=CHILD_TIMEOUT, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"phase {phase} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def render(result: dict) -> str:
    b, q, v = result["build"], result["query"], result["build"]["vector_index"]
    second = q["second_process"]["after_queries"]
    lat = q["latency"]
    n = b["counts"]["passages"]
    lines = [
        f"### Scale: {n:,} synthetic passages on one machine",
        "",
        f"`benchmarks/scale.py` ({result['finished_at'][:10]}, {result['machine']['cpus']} CPUs, load average "
        f"{result['machine']['load_average_at_start']:.1f} at the start: other work shared the machine; "
        f"{result['total_seconds'] / 60:.0f} min in all): generated vectors "
        "(matched to BBC MiniLM vectors on nearest-neighbour and question cosines and variance spectrum) and "
        "generated texts, through the real generation writer, `IndexReader` and `qa.retrieve.search`.",
        "",
        "| measure | value |",
        "| --- | --- |",
        f"| FAISS index | {v['kind']}, nlist {v['nlist']}, nprobe {v['nprobe']} (tuned at build on 200 "
        f"other questions: recall@10 {v['recall_at_10']:.3f}) |",
        f"| recall@10 vs exact, {lat['faiss']['n']} held-out questions | **{q['recall_at_10']:.3f}** |",
        f"| build (without generating data) | {b['seconds']:.0f} s: FAISS {b['faiss_seconds']:.0f} s (k-means "
        f"{v['train_seconds']:.0f}, adding {v['add_seconds']:.0f}, tuning nprobe {v['tune_seconds']:.0f}), BM25 "
        f"{b['bm25_index_seconds']:.0f} s + terms {b['bm25_terms_seconds']:.0f} s, rest SQLite, files, fsync |",
        f"| build peak memory | RSS {b['peak_rss_mb']:,} MB, of which anonymous {b['peak_anon_mb']:,} MB (the rest: "
        "index files mapped read-only: page cache) |",
        f"| index on disk | {b['size_mb']['total']:,.0f} MB ("
        + ", ".join(f"{k} {val:,.0f}" for k, val in b["size_mb"].items() if k != "total" and val >= 1) + ") |",
        f"| open the index | {q['load_seconds']:.1f} s; RSS {q['loaded']['rss_mb']:,} MB, private (USS) "
        f"{q['loaded']['uss_mb']:,} MB |",
        f"| after {lat['faiss']['n'] + WARMUP} queries | RSS {q['after_queries']['rss_mb']:,} MB (mostly the "
        "memory-mapped vectors the searches touched) |",
        f"| a second process on the same index, beside the first, after {WARMUP} queries | RSS "
        f"{second['rss_mb']:,} MB, of which private (USS) {second['uss_mb']:,} MB: the mapped vectors are shared |",
        f"| FAISS search, top {TOP_K}, 1 thread | p50 {lat['faiss']['p50_ms']:.2f} ms, "
        f"p99 {lat['faiss']['p99_ms']:.2f} ms |",
        f"| exact (flat) search for comparison | p50 {q['exact_flat_latency']['p50_ms']:.1f} ms, "
        f"p99 {q['exact_flat_latency']['p99_ms']:.1f} ms |",
        f"| BM25 scores + top {TOP_K} | p50 {lat['bm25']['p50_ms']:.2f} ms, p99 {lat['bm25']['p99_ms']:.2f} ms |",
        f"| `qa.retrieve.search` (FAISS + BM25 + merge) | p50 {lat['retrieve']['p50_ms']:.2f} ms, "
        f"p99 {lat['retrieve']['p99_ms']:.2f} ms |",
    ]
    if q.get("nprobe_curve"):
        lines.append("| recall@10 and p50 by nprobe | " + ", ".join(
            f"{c['nprobe']}: {c['recall_at_10']:.3f} / {c['p50_ms']:.1f} ms" for c in q["nprobe_curve"]) + " |")
    if "update" in result:
        u = result["update"]
        uv = u["vector_index"]
        cells = "cells and nprobe kept" if uv.get("reused_cells") else "cells retrained"
        lines.append(f"| `qa index remove` of one article | {u['remove_one_seconds']:.0f} s (a new generation: "
                     f"{u['copied_passages']:,} passages copied, FAISS {uv['build_seconds']:.0f} s with {cells}, "
                     f"BM25 re-indexed); peak RSS {u['peak_rss_mb']:,} MB, anonymous {u['peak_anon_mb']:,} MB |")
    lines += ["", "Not measured here: the question encoder (same at any size) and the second stage, which reads "
              "a few hundred passage and sentence vectors per question whatever the corpus size."]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--passages", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ann-threshold", type=int, default=None, help="default: index.vectors.ANN_THRESHOLD")
    ap.add_argument("--workdir", default=str(REPO / "var" / "scale"))
    ap.add_argument("--update", action="store_true", help="also time `qa index remove` of one article")
    ap.add_argument("--keep", action="store_true", help="keep the work directory (the index)")
    ap.add_argument("--describe", action="store_true", help="print the synthetic data's statistics and exit")
    ap.add_argument("--phase", choices=("build", "query", "update"), help=argparse.SUPPRESS)
    ap.add_argument("--second", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.ann_threshold is None:
        from index.vectors import ANN_THRESHOLD

        args.ann_threshold = ANN_THRESHOLD
    if args.describe:
        print(json.dumps(phase_describe(args)))
        return 0
    if args.phase:
        phase = {"build": phase_build, "query": phase_query, "update": phase_update}[args.phase]
        print(json.dumps(phase(args)))
        return 0

    started = time.perf_counter()
    result: dict = {"passages": args.passages, "queries": args.queries, "seed": args.seed,
                    "ann_threshold": args.ann_threshold, "synthetic": SYNTHETIC,
                    "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                "platform": platform.platform(), "load_average_at_start": os.getloadavg()[0]}}
    try:
        print(f"building {args.passages:,} synthetic passages in {args.workdir} ...", file=sys.stderr)
        result["build"] = _child("build", args)
        print(f"  {result['build']['seconds']} s; querying ...", file=sys.stderr)
        result["query"] = _child("query", args)
        if args.update:
            print("  removing one article ...", file=sys.stderr)
            result["update"] = _child("update", args)
    finally:
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    result["total_seconds"] = round(time.perf_counter() - started, 1)
    result["machine"]["load_average_at_end"] = os.getloadavg()[0]
    result["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "scale.md").write_text(render(result))
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
