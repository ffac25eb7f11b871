"""Articles in: folders are walked recursively; bad files are skipped with a reason and the build goes on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.discover import MAX_DEPTH, Found, discover
from index.store import IndexReader
from index.types import Skipped
from tests.index.index_corpus import Build, MixedBuild, plain_article, write

ARTICLE = plain_article("Headline", ["Body."])


def walk(*roots: Path) -> tuple[list[Found], list[Skipped]]:
    items = list(discover(list(roots)))
    return [i for i in items if isinstance(i, Found)], [i for i in items if isinstance(i, Skipped)]


# --- discovery -----------------------------------------------------------------------------------------

def test_ids_are_paths_relative_to_the_path_argument_without_extension(tmp_path: Path) -> None:
    corpus = tmp_path / "bbc-news"
    write(corpus / "business" / "001.txt", ARTICLE)
    write(corpus / "tech" / "deep" / "x.md", ARTICLE)
    write(corpus / "top.html", ARTICLE)
    found, skipped = walk(corpus)
    assert [f.article_id for f in found] == ["top", "business/001", "tech/deep/x"]
    assert skipped == []


def test_a_file_given_directly_is_named_by_its_file_name(tmp_path: Path) -> None:
    path = write(tmp_path / "folder" / "story.txt", ARTICLE)
    found, _ = walk(path)
    assert [(f.path, f.article_id) for f in found] == [(path, "story")]


def test_files_differing_only_in_extension_each_keep_theirs_in_their_id(tmp_path: Path) -> None:
    write(tmp_path / "news" / "story.txt", ARTICLE)
    write(tmp_path / "news" / "story.md", ARTICLE)
    write(tmp_path / "news" / "story.jsonl", "")
    write(tmp_path / "news" / "other.txt", ARTICLE)
    found, skipped = walk(tmp_path / "news")
    assert sorted(f.article_id for f in found) == ["other", "story", "story.md", "story.txt"]
    assert skipped == []


def test_several_paths_are_walked_in_the_order_given(tmp_path: Path) -> None:
    write(tmp_path / "b" / "2.txt", ARTICLE)
    write(tmp_path / "a" / "1.txt", ARTICLE)
    found, _ = walk(tmp_path / "b", tmp_path / "a")
    assert [f.article_id for f in found] == ["2", "1"]


def test_a_file_under_two_paths_given_is_found_once_with_the_id_of_the_first(tmp_path: Path) -> None:
    write(tmp_path / "news" / "sport" / "note.txt", ARTICLE)
    write(tmp_path / "news" / "top.txt", ARTICLE)
    found, skipped = walk(tmp_path / "news", tmp_path / "news" / "sport", tmp_path / "news")
    assert [f.article_id for f in found] == ["top", "sport/note"]
    assert skipped == []


def test_an_index_folder_among_the_articles_is_one_skipped_line_not_its_files(tmp_path: Path, build: Build) -> None:
    corpus = tmp_path / "news"
    write(corpus / "story.txt", ARTICLE)
    build([corpus], corpus / "old-index")
    found, skipped = walk(corpus)
    assert [f.article_id for f in found] == ["story"]
    assert [(Path(s.where).name, s.reason) for s in skipped] == [("old-index", "an article-qa index (not articles)")]
    assert list(discover([corpus], ignore=(corpus / "old-index",))) == found, "the index being built is passed over"


def test_a_folder_with_a_web_manifest_and_gen_named_articles_is_walked(tmp_path: Path) -> None:
    write(tmp_path / "site" / "manifest.json", "{}")
    write(tmp_path / "site" / "gen-z-voters.md", ARTICLE)
    found, _ = walk(tmp_path)
    assert "site/gen-z-voters" in [f.article_id for f in found]


def test_a_linked_file_inside_one_path_is_still_found_under_both_names(tmp_path: Path) -> None:
    write(tmp_path / "sport" / "note.txt", ARTICLE)
    (tmp_path / "latest.txt").symlink_to(tmp_path / "sport" / "note.txt")
    found, _ = walk(tmp_path)
    assert sorted(f.article_id for f in found) == ["latest", "sport/note"], "copy detection reports one of them"


def test_hidden_files_and_folders_are_ignored_silently(tmp_path: Path) -> None:
    write(tmp_path / "visible.txt", ARTICLE)
    write(tmp_path / ".hidden.txt", ARTICLE)
    write(tmp_path / ".git" / "HEAD.txt", ARTICLE)
    write(tmp_path / "sub" / ".DS_Store", b"\x00\x00\x00\x01Bud1")
    found, skipped = walk(tmp_path)
    assert [f.article_id for f in found] == ["visible"]
    assert skipped == []


def test_unknown_extensions_are_reported(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", ARTICLE)
    write(tmp_path / "report.docx", b"PK\x03\x04")
    write(tmp_path / "README", ARTICLE)
    found, skipped = walk(tmp_path)
    assert [f.article_id for f in found] == ["a"]
    reasons = {Path(s.where).name: s.reason for s in skipped}
    assert reasons == {"report.docx": "unsupported file type '.docx'",
                       "README": "unsupported file type '(no extension)'"}


def test_the_folder_a_browser_saves_beside_a_page_is_reported_not_walked(tmp_path: Path) -> None:
    write(tmp_path / "story.html", ARTICLE)
    write(tmp_path / "story_files" / "ad-frame.html", "<html><body>Buy now</body></html>")
    write(tmp_path / "Other.HTM", ARTICLE)
    write(tmp_path / "Other_files" / "script.html", "<html><body>Tracking</body></html>")
    write(tmp_path / "notes_files" / "kept.txt", ARTICLE)  # no notes.html beside it: an ordinary folder
    found, skipped = walk(tmp_path)
    assert [f.article_id for f in found] == ["Other", "story", "notes_files/kept"]
    assert [(Path(s.where).name, s.reason) for s in skipped] == [
        ("story_files", "the images and scripts of the saved page story.html (not articles)"),
        ("Other_files", "the images and scripts of the saved page Other.HTM (not articles)")]


def test_extensions_are_matched_case_insensitively(tmp_path: Path) -> None:
    write(tmp_path / "A.TXT", ARTICLE)
    write(tmp_path / "B.Html", ARTICLE)
    found, _ = walk(tmp_path)
    assert [f.article_id for f in found] == ["A", "B"]


def test_a_missing_path_is_reported(tmp_path: Path) -> None:
    found, skipped = walk(tmp_path / "nope")
    assert found == []
    assert [s.reason for s in skipped] == ["no such file or directory"]


@pytest.mark.timeout(20)
def test_a_symlink_loop_does_not_hang_and_each_file_is_found_once(tmp_path: Path) -> None:
    write(tmp_path / "a" / "one.txt", ARTICLE)
    write(tmp_path / "b" / "two.txt", ARTICLE)
    (tmp_path / "a" / "to-b").symlink_to(tmp_path / "b")
    (tmp_path / "b" / "to-a").symlink_to(tmp_path / "a")
    (tmp_path / "a" / "self").symlink_to(tmp_path / "a")
    found, skipped = walk(tmp_path)
    names = sorted(f.path.name for f in found)
    assert names == ["one.txt", "two.txt"]
    assert skipped and all("symlink loop" in s.reason for s in skipped)


@pytest.mark.timeout(20)
def test_a_deep_tree_does_not_hang_and_what_is_too_deep_is_reported(tmp_path: Path) -> None:
    folder = tmp_path
    for depth in range(1, 3 * MAX_DEPTH):
        folder = folder / f"d{depth}"
        if depth in (5, MAX_DEPTH, 2 * MAX_DEPTH):
            write(folder / "article.txt", ARTICLE)
    folder.mkdir(parents=True, exist_ok=True)
    found, skipped = walk(tmp_path)
    assert [f.article_id.count("/") for f in found] == [5, MAX_DEPTH]
    assert len(skipped) == 1
    assert f"nested deeper than {MAX_DEPTH} folders" in skipped[0].reason


def test_a_broken_symlink_is_reported(tmp_path: Path) -> None:
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    found, skipped = walk(tmp_path)
    assert found == []
    assert [s.reason for s in skipped] == ["broken symlink"]


@pytest.mark.timeout(20)
def test_a_named_pipe_is_reported_not_read(tmp_path: Path) -> None:
    """Reading a FIFO with an article's name would block the build forever."""
    os.mkfifo(tmp_path / "pipe.txt")
    for root in (tmp_path, tmp_path / "pipe.txt"):
        found, skipped = walk(root)
        assert found == []
        assert [s.reason for s in skipped] == ["not a regular file"]


