"""The HTTP API as the contract states it: /api/ask, /api/articles, /api/articles/{id}, /healthz, /docs."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.web.web_corpus import EVIL_ID, EVIL_PARAGRAPHS, PLAIN_ID, SEED_ANSWER, SEED_ID, SEED_QUESTION

CITATION_FIELDS = {"n": int, "article_id": str, "title": str, "paragraph_index": int, "text": str,
                   "start": int, "end": int, "score": float}


def check_answer_shape(body: dict) -> None:
    assert set(body) == {"found", "answer", "short_answer", "confidence", "citations", "session_id",
                         "took_ms"}
    assert isinstance(body["found"], bool)
    assert isinstance(body["confidence"], float) and 0.0 <= body["confidence"] <= 1.0
    assert isinstance(body["session_id"], str) and body["session_id"]
    assert isinstance(body["took_ms"], float)
    assert isinstance(body["citations"], list) and body["citations"]
    for n, c in enumerate(body["citations"], start=1):
        assert set(c) == {*CITATION_FIELDS, "url", "date"}  # "date": added to the contract's fields
        for name, kind in CITATION_FIELDS.items():
            assert isinstance(c[name], kind), (name, c[name])
        assert c["url"] is None or isinstance(c["url"], str)
        assert c["date"] is None or isinstance(c["date"], str)
        assert c["n"] == n
        assert 0 <= c["start"] < c["end"] <= len(c["text"])
    if body["found"]:
        assert isinstance(body["answer"], str)
        assert body["citations"][0]["text"][body["citations"][0]["start"]:body["citations"][0]["end"]] \
            == body["answer"]
        if body["short_answer"] is not None:
            assert body["short_answer"] in body["answer"]
    else:
        assert body["answer"] is None


def test_the_seed_question_is_answered_with_its_figure_and_a_citation_of_the_seed_article(client):
    r = client.post("/api/ask", json={"question": SEED_QUESTION})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    check_answer_shape(body)
    assert body["found"] is True
    assert SEED_ANSWER in body["answer"]
    first = body["citations"][0]
    assert first["article_id"] == SEED_ID
    assert first["text"][first["start"]:first["end"]] == body["answer"]
    assert first["url"].startswith("https://www.themoscowtimes.com/")


def test_a_question_the_articles_do_not_answer_still_returns_the_contract_shape(client):
    r = client.post("/api/ask", json={"question": "Who painted the ceiling of the Sistine Chapel?"})
    assert r.status_code == 200
    check_answer_shape(r.json())


def test_top_k_bounds_the_number_of_citations(client):
    one = client.post("/api/ask", json={"question": SEED_QUESTION, "top_k": 1}).json()
    assert len(one["citations"]) == 1
    many = client.post("/api/ask", json={"question": SEED_QUESTION, "top_k": 10, "session_id": None}).json()
    assert 1 <= len(many["citations"]) <= 10


def test_a_follow_up_in_the_same_session_keeps_its_session_id(client):
    first = client.post("/api/ask", json={"question": SEED_QUESTION}).json()
    follow = client.post("/api/ask", json={"question": "What weapons has the North supplied to them?",
                                           "session_id": first["session_id"]})
    assert follow.status_code == 200
    check_answer_shape(follow.json())
    assert follow.json()["session_id"] == first["session_id"]
    fresh = client.post("/api/ask", json={"question": SEED_QUESTION}).json()
    assert fresh["session_id"] != first["session_id"]


TOO_LONG = "x" * 1001
BAD_REQUESTS = [
    # (case, body bytes, content type, status, a word the detail must contain)
    ("invalid JSON", b'{"question": ', "application/json", 422, "JSON"),
    ("JSON array", b'["How many?"]', "application/json", 422, "object"),
    ("JSON string", b'"How many?"', "application/json", 422, "object"),
    ("JSON null", b"null", "application/json", 422, "object"),
    ("empty body", b"", "application/json", 422, "question"),
    ("missing question", b'{"session_id": "abc"}', "application/json", 422, "question"),
    ("question null", b'{"question": null}', "application/json", 422, "question"),
    ("empty question", b'{"question": ""}', "application/json", 422, "question"),
    ("blank question", b'{"question": " \\n\\t "}', "application/json", 422, "blank"),
    ("question a number", b'{"question": 42}', "application/json", 422, "string"),
    ("question a list", b'{"question": ["a"]}', "application/json", 422, "string"),
    ("question an object", b'{"question": {"q": "a"}}', "application/json", 422, "string"),
    ("question too long", json.dumps({"question": TOO_LONG}).encode(), "application/json", 422, "1000"),
    ("lone surrogate", b'{"question": "\\ud800 casualties"}', "application/json", 422, "question"),
    ("not UTF-8", '{"question": "caf\u00e9 prices?"}'.encode("latin-1"), "application/json", 422, "UTF-8"),
    ("session_id a number", b'{"question": "Why?", "session_id": 7}', "application/json", 422, "session_id"),
    ("session_id bad chars", b'{"question": "Why?", "session_id": "a b/c"}', "application/json", 422,
     "session_id"),
    ("session_id too long", json.dumps({"question": "Why?", "session_id": "a" * 129}).encode(),
     "application/json", 422, "session_id"),
    ("session_id empty", b'{"question": "Why?", "session_id": ""}', "application/json", 422, "session_id"),
    ("top_k zero", b'{"question": "Why?", "top_k": 0}', "application/json", 422, "top_k"),
    ("top_k eleven", b'{"question": "Why?", "top_k": 11}', "application/json", 422, "top_k"),
    ("top_k a string", b'{"question": "Why?", "top_k": "3"}', "application/json", 422, "top_k"),
    ("top_k a float", b'{"question": "Why?", "top_k": 2.5}', "application/json", 422, "top_k"),
    ("top_k a bool", b'{"question": "Why?", "top_k": true}', "application/json", 422, "top_k"),
    ("unknown field", b'{"question": "Why?", "topk": 3}', "application/json", 422, "topk"),
    ("unknown field, odd type", b'{"question": "Why?", "extra": {"a": [1, 2]}}', "application/json", 422,
     "extra"),
    ("form body", b"question=Why%3F", "application/x-www-form-urlencoded", 422, "JSON"),
    ("text body", b'{"question": "Why?"}', "text/plain", 422, "JSON"),
    ("body too large", json.dumps({"question": "x" * 20_000}).encode(), "application/json", 413, "larger"),
    ("integer of 5000 digits", b'{"question": "Why?", "top_k": ' + b"9" * 5000 + b"}", "application/json", 422,
     "JSON"),
    ("arrays nested 5000 deep", b"[" * 5000 + b"]" * 5000, "application/json", 422, "nested"),
]


@pytest.mark.parametrize(("case", "body", "content_type", "status", "word"), BAD_REQUESTS,
                         ids=[case[0] for case in BAD_REQUESTS])
def test_every_bad_request_gets_a_4xx_json_detail(client, case, body, content_type, status, word):
    r = client.post("/api/ask", content=body, headers={"Content-Type": content_type})
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    detail = r.json()["detail"]
    assert detail
    assert word.lower() in json.dumps(detail).lower(), detail


def test_a_repeated_content_type_is_read_as_the_app_reads_it_the_first_one(client):
    body = '{"question": "caf\u00e9 prices?"}'.encode("latin-1")
    r = client.post("/api/ask", content=body,
                    headers=[("Content-Type", "application/json"), ("Content-Type", "text/plain")])
    assert r.status_code == 422 and "UTF-8" in json.dumps(r.json()["detail"])


@pytest.mark.parametrize("path", ["/healthz", "/api/articles", f"/api/articles/{SEED_ID}", "/", f"/articles/{SEED_ID}"])
def test_every_get_route_answers_head_too(client, path):
    assert client.head(path).status_code == client.get(path).status_code == 200


def test_a_body_over_the_limit_is_refused_without_a_content_length(client):
    def chunks():
        for _ in range(40):
            yield b"x" * 1024

    r = client.post("/api/ask", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert "larger" in r.json()["detail"]


def test_a_lying_content_length_is_refused(client):
    r = client.post("/api/ask", content=b'{"question": "Why?"}',
                    headers={"Content-Type": "application/json", "Content-Length": "99999999"})
    assert r.status_code == 413


def test_wrong_methods_and_unknown_paths_are_json_4xx(client):
    assert client.get("/api/ask").status_code == 405
    r = client.get("/api/nothing-here")
    assert r.status_code == 404 and r.json()["detail"]


def test_articles_are_listed_with_their_metadata(client):
    r = client.get("/api/articles")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1 and body["offset"] == 0
    (article,) = body["articles"]
    assert article["article_id"] == SEED_ID
    assert article["title"].startswith("North Korean Soldiers Suffer 1,100 Casualties")
    assert article["paragraph_count"] > 3
    assert client.get("/api/articles", params={"offset": 1}).json()["articles"] == []
    assert client.get("/api/articles", params={"limit": 0}).status_code == 422
    assert client.get("/api/articles", params={"offset": "x"}).status_code == 422


def test_an_article_with_a_slash_in_its_id_is_served_with_its_paragraphs(hostile_client):
    r = hostile_client.get(f"/api/articles/{EVIL_ID}")
    assert r.status_code == 200
    body = r.json()
    assert body["article_id"] == EVIL_ID
    assert body["paragraphs"] == EVIL_PARAGRAPHS
    assert body["paragraph_count"] == len(EVIL_PARAGRAPHS)
    assert hostile_client.get(f"/api/articles/{PLAIN_ID}").json()["url"] == "https://example.org/cider?a=1&b=2"
    listed = [a["article_id"] for a in hostile_client.get("/api/articles").json()["articles"]]
    assert listed == sorted([EVIL_ID, PLAIN_ID])


@pytest.mark.parametrize("article_id", ["nope", "evil", "evil/one/more", "evil%2Fone%2F..", "%00"])
def test_an_unknown_article_is_404(hostile_client, article_id):
    r = hostile_client.get(f"/api/articles/{article_id}")
    assert r.status_code == 404
    assert "no article" in r.json()["detail"]


def test_healthz_reports_the_index(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["index"]["counts"]["articles"] == 1
    assert body["index"]["model"] and body["index"]["dimension"] > 0
    assert body["index"]["built_at"] and body["index"]["generation"]
    assert body["uptime_seconds"] >= 0


def test_the_openapi_schema_documents_every_field(client):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    ask = components["AskRequest"]
    assert set(ask["properties"]) == {"question", "session_id", "top_k"}
    assert ask["required"] == ["question"]
    assert ask["properties"]["question"]["maxLength"] == 1000
    assert ask["additionalProperties"] is False
    for model in ("AskRequest", "AnswerModel", "CitationModel", "ArticleDetail", "Health"):
        for name, field in components[model]["properties"].items():
            if model in ("AskRequest", "AnswerModel", "CitationModel"):
                assert field.get("description"), f"{model}.{name} has no description"
    paths = schema["paths"]
    assert {"/api/ask", "/api/articles", "/api/articles/{article_id}", "/healthz"} <= set(paths)
    assert {"413", "422", "503"} <= set(paths["/api/ask"]["post"]["responses"])
    assert paths["/api/ask"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] \
        .endswith("/AnswerModel")


def test_docs_page_works_offline(client):
    r = client.get("/docs")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "/api/ask" in r.text and "session_id" in r.text and "AnswerModel" in r.text
    assert "cdn" not in r.text.lower() and "<script" not in r.text
    assert "`" not in r.text and "<code>text[start:end]</code>" in r.text, "the schema's `code` is shown as code"
    assert "≥ 1, ≤ 10" in r.text and "≥ 1.0" not in r.text, "whole-number limits read as whole numbers"


def test_each_endpoint_documents_the_errors_it_can_give(client):
    """A GET has no body: its 422 is about its query, and one without a query documents none of ours."""
    paths = client.get("/openapi.json").json()["paths"]
    assert "body" in paths["/api/ask"]["post"]["responses"]["422"]["description"]
    assert "offset" in paths["/api/articles"]["get"]["responses"]["422"]["description"]
    assert "body" not in paths["/api/articles/{article_id}"]["get"]["responses"].get("422", {}).get("description", "")


def test_a_token_when_configured_guards_the_api_but_not_the_pages(seed_settings, seed_answerer, app_client):
    settings = seed_settings.model_copy(update={"api_token": "s3cret-token"})
    with app_client(settings, seed_answerer) as c:
        denied = c.post("/api/ask", json={"question": SEED_QUESTION})
        assert denied.status_code == 401 and denied.json()["detail"]
        assert denied.headers["www-authenticate"] == "Bearer"
        wrong = c.get("/api/articles", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        ok = c.post("/api/ask", json={"question": SEED_QUESTION},
                    headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200
        assert c.get("/healthz").status_code == 200
        page = c.get("/")
        assert page.status_code == 200
        assert 'id="token-row" class="token-row" hidden' not in page.text


def test_no_response_leaks_the_question_back_into_a_422(client):
    r = client.post("/api/ask", json={"question": "<script>x</script>" * 100})
    assert r.status_code == 422
    assert "<script>" not in r.text


def test_api_responses_carry_no_store_and_security_headers(client):
    r = client.get("/api/articles")
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path", ["/api/ask", "/api/articles"])
def test_client_errors_never_become_500(client: TestClient, path):
    bodies = (b"\xff\xfe\x00", b"{" * 5000, b"[" * 3000 + b"]" * 3000, b'{"question": "' + b"\\" * 3 + b'"}')
    for body in bodies:
        r = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (body[:20], r.status_code, r.text[:200])
