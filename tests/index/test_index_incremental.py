"""`qa index add` / `qa index remove`: only new and changed articles are embedded, the rest is copied (same
paragraph ids, same vectors), the answers follow, and a failed or killed update leaves the old index live."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

import index.build
from index.build import UnknownArticleError, add_to_index, build_index, remove_from_index
from index.encoder import ONNX_FILE, PASSAGE_INT8_FILE, Encoder
from index.store import DB_FILE, GenerationWriter, IndexReader, Manifest
from qa.answerer import Answerer, LoadedIndex
from qa.settings import Settings
from tests.index.index_corpus import (
    BRIDGE_PARAGRAPHS,
    BRIDGE_TITLE,
    BUDGET_PARAGRAPHS,
    PRICES_PARAGRAPHS,
    REPO,
    Build,
    plain_article,
    sigkill_when_ready,
    write,
)
from tests.index.test_index_cli import assert_one_line_error, qa

PANDA_TITLE = "Edinburgh Zoo panda gives birth to twins"
PANDA_PARAGRAPHS = ["Edinburgh Zoo said on Monday that its giant panda Tian Tian had given birth to twin cubs.",
                    "Keepers said the cubs weigh about 200 grams each and are feeding well."]
NEW_PRICES = ["A loaf now costs £1.45 in London, up from £1.20 last year.", "Bakers blame the price of flour."]

PANDA_QUESTION = "How much do the panda cubs weigh?"
PRICE_QUESTION = "How much does a loaf of bread cost in London?"
BUDGET_QUESTION = "How big is the budget the council approved?"
BRIDGE_QUESTION = "How many steel cables did engineers replace?"


@dataclass(frozen=True)
class Corpus:
    root: Path
    news: Path  # built from: bridge, prices, budget
    extra: Path  # added later: panda
    index_dir: Path


@pytest.fixture
def corpus(tmp_path: Path, build: Build) -> Corpus:
    news, extra = tmp_path / "news", tmp_path / "extra"
    write(news / "bridge.txt", plain_article(BRIDGE_TITLE, BRIDGE_PARAGRAPHS))
    write(news / "prices.txt", plain_article("Bread prices rise", PRICES_PARAGRAPHS))
    write(news / "budget.txt", plain_article("Council budget approved", BUDGET_PARAGRAPHS))
    write(extra / "panda.txt", plain_article(PANDA_TITLE, PANDA_PARAGRAPHS))
    index_dir = tmp_path / "index"
    build([news], index_dir)
    return Corpus(tmp_path, news, extra, index_dir)


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the encoder embeds for passages from here on (the real encoder still runs)."""
    texts: list[str] = []
    real = Encoder.encode_with_spans

    def counting(self: Encoder, batch, spans):
        texts.extend(batch)
        return real(self, batch, spans)

    monkeypatch.setattr(Encoder, "encode_with_spans", counting)
    return texts


@dataclass(frozen=True)
class Stored:
    """One paragraph as stored: its id, and the vectors of its passages and sentences."""

    paragraph_id: int
    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray


def snapshot(index_dir: Path) -> dict[tuple[str, int], Stored]:
    """(article id, paragraph index) -> what the live generation stores for it."""
    reader = IndexReader(index_dir)
    try:
        db = sqlite3.connect(f"file:{reader.directory / DB_FILE}?mode=ro", uri=True)
        rows = db.execute("SELECT a.article_id, p.idx, p.id FROM paragraphs p JOIN articles a ON a.id = p.article"
                          ).fetchall()
        db.close()
        return {(article_id, idx): Stored(pid, np.array(reader.passage_vectors[reader.passage_rows([pid])[0]]),
                                          np.array(reader.sentence_vectors[reader.sentence_rows([pid])[0]]))
                for article_id, idx, pid in rows}
    finally:
        reader.close()