def test_folders_passed_as_ignore_are_not_walked(tmp_path: Path) -> None:
    write(tmp_path / "a.txt", ARTICLE)
    write(tmp_path / "var" / "index" / "manifest.json", "{}")
    items = list(discover([tmp_path], ignore=(tmp_path / "var" / "index",)))
    assert [(type(i).__name__, i.article_id) for i in items] == [("Found", "a")]


# --- a build over a folder with good and bad files -----------------------------------------------------

def test_good_files_of_every_format_are_indexed_beside_bad_ones(mixed_build: MixedBuild) -> None:
    reader = IndexReader(mixed_build.index_dir)
    try:
        indexed = {a.article_id for a in reader.articles(limit=1000)}
    finally:
        reader.close()
    assert indexed == mixed_build.expected_ids
    assert mixed_build.summary.counts["articles"] == len(mixed_build.expected_ids)


@pytest.mark.parametrize("where, reason", [
    ("bad/empty.txt", "empty file"),
    ("bad/image.txt", "binary"),
    ("bad/notes.docx", "unsupported file type '.docx'"),
    ("bad/broken.json", "invalid JSON"),
    ("bad/dangling.txt", "broken symlink"),
    ("bad/locked.txt", "cannot read file (Permission denied)"),
    ("feeds/batch.jsonl:2", "invalid JSON"),
    ("feeds/batch.jsonl:3", 'no "paragraphs"'),
    ("feeds/batch.jsonl:5", "duplicate article id 'feed-1'"),
])
def test_each_bad_file_is_in_the_summary_with_its_reason(mixed_build: MixedBuild, where: str,
                                                         reason: str) -> None:
    assert reason in mixed_build.skipped_reason(where)


