"""The int8 query encoder on the real model: close to fp32, made once per graph, fp32 when the cache is read-only;
and the cache dropping derived graphs nobody used for a month."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime.quantization
import pytest
from onnx import TensorProto, helper, numpy_helper

from index.encoder import ONNX_FILE, Encoder
from index.export import DEFAULT_MODEL, EXPORT_KIND, exported_encoder
from index.graph_cache import STALE_DAYS, int8_graph, kept, quantized

QUESTIONS = ("How many casualties have North Korean troops suffered?", "Who scored the winning goal?",
             "When did the scooters go on sale?", "Which city is the toy maker based in?")


@pytest.fixture(scope="module")
def exported(cache_dir: Path) -> Path:
    return exported_encoder(DEFAULT_MODEL, cache_dir)


@pytest.fixture(scope="module")
def int8_cache(tmp_path_factory: pytest.TempPathFactory, exported: Path) -> Path:
    cache = tmp_path_factory.mktemp("int8-cache")
    int8_graph(exported, cache)
    return cache


def test_int8_vectors_are_close_to_fp32(exported: Path, int8_cache: Path) -> None:
    fp32 = Encoder(exported).encode(QUESTIONS)
    int8 = Encoder(exported, graph=int8_graph(exported, int8_cache)).encode(QUESTIONS)
    assert int8.shape == fp32.shape and np.allclose(np.linalg.norm(int8, axis=1), 1.0, atol=1e-5)
    assert (np.sum(int8 * fp32, axis=1) > 0.98).all()


def test_int8_graph_is_made_once_and_shared_by_hard_links_and_copies(exported: Path, int8_cache: Path,
                                                                     tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    first = int8_graph(exported, int8_cache)
    linked, copied = tmp_path / "linked", tmp_path / "copied"  # an index generation links the graph, or copies it
    linked.mkdir()
    copied.mkdir()
    (linked / ONNX_FILE).hardlink_to(exported / ONNX_FILE)
    shutil.copy2(exported / ONNX_FILE, copied / ONNX_FILE)

    def fail(*args, **kwargs) -> None:
        raise AssertionError("quantized again")

    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", fail)
    assert int8_graph(exported, int8_cache) == first == int8_graph(linked, int8_cache) == int8_graph(copied,
                                                                                                     int8_cache)
    assert first.parent.parent == int8_cache and first.stat().st_size < (exported / ONNX_FILE).stat().st_size / 3


def test_making_the_int8_graph_writes_nothing_beside_the_graph(exported: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The index's graph may sit in a read-only folder: the quantizer's shape-inferred copy goes to the cache."""
    generation = tmp_path / "generation"
    generation.mkdir()
    shutil.copy2(exported / ONNX_FILE, generation / ONNX_FILE)
    written = []
    infer = onnx.shape_inference.infer_shapes_path
    monkeypatch.setattr(onnx.shape_inference, "infer_shapes_path",
                        lambda source, target, *args, **kw: written.append(Path(target)) or infer(source, target))
    graph = int8_graph(generation, tmp_path / "cache")
    assert graph.parent.parent == tmp_path / "cache"
    assert written and all(generation not in path.parents for path in written)
    assert sorted(p.name for p in generation.iterdir()) == [ONNX_FILE]


