"""Untrusted text and untrusted requests, against a real `qa serve` over loopback (paths are sent byte for
byte: an HTTP client library would normalise `..` away before the server ever saw it).

Article titles, text and metadata and questions are escaped on every page; pages carry a CSP and the usual
security headers; loading an index unpickles and evals nothing; article ids and static paths cannot reach
outside the index or the static folder; the server listens on loopback by default and warns when exposed
without a token; with QA_API_TOKEN set the API needs it and the pages do not."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from index.store import BM25_DIR, IndexMissingError, Manifest
from qa.answerer import Answerer
from qa.settings import Settings
from tests.hardening.support import (
    EVIL_ID,
    EVIL_QUESTION,
    REPO,
    TRAVERSAL,
    TRAVERSAL_ID,
    Server,
    child_env,
    request,
)
from web.app import create_app
from web.server import exposure_warning

SECRET_MARKERS = ("root:x:0:0", "BaseSettings", "class Settings", "import ", "def ")


class Elements(HTMLParser):
    """Every element of a page with its attributes."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def assert_no_injected_markup(html: str) -> None:
    """Nothing from an article became markup: scripts are ours (src under /static/), no element has an event
    handler, no link or frame goes to javascript:, and none of the tags the articles contain exists."""
    elements = Elements(html).elements
    for tag, attrs in elements:
        assert not [a for a in attrs if a.startswith("on")], (tag, attrs)
        for name in ("href", "src", "action", "formaction"):
            assert not (attrs.get(name) or "").strip().lower().startswith(("javascript:", "data:")), (tag, attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), attrs
    assert not {tag for tag, _ in elements} & {"img", "svg", "iframe", "b", "i", "object", "embed"}, elements
    assert "<script>alert" not in html
    assert re.search(r"<[a-zA-Z][^<>]*\son[a-z]+\s*=", html) is None  # no raw tag with an event handler
    assert "javascript:alert" not in [attrs.get("href") for _, attrs in elements]


def get(server: Server, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
    status, hdrs, body = request(server.port, "GET", path, headers=headers)
    return status, hdrs, body.decode("utf-8", "replace")


# ------------------------------------------------------------------------------------------------ escaping


def test_hostile_article_fields_are_escaped_on_the_article_page(live: Server):
    status, headers, html = get(live, f"/articles/{EVIL_ID}?p=0&start=0&end=60")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert_no_injected_markup(html)
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html  # shown, as text
    # a feed's paragraph holding formatting markup (`</a>`) loses its tags (`index.formats.jsonl`): not shown at all
    assert "Witnesses saw waves over the lamp posts" in html and "onerror=alert(2)" not in html
    assert "&lt;b onmouseover=alert(5)&gt;Reporter&lt;/b&gt;" in html and "&lt;svg onload=alert(6)&gt;" in html
    assert "javascript:alert(4)" not in html  # not kept as the url (`index.types.web_link`), so not shown
    marks = [attrs for tag, attrs in Elements(html).elements if tag == "mark"]
    assert len(marks) == 1


@pytest.mark.parametrize("path", [
    "/articles/%3Cscript%3Ealert(1)%3C/script%3E",
    "/articles/%22%3E%3Cimg%20src=x%20onerror=alert(1)%3E",
    "/articles/x?p=%3Cscript%3E&start=%22%3E&end=javascript:alert(1)",
    f"/articles/{EVIL_ID}?p=1&start=%3Cscript%3E&end=%22onmouseover=alert(1)",
    "/?q=%3Cscript%3Ealert(1)%3C/script%3E&session_id=%22%3E%3Cscript%3E",
])
def test_hostile_text_in_urls_is_never_reflected_as_markup(live: Server, path: str):
    status, headers, html = get(live, path)
    assert status in (200, 404), (path, status)
    assert headers["content-type"].startswith("text/html")
    assert_no_injected_markup(html)


def test_the_chat_page_escapes_titles_of_hostile_articles(live: Server):
    status, _, html = get(live, "/")
    assert status == 200
    assert_no_injected_markup(html)


def test_a_hostile_question_is_answered_as_json_data_never_as_markup(live: Server):
    status, headers, body = request(live.port, "POST", "/api/ask", {"question": EVIL_QUESTION})
    assert status == 200
    assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
    answer = json.loads(body)
    assert answer["citations"][0]["article_id"] == EVIL_ID
    assert "7 million pounds" in (answer["answer"] or ""), answer
    citation = answer["citations"][0]
    assert citation["text"][citation["start"]:citation["end"]] == answer["answer"]
    # a hostile question in a 422 is not echoed back either
    status, _, body = request(live.port, "POST", "/api/ask", {"question": EVIL_QUESTION * 200})
    assert status == 422 and b"<script>" not in body


def test_the_chat_script_only_ever_inserts_text():
    """The answers, citations and questions reach the page through chat.js alone: it must never parse text as
    HTML, and its only link is to our own article page, with the id percent-encoded."""
    for script in (REPO / "web" / "static").glob("*.js"):
        code = script.read_text()
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function",
                     "setTimeout(\"", "setTimeout('", "srcdoc", "DOMParser", "createContextualFragment"):
            assert sink not in code, (script.name, sink)
    chat = (REPO / "web" / "static" / "chat.js").read_text()
    assert chat.count(".href =") == 1 and 'return "/articles/" + id' in chat
    assert "segments.map(encodeURIComponent)" in chat and "encodeURIComponent(c.article_id)" in chat


