"""Load shedding (503 + Retry-After beyond max_concurrent_requests), the answer time limit, and a fuzz of
/api/ask bodies that must only ever give 200 or 422."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.settings import Settings
from qa.types import Answer


class BlockingAnswerer:
    """Stands in for the real answerer where only timing matters: `ask` blocks until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)
        manifest = SimpleNamespace(model="stub", dimension=1, counts={}, built_at="", generation="g")
        self.index = SimpleNamespace(reader=SimpleNamespace(manifest=manifest))

    def reload_if_changed(self) -> bool:
        return False

    def ask(self, question: str, session_id: str | None = None, top_k: int | None = None) -> Answer:
        self.entered.release()
        self.release.wait(10)
        return Answer(False, None, None, 0.0, (), session_id or "s1", 1.0)


def test_requests_beyond_the_concurrency_limit_are_shed_with_503_and_retry_after(tmp_path: Path, app_client):
    answerer = BlockingAnswerer()
    config = Settings(index_dir=tmp_path / "none", max_concurrent_requests=2, request_timeout_seconds=20)
    with app_client(config, answerer) as c:
        results: list[int] = []

        def ask() -> None:
            results.append(c.post("/api/ask", json={"question": "Who?"}).status_code)

        threads = [threading.Thread(target=ask) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            for _ in threads:
                assert answerer.entered.acquire(timeout=10)
            shed = c.post("/api/ask", json={"question": "Who?"})
            assert shed.status_code == 503
            assert shed.headers["retry-after"] == "1"
            assert "busy" in shed.json()["detail"]
            assert c.get("/healthz").status_code == 200  # health checks and static files are never shed
            assert c.get("/static/style.css").status_code == 200
        finally:
            answerer.release.set()
            for t in threads:
                t.join()
        assert results == [200, 200]
        assert c.post("/api/ask", json={"question": "Who?"}).status_code == 200


def test_an_answer_that_takes_too_long_is_a_503_not_a_hang(tmp_path: Path, app_client):
    answerer = BlockingAnswerer()
    config = Settings(index_dir=tmp_path / "none", request_timeout_seconds=0.3)
    with app_client(config, answerer) as c:
        try:
            r = c.post("/api/ask", json={"question": "Who?"})
        finally:
            answerer.release.set()
        assert r.status_code == 503
        assert "longer than 0.3 s" in r.json()["detail"]
        assert r.headers["retry-after"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
QUESTIONS = st.text(min_size=0, max_size=1200) | st.sampled_from(
    ["How many?", " ", "\x00", "<script>alert(1)</script>", "é" * 1000, "🙂 who?", "\u202e?", "a\r\nb"])
BODIES = st.fixed_dictionaries(
    {"question": QUESTIONS | JSON_VALUES},
    optional={"session_id": st.none() | st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True) | JSON_VALUES,
              "top_k": st.none() | st.integers(-3, 14) | JSON_VALUES,
              "other": JSON_VALUES},
) | JSON_VALUES


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(body=BODIES)
def test_any_json_body_gets_an_answer_or_a_422_never_a_500(client, body):
    r = client.post("/api/ask", content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code in (200, 422), (body, r.status_code, r.text[:300])
    assert r.json()