def passage_texts(index_dir: Path, article_ids: set[str]) -> list[str]:
    """What the build embeds for the stored passages of `article_ids` (title first), sorted."""
    directory = index_dir / Manifest.read(index_dir).generation
    db = sqlite3.connect(f"file:{directory / DB_FILE}?mode=ro", uri=True)
    marks = ",".join("?" * len(article_ids))
    rows = db.execute('SELECT a.title, p.text, s.start, s."end" FROM passages s'
                      " JOIN paragraphs p ON p.id = s.paragraph JOIN articles a ON a.id = p.article"
                      f" WHERE a.article_id IN ({marks})", tuple(article_ids))
    texts = sorted(index.build.passage_input(*row) for row in rows)
    db.close()
    return texts


def answerer(index_dir: Path) -> Answerer:
    return Answerer.load(Settings(index_dir=index_dir))


def cited_articles(answerer: Answerer, question: str) -> list[str]:
    return [c.article_id for c in answerer.ask(question, top_k=10).citations]


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


def assert_same(before: dict[tuple[str, int], Stored], after: dict[tuple[str, int], Stored],
                article_ids: set[str]) -> None:
    """The articles' paragraphs kept their ids and their exact stored vectors."""
    keys = [key for key in before if key[0] in article_ids]
    assert keys
    for key in keys:
        assert after[key].paragraph_id == before[key].paragraph_id, key
        np.testing.assert_array_equal(after[key].passage_vectors, before[key].passage_vectors)
        np.testing.assert_array_equal(after[key].sentence_vectors, before[key].sentence_vectors)


def test_an_added_article_becomes_answerable_and_only_it_is_embedded(corpus: Corpus, encoded: list[str]) -> None:
    before = snapshot(corpus.index_dir)
    live = answerer(corpus.index_dir)
    assert "panda" not in cited_articles(live, PANDA_QUESTION)

    summary = add_to_index([corpus.extra], corpus.index_dir, progress=False)

    assert (summary.added, summary.changed, summary.removed, summary.unchanged) == (["panda"], [], [], 0)
    assert sorted(encoded) == passage_texts(corpus.index_dir, {"panda"})
    assert summary.embedded == len(encoded)
    assert summary.copied == Manifest.read(corpus.index_dir).counts["passages"] - len(encoded)
    after = snapshot(corpus.index_dir)
    assert_same(before, after, {"bridge", "prices", "budget"})
    new_ids = [after[("panda", i)].paragraph_id for i in range(len(PANDA_PARAGRAPHS))]
    assert min(new_ids) > max(s.paragraph_id for s in before.values())

    assert live.reload_if_changed(), "a running server picks up the new generation"
    answer = live.ask(PANDA_QUESTION)
    assert answer.found and "200 grams" in answer.answer
    assert answer.citations[0].article_id == "panda"
    bridge = live.ask(BRIDGE_QUESTION)
    assert bridge.found and bridge.citations[0].article_id == "bridge" and "300" in bridge.answer


def test_a_changed_article_is_re_embedded_and_answers_from_its_new_text(corpus: Corpus,
                                                                        encoded: list[str]) -> None:
    before = snapshot(corpus.index_dir)
    old = answerer(corpus.index_dir).ask(PRICE_QUESTION)
    assert old.found and "£1.20" in old.answer
    write(corpus.news / "prices.txt", plain_article("Bread prices rise", NEW_PRICES))

    summary = add_to_index([corpus.news], corpus.index_dir, progress=False)

    assert (summary.added, summary.changed, summary.unchanged) == ([], ["prices"], 2)
    assert sorted(encoded) == passage_texts(corpus.index_dir, {"prices"})
    after = snapshot(corpus.index_dir)
    assert_same(before, after, {"bridge", "budget"})
    assert after[("prices", 0)].paragraph_id > max(s.paragraph_id for s in before.values())
    new = answerer(corpus.index_dir).ask(PRICE_QUESTION)
    assert new.found and "£1.45" in new.answer and new.citations[0].article_id == "prices"
    reader = IndexReader(corpus.index_dir)
    assert reader.article("prices")[1] == NEW_PRICES
    reader.close()


