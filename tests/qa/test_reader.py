"""The learned reader on the real model: spans are exact slices of the window, sensible, and scored 0..1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index.export import DEFAULT_MODEL, exported_encoder
from qa.reader import WEIGHTS_FILE, Reader

CASUALTIES = ("Western officials say North Korean troops fighting for Russia in the Kursk region have suffered "
              "about 1,100 casualties since December.")


@pytest.fixture(scope="module")
def reader(cache_dir: Path) -> Reader:
    return Reader.load(exported_encoder(DEFAULT_MODEL, cache_dir), cache_dir)


def test_number_question_gets_the_number(reader: Reader) -> None:
    result = reader.read("How many casualties have North Korean troops suffered?", CASUALTIES)
    assert result is not None
    assert "1,100" in CASUALTIES[result.start:result.end]
    assert 0.0 <= result.probability <= 1.0 and 0.0 <= result.answerable <= 1.0


@pytest.mark.parametrize(("question", "window", "expected"), [
    ("Who scored the winning goal?",
     "Thierry Henry scored the winning goal as Arsenal beat Chelsea 2-1 at Highbury on Saturday.", "Henry"),
    ("When did the scooters go on sale?",
     "The company said it had received 37 reports of injury since the scooters went on sale in March 2004.",
     "March 2004"),
    ("Which city is the toy maker based in?",
     "Zoomco, the Leeds toy maker, has recalled 40,000 electric scooters after complaints about faulty brakes.",
     "Leeds"),
])
def test_span_is_an_exact_slice_holding_the_answer(reader: Reader, question: str, window: str,
                                                   expected: str) -> None:
    result = reader.read(question, window)
    assert result is not None
    assert 0 <= result.start < result.end <= len(window)
    span = window[result.start:result.end]
    assert expected in span and len(span.split()) <= 6
    assert span == span.strip()


def test_answering_window_scores_higher_than_an_unrelated_one(reader: Reader) -> None:
    question = "How many casualties have North Korean troops suffered?"
    related = reader.read(question, CASUALTIES)
    unrelated = reader.read(question, "The bakery on the high street sells bread, cakes and pies every morning.")
    assert related is not None and unrelated is not None
    assert related.answerable > unrelated.answerable


def test_long_window_is_truncated_and_empty_window_has_no_span(reader: Reader) -> None:
    long_window = CASUALTIES + " " + " ".join(["More words follow here."] * 200)
    result = reader.read("How many casualties have North Korean troops suffered?", long_window)
    assert result is not None and result.end <= len(long_window)
    assert reader.read("Who?", "   ") is None


def test_weights_are_small_and_need_no_pickle() -> None:
    assert WEIGHTS_FILE.stat().st_size < 2_500_000
    with np.load(WEIGHTS_FILE, allow_pickle=False) as data:
        assert {"head.span_w", "head.span_b", "head.answer_w", "head.answer_b", "head.fuse_w",
                "head.fuse_b"} <= set(data.files)


def test_answerable_is_the_fitted_logistic_of_the_evidence(reader: Reader) -> None:
    question = "How many casualties have North Korean troops suffered?"
    result = reader.read(question, CASUALTIES)
    assert result is not None and np.isfinite(result.evidence).all()
    z = float(np.array(result.evidence) @ reader.head["fuse_w"] + reader.head["fuse_b"][0])
    assert result.answerable == pytest.approx(1 / (1 + np.exp(-z)))
    assert result.evidence[1] > 0  # the number outscores [CLS], the no-answer span


def test_very_long_question_still_reads_the_window(reader: Reader) -> None:
    question = "How many casualties " + "really " * 300 + "have North Korean troops suffered?"
    result = reader.read(question, CASUALTIES)
    assert result is not None and 0 <= result.start < result.end <= len(CASUALTIES)


def test_weights_without_a_fusion_read_answerable_from_the_head_alone(reader: Reader, cache_dir: Path,
                                                                      tmp_path: Path) -> None:
    """A weights file from before the fusion existed still loads and reads: answerable = sigmoid(head)."""
    with np.load(WEIGHTS_FILE, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files if not k.startswith("head.fuse")}
    older = tmp_path / "older.npz"
    np.savez(older, **arrays)
    loaded = Reader.load(exported_encoder(DEFAULT_MODEL, cache_dir), cache_dir, weights=older)
    question = "How many casualties have North Korean troops suffered?"
    result = loaded.read(question, CASUALTIES)
    assert result is not None
    assert result.answerable == pytest.approx(1 / (1 + np.exp(-result.evidence[0])))


def test_the_cache_keeps_only_the_graph_in_use_and_remakes_fp32_when_asked(cache_dir: Path, tmp_path: Path) -> None:
    encoder = exported_encoder(DEFAULT_MODEL, cache_dir)
    question = "How many casualties have North Korean troops suffered?"
    first = Reader.load(encoder, tmp_path).read(question, CASUALTIES)
    (entry,) = tmp_path.glob("reader-*")
    assert [p.name for p in entry.iterdir()] == ["reader-int8.onnx"]
    again = Reader.load(encoder, tmp_path).read(question, CASUALTIES)
    fp32 = Reader.load(encoder, tmp_path, int8=False).read(question, CASUALTIES)
    assert first == again
    assert sorted(p.name for p in entry.iterdir()) == ["reader-int8.onnx", "reader.onnx"]
    assert fp32 is not None and "1,100" in CASUALTIES[fp32.start:fp32.end]
    Reader.load(encoder, tmp_path)
    assert [p.name for p in entry.iterdir()] == ["reader-int8.onnx"]


SUBSIDY = ("It spent 59.2 trillion rupiah on fuel subsidies in 2004, a sum far in excess of its original projection "
           "of 14.5 trillion rupiah.")


def test_a_span_to_avoid_gives_way_to_the_best_span_elsewhere(reader: Reader) -> None:
    """Two sums answer the question; with the first one's span avoided, the reader gives the other."""
    window = "It spent 59.2 trillion rupiah on fuel subsidies in 2004 and 14.5 trillion rupiah on them in 2003."
    question = "How much did it spend on fuel subsidies?"
    first = reader.read(question, window)
    assert first is not None and "59.2" in window[first.start:first.end]
    other = reader.read(question, window, avoid=((first.start, first.end),))
    assert other is not None and "14.5" in window[other.start:other.end]
    assert other.start >= first.end
    assert other.probability < first.probability and other.answerable == first.answerable


def test_a_window_whose_every_span_is_avoided_has_no_likely_span(reader: Reader) -> None:
    result = reader.read("How much did it spend?", SUBSIDY, avoid=((0, len(SUBSIDY)),))
    assert result is not None and result.probability == 0.0