# ------------------------------------------------------------------------------------------------- headers


@pytest.mark.parametrize("path", ["/", f"/articles/{EVIL_ID}", "/articles/no/such/thing", "/docs",
                                  "/no-such-page", "/static/style.css", "/api/articles", "/healthz"])
def test_every_response_carries_the_security_headers(live: Server, path: str):
    _, headers, _ = get(live, path)
    csp = headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["object-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "same-origin"
    assert "server" not in headers  # no version banner
    if path.startswith("/api/"):
        assert headers["cache-control"] == "no-store"


def test_the_docs_page_has_no_inline_script(live: Server):
    status, _, html = get(live, "/docs")
    assert status == 200
    assert all((attrs.get("src") or "").startswith("/static/") for tag, attrs in Elements(html).elements
               if tag == "script")


# ------------------------------------------------------------------------------------------ path traversal

TRAVERSALS = [
    "/api/articles/../../etc/passwd",
    "/api/articles/..%2F..%2F..%2Fetc%2Fpasswd",
    "/api/articles/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/api/articles/%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/api/articles/%252e%252e%252f%252e%252e%252fetc%252fpasswd",
    "/api/articles/..%5c..%5c..%5cqa%5csettings.py",
    "/api/articles//etc/passwd",
    "/api/articles/%2Fetc%2Fpasswd",
    "/api/articles/..%00/etc/passwd",
    "/api/articles/....//....//etc/passwd",
    "/articles/../../../etc/passwd",
    "/articles/%2e%2e/%2e%2e/%2e%2e/qa/settings",
    "/articles/%2e%2e%2f%2e%2e%2fqa%2fsettings.py",
    "/static/../qa/settings.py",
    "/static/../../qa/settings.py",
    "/static/%2e%2e/%2e%2e/qa/settings.py",
    "/static/..%2f..%2fqa%2fsettings.py",
    "/static/%2e%2e%2f%2e%2e%2fweb%2fapp.py",
    "/static/..%5c..%5cqa%5csettings.py",
    "/static//etc/passwd",
    "/static/%2Fetc%2Fpasswd",
    "/static/../../../../../../etc/passwd",
    "/static/....//....//etc/passwd",
    "/static/style.css/../../app.py",
    "/static/%00../app.py",
    "/../../etc/passwd",
    "/%2e%2e/%2e%2e/etc/passwd",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_out_of_the_index_or_the_static_folder_are_404_never_file_contents(live: Server, path: str):
    status, _, body = get(live, path)
    assert status in (400, 404), (path, status, body[:200])
    for marker in SECRET_MARKERS:
        assert marker not in body, (path, marker, body[:300])


def test_an_article_id_that_looks_like_a_path_is_only_a_key_into_the_index(live: Server):
    """An article may be called `../../etc/passwd`: it is served from the index, never from the file."""
    status, _, body = get(live, f"/api/articles/{TRAVERSAL_ID}")
    assert status == 200
    article = json.loads(body)
    assert article["article_id"] == TRAVERSAL_ID and article["paragraphs"] == TRAVERSAL["paragraphs"]
    status, _, html = get(live, f"/articles/{TRAVERSAL_ID}")
    assert status == 200 and TRAVERSAL["paragraphs"][0] in html and "root:x:0:0" not in html
    status, _, _ = get(live, "/api/articles/../secrets/passwords")  # one level less: no such article
    assert status == 404


# ------------------------------------------------------------------------------------- no pickle, no eval

AUDIT = textwrap.dedent("""
    import json, pickle, sys
    from pathlib import Path
    from qa.answerer import Answerer
    from qa.settings import Settings

    settings = Settings(index_dir=Path(sys.argv[1]))
    Answerer.load(settings).ask(sys.argv[2])  # once first: modules imported lazily are not the index's doing
    events, armed = [], False

    def hook(event, args):
        if not armed:
            return
        if event == "compile" and isinstance(args[0], bytes) and args[0].startswith(b"{'descr'"):
            return  # numpy reads a .npy header with ast.literal_eval: literals only
        if event in ("pickle.find_class", "exec", "compile", "marshal.loads", "marshal.load", "os.system",
                     "subprocess.Popen", "os.exec", "os.posix_spawn", "import"):
            events.append(f"{event} {args!r}"[:300])

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used")

    sys.addaudithook(hook)
    pickle.load = pickle.loads = pickle.Unpickler = refuse
    armed = True
    answer = Answerer.load(settings).ask(sys.argv[2])
    armed = False
    print(json.dumps({"events": events, "cited": len(answer.citations)}))
""")


def test_loading_an_index_and_answering_unpickles_evals_and_imports_nothing(news_index: Path, news):
    result = subprocess.run([sys.executable, "-c", AUDIT, str(news_index), news[0].question], cwd=REPO,
                            env=child_env(), capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["events"] == []
    assert report["cited"] > 0  # the whole path ran: retrieval, evidence, the reader (found or not)


def test_a_pickle_planted_in_an_index_is_refused_not_run(news_index: Path, tmp_path: Path):
    """An index file swapped for a pickle that would run a command when unpickled: loading fails, and the
    command never runs."""
    index_dir = tmp_path / "index"
    shutil.copytree(news_index, index_dir, symlinks=True)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    target = index_dir / Manifest.read(index_dir).generation / BM25_DIR / "data.csc.index.npy"
    np.save(target, np.array([Payload()], dtype=object), allow_pickle=True)
    with pytest.raises(IndexMissingError, match="damaged index files"):
        Answerer.load(Settings(index_dir=index_dir))
    assert not marker.exists()


def test_no_code_in_the_query_path_uses_pickle_or_eval():
    for folder in ("index", "qa", "web"):
        for source in (REPO / folder).rglob("*.py"):
            code = source.read_text()
            for pattern in ("import pickle", "from pickle", "pickle.load", "allow_pickle=True", "torch.load",
                            "joblib", "marshal", "shelve", "yaml.load("):
                assert pattern not in code, (source, pattern)
            assert re.search(r"(?<![\w.])(eval|exec)\(", code) is None, source  # model.eval() is no eval


# ----------------------------------------------------------------------------------- loopback and a token


def test_qa_serve_listens_on_loopback_only_by_default(live: Server):
    listening = [c.laddr for c in live.process.net_connections(kind="inet") if c.status == "LISTEN"]
    assert listening and {addr.ip for addr in listening} == {"127.0.0.1"}, listening
    assert Settings.model_fields["host"].default == "127.0.0.1"


def test_a_port_already_in_use_is_one_error_never_announced_as_serving(live: Server):
    """The 'serving ...' line is printed once the port is bound: a second server on the same port says only
    that it could not serve."""
    result = subprocess.run([sys.executable, "-m", "qa.cli", "serve", "--index-dir", str(live.index_dir),
                             "--port", str(live.port)], cwd=REPO, env=child_env(), capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode != 0
    assert f"could not serve on 127.0.0.1:{live.port}" in result.stderr
    assert "serving" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(("host", "token", "warned"), [
    ("127.0.0.1", None, False), ("localhost", None, False), ("::1", None, False), ("127.0.0.2", None, False),
    ("0.0.0.0", None, True), ("::", None, True), ("192.168.1.20", None, True), ("example.org", None, True),
    ("0.0.0.0", "s3cret", False),
])
def test_serving_off_loopback_without_a_token_warns(host: str, token: str | None, warned: bool):
    warning = exposure_warning(Settings(host=host, api_token=token))
    assert bool(warning) == warned
    if warning:
        assert host in warning and "QA_API_TOKEN" in warning


@pytest.fixture(scope="module")
def token_client(news_index: Path) -> Iterator[TestClient]:
    """The app as `qa serve` makes it, configured from the environment with QA_API_TOKEN set."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("QA_API_TOKEN", "correct-horse-battery")
        env.setenv("QA_INDEX_DIR", str(news_index))
        settings = Settings()
    assert settings.api_token == "correct-horse-battery"
    with TestClient(create_app(settings)) as client:
        yield client


API_CALLS = [("POST", "/api/ask", {"question": "How much will the Brackenport pier repairs cost?"}),
             ("GET", "/api/articles", None), ("GET", f"/api/articles/{EVIL_ID}", None)]


@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Bearer wrong",
                                           "Bearer correct-horse-batter", "Bearer correct-horse-battery2",
                                           "Basic Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5", "correct-horse-battery",
                                           "Token correct-horse-battery"])
def test_with_a_token_set_the_api_refuses_requests_without_it(token_client: TestClient, method, path, body,
                                                              authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    r = token_client.request(method, path, json=body, headers=headers)
    assert r.status_code == 401, (authorization, r.status_code, r.text[:200])
    assert r.headers["www-authenticate"] == "Bearer"
    assert "correct-horse" not in r.text


@pytest.mark.parametrize(("method", "path", "body"), API_CALLS)
def test_with_a_token_set_the_api_answers_with_it(token_client: TestClient, method, path, body):
    for scheme in ("Bearer", "bearer"):
        r = token_client.request(method, path, json=body,
                                 headers={"Authorization": f"{scheme} correct-horse-battery"})
        assert r.status_code == 200, (scheme, r.text[:200])


def test_with_a_token_set_a_bad_request_without_it_is_401_not_a_validation_report(token_client: TestClient):
    r = token_client.post("/api/ask", json={"question": "", "extra": 1})
    assert r.status_code == 401


def test_with_a_token_set_the_pages_still_work_and_offer_a_token_box(token_client: TestClient):
    for path in ("/", f"/articles/{EVIL_ID}", "/docs", "/healthz", "/static/chat.js"):
        assert token_client.get(path).status_code == 200, path
    assert 'id="token-row" class="token-row" hidden' not in token_client.get("/").text