def test_unwritable_cache_gives_the_fp32_graph(exported: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")  # nothing can be created below a file, whoever runs the tests (chmod cannot stop root)
    assert int8_graph(exported, blocked / "cache") == exported / ONNX_FILE
    assert not any(tmp_path.rglob("*.onnx"))


def test_a_graph_the_quantizer_fails_on_gives_the_fp32_graph_and_a_warning(
        exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def broken(*args, **kwargs) -> None:
        raise RuntimeError("unsupported operator")

    monkeypatch.setattr(onnxruntime.quantization, "quantize_dynamic", broken)
    assert int8_graph(exported, tmp_path / "cache") == exported / ONNX_FILE
    assert "using the fp32 graph" in caplog.text and "unsupported operator" in caplog.text
    assert not any(tmp_path.rglob("*.onnx"))  # no torn file left to pass for a finished one


def _last_used(entry: Path, days_ago: float) -> Path:
    entry.mkdir(parents=True, exist_ok=True)
    when = time.time() - days_ago * 86400
    os.utime(entry, (when, when))
    return entry


def test_using_a_cached_graph_removes_copies_of_its_kind_unused_for_a_month(exported: Path, tmp_path: Path) -> None:
    stale = _last_used(tmp_path / "encoder-int8-pc-0123456789abcdef", days_ago=STALE_DAYS + 1)
    legacy = _last_used(tmp_path / "encoder-int8-fedcba9876543210", days_ago=STALE_DAYS + 1)
    recent = _last_used(tmp_path / "encoder-int8-pc-aaaaaaaaaaaaaaaa", days_ago=STALE_DAYS - 1)
    other_kind = _last_used(tmp_path / "reader-0123456789abcdef", days_ago=STALE_DAYS + 1)
    graph = int8_graph(exported, tmp_path)
    assert graph.exists() and time.time() - graph.parent.stat().st_mtime < 60  # marked as used now
    assert not stale.exists() and not legacy.exists()
    assert recent.exists() and other_kind.exists()


def test_an_old_cached_graph_in_use_is_kept_and_marked(tmp_path: Path) -> None:
    entry = _last_used(tmp_path / "reader-0123456789abcdef", days_ago=STALE_DAYS + 5)
    kept(entry, "reader-*")
    assert entry.exists() and time.time() - entry.stat().st_mtime < 60


def test_the_exports_kind_does_not_reach_the_int8_copies(tmp_path: Path) -> None:
    entry = _last_used(tmp_path / "encoder-abcdefabcdefabcd", days_ago=0)
    old_export = _last_used(tmp_path / "encoder-0123456789abcdef", days_ago=STALE_DAYS + 1)
    old_int8 = _last_used(tmp_path / "encoder-int8-pc-0123456789abcdef", days_ago=STALE_DAYS + 1)
    kept(entry, EXPORT_KIND)
    assert not old_export.exists() and old_int8.exists()


def test_texts_encoded_alone_side_by_side_match_each_text_encoded_by_itself(exported: Path, int8_cache: Path) -> None:
    """`alone` (the build's way): the same vectors, in order, as each text alone; int8 vectors then do not
    depend on which texts are encoded with them (batched, its activation scale would)."""
    for graph in (None, int8_graph(exported, int8_cache)):
        single = Encoder(exported, graph=graph)
        expected = np.vstack([single.encode([q]) for q in QUESTIONS])
        np.testing.assert_array_equal(Encoder(exported, threads=2, graph=graph, alone=True).encode(QUESTIONS), expected)
    batched = Encoder(exported, graph=int8_graph(exported, int8_cache)).encode(QUESTIONS)
    assert not np.array_equal(batched, expected)


def test_sentences_cut_off_by_the_length_limit_are_encoded_alone_without_a_deadlock(exported: Path) -> None:
    """Several texts, each with several sentences past the token limit, on two threads: the fallback for those
    sentences runs on the worker's own thread (a worker waiting for tasks queued behind the others would hang)."""
    code = """
import sys
from pathlib import Path
import numpy as np
from index.encoder import Encoder
sentence = "Figures 1234 5678 9012 3456 7890 rose again. "
texts = [sentence * 40 for _ in range(6)]
spans = [[(k * len(sentence), (k + 1) * len(sentence) - 1) for k in range(35, 40)] for _ in texts]
encoder = Encoder(Path(sys.argv[1]), threads=2, alone=True)
vectors, sentences = encoder.encode_with_spans(texts, spans)
alone = Encoder(Path(sys.argv[1])).encode([texts[0][a:b] for a, b in spans[0]])
assert all(np.allclose(s, alone, atol=1e-6) for s in sentences)
print("ok", vectors.shape)
"""
    done = subprocess.run([sys.executable, "-c", code, str(exported)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0 and done.stdout.startswith("ok (6, 384)"), done.stderr


def test_quantizing_a_graph_keeps_onnxruntimes_chatter_out_of_the_log(tmp_path: Path,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    """onnxruntime's quantizer logs on the root logger (a pre-processing hint, a line per tensor): some 40 lines
    at a server's first start, none of them the user's business. What others log there still gets through."""
    weights = numpy_helper.from_array(np.random.default_rng(0).normal(size=(64, 64)).astype(np.float32), "w")
    node = helper.make_node("MatMul", ["x", "w"], ["y"])
    graph = helper.make_graph([node], "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64])], [weights])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), tmp_path / "tiny.onnx")
    with caplog.at_level(logging.DEBUG):
        made = quantized(tmp_path / "tiny.onnx", tmp_path / "int8" / "tiny.onnx")
        logging.warning("still heard")
    assert made == tmp_path / "int8" / "tiny.onnx" and made.exists()
    assert [r.getMessage() for r in caplog.records if r.name == "root"] == ["still heard"]