def test_a_stored_file_added_from_another_folder_is_its_article_not_a_second_copy(corpus: Corpus,
                                                                                  encoded: list[str]) -> None:
    """`qa index add` of a folder above the one built: its ids differ ("news/prices"), its files do not."""
    write(corpus.news / "prices.txt", plain_article("Bread prices rise", NEW_PRICES))

    summary = add_to_index([corpus.news.parent], corpus.index_dir, progress=False)

    assert (summary.added, summary.changed, summary.unchanged) == (["extra/panda"], ["prices"], 2)
    new = answerer(corpus.index_dir).ask(PRICE_QUESTION, top_k=10)
    assert new.found and "£1.45" in new.answer
    assert [c.article_id for c in new.citations].count("prices") >= 1
    assert not any(c.article_id.startswith("news/") for c in new.citations)


def test_a_json_feed_that_gained_an_article_adds_it_under_its_own_id(tmp_path: Path, build: Build) -> None:
    """A feed's articles name their ids: the feed's file is no reason to rename a new one to the stored one."""
    feed = tmp_path / "news" / "feed.json"
    bridge = {"id": "bridge", "title": BRIDGE_TITLE, "paragraphs": list(BRIDGE_PARAGRAPHS)}
    panda = {"id": "panda", "title": PANDA_TITLE, "paragraphs": list(PANDA_PARAGRAPHS)}
    write(feed, json.dumps([bridge]))
    build([feed.parent], tmp_path / "index")
    write(feed, json.dumps([bridge, panda]))

    summary = add_to_index([feed.parent], tmp_path / "index", progress=False)

    assert (summary.added, summary.changed, summary.unchanged) == (["panda"], [], 1)


def test_a_file_beside_a_stored_one_of_the_same_name_is_added_without_renaming_it(corpus: Corpus,
                                                                                  encoded: list[str]) -> None:
    """"prices.md" saved beside the stored "prices.txt": both stay, the stored one under the id it has."""
    added = write(corpus.news / "prices.md", plain_article("Bread prices rise", NEW_PRICES))

    summary = add_to_index([added], corpus.index_dir, progress=False)  # the file alone, or its folder
    assert (summary.added, summary.changed) == (["prices.md"], [])
    assert sorted(encoded) == passage_texts(corpus.index_dir, {"prices.md"})

    summary = add_to_index([corpus.news], corpus.index_dir, progress=False)
    assert (summary.added, summary.changed, summary.unchanged) == ([], [], 4)


def test_adding_what_is_already_stored_writes_nothing(corpus: Corpus, encoded: list[str]) -> None:
    manifest = Manifest.read(corpus.index_dir)
    summary = add_to_index([corpus.news], corpus.index_dir, progress=False)
    assert (summary.added, summary.changed, summary.unchanged) == ([], [], 3)
    assert encoded == []
    assert Manifest.read(corpus.index_dir) == manifest
    assert summary.counts == manifest.counts


def test_a_removed_article_is_never_cited_again_and_can_be_added_back(corpus: Corpus,
                                                                      encoded: list[str]) -> None:
    before = snapshot(corpus.index_dir)
    live = answerer(corpus.index_dir)
    assert live.ask(BUDGET_QUESTION).citations[0].article_id == "budget"

    summary = remove_from_index(["budget"], corpus.index_dir)

    assert summary.removed == ["budget"] and summary.embedded == 0 and encoded == []
    after = snapshot(corpus.index_dir)
    assert not [key for key in after if key[0] == "budget"]
    assert_same(before, after, {"bridge", "prices"})
    assert live.reload_if_changed()
    for question in (BUDGET_QUESTION, "Which schools get the largest share?", "council budget 12 million euros"):
        assert "budget" not in cited_articles(live, question), question
    assert live.index.reader.article("budget") is None

    again = add_to_index([corpus.news], corpus.index_dir, progress=False)  # re-add
    assert (again.added, again.unchanged) == (["budget"], 2)
    assert sorted(encoded) == passage_texts(corpus.index_dir, {"budget"})
    readded = snapshot(corpus.index_dir)
    assert readded[("budget", 0)].paragraph_id > max(s.paragraph_id for s in before.values()), "ids never reused"
    assert live.reload_if_changed()
    assert live.ask(BUDGET_QUESTION).citations[0].article_id == "budget"


