"""schemathesis against the app's own OpenAPI schema: generated requests to every operation (valid and
invalid ones), each response checked by schemathesis' checks: no 5xx, a documented status code, a
documented content type and headers, and a body that matches the documented schema. The app is the one
`qa serve` runs (guard middleware, error handlers) over the real news index, called in-process (ASGI).
Examples are bounded (a fixed budget per operation, derandomized) so the test takes seconds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from qa.answerer import Answerer
from qa.settings import Settings
from web.app import create_app

MAX_EXAMPLES = 60


OPERATIONS = [("POST", "/api/ask"), ("GET", "/api/articles"), ("GET", "/api/articles/{article_id}"),
              ("GET", "/healthz")]


@pytest.fixture(scope="module")
def api_schema(news_index: Path):
    config = Settings(index_dir=news_index)
    app = create_app(config, Answerer.load(config))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_fuzzed_operations_are_all_the_operations(api_schema):
    operations = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert operations == set(OPERATIONS)


# `schemathesis.pytest.from_fixture` needs a private attribute pytest 9 no longer has: the operations are
# parametrized here and each one's case strategy driven by hypothesis directly.
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda m: m.value)
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_every_operation_answers_generated_requests_as_its_schema_says(api_schema, method, path, mode):
    if mode is GenerationMode.NEGATIVE and path in ("/healthz", "/api/articles/{article_id}"):
        pytest.skip("no invalid input exists: no parameters, or any string is a well-formed article id")
    operation = api_schema[path][method]
    calls: list[int] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def fuzz(case) -> None:
        response = case.call_and_validate()
        calls.append(response.status_code)
        assert response.status_code < 500 or (response.status_code == 503 and "retry-after" in response.headers)

    fuzz()
    assert calls
    print(method, path, mode.value, sorted(Counter(calls).items()))


@pytest.mark.parametrize("token", [None, "s3cret"])
def test_the_schema_declares_the_bearer_token_and_its_401_exactly_when_one_is_required(token):
    schema = create_app(Settings(index_dir=Path("/nonexistent"), api_token=token)).openapi()
    for path, methods in schema["paths"].items():
        for operation in methods.values():
            guarded = bool(token) and path.startswith("/api/")
            assert bool(operation.get("security")) == guarded, (path, operation.get("security"))
            assert ("401" in operation["responses"]) == guarded, (path, sorted(operation["responses"]))
    assert bool(schema.get("components", {}).get("securitySchemes")) == bool(token)


def test_an_integral_number_is_an_integer_top_k_as_in_json_schema(api_schema):
    app = api_schema.app
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        for top_k, status in ((2.0, 200), (2, 200), (2.5, 422), ("2", 422), (True, 422), (11.0, 422)):
            r = client.post("/api/ask", json={"question": "Who opened the library?", "top_k": top_k})
            assert r.status_code == status, (top_k, r.text[:200])
            if status == 200:
                assert len(r.json()["citations"]) == 2
