"""Learned reader: the short answer span in an answer window, and whether the window answers at all.

The model is the bundled MiniLM encoder fine-tuned for extractive QA with low-rank (LoRA) updates to its
attention and feed-forward matrices plus new biases and layer norms, and a small head: start/end logits
per token, and an answerability logit from the [CLS] state and the mean state of the window's tokens.
`answerable` is a logistic over that logit and the null-score difference (best span minus [CLS]); the shipped
weights were trained without the [CLS] no-answer target (`benchmarks/train_reader.py --null` adds it), so
their fusion is the identity on the head's logit, and a weights file without a fusion gets that identity.
`qa/reader.npz` holds only what training changed (no pickle); at first use those deltas are merged into a
copy of the exported encoder graph (`index.export`), which is cached beside it, so no torch at query time.
Input is the tokenizer's pair encoding "[CLS] question [SEP] window [SEP]", at most `MAX_TOKENS` tokens.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from index.encoder import ONNX_FILE, TOKENIZER_FILE
from index.graph_cache import graph_identity, kept, quantized, written

WEIGHTS_FILE = Path(__file__).with_name("reader.npz")
READER_ONNX = "reader.onnx"
READER_INT8_ONNX = "reader-int8.onnx"
MAX_TOKENS = 128
MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 30


@dataclass(frozen=True)
class ReaderResult:
    """`window[start:end]` is the best short span; `probability` its chance to be right, `answerable` the
    chance that the window answers the question at all (both 0..1); `evidence` what `answerable` combines: the
    answerability head's logit and the null-score difference (the best span's start + end logit minus the
    [CLS] token's, which training with `--null` makes the no-answer span)."""

    start: int
    end: int
    probability: float
    answerable: float
    evidence: tuple[float, float]


class Reader:
    """A question and a short answer window in, the best span and an answerability score out."""

    def __init__(self, session: ort.InferenceSession, tokenizer: Tokenizer, head: dict[str, np.ndarray]) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.head = head
        self._inputs = {i.name for i in session.get_inputs()}
        self._question_tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self._question_tokenizer.no_truncation()

    @classmethod
    def load(cls, encoder_dir: Path, cache_dir: Path, weights: Path = WEIGHTS_FILE,
             threads: int = 1, int8: bool = True) -> Reader:
        """The reader on the exported encoder files in `encoder_dir` (an index generation or `index.export`'s
        output); the merged graph (int8 weights by default: half the time) is written once to `cache_dir`."""
        with np.load(weights, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
        graph = _cached_graph(encoder_dir, cache_dir, arrays, int8)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        session = ort.InferenceSession(graph if isinstance(graph, bytes) else str(graph), options,
                                       providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(encoder_dir / TOKENIZER_FILE))
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
        head = {"fuse_w": np.array([1.0, 0.0], np.float32), "fuse_b": np.zeros(1, np.float32)}  # the identity
        head |= {k[len("head."):]: v.astype(np.float32) for k, v in arrays.items() if k.startswith("head.")}
        return cls(session, tokenizer, head)

    def read(self, question: str, window: str, avoid: tuple[tuple[int, int], ...] = ()) -> ReaderResult | None:
        """The best short span of `window` for `question` that overlaps none of the character ranges in `avoid`
        (probability 0 if every span does), or None if the window has no words."""
        asked = self._question_tokenizer.encode(question, add_special_tokens=False)
        if len(asked.ids) > MAX_QUESTION_TOKENS:  # keep room for the window
            question = question[:asked.offsets[MAX_QUESTION_TOKENS - 1][1]]
        encoding = self.tokenizer.encode(question, window)
        return self._decode(encoding, self._hidden(encoding), len(window), avoid)

    def _hidden(self, encoding) -> np.ndarray:
        feed = {
            "input_ids": np.array([encoding.ids], dtype=np.int64),
            "attention_mask": np.array([encoding.attention_mask], dtype=np.int64),
            "token_type_ids": np.array([encoding.type_ids], dtype=np.int64),
        }
        return self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0][0]

    def _decode(self, encoding, hidden: np.ndarray, window_chars: int,
                avoid: tuple[tuple[int, int], ...] = ()) -> ReaderResult | None:
        sequence = np.array([s if s is not None else -1 for s in encoding.sequence_ids])
        offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
        in_window = (sequence == 1) & (offsets[:, 1] > offsets[:, 0])
        if not in_window.any():
            return None
        logits = hidden @ self.head["span_w"] + self.head["span_b"]
        pooled = np.concatenate([hidden[0], hidden[in_window].mean(axis=0)])
        words = np.array([w if w is not None else -1 for w in encoding.word_ids])
        first = in_window & np.r_[True, words[1:] != words[:-1]]
        last = in_window & np.r_[words[:-1] != words[1:], True]
        start_logits = np.where(first, logits[:, 0], -np.inf)
        end_logits = np.where(last, logits[:, 1], -np.inf)
        start_p = _softmax(start_logits)
        end_p = _softmax(end_logits)
        # P(start i) P(end j) for spans of 1..MAX_ANSWER_TOKENS tokens (j - i in 0..MAX_ANSWER_TOKENS - 1)
        joint = np.tril(np.triu(np.outer(start_p, end_p)), MAX_ANSWER_TOKENS - 1)
        for a, b in avoid:  # span (i, j) covers characters offsets[i, 0] .. offsets[j, 1]
            joint[np.outer(offsets[:, 0] < b, offsets[:, 1] > a)] = 0.0
        i, j = divmod(int(joint.argmax()), len(start_p))
        head = float(pooled @ self.head["answer_w"] + self.head["answer_b"][0])
        null = float(logits[i, 0] + logits[j, 1] - logits[0, 0] - logits[0, 1])
        answerable = _sigmoid(float(np.array([head, null]) @ self.head["fuse_w"] + self.head["fuse_b"][0]))
        start, end = int(offsets[i, 0]), int(min(offsets[j, 1], window_chars))
        return ReaderResult(start, end, float(joint[i, j]), answerable, (head, null))


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max())
    return e / e.sum()


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def _cached_graph(encoder_dir: Path, cache_dir: Path, arrays: dict[str, np.ndarray], int8: bool) -> Path | bytes:
    """The reader's graph from its cache entry, made there first if needed. Once the int8 copy exists, the fp32
    merge it was made from is removed: it is only needed again with `int8=False`, and is made again then."""
    entry = cache_dir / f"reader-{_identity(encoder_dir, arrays)}"
    graph: Path | bytes = entry / READER_INT8_ONNX
    if not (int8 and graph.exists()):
        graph = _merged_graph(encoder_dir, entry / READER_ONNX, arrays)
        if int8 and not isinstance(graph, bytes):
            graph = quantized(graph, entry / READER_INT8_ONNX)
            if not graph.exists() and (entry / READER_INT8_ONNX).exists():
                graph = entry / READER_INT8_ONNX  # another process made it and removed the fp32 graph meanwhile
    if not isinstance(graph, bytes):
        kept(entry, "reader-*")
        if graph.name == READER_INT8_ONNX:
            with contextlib.suppress(OSError):  # a read-only cache keeps it
                (entry / READER_ONNX).unlink(missing_ok=True)
    return graph