def test_removing_an_unknown_id_removes_nothing(corpus: Corpus) -> None:
    manifest = Manifest.read(corpus.index_dir)
    with pytest.raises(UnknownArticleError, match="'nope'"):
        remove_from_index(["budget", "nope"], corpus.index_dir)
    assert Manifest.read(corpus.index_dir) == manifest
    assert generations(corpus.index_dir) == [manifest.generation]
    reader = IndexReader(corpus.index_dir)
    assert reader.article("budget") is not None
    reader.close()


def test_removing_every_article_is_refused(corpus: Corpus) -> None:
    manifest = Manifest.read(corpus.index_dir)
    with pytest.raises(ValueError, match="empty"):
        remove_from_index(["bridge", "prices", "budget"], corpus.index_dir)
    assert Manifest.read(corpus.index_dir) == manifest


def test_an_update_needs_an_index(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no index"):
        add_to_index([tmp_path], tmp_path / "none", progress=False)
    assert not (tmp_path / "none").exists()


def assert_old_index_serves(corpus: Corpus, manifest: Manifest) -> None:
    assert Manifest.read(corpus.index_dir) == manifest
    reader = IndexReader(corpus.index_dir)
    try:
        assert reader.faiss.ntotal == manifest.counts["passages"]
        assert {a.article_id for a in reader.articles()} == {"bridge", "prices", "budget"}
    finally:
        reader.close()
    answer = answerer(corpus.index_dir).ask(BRIDGE_QUESTION)
    assert answer.found and answer.citations[0].article_id == "bridge"


@pytest.mark.parametrize("failing", ["embedding", "sealing"])
def test_an_exception_mid_update_leaves_the_old_index_and_the_next_update_succeeds(
        corpus: Corpus, monkeypatch: pytest.MonkeyPatch, failing: str) -> None:
    manifest = Manifest.read(corpus.index_dir)
    with monkeypatch.context() as patch:
        if failing == "embedding":
            def fail(*args, **kwargs):
                raise OSError(28, "No space left on device")
            patch.setattr(index.build, "_add_article", fail)
        else:
            def fail(self, *args, **kwargs):
                raise OSError(28, "No space left on device")
            patch.setattr(GenerationWriter, "seal", fail)
        with pytest.raises(OSError, match="No space left"):
            add_to_index([corpus.extra], corpus.index_dir, progress=False)
    assert generations(corpus.index_dir) == [manifest.generation]
    assert_old_index_serves(corpus, manifest)

    summary = add_to_index([corpus.extra], corpus.index_dir, progress=False)
    assert summary.added == ["panda"]
    assert generations(corpus.index_dir) == [Manifest.read(corpus.index_dir).generation]


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import index.build

    corpus, index_dir, ready = map(Path, sys.argv[1:4])

    def add_then_wait(writer, article, path):  # the unchanged articles are copied by now: wait to be killed
        ready.touch()
        time.sleep(600)

    index.build._add_article = add_then_wait
    index.build.add_to_index([corpus], index_dir, progress=False)
""")


@pytest.mark.timeout(120)
def test_an_update_killed_mid_way_leaves_the_old_index_and_the_next_update_cleans_up(
        corpus: Corpus, tmp_path: Path) -> None:
    manifest = Manifest.read(corpus.index_dir)
    sigkill_when_ready(CHILD, [str(corpus.extra), str(corpus.index_dir)], tmp_path / "ready", REPO)
    (leftover,) = corpus.index_dir.glob("gen-*.tmp")
    assert_old_index_serves(corpus, manifest)

    summary = add_to_index([corpus.extra], corpus.index_dir, progress=False)
    assert not leftover.exists()
    assert summary.added == ["panda"]
    assert generations(corpus.index_dir) == [Manifest.read(corpus.index_dir).generation]
    assert answerer(corpus.index_dir).ask(PANDA_QUESTION).citations[0].article_id == "panda"


def test_cli_add_and_remove_print_their_summary(corpus: Corpus) -> None:
    run = qa("index", "add", corpus.extra, "--index-dir", corpus.index_dir, cwd=corpus.root)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("added 1, changed 0, unchanged 0 articles; embedded 2 passages, ")
    assert lines[1].startswith("index now: 4 articles, ")
    assert "added: panda" in lines

    run = qa("index", "remove", "panda", "budget", "--index-dir", corpus.index_dir, cwd=corpus.root)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("removed 2 articles, kept 2; copied ")
    assert Manifest.read(corpus.index_dir).counts["articles"] == 2


def test_cli_remove_of_an_unknown_id_fails_with_one_line_and_changes_nothing(corpus: Corpus) -> None:
    manifest = Manifest.read(corpus.index_dir)
    run = qa("index", "remove", "bridge", "no/such-article", "--index-dir", corpus.index_dir, cwd=corpus.root)
    assert_one_line_error(run, "not in the index", "no/such-article", "nothing removed")
    assert Manifest.read(corpus.index_dir) == manifest


def test_cli_add_without_an_index_fails_with_one_line(corpus: Corpus, tmp_path: Path) -> None:
    run = qa("index", "add", corpus.extra, "--index-dir", tmp_path / "empty", cwd=corpus.root)
    assert_one_line_error(run, "no index")


def test_an_int8_build_embeds_in_int8_and_its_updates_do_too(corpus: Corpus) -> None:
    """`--int8`: passages go through the int8 graph, kept in the generation; an update embeds the same way, so
    the added article's vectors are those an int8 build of everything gives it; answers stay right."""
    run = qa("index", "build", corpus.news, "--int8", "--index-dir", corpus.root / "int8", cwd=corpus.root)
    assert run.returncode == 0, run.stderr
    int8_dir = corpus.root / "int8"
    assert (int8_dir / Manifest.read(int8_dir).generation / PASSAGE_INT8_FILE).exists()
    assert not (corpus.index_dir / Manifest.read(corpus.index_dir).generation / PASSAGE_INT8_FILE).exists()
    fp32, int8 = snapshot(corpus.index_dir), snapshot(int8_dir)
    for key, stored in fp32.items():
        cosine = float(stored.passage_vectors[0] @ int8[key].passage_vectors[0])
        assert 0.95 < cosine < 0.99999, key  # near the fp32 vectors, and not them

    add_to_index([corpus.extra], int8_dir, progress=False)
    assert (int8_dir / Manifest.read(int8_dir).generation / PASSAGE_INT8_FILE).exists()
    build_index([corpus.news, corpus.extra], corpus.root / "all", Settings().model, Settings().cache_dir,
                progress=False, int8=True)
    added, whole = snapshot(int8_dir), snapshot(corpus.root / "all")
    np.testing.assert_array_equal(added["panda", 0].passage_vectors, whole["panda", 0].passage_vectors)
    assert cited_articles(answerer(int8_dir), PANDA_QUESTION)[0] == "panda"
    stats = qa("index", "stats", "--index-dir", int8_dir, cwd=corpus.root)
    assert "passages embedded in int8" in stats.stdout

    generation = int8_dir / Manifest.read(int8_dir).generation  # questions go through the passages' own graph
    loaded = LoadedIndex.open(int8_dir, corpus.root / "unused-cache")
    own = Encoder(generation, graph=generation / PASSAGE_INT8_FILE).encode([PANDA_QUESTION])
    np.testing.assert_array_equal(loaded.encoder.encode([PANDA_QUESTION]), own)
    assert not (corpus.root / "unused-cache").exists()
    loaded.reader.close()


def test_an_int8_build_that_cannot_make_its_graph_fails_with_a_clear_error(corpus: Corpus,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.build, "int8_graph", lambda directory, cache: directory / ONNX_FILE)  # as on failure
    with pytest.raises(ValueError, match="cannot make the int8 copy"):
        build_index([corpus.news], corpus.root / "int8", Settings().model, Settings().cache_dir, progress=False,
                    int8=True)
    assert not (corpus.root / "int8" / "manifest.json").exists()
