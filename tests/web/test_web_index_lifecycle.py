"""A server with no index says how to build one and starts answering when one appears; a rebuilt index is
picked up without a restart, and answers keep flowing while it is built."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from qa.settings import Settings
from tests.web.web_corpus import BAKERY, LIGHTHOUSE, make_index, write_jsonl


def wait_for(predicate, timeout: float = 30.0, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")


def test_without_an_index_everything_answers_503_saying_to_run_qa_index_build_until_one_is_built(
        tmp_path: Path, app_client):
    settings = Settings(index_dir=tmp_path / "index", reload_check_seconds=0.1)
    with app_client(settings) as c:
        r = c.post("/api/ask", json={"question": "How many loaves a day?"})
        assert r.status_code == 503
        assert "qa index build" in r.json()["detail"]
        assert r.headers["retry-after"]
        for path in ("/api/articles", "/api/articles/town/bakery"):
            assert c.get(path).status_code == 503 and "qa index build" in c.get(path).json()["detail"]
        health = c.get("/healthz")
        assert health.status_code == 503 and health.json()["status"] == "no_index"
        page = c.get("/")
        assert page.status_code == 503 and "<code>qa index build PATH...</code>" in page.text
        assert 'id="question"' in page.text
        article = c.get("/articles/town/bakery")
        assert article.status_code == 503 and "<code>qa index build PATH...</code>" in article.text
        # a bad request is still a 422, not a 503: validation comes first
        assert c.post("/api/ask", json={"question": ""}).status_code == 422

        make_index([write_jsonl(tmp_path / "corpus" / "a.jsonl", [BAKERY])], settings.index_dir)
        wait_for(lambda: c.get("/healthz").status_code == 200)
        assert c.get("/api/articles").json()["articles"][0]["article_id"] == "town/bakery"
        r = c.post("/api/ask", json={"question": "How many loaves does the Mill Lane bakery bake a day?"})
        assert r.status_code == 200
        assert r.json()["citations"][0]["article_id"] == "town/bakery"
        assert c.get("/").status_code == 200


def test_a_rebuilt_index_is_picked_up_without_a_restart_while_answers_keep_flowing(tmp_path: Path,
                                                                                   app_client):
    index_dir = make_index([write_jsonl(tmp_path / "a" / "a.jsonl", [LIGHTHOUSE])], tmp_path / "index")
    settings = Settings(index_dir=index_dir, reload_check_seconds=0.1)
    with app_client(settings) as c:
        before = c.get("/healthz").json()["index"]["generation"]
        assert [a["article_id"] for a in c.get("/api/articles").json()["articles"]] == ["coast/lighthouse"]
        q = {"question": "How long was Margaret Tull keeper of the Skerryvane light?"}
        assert c.post("/api/ask", json=q).json()["citations"][0]["article_id"] == "coast/lighthouse"

        statuses: list[int] = []
        stop = threading.Event()

        def keep_asking() -> None:
            while not stop.is_set():
                statuses.append(c.post("/api/ask", json=q).status_code)

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            make_index([write_jsonl(tmp_path / "b" / "b.jsonl", [BAKERY])], index_dir)
            after = wait_for(lambda: (g := c.get("/healthz").json()["index"]["generation"]) != before and g)
        finally:
            stop.set()
            asker.join()
        assert statuses and set(statuses) == {200}

        assert after != before
        assert [a["article_id"] for a in c.get("/api/articles").json()["articles"]] == ["town/bakery"]
        assert c.get("/api/articles/coast/lighthouse").status_code == 404
        r = c.post("/api/ask", json={"question": "How many loaves does the Mill Lane bakery bake a day?"})
        assert r.status_code == 200
        assert r.json()["citations"][0]["article_id"] == "town/bakery"
        assert "Mill Lane" in c.get("/articles/town/bakery").text


def test_a_damaged_index_is_a_503_that_says_so_and_a_rebuild_recovers_it(tmp_path: Path, app_client):
    index_dir = make_index([write_jsonl(tmp_path / "a" / "a.jsonl", [BAKERY])], tmp_path / "index")
    (index_dir / "manifest.json").write_text("{not json")
    settings = Settings(index_dir=index_dir, reload_check_seconds=0.1)
    with app_client(settings) as c:
        r = c.post("/api/ask", json={"question": "How many loaves a day?"})
        assert r.status_code == 503 and r.headers["retry-after"]
        assert "could not be loaded" in r.json()["detail"] and "qa index build" in r.json()["detail"]
        assert "not json" not in r.json()["detail"]  # the reason is for the server log, not for clients
        health = c.get("/healthz")
        assert health.status_code == 503 and "could not be loaded" in health.json()["detail"]
        assert "could not be loaded" in c.get("/").text

        make_index([write_jsonl(tmp_path / "b" / "b.jsonl", [LIGHTHOUSE])], index_dir)
        wait_for(lambda: c.get("/healthz").status_code == 200)
        assert c.get("/api/articles").json()["articles"][0]["article_id"] == "coast/lighthouse"
