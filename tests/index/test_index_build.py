"""A rebuild writes a new generation and swaps it in atomically: a crash never leaves a half-built index."""

from __future__ import annotations

import fcntl
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

import index.build
import index.copies
from index.build import BuildLockedError
from index.store import IndexReader, Manifest
from tests.index.index_corpus import REPO, Build, jsonl, plain_article, sigkill_when_ready, write


@dataclass(frozen=True)
class OldIndex:
    index_dir: Path
    manifest: Manifest
    new_corpus: Path


def generations(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.glob("gen-*"))


def assert_still_the_old_index(old: OldIndex) -> None:
    """The live index is the one built before: same generation, same counts, and it loads and reads."""
    assert Manifest.read(old.index_dir) == old.manifest
    reader = IndexReader(old.index_dir)
    try:
        assert reader.manifest.counts == old.manifest.counts
        assert reader.faiss.ntotal == old.manifest.counts["passages"]
        assert {a.article_id for a in reader.articles()} == {"one", "two"}
        assert reader.article("one")[1] == ["The old index has this paragraph."]
    finally:
        reader.close()


@pytest.fixture
def old_index(tmp_path: Path, build: Build) -> OldIndex:
    """A built index of two articles, and a bigger corpus (six articles) to rebuild it from."""
    old = tmp_path / "old"
    write(old / "one.txt", plain_article("Old one", ["The old index has this paragraph."]))
    write(old / "two.txt", plain_article("Old two", ["A second old article."]))
    new = tmp_path / "new"
    for n in range(6):
        paragraphs = [f"Paragraph {k} of new article {n}." for k in range(3)]
        write(new / f"{n}.txt", plain_article(f"New article {n}", paragraphs))
    index_dir = tmp_path / "index"
    build([old], index_dir)
    return OldIndex(index_dir, Manifest.read(index_dir), new)


def test_a_rebuild_swaps_in_the_new_index_and_drops_the_old_generation(
        old_index: OldIndex, build: Build) -> None:
    summary = build([old_index.new_corpus], old_index.index_dir)
    manifest = Manifest.read(old_index.index_dir)
    assert manifest.generation != old_index.manifest.generation
    assert manifest.counts == summary.counts
    assert summary.counts["articles"] == 6
    assert generations(old_index.index_dir) == [manifest.generation]


def test_a_reader_opened_before_a_rebuild_keeps_reading_the_old_index(
        old_index: OldIndex, build: Build) -> None:
    reader = IndexReader(old_index.index_dir)
    try:
        build([old_index.new_corpus], old_index.index_dir)
        assert reader.article("one")[1] == ["The old index has this paragraph."]
    finally:
        reader.close()
    fresh = IndexReader(old_index.index_dir)
    try:
        assert fresh.article("one") is None
        assert fresh.article("3") is not None
    finally:
        fresh.close()


def test_an_exception_mid_build_leaves_the_old_index_live_and_no_leftovers(
        old_index: OldIndex, monkeypatch: pytest.MonkeyPatch, build: Build) -> None:
    real_add_article = index.build._add_article
    added: list[str] = []

    def add_then_fail(writer, article, path):
        if len(added) == 3:
            raise OSError(28, "No space left on device")
        added.append(article.article_id)
        return real_add_article(writer, article, path)

    monkeypatch.setattr(index.build, "_add_article", add_then_fail)
    with pytest.raises(OSError, match="No space left"):
        build([old_index.new_corpus], old_index.index_dir)
    assert len(added) == 3
    assert generations(old_index.index_dir) == [old_index.manifest.generation]
    assert_still_the_old_index(old_index)


def test_a_crash_after_writing_but_before_the_swap_leaves_the_old_index_live(
        old_index: OldIndex, monkeypatch: pytest.MonkeyPatch, build: Build) -> None:
    def power_cut(self: Manifest, index_dir: Path) -> None:
        raise OSError(5, "Input/output error")

    with monkeypatch.context() as patch:
        patch.setattr(Manifest, "write", power_cut)
        with pytest.raises(OSError, match="Input/output error"):
            build([old_index.new_corpus], old_index.index_dir)
    assert len(generations(old_index.index_dir)) == 2  # the complete but never-live generation is left
    assert_still_the_old_index(old_index)

    summary = build([old_index.new_corpus], old_index.index_dir)
    assert summary.counts["articles"] == 6
    assert generations(old_index.index_dir) == [Manifest.read(old_index.index_dir).generation]


CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import index.build
    from qa.settings import Settings

    corpus, index_dir, ready = map(Path, sys.argv[1:4])
    real_add_article = index.build._add_article
    added = []

    def add_then_wait(writer, article, path):
        if len(added) == 3:  # half-way through: tell the test, then wait to be killed
            ready.touch()
            time.sleep(600)
        added.append(article.article_id)
        return real_add_article(writer, article, path)

    index.build._add_article = add_then_wait
    settings = Settings()
    index.build.build_index([corpus], index_dir, settings.model, settings.cache_dir, progress=False)
