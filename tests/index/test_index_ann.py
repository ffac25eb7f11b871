"""Past a size threshold the FAISS index is approximate (IVF-Flat, nprobe tuned at build): recall@10 stays
above 0.95, answers stay the same, and every index is memory-mapped so workers share one copy."""

from __future__ import annotations

import time
from pathlib import Path

import faiss
import numpy as np
import pytest

from benchmarks.scale import SyntheticCorpus
from index.build import add_to_index, build_index
from index.store import PASSAGE_VECTORS, IndexReader
from index.vectors import (
    ANN_THRESHOLD,
    TUNE_QUERIES,
    build_vector_index,
    exact_top_k,
    nlist_for,
    recall_at_k,
)
from qa.answerer import Answerer
from qa.settings import Settings
from tests.conftest import SEED_DIR, SEED_ID
from tests.index.index_corpus import BRIDGE_PARAGRAPHS, BRIDGE_TITLE, plain_article, write

SEED_QUESTION = "How many casualties have North Korean troops suffered?"


def build(paths: list[Path], index_dir: Path, ann_threshold: int) -> Path:
    settings = Settings()
    build_index(paths, index_dir, settings.model, settings.cache_dir, progress=False, ann_threshold=ann_threshold)
    return index_dir


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seed article beside a few short ones, so the approximate index has several cells to choose from."""
    root = tmp_path_factory.mktemp("ann-corpus")
    write(root / "seed.txt", (SEED_DIR / f"{SEED_ID}.txt").read_bytes())
    write(root / "bridge.txt", plain_article(BRIDGE_TITLE, BRIDGE_PARAGRAPHS))
    towns = ["Leeds", "Bristol", "Cardiff", "Glasgow", "Norwich", "Exeter", "Durham", "Bath"]
    things = ["library", "swimming pool", "tram line", "cycle path", "museum", "market hall", "bus station"]
    for n in range(40):
        town, thing = towns[n % len(towns)], things[n % len(things)]
        write(root / "local" / f"{n}.txt", plain_article(
            f"{town} plans new {thing}",
            [f"{town} council voted on Thursday to spend {n + 2} million pounds on a new {thing}.",
             f"Work on the {thing} should start in {2025 + n % 4} and take {n % 5 + 1} years, officials said."]))
    return root


@pytest.fixture(scope="module")
def flat_and_ivf(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("ann-indexes")
    return build([corpus], root / "flat", ANN_THRESHOLD), build([corpus], root / "ivf", ann_threshold=1)


def test_the_default_threshold_keeps_small_indexes_exact(flat_and_ivf: tuple[Path, Path]) -> None:
    reader = IndexReader(flat_and_ivf[0])
    try:
        assert isinstance(reader.faiss, faiss.IndexFlatIP)
        assert reader.vector_index.kind == "flat"
        assert not (reader.directory / PASSAGE_VECTORS).exists(), "a flat index holds the vectors once"
    finally:
        reader.close()


def test_a_forced_approximate_index_is_ivf_with_the_vectors_beside_it(flat_and_ivf: tuple[Path, Path]) -> None:
    flat, ivf = IndexReader(flat_and_ivf[0]), IndexReader(flat_and_ivf[1])
    try:
        assert isinstance(ivf.faiss, faiss.IndexIVFFlat)
        info = ivf.vector_index
        assert info.kind == "ivf_flat" and info.nlist == nlist_for(ivf.faiss.ntotal) >= 2
        assert ivf.faiss.nprobe == info.nprobe and 1 <= info.nprobe <= info.nlist
        assert isinstance(ivf.passage_vectors, np.memmap)
        np.testing.assert_allclose(ivf.passage_vectors, flat.passage_vectors, atol=1e-6)
        np.testing.assert_array_equal(ivf.passages, flat.passages)
    finally:
        flat.close()
        ivf.close()


def test_a_forced_approximate_index_answers_the_seed_question_like_the_flat_one(
        flat_and_ivf: tuple[Path, Path]) -> None:
    answers = [Answerer.load(Settings(index_dir=d)).ask(SEED_QUESTION) for d in flat_and_ivf]
    for answer in answers:
        assert answer.found and answer.short_answer == "1,100"
        assert (answer.citations[0].article_id, answer.citations[0].paragraph_index) == ("seed", 2)
    flat, ivf = answers
    assert ivf.answer == flat.answer
    assert ivf.confidence == pytest.approx(flat.confidence, abs=0.02)


def test_an_update_of_an_approximate_index_copies_its_vectors_and_stays_approximate(
        corpus: Path, tmp_path: Path) -> None:
    index_dir = build([corpus], tmp_path / "index", ann_threshold=1)
    before = IndexReader(index_dir)
    vectors = np.array(before.passage_vectors)
    before.close()
    write(tmp_path / "more" / "panda.txt", plain_article(
        "Edinburgh Zoo panda gives birth to twins",
        ["Keepers said the twin panda cubs weigh about 200 grams each and are feeding well."]))
    summary = add_to_index([tmp_path / "more"], index_dir, progress=False, ann_threshold=1)
    assert summary.added == ["panda"] and summary.embedded == 1
    after = IndexReader(index_dir)
    try:
        assert after.vector_index.kind == "ivf_flat"
        assert after.vector_index.reused_cells, "an update keeps the k-means cells of the generation it copies"
        np.testing.assert_array_equal(after.passage_vectors[:len(vectors)], vectors)
    finally:
        after.close()
    answerer = Answerer.load(Settings(index_dir=index_dir))
    assert answerer.ask("How much do the panda cubs weigh?").citations[0].article_id == "panda"
    assert answerer.ask(SEED_QUESTION).short_answer == "1,100"


@pytest.mark.parametrize("which", [0, 1], ids=["flat", "ivf"])
def test_vectors_are_memory_mapped_so_workers_share_them(flat_and_ivf: tuple[Path, Path], which: int) -> None:
    reader = IndexReader(flat_and_ivf[which])
    try:
        maps = Path("/proc/self/maps").read_text()
        assert str(reader.directory / "passages.faiss") in maps
        assert str(reader.directory / "sentences.f16") in maps
        assert isinstance(reader.sentence_vectors, np.memmap)
        assert not reader.passage_vectors.flags.writeable
    finally:
        reader.close()


def test_recall_at_10_of_the_tuned_ivf_index_on_20k_synthetic_vectors() -> None:
    """20k clustered unit vectors (the generator the scale benchmark uses, fitted to MiniLM vectors of BBC
    news), nprobe tuned on one draw of questions, recall measured on another."""
    started = time.perf_counter()
    corpus = SyntheticCorpus(20_000, seed=7)
    vectors = corpus.passage_vectors(np.arange(len(corpus.sizes)))
    index, info = build_vector_index(vectors, ann_threshold=10_000, questions=lambda n: corpus.questions(n)[0])
    assert info.kind == "ivf_flat" and info.nlist == nlist_for(20_000) == 283
    assert info.nprobe < info.nlist, "the tuned index does not scan every cell"
    held_out = corpus.questions(TUNE_QUERIES)[0]
    _, found = index.search(held_out, 10)
    recall = recall_at_k(found, exact_top_k(vectors, held_out, 10))
    assert recall >= 0.95, (recall, info)
    assert time.perf_counter() - started < 30
