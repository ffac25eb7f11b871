"""Rebuild under traffic, on a real `qa serve` over loopback: clients keep asking while `qa index build`
replaces the index with a different corpus. No request fails, and the new index answers within seconds of
the build finishing. A build killed with SIGKILL half-way leaves the old index serving; the next build
removes the leftovers and succeeds. (slow: each builds a real index with the real model)"""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path

import pytest

from index.store import Manifest
from tests.hardening.support import (
    NewsArticle,
    Server,
    Traffic,
    background_load,
    news_articles,
    request,
    run_build,
    run_build_command,
    start_build,
    wait_for,
    warm_up,
    write_news_corpus,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CLIENTS = 6
SWAP_SECONDS = 30.0  # the server polls the manifest every second (QA_RELOAD_CHECK_SECONDS default) and swaps in
# about 1 s (BENCHMARKS.md): 30 s leaves room for a loaded 2-core machine; the swap time is recorded, not asserted
FRESH = NewsArticle(
    "fresh/lighthouse", "Skerryvane lighthouse keeper retires after 41 years",
    ["Margaret Tull retired on Sunday after 41 years as keeper of the Skerryvane light.",
     "She said the hardest winter was 1987, when supply boats could not land for six weeks."],
    "How many years was Margaret Tull keeper of the Skerryvane light?", "41 years")


def status_of(server: Server, path: str) -> int:
    return request(server.port, "GET", path, timeout=10)[0]


def generation(server: Server) -> str:
    status, _, body = request(server.port, "GET", "/healthz", timeout=10)
    assert status == 200
    return json.loads(body)["index"]["generation"]


def assert_answers_from_the_fresh_article(server: Server) -> None:
    status, _, body = request(server.port, "POST", "/api/ask", {"question": FRESH.question})
    assert status == 200
    answer = json.loads(body)
    assert answer["citations"][0]["article_id"] == FRESH.article_id, answer
    assert FRESH.answer in (answer["answer"] or ""), answer


@pytest.fixture
def old_index(news_index: Path, tmp_path: Path) -> Path:
    """A copy of the 40-article news index that this test may replace."""
    target = tmp_path / "index"
    shutil.copytree(news_index, target, symlinks=True)
    return target


@pytest.fixture
def kept(news: list[NewsArticle]) -> list[NewsArticle]:
    """The articles in both the old and the next corpus: every one but the last. Traffic asks about these only,
    so a 404 for an article the next build removed is not counted as a failure."""
    return news[:-1]


@pytest.fixture
def new_corpus(kept: list[NewsArticle], tmp_path: Path) -> Path:
    """The same 40 articles minus the last one, plus one new article."""
    return write_news_corpus(tmp_path / "new-corpus", [*kept, FRESH])


def test_clients_keep_being_answered_while_the_index_is_rebuilt_and_the_new_one_answers_within_seconds(
        old_index: Path, new_corpus: Path, news: list[NewsArticle], kept: list[NewsArticle], tmp_path: Path,
        record_property):
    with Server(old_index, tmp_path / "serve.log") as server:
        warm_up(server.port, news)
        before = generation(server)
        assert status_of(server, f"/api/articles/{FRESH.article_id}") == 404
        with background_load(server.port, CLIENTS, lambda k: Traffic(kept, seed=300 + k),
                             process=server.process) as reports:
            time.sleep(2)
            build = start_build([new_corpus], old_index, tmp_path / "build.log")
            try:
                assert build.wait(timeout=240) == 0, (tmp_path / "build.log").read_text()
            finally:
                if build.poll() is None:
                    build.kill()
                    build.wait()
            built = time.monotonic()
            wait_for(lambda: status_of(server, f"/api/articles/{FRESH.article_id}") == 200, SWAP_SECONDS,
                     what="the new article to be served")
            swap = time.monotonic() - built
            time.sleep(2)  # and traffic goes on against the new index
        (report,) = reports
        summary = report.summary()
        record_property("rebuild_under_traffic", {**summary, "swap_seconds": round(swap, 2)})
        print(f"rebuild under traffic: {summary}; new index served {swap:.2f} s after the build ended")
        failures = report.failures()
        assert not failures, (len(failures), failures[:3])
        assert summary["requests"] > 50
        assert generation(server) != before
        assert_answers_from_the_fresh_article(server)
        assert status_of(server, f"/api/articles/{news[-1].article_id}") == 404
        assert server.stop() == 0
    assert "Traceback" not in server.output()
    assert [p.name for p in old_index.glob("gen-*")] == [Manifest.read(old_index).generation]


def test_a_build_killed_half_way_leaves_the_old_index_serving_and_the_next_build_cleans_up(
        old_index: Path, new_corpus: Path, news: list[NewsArticle], kept: list[NewsArticle], tmp_path: Path,
        record_property):
    big_corpus = write_news_corpus(tmp_path / "big-corpus", news_articles(400, seed=11, prefix="big"))
    with Server(old_index, tmp_path / "serve.log") as server:
        warm_up(server.port, news)
        before = generation(server)
        with background_load(server.port, CLIENTS, lambda k: Traffic(kept, seed=400 + k)) as reports:
            build = start_build([big_corpus], old_index, tmp_path / "killed-build.log")
            try:
                # half-way: the new generation is on disk and its first passages are embedded and stored
                wait_for(lambda: any(p.stat().st_size > 0 for p in old_index.glob("gen-*.tmp/sentences.f16"))
                         or build.poll() is not None, 180, what="the build to be half-way")
                assert build.poll() is None, "the build ended before it could be killed"
                build.send_signal(signal.SIGKILL)
                assert build.wait(timeout=30) == -signal.SIGKILL
            finally:
                if build.poll() is None:
                    build.kill()
                    build.wait()
            (leftover,) = old_index.glob("gen-*.tmp")
            time.sleep(3)  # the server polls the directory meanwhile: it must go on with the old index
            assert generation(server) == before
            assert Manifest.read(old_index).generation == before

            result = run_build([new_corpus], old_index, timeout=240)
            assert result.returncode == 0, result.stderr
            assert not leftover.exists()
            wait_for(lambda: status_of(server, f"/api/articles/{FRESH.article_id}") == 200, SWAP_SECONDS,
                     what="the next build's index to be served")
        (report,) = reports
        record_property("killed_build_under_traffic", report.summary())
        failures = report.failures()
        assert not failures, (len(failures), failures[:3])
        assert_answers_from_the_fresh_article(server)
        assert server.stop() == 0
    assert not list(old_index.glob("*.tmp")) and not list(old_index.glob(".*.tmp"))
    assert [p.name for p in old_index.glob("gen-*")] == [Manifest.read(old_index).generation]


def settled_fds(server: Server) -> int:
    """The server's open files, read after a pause: a client socket it is closing or the manifest its reload
    check has open for a moment would otherwise count."""
    time.sleep(0.2)
    return server.process.num_fds()


def test_repeated_rebuilds_do_not_grow_the_servers_memory_or_open_files(old_index: Path, news_corpus: Path,
                                                                         news: list[NewsArticle], tmp_path: Path,
                                                                         record_property):
    """Eight swaps (fake-encoder builds of the same corpus: the server loads them like any other). Each loads
    a whole new index (SQLite, FAISS, BM25, an ONNX session) beside the old one; once the old one is gone,
    its memory must be returned, not kept by the allocator (without that: +100 MB over eight swaps), and
    its files closed."""
    with Server(old_index, tmp_path / "serve.log") as server:
        warm_up(server.port, news)
        rss, fds = [], []
        for _ in range(8):
            before = generation(server)
            result = run_build([news_corpus], old_index, fake_encoder=True, timeout=120)
            assert result.returncode == 0, result.stderr
            wait_for(lambda: generation(server) != before, SWAP_SECONDS, what="the swap")  # noqa: B023
            warm_up(server.port, news, n=3)
            rss.append(server.rss() >> 20)
            fds.append(min(settled_fds(server) for _ in range(3)))
        record_property("rss_mb_after_each_swap", rss)
        print(f"server RSS after each swap (MB): {rss}; open fds: {fds}")
        assert max(rss) - rss[0] < 40, rss
        assert max(fds) - min(fds) <= 2, fds
        assert server.stop() == 0


def own_question_answered(server: Server, articles: list[NewsArticle]) -> set[str]:
    """The ids of the articles whose own question is answered from them (first citation)."""
    hits = set()
    for article in articles:
        status, _, body = request(server.port, "POST", "/api/ask", {"question": article.question})
        assert status == 200
        if json.loads(body)["citations"][0]["article_id"] == article.article_id:
            hits.add(article.article_id)
    return hits


def test_incremental_add_and_remove_under_traffic_lose_no_result(old_index: Path, news: list[NewsArticle],
                                                                 kept: list[NewsArticle], tmp_path: Path,
                                                                 record_property):
    """`qa index add` and `qa index remove` while clients ask (incremental FAISS updates are where Haystack
    lost results): no request fails, the change is served within seconds, and every article that was
    answerable before still is."""
    (removed,) = [a for a in news if a not in kept]
    added = write_news_corpus(tmp_path / "added", [FRESH])
    with Server(old_index, tmp_path / "serve.log") as server:
        warm_up(server.port, news)
        answerable = own_question_answered(server, news)
        assert len(answerable) > len(news) * 0.8, sorted(answerable)
        with background_load(server.port, CLIENTS, lambda k: Traffic(kept, seed=500 + k)) as reports:
            time.sleep(1)
            result = run_build_command(["index", "add", str(added), "--index-dir", str(old_index)])
            assert result.returncode == 0, result.stderr
            wait_for(lambda: status_of(server, f"/api/articles/{FRESH.article_id}") == 200, SWAP_SECONDS,
                     what="the added article to be served")
            result = run_build_command(["index", "remove", removed.article_id, "--index-dir", str(old_index)])
            assert result.returncode == 0, result.stderr
            wait_for(lambda: status_of(server, f"/api/articles/{removed.article_id}") == 404, SWAP_SECONDS,
                     what="the removed article to be gone")
            time.sleep(1)
        (report,) = reports
        record_property("incremental_under_traffic", report.summary())
        failures = report.failures()
        assert not failures, (len(failures), failures[:3])
        assert_answers_from_the_fresh_article(server)
        still = own_question_answered(server, kept)
        assert answerable - {removed.article_id} <= still, sorted(answerable - {removed.article_id} - still)
        assert server.stop() == 0
    assert "Traceback" not in server.output()
