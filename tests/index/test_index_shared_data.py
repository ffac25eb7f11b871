"""The real corpora in ../shared/data parse completely, by the conventions their evaluation sets use.

Parsing only: building the full bbc-news index takes minutes and is not a unit test.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from index.discover import discover
from index.formats import read_file
from index.types import Article, Skipped
from tests.index.index_corpus import REPO

pytestmark = pytest.mark.shared_data


def parse_all(root: Path) -> tuple[dict[str, Article], list[Skipped]]:
    articles: dict[str, Article] = {}
    skipped: list[Skipped] = []
    for item in discover([root]):
        if isinstance(item, Skipped):
            skipped.append(item)
            continue
        for result in read_file(item.path, item.article_id, item.path.read_bytes()):
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                assert result.article_id not in articles, result.article_id
                articles[result.article_id] = result
    return articles, skipped


@pytest.fixture(scope="module")
def bbc(shared_dir: Path) -> tuple[Path, dict[str, Article], list[Skipped]]:
    root = shared_dir / "data" / "bbc-news"
    return root, *parse_all(root)


def test_all_2225_bbc_articles_parse_and_none_is_skipped(bbc) -> None:
    _, articles, skipped = bbc
    assert skipped == []
    assert len(articles) == 2225
    assert Counter(i.split("/")[0] for i in articles) == {
        "business": 510, "entertainment": 386, "politics": 417, "sport": 511, "tech": 401}
    assert "business/001" in articles


def test_bbc_sport_199_is_decoded_with_its_pound_sign(bbc) -> None:
    _, articles, _ = bbc
    article = articles["sport/199"]
    assert article.title == "Chelsea sack Mutu"
    assert "£15.8m" in " ".join(article.paragraphs)
    assert "\ufffd" not in " ".join(article.paragraphs)


def test_bbc_paragraphs_follow_the_corpus_convention(bbc) -> None:
    """PROVENANCE: headline excluded, paragraphs split on blank lines, empty ones dropped; no metadata."""
    root, articles, _ = bbc
    wrong = []
    for article_id, article in articles.items():
        data = (root / f"{article_id}.txt").read_bytes()
        text = data.decode("utf-8" if article_id != "sport/199" else "cp1252")
        headline, _, body = text.strip().partition("\n")
        expected = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip()]
        if list(article.paragraphs) != expected or article.title != " ".join(headline.split()):
            wrong.append(article_id)
        if article.byline or article.date or article.url:
            wrong.append(article_id)
    assert wrong == []


def assert_answer_offsets_hold(questions: Path, articles: dict) -> int:
    """Every answerable question's answers slice out of its gold paragraph; returns how many were checked."""
    checked = 0
    for line in questions.read_text().splitlines():
        q = json.loads(line)
        if q["is_impossible"]:
            continue
        paragraph = articles[q["article_id"]].paragraphs[q["paragraph_index"]]
        for answer, start in zip(q["answers"], q["answer_starts"], strict=True):
            assert paragraph[start:start + len(answer)] == answer, q["id"]
        checked += 1
    return checked


@pytest.mark.parametrize("dataset, articles_count, paragraphs_count", [
    ("squad-v1.1-dev", 48, 2067), ("squad-v2.0-dev", 35, 1204)])
def test_squad_articles_keep_paragraphs_verbatim_so_answer_offsets_hold(
        shared_dir: Path, dataset: str, articles_count: int, paragraphs_count: int) -> None:
    folder = shared_dir / "data" / dataset
    articles, skipped = parse_all(folder / "articles.jsonl")
    assert skipped == []
    assert len(articles) == articles_count
    assert sum(len(a.paragraphs) for a in articles.values()) == paragraphs_count
    assert_answer_offsets_hold(folder / "questions.jsonl", articles)


def test_bbc_question_sets_point_at_the_parsed_paragraphs(bbc) -> None:
    """benchmarks/data's gold paragraph indexes and answer offsets hold in the paragraphs the parser gives."""
    _, articles, _ = bbc
    data = REPO / "benchmarks" / "data"
    checked = assert_answer_offsets_hold(data / "bbc-questions" / "questions.jsonl", articles)
    for conversations in ("bbc-followups", "bbc-followups-heldout"):
        for line in (data / conversations / "conversations.jsonl").read_text().splitlines():
            for turn in json.loads(line)["turns"]:
                paragraph = articles[turn["article_id"]].paragraphs[turn["paragraph_index"]]
                assert all(answer in paragraph for answer in turn["answers"]), turn["question"]
                checked += 1
    assert checked == 150 + 111 + 140
