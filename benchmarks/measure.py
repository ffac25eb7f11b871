"""Measurements that run in a fresh child process of benchmarks/run.py, one per call, under a timeout.

    python benchmarks/measure.py NAME ARGS.json RESULT.json

A fresh process per measurement keeps torch (the floors) out of the query-path figures and gives every
figure the same start: nothing imported, nothing cached in memory but the OS page cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

WARMUP = 5


def latency_stats(ms: list[float]) -> dict:
    """p50/p95/p99/mean/max of a list of milliseconds (nearest-rank percentiles)."""
    if not ms:
        return {"n": 0}
    ordered = sorted(ms)

    def pct(p: float) -> float:
        k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
        return round(ordered[k], 2)

    return {"n": len(ms), "p50": pct(50), "p95": pct(95), "p99": pct(99),
            "mean": round(statistics.fmean(ms), 2), "max": round(ordered[-1], 2)}


def _timed(fn, items: list) -> list[float]:
    for item in items[:WARMUP]:
        fn(item)
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def onnx_question(args: dict) -> dict:
    """Floor (a), ours: the index's ONNX encoder (or, with `int8`, the int8 copy in QA_CACHE_DIR that encodes
    questions at query time), 1 thread, one question per call."""
    from index.encoder import Encoder
    from index.graph_cache import int8_graph
    from qa.settings import Settings

    directory = Path(args["encoder_dir"])
    graph = int8_graph(directory, Settings().cache_dir) if args.get("int8") else None
    encoder = Encoder(directory, threads=1, graph=graph)
    return latency_stats(_timed(lambda q: encoder.encode([q]), args["questions"]))


def _sentence_transformer(threads: int):
    started = time.perf_counter()
    import torch
    from sentence_transformers import SentenceTransformer

    from index.export import DEFAULT_MODEL, resolve_model

    imported = time.perf_counter() - started
    torch.set_num_threads(threads)
    model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu")
    loaded = time.perf_counter() - started
    return model, {"import_seconds": round(imported, 2), "import_and_load_seconds": round(loaded, 2),
                   "torch": torch.__version__, "threads": torch.get_num_threads()}


def torch_question(args: dict) -> dict:
    """Floor (a), the common baseline: plain sentence-transformers, torch fp32, 1 thread."""
    model, info = _sentence_transformer(1)
    times = _timed(lambda q: model.encode(q, show_progress_bar=False), args["questions"])
    return latency_stats(times) | info


class _NoWriter:
    """Stands in for the index writer so the build's own reading and chunking can run without storing."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.counts = {"articles": 0, "paragraphs": 0, "sentences": 0, "passages": 0}
        self._next = 0

    def add_article(self, article, path: str, content_hash: str) -> list[int]:
        ids = list(range(self._next, self._next + len(article.paragraphs)))
        self._next += len(ids)
        self.counts["articles"] += 1
        self.counts["paragraphs"] += len(ids)
        return ids

    def add_passage(self, paragraph_id, start, end, sentences, passage_vector, sentence_vectors) -> None:
        self.counts["passages"] += 1
        self.counts["sentences"] += len(sentences)


class _Recorder:
    """Stands in for the encoder: keeps the exact texts the build would embed, returns zero vectors."""

    dimension = 384

    def __init__(self) -> None:
        self.texts: list[str] = []

    def encode_with_spans(self, texts, spans):
        import numpy as np

        self.texts.extend(texts)
        return (np.zeros((len(texts), self.dimension), dtype=np.float32),
                [np.zeros((len(s), self.dimension), dtype=np.float32) for s in spans])


def build_inputs(paths: list[Path]) -> tuple[list[str], dict]:
    """The title-prefixed passage texts `qa index build` embeds for `paths`, from the build's own code
    (discovery, readers, duplicate ids, sentence splitting, passage windows, title prefix)."""
    import tempfile

    from index import build

    recorder = _Recorder()
    with tempfile.TemporaryDirectory(prefix="bench-inputs-") as tmp:
        writer = _NoWriter(Path(tmp) / "gen.tmp")
        summary = build.BuildSummary()
        try:
            build._write_articles(paths, writer, recorder, summary, False)
        except (AttributeError, TypeError) as exc:
            raise SystemExit(f"index.build._write_articles changed ({exc}); update benchmarks/measure.py") from exc
    return recorder.texts, dict(writer.counts)


def torch_passages(args: dict) -> dict:
    """Floor (b): one plain sentence-transformers fp32 encode() pass (batch 32, all cores) over the
    passages the build embeds (or a seeded sample of them, extrapolated to all)."""
    started = time.perf_counter()
    texts, counts = build_inputs([Path(p) for p in args["paths"]])
    chunk_seconds = time.perf_counter() - started
    sample = args.get("sample")
    chosen = random.Random(650).sample(texts, sample) if sample and sample < len(texts) else texts
    model, info = _sentence_transformer(os.cpu_count() or 1)
    model.encode(chosen[:32], batch_size=32, show_progress_bar=False)
    started = time.perf_counter()
    model.encode(chosen, batch_size=32, show_progress_bar=False)
    seconds = time.perf_counter() - started
    per_second = len(chosen) / seconds
    return info | {
        "passages_total": len(texts), "passages_encoded": len(chosen), "sampled": len(chosen) < len(texts),
        "seconds": round(seconds, 2), "passages_per_second": round(per_second, 2),
        "seconds_all_passages": round(len(texts) / per_second, 2),
        "mean_chars": round(statistics.fmean(len(t) for t in chosen), 1) if chosen else 0,
        "counts": counts, "chunking_seconds": round(chunk_seconds, 2),
    }


def answerer_questions(args: dict) -> dict:
    """In-process `Answerer.ask` latency, as the API calls it, on a loaded index (reading ahead unless
    `args["read_ahead"]` is false), the process CPU time per question, and a digest of the answers; and, apart,
    the reader's share: `Reader.read` on the answers' windows."""
    from qa.answerer import Answerer
    from qa.settings import Settings

    started = time.perf_counter()
    settings = Settings(index_dir=Path(args["index_dir"]), read_ahead=args.get("read_ahead", True))
    answerer = Answerer.load(settings)
    load_seconds = time.perf_counter() - started
    answers, windows = [], []

    def ask(q: str) -> None:
        answer = answerer.ask(q, top_k=5)
        answers.append([answer.found, answer.answer, answer.short_answer, answer.confidence])
        if answer.answer:
            windows.append((q, answer.answer))

    cpu_started = time.process_time()
    times = _timed(ask, args["questions"])
    cpu_ms = (time.process_time() - cpu_started) * 1000 / len(answers)
    import psutil

    rss = psutil.Process().memory_info().rss
    found = [a[0] for a in answers[WARMUP:]]
    reader = latency_stats(_timed(lambda w: answerer.reader.read(*w), windows)) if len(windows) > WARMUP else {}
    digest = hashlib.sha256(json.dumps(answers[WARMUP:]).encode()).hexdigest()[:16]
    return latency_stats(times) | {"load_seconds": round(load_seconds, 2), "rss_mb": round(rss / 2**20, 1),
                                   "found_share": round(sum(found) / len(found), 3) if found else 0.0,
                                   "reader_ms": reader, "cpu_ms": round(cpu_ms, 2), "answers_digest": digest}


WORKERS = {f.__name__: f for f in (onnx_question, torch_question, torch_passages, answerer_questions)}


def main() -> None:
    name, args_file, out_file = sys.argv[1:4]
    result = WORKERS[name](json.loads(Path(args_file).read_text()))
    Path(out_file).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
