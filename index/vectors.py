"""Passage vectors -> a FAISS index: exact (flat) for small corpora, IVF-Flat past a size threshold.

Below `ANN_THRESHOLD` passages the index is `IndexFlatIP` (exact; a query scans every vector, about 1 ms per
10k passages on one core). From the threshold on it is `IndexIVFFlat`: `nlist` = 2·sqrt(n) k-means cells
(trained on a sample), a query scans the `nprobe` nearest cells. `nprobe` is tuned when the index is built:
the smallest (to within an eighth) whose recall@10 against exact search reaches `TUNE_RECALL` on
`TUNE_QUERIES` questions. The build makes those from the corpus itself (`pseudo_question`: a few
consecutive words of a random passage as "What about ...?", embedded by the index's encoder): they behave
like real questions, a little harder. On the BBC corpus (11k MiniLM passages, nlist 214), recall@10 by
nprobe 8/16/32/64: pseudo-questions 0.75/0.86/0.93/0.97, 250 real questions 0.82/0.91/0.95/0.98;
perturbed passages (a stored vector plus noise), by contrast, looked easy at any nprobe and said little
about real questions.
The chosen parameters and the measured recall go to `vectors.json` beside the index.

Both kinds load memory-mapped (`IO_FLAG_MMAP_IFC`: the vectors stay in the page cache, shared by every
process that opens the same file). IVF keeps its vectors inside inverted lists, so the passage vectors the
second stage reads by row are kept beside it in `passages.f32` (raw float32, memory-mapped).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import faiss
import numpy as np

ANN_THRESHOLD = 200_000
NLIST_PER_SQRT_N = 2.0
MIN_POINTS_PER_LIST = 39  # faiss' own floor for k-means
TRAIN_POINTS_PER_LIST = 48
TRAIN_ITERATIONS = 10
TUNE_RECALL = 0.97  # on pseudo-questions, which are harder than real ones: real recall@10 >= 0.95
TUNE_QUERIES = 200
K = 10
CHUNK = 65_536

INFO_FILE = "vectors.json"


@dataclass(frozen=True)
class VectorIndexInfo:
    """What kind of FAISS index a generation holds, and for IVF its parameters and measured recall."""

    kind: str  # "flat" or "ivf_flat"
    count: int
    nlist: int = 0
    nprobe: int = 0
    recall_at_10: float = 1.0
    build_seconds: float = 0.0
    train_seconds: float = 0.0
    add_seconds: float = 0.0
    tune_seconds: float = 0.0
    reused_cells: bool = False

    def write(self, directory: Path) -> None:
        (directory / INFO_FILE).write_text(json.dumps(asdict(self), indent=2))

    @classmethod
    def read(cls, directory: Path) -> VectorIndexInfo | None:
        try:
            return cls(**json.loads((directory / INFO_FILE).read_text()))
        except FileNotFoundError:
            return None

    def describe(self) -> str:
        if self.kind == "flat":
            return "exact (flat)"
        return (f"IVF-Flat, nlist {self.nlist}, nprobe {self.nprobe}, recall@10 {self.recall_at_10:.3f}"
                " on the questions it was tuned on")


def nlist_for(count: int) -> int:
    """k-means cells for `count` vectors: 2·sqrt(n), with at least `MIN_POINTS_PER_LIST` vectors a cell (but
    two cells at least: a tiny corpus gets an approximate index only when a test forces one)."""
    return max(2, min(round(NLIST_PER_SQRT_N * math.sqrt(count)), count // MIN_POINTS_PER_LIST))


@dataclass(frozen=True)
class Cells:
    """The k-means cells (centroids) of an IVF index and its nprobe, to start the next generation from."""

    centroids: np.ndarray
    nprobe: int

    @classmethod
    def of(cls, index: faiss.Index) -> Cells | None:
        if not isinstance(index, faiss.IndexIVF):
            return None
        return cls(index.quantizer.reconstruct_n(0, index.nlist), index.nprobe)


def build_vector_index(vectors: np.ndarray, ann_threshold: int, questions: Callable[[int], np.ndarray],
                       seed: int = 0, previous: Cells | None = None) -> tuple[faiss.Index, VectorIndexInfo]:
    """A FAISS inner-product index over `vectors` (n x d float32, may be a memmap): exact below
    `ann_threshold` rows, else IVF-Flat with nprobe tuned on `questions(count)` (called only then).

    An update passes the `previous` generation's cells: while their number is still within a tenth of
    what this size calls for, they are kept (no k-means), and so is nprobe while it still reaches the
    recall target on the new vectors (else it is tuned upwards from there)."""
    started = time.perf_counter()
    count, dimension = vectors.shape
    if count < max(ann_threshold, 4):
        index = faiss.IndexFlatIP(dimension)
        _add(index, vectors)
        return index, VectorIndexInfo("flat", count, build_seconds=round(time.perf_counter() - started, 2))
    nlist = nlist_for(count)
    reuse = previous is not None and abs(len(previous.centroids) - nlist) <= nlist / 10
    if reuse:
        quantizer = faiss.IndexFlatIP(dimension)
        quantizer.add(np.ascontiguousarray(previous.centroids, dtype=np.float32))
        index = faiss.IndexIVFFlat(quantizer, dimension, quantizer.ntotal, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = TRAIN_ITERATIONS
        index.cp.seed = seed
        sample = min(count, TRAIN_POINTS_PER_LIST * nlist)
        rows = np.sort(np.random.default_rng(seed).choice(count, sample, replace=False))
        index.train(np.ascontiguousarray(vectors[rows], dtype=np.float32))
    trained = time.perf_counter()
    _add(index, vectors)
    added = time.perf_counter()
    queries = np.ascontiguousarray(questions(TUNE_QUERIES), dtype=np.float32)
    truth = exact_top_k(vectors, queries, min(K, count))
    nprobe, recall = tune_nprobe(index, queries, truth, TUNE_RECALL,
                                 keep=min(previous.nprobe, index.nlist) if reuse else None)
    index.nprobe = nprobe
    done = time.perf_counter()
    info = VectorIndexInfo("ivf_flat", count, index.nlist, nprobe, round(recall, 4), round(done - started, 2),
                           train_seconds=round(trained - started, 2), add_seconds=round(added - trained, 2),
                           tune_seconds=round(done - added, 2), reused_cells=reuse)
    return index, info


def _add(index: faiss.Index, vectors: np.ndarray) -> None:
    for start in range(0, len(vectors), CHUNK):
        index.add(np.ascontiguousarray(vectors[start:start + CHUNK], dtype=np.float32))


_WORD = re.compile(r"\w+(?:['’.]\w+)*")


def pseudo_question(text: str, rng: np.random.Generator) -> str:
    """A question-like query from a passage: 5 to 9 consecutive words of it, as "What about ...?"."""
    words = _WORD.findall(text)
    size = int(rng.integers(5, 10))
    start = int(rng.integers(0, max(1, len(words) - size + 1)))
    return "What about " + " ".join(words[start:start + size]) + "?"


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)).astype(np.float32)


def exact_top_k(vectors: np.ndarray, queries: np.ndarray, k: int = K) -> np.ndarray:
    """Row ids of the `k` best inner products of each query, best first (a scan in chunks, so `vectors`
    may be a memmap larger than memory)."""
    best_scores = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), CHUNK):
        scores = queries @ np.asarray(vectors[start:start + CHUNK], dtype=np.float32).T
        ids = np.broadcast_to(np.arange(start, start + scores.shape[1]), scores.shape)
        scores = np.hstack([best_scores, scores])
        ids = np.hstack([best_ids, ids])
        keep = np.argpartition(-scores, min(k, scores.shape[1]) - 1, axis=1)[:, :k]
        best_scores = np.take_along_axis(scores, keep, axis=1)
        best_ids = np.take_along_axis(ids, keep, axis=1)
    order = np.argsort(-best_scores, axis=1, kind="stable")
    return np.take_along_axis(best_ids, order, axis=1)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean share of each query's exact top k that the approximate top k holds."""
    k = truth.shape[1]
    return float(np.mean([len(set(f[:k].tolist()) & set(t.tolist())) / k for f, t in zip(found, truth,
                                                                                          strict=True)]))


def tune_nprobe(index: faiss.IndexIVF, queries: np.ndarray, truth: np.ndarray, target: float,
                keep: int | None = None) -> tuple[int, float]:
    """The smallest nprobe (to within an eighth) whose recall@k on `queries` reaches `target`, and that
    recall: doubling from 1 up to every cell, then bisecting between the last miss and the first hit.
    With `keep`, that nprobe is kept if it reaches the target, else the doubling starts from it."""

    def recall_at(nprobe: int) -> float:
        index.nprobe = nprobe
        return recall_at_k(index.search(queries, truth.shape[1])[1], truth)

    miss, hit = (keep, keep) if keep else (0, 1)
    recall = recall_at(hit)
    if keep and recall >= target:
        return keep, recall
    while recall < target and hit < index.nlist:
        miss, hit = hit, min(hit * 2, index.nlist)
        recall = recall_at(hit)
    if recall < target:  # every cell: exact, up to ties
        return hit, recall
    while hit - miss > max(1, hit // 8):
        middle = (miss + hit) // 2
        if (found := recall_at(middle)) >= target:
            hit, recall = middle, found
        else:
            miss = middle
    index.nprobe = hit
    return hit, recall