""")


@pytest.mark.timeout(120)
def test_a_build_killed_mid_way_leaves_the_old_index_and_the_next_build_cleans_up(
        old_index: OldIndex, tmp_path: Path, build: Build) -> None:
    sigkill_when_ready(CHILD, [str(old_index.new_corpus), str(old_index.index_dir)], tmp_path / "ready", REPO)

    (leftover,) = old_index.index_dir.glob("gen-*.tmp")
    assert_still_the_old_index(old_index)

    summary = build([old_index.new_corpus], old_index.index_dir)
    assert not leftover.exists()
    assert summary.counts["articles"] == 6
    assert generations(old_index.index_dir) == [Manifest.read(old_index.index_dir).generation]
    reader = IndexReader(old_index.index_dir)
    try:
        assert reader.manifest.counts == summary.counts
    finally:
        reader.close()


def test_a_build_with_nothing_readable_fails_and_leaves_the_old_index(old_index: OldIndex, tmp_path: Path,
                                                                       build: Build) -> None:
    write(tmp_path / "junk" / "empty.txt", b"")
    write(tmp_path / "junk" / "image.txt", b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ValueError, match="no readable articles") as failed:
        build([tmp_path / "junk"], old_index.index_dir)
    assert "empty.txt: empty file" in str(failed.value) and "image.txt: binary data" in str(failed.value)
    assert generations(old_index.index_dir) == [old_index.manifest.generation]
    assert_still_the_old_index(old_index)


def test_a_second_build_on_the_same_index_is_refused_while_one_runs(
        old_index: OldIndex, build: Build) -> None:
    with open(old_index.index_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(BuildLockedError):
            build([old_index.new_corpus], old_index.index_dir)
    assert_still_the_old_index(old_index)


def test_an_index_inside_the_article_folder_is_not_indexed_as_articles(tmp_path: Path, build: Build) -> None:
    corpus = tmp_path / "articles"
    write(corpus / "story.txt", plain_article("A story", ["The only article here."]))
    index_dir = corpus / "var" / "index"
    first = build([corpus], index_dir)
    second = build([corpus], index_dir)  # now the folder holds manifest.json, bm25/*.json, tokenizer.json...
    assert first.counts["articles"] == second.counts["articles"] == 1
    assert first.skipped == second.skipped == []


# Long enough (200 characters and more) for another article with the same paragraphs to be its copy.
LEEDS = ["Leeds said the takeover of the club was complete on Friday morning, after weeks of talks.",
         "Ken Bates paid £10m for a half share and said he would buy back the Elland Road stadium.",
         "The club's debts had been cut to under £25m by the outgoing board."]


def test_a_copy_is_indexed_once_under_its_original_name_and_reported(tmp_path: Path, build: Build) -> None:
    corpus = tmp_path / "articles"
    write(corpus / "leeds.txt", plain_article("Bates buys Leeds", LEEDS))
    write(corpus / "leeds (1).txt", plain_article("Bates buys Leeds", LEEDS))
    write(corpus / "saved.md", plain_article("Saved copy", [LEEDS[0].replace(" the ", "  the "), *LEEDS[1:]]))
    write(corpus / "brief1.txt", plain_article("Storm", ["More details to follow."]))  # too short to be a copy
    write(corpus / "brief2.txt", plain_article("Election", ["More details to follow."]))
    summary = build([corpus], tmp_path / "index")
    assert summary.counts["articles"] == 3
    assert sorted((Path(s.where).name, s.reason) for s in summary.skipped) == [
        ("leeds (1).txt", "article 'leeds (1)' has the same text as 'leeds', which is indexed (a copy is indexed "
                          "once)"),
        ("saved.md", "article 'saved' has the same text as 'leeds', which is indexed (a copy is indexed once)")]


def test_an_add_keeps_the_stored_article_and_skips_its_new_copy(tmp_path: Path, build: Build) -> None:
    corpus = tmp_path / "articles"
    write(corpus / "story.txt", plain_article("Bates buys Leeds", LEEDS))
    build([corpus], tmp_path / "index")
    edited = [LEEDS[0], LEEDS[1].replace("half", "50%"), LEEDS[2]]
    write(corpus / "story.txt", plain_article("Bates buys Leeds", edited))
    write(corpus / "story (1).txt", plain_article("Bates buys Leeds", edited))
    summary = index.build.add_to_index([corpus], tmp_path / "index")
    assert (summary.changed, summary.added, [Path(s.where).name for s in summary.skipped]) == (
        ["story"], [], ["story (1).txt"])
    reader = IndexReader(tmp_path / "index")
    try:
        assert [a.article_id for a in reader.articles()] == ["story"] and "50%" in reader.article("story")[1][1]
    finally:
        reader.close()


def test_an_add_skips_a_copy_of_an_article_the_index_already_holds(tmp_path: Path, build: Build) -> None:
    build([write(tmp_path / "first" / "story.txt", plain_article("Bates buys Leeds", LEEDS)).parent],
          tmp_path / "index")
    later = tmp_path / "later"
    write(later / "leeds-takeover.txt", plain_article("Leeds takeover", LEEDS))
    write(later / "other.txt", plain_article("Another story", [s.replace("Leeds", "Hull") for s in LEEDS]))
    summary = index.build.add_to_index([later], tmp_path / "index")
    assert summary.added == ["other"]
    assert [s.reason for s in summary.skipped] == [
        "article 'leeds-takeover' has the same text as 'story', which is indexed (a copy is indexed once)"]


def test_an_add_of_nothing_but_a_copy_is_no_error_and_changes_nothing(tmp_path: Path, build: Build) -> None:
    build([write(tmp_path / "first" / "story.txt", plain_article("Bates buys Leeds", LEEDS)).parent],
          tmp_path / "index")
    manifest = Manifest.read(tmp_path / "index")
    copy = write(tmp_path / "later" / "story - Copy.txt", plain_article("Bates buys Leeds", LEEDS))
    summary = index.build.add_to_index([copy.parent], tmp_path / "index")
    assert (summary.added, summary.changed, [s.where for s in summary.skipped]) == ([], [], [str(copy)])
    assert Manifest.read(tmp_path / "index").counts == manifest.counts


def test_an_edited_article_frees_its_old_text_for_another_file(tmp_path: Path, build: Build) -> None:
    corpus = tmp_path / "articles"
    write(corpus / "story.txt", plain_article("Bates buys Leeds", LEEDS))
    build([corpus], tmp_path / "index")
    write(corpus / "story.txt", plain_article("Bates buys Leeds", [LEEDS[0], LEEDS[1].replace("half", "50%"),
                                                                   LEEDS[2]]))
    write(corpus / "first-version.txt", plain_article("Bates buys Leeds", LEEDS))
    summary = index.build.add_to_index([corpus], tmp_path / "index")
    assert (summary.changed, summary.added, summary.skipped) == (["story"], ["first-version"], [])


HULL = [s.replace("Leeds", "Hull").replace("Ken Bates", "Adam Pearson") for s in LEEDS]


def test_an_edit_refused_as_a_copy_keeps_its_old_text_held(tmp_path: Path, build: Build) -> None:
    corpus = tmp_path / "articles"
    write(corpus / "story.txt", plain_article("Bates buys Leeds", LEEDS))
    write(corpus / "hull.txt", plain_article("Pearson buys Hull", HULL))
    build([corpus], tmp_path / "index")
    write(corpus / "story.txt", plain_article("Pearson buys Hull", HULL))  # now a copy of hull: refused
    write(corpus / "archive.txt", plain_article("Bates buys Leeds", LEEDS))  # so this is still a copy of story
    summary = index.build.add_to_index([corpus], tmp_path / "index")
    assert (summary.changed, summary.added, summary.unchanged) == ([], [], 1)
    assert sorted(s.reason for s in summary.skipped) == [
        "article 'archive' has the same text as 'story', which is indexed (a copy is indexed once)",
        "article 'story' has the same text as 'hull', which is indexed (a copy is indexed once)"]


def test_an_edit_in_a_feed_frees_its_old_text_whatever_the_file_names(tmp_path: Path, build: Build) -> None:
    corpus = tmp_path / "articles"
    write(corpus / "feed.jsonl", jsonl({"id": "leeds", "title": "Bates buys Leeds", "paragraphs": LEEDS}))
    build([corpus], tmp_path / "index")
    write(corpus / "feed.jsonl", jsonl({"id": "leeds", "title": "Bates buys Leeds", "paragraphs": HULL}))
    write(corpus / "a-old.txt", plain_article("Bates buys Leeds", LEEDS))  # read before the feed
    summary = index.build.add_to_index([corpus], tmp_path / "index")
    assert (summary.changed, summary.added, summary.skipped) == (["leeds"], ["a-old"], [])


def test_articles_an_index_already_holds_twice_are_left_as_they_are(tmp_path: Path, build: Build,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = tmp_path / "articles"
    write(corpus / "leeds.txt", plain_article("Bates buys Leeds", LEEDS))
    write(corpus / "story.txt", plain_article("Bates buys Leeds", LEEDS))
    with monkeypatch.context() as patched:  # as an index built before copies were looked for
        patched.setattr(index.copies.Texts, "claim", lambda self, article: None)
        assert build([corpus], tmp_path / "index").counts["articles"] == 2
    again = index.build.add_to_index([corpus], tmp_path / "index")
    assert (again.unchanged, again.skipped) == (2, [])
    write(corpus / "story.txt", plain_article("Bates buys Leeds", [*LEEDS, "Fans cheered the news."]))
    edited = index.build.add_to_index([corpus], tmp_path / "index")
    assert (edited.changed, edited.unchanged, edited.skipped) == (["story"], 1, [])


@pytest.mark.parametrize("copy", ["story (1).txt", "story(1).txt", "story - Copy.txt", "story copy 2.txt",
                                  "Copy of story.txt", "Copy (2) of story.txt"])
def test_the_file_under_the_original_name_is_indexed(tmp_path: Path, build: Build, copy: str) -> None:
    corpus = tmp_path / "articles"
    write(corpus / "story.txt", plain_article("Bates buys Leeds", LEEDS))
    write(corpus / copy, plain_article("Bates buys Leeds", LEEDS))
    summary = build([corpus], tmp_path / "index")
    assert [Path(s.where).name for s in summary.skipped] == [copy]