@pytest.mark.timeout(60)
def test_a_named_pipe_among_the_articles_does_not_block_the_build(tmp_path: Path, build: Build) -> None:
    write(tmp_path / "articles" / "story.txt", ARTICLE)
    os.mkfifo(tmp_path / "articles" / "pipe.txt")
    summary = build([tmp_path / "articles"], tmp_path / "index")
    assert summary.counts["articles"] == 1
    assert [(Path(s.where).name, s.reason) for s in summary.skipped] == [("pipe.txt", "not a regular file")]


def test_hidden_files_are_neither_indexed_nor_reported(mixed_build: MixedBuild) -> None:
    assert not any("/." in s.where for s in mixed_build.summary.skipped)
    assert not any("hidden" in i or "draft" in i or "git" in i for i in mixed_build.expected_ids)


def test_nothing_is_skipped_without_a_reason(mixed_build: MixedBuild) -> None:
    assert mixed_build.summary.skipped
    assert all(s.where and s.reason for s in mixed_build.summary.skipped)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 file anyway, so the corpus has none "
                                              "when run as root (bad/locked.txt covers a failing read)")
def test_a_chmod_000_file_is_skipped_with_a_reason(mixed_build: MixedBuild) -> None:
    assert "cannot read file" in mixed_build.skipped_reason("bad/unreadable.txt")
