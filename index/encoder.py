"""The embedding model at run time: a tokenizer and an ONNX graph, no torch.

One forward pass over a passage gives its vector (the model's pooling) and, by mean-pooling the tokens of
each sentence span, a vector per sentence, so sentences never need a second pass. Queries go through the
same graph, or its int8 copy (`index.graph_cache.int8_graph`), so question and passage vectors come from the
same model, in a few milliseconds and without importing torch. `index.export` produces the files from a
sentence-transformers model.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

T = TypeVar("T")
R = TypeVar("R")
ONNX_FILE = "encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "encoder.json"
ENCODER_FILES = (ONNX_FILE, TOKENIZER_FILE, CONFIG_FILE)
PASSAGE_INT8_FILE = "passages-int8.onnx"  # in a generation built with `int8`: the graph its passages went through


def passage_graph(generation: Path) -> Path | None:
    """The int8 graph an index generation's passages went through (`qa index build --int8`), None if fp32."""
    graph = generation / PASSAGE_INT8_FILE
    return graph if graph.exists() else None


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; a container's CPU quota is not seen)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class EncoderConfig:
    """What the exported encoder needs to know about its model."""

    model: str
    dimension: int
    pooling: str
    max_seq_length: int


class Encoder:
    """Text to unit vectors; `threads` bounds onnxruntime's intra-op threads (1 at query time). `graph` runs
    another ONNX file of the same model (e.g. `index.graph_cache.int8_graph`'s) instead of the directory's.

    `alone`: each text goes through the graph by itself, one single-threaded run per thread, `threads` side by
    side (what the build does). On 2 cores that embeds passages in about 0.7x the time of padded batches on 2
    intra-op threads, and a text's vector never depends on the texts it would be batched with: an int8 graph
    quantizes activations with one scale per run, and even fp32 sums differ in the last bits."""

    def __init__(self, directory: Path, threads: int = 1, graph: Path | None = None, alone: bool = False) -> None:
        self.config = EncoderConfig(**json.loads((directory / CONFIG_FILE).read_text()))
        self.tokenizer = Tokenizer.from_file(str(directory / TOKENIZER_FILE))
        self.tokenizer.enable_truncation(self.config.max_seq_length)
        self.tokenizer.enable_padding()
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="encode") if alone and threads > 1 else None
        self.alone = alone
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if alone else threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(graph or directory / ONNX_FILE), options,
                                            providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}

    @property
    def dimension(self) -> int:
        return self.config.dimension

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for `texts` (float32, one row each)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self.alone and len(texts) > 1:
            return np.vstack(self._each(lambda text: self._encode([text]), texts))
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        hidden, mask, _ = self._forward(texts)
        return _normalize(self._pool(hidden, mask))

    def encode_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Vectors for `texts` and, for each text, one vector per character span [start, end) of it.

        A span whose tokens were cut off by the model's length limit gets the vector of its text alone.
        """
        if self.alone and len(texts) > 1:
            pairs = list(zip(texts, spans, strict=True))
            each = self._each(lambda pair: self._with_spans([pair[0]], [pair[1]]), pairs)
            return np.vstack([vectors for vectors, _ in each]), [span_vectors[0] for _, span_vectors in each]
        return self._with_spans(texts, spans)

    def _with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
                    ) -> tuple[np.ndarray, list[np.ndarray]]:
        hidden, mask, offsets = self._forward(texts)
        passage_vectors = _normalize(self._pool(hidden, mask))
        span_vectors: list[np.ndarray] = []
        missing: list[tuple[int, int, str]] = []
        for row, text_spans in enumerate(spans):
            vectors = np.zeros((len(text_spans), self.dimension), dtype=np.float32)
            starts, ends = offsets[row][:, 0], offsets[row][:, 1]
            real = (mask[row] > 0) & (ends > starts)
            for k, (start, end) in enumerate(text_spans):
                inside = real & (starts >= start) & (ends <= end)
                if inside.any():
                    vectors[k] = hidden[row][inside].mean(axis=0)
                else:
                    missing.append((row, k, texts[row][start:end]))
            span_vectors.append(vectors)
        for row, k, text in missing:  # on this thread: an executor task waiting for its own tasks could hang
            span_vectors[row][k] = self._encode([text])[0]
        return passage_vectors, [_normalize(v) for v in span_vectors]

    def _each(self, encode: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """`encode` of each item, in order, on `threads` threads when there are several."""
        return list(self._executor.map(encode, items) if self._executor else map(encode, items))

    def _forward(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        encodings = self.tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        offsets = [np.array(e.offsets, dtype=np.int64).reshape(-1, 2) for e in encodings]
        return hidden, feed["attention_mask"], offsets

    def _pool(self, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
        if self.config.pooling == "cls":
            return hidden[:, 0]
        weights = mask[..., None].astype(np.float32)
        return (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


def _normalize(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)