def _identity(encoder_dir: Path, arrays: dict[str, np.ndarray]) -> str:
    """A key for the merged graph: the encoder graph's identity and the deltas merged into it."""
    digest = hashlib.sha256(graph_identity(encoder_dir / ONNX_FILE).encode())
    for key in sorted(k for k in arrays if k.startswith(("lora.", "param."))):  # the head is not in the graph
        digest.update(key.encode() + arrays[key].tobytes())
    return digest.hexdigest()[:16]


def _merged_graph(encoder_dir: Path, target: Path, arrays: dict[str, np.ndarray]) -> Path | bytes:
    """The encoder graph with the reader's deltas merged in: written to `target` once, or bytes if the cache
    is read-only."""
    if target.exists():
        return target
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(encoder_dir / ONNX_FILE))
    initializers = {i.name: i for i in model.graph.initializer}
    matmul_weight = {n.name: n.input[1] for n in model.graph.node if n.op_type == "MatMul"}
    for name in sorted({k[len("lora."):].rsplit(".", 1)[0] for k in arrays if k.startswith("lora.")}):
        # encoder.layer.0.attention.self.query -> /transformer/encoder/layer.0/attention/self/query/MatMul
        layer, rest = name.split(".layer.", 1)
        number, module = rest.split(".", 1)
        init = initializers[matmul_weight[f"/transformer/{layer}/layer.{number}/{module.replace('.', '/')}/MatMul"]]
        weight = numpy_helper.to_array(init).astype(np.float32)  # (in, out): the transposed torch weight
        delta = arrays[f"lora.{name}.B"].astype(np.float32) @ arrays[f"lora.{name}.A"].astype(np.float32)
        init.CopyFrom(numpy_helper.from_array((weight + delta.T).astype(np.float32), init.name))
    for key, value in arrays.items():
        if key.startswith("param."):
            init = initializers["transformer." + key[len("param."):]]
            init.CopyFrom(numpy_helper.from_array(value.astype(np.float32), init.name))
    try:
        with written(target) as temporary:
            onnx.save(model, str(temporary))
    except OSError:
        return model.SerializeToString()
    return target
