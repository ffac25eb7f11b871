"""The chat page and the article page: structure, the highlighted span, escaping, security headers."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.web.web_corpus import EVIL_ID, EVIL_PARAGRAPHS, PLAIN_ID, SEED_ID
from web.pages import TEMPLATES, code_spans, paragraph_views
from web.security import CONTENT_SECURITY_POLICY


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <mark> elements."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.marks: list[str] = []
        self._in_mark = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "mark":
            self._in_mark += 1
            self.marks.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "mark":
            self._in_mark -= 1

    def handle_data(self, data: str) -> None:
        if self._in_mark:
            self.marks[-1] += data

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def test_the_chat_page_has_a_labelled_question_box_a_live_region_and_its_assets(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = Tags(r.text)
    (box,) = page.find("textarea", id="question")
    assert box["maxlength"] == "1000"
    assert page.find("label", **{"for": "question"})
    (live,) = [a for t, a in page.tags if a.get("aria-live")]
    assert live["aria-live"] == "polite" and live["id"] == "conversation" and live["role"] == "log"
    assert page.find("button", id="new-conversation")
    assert page.find("button", id="send", type=None) or page.find("button", id="send")
    scripts = page.find("script")
    assert scripts and all(s.get("src", "").startswith("/static/") for s in scripts)
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", r.text) is None, "inline script"
    for asset in [s["src"] for s in scripts] + [a["href"] for a in page.find("link", rel="stylesheet")]:
        assert client.get(asset).status_code == 200


def test_the_empty_state_offers_example_questions_made_from_the_indexed_titles(client):
    page = Tags(client.get("/").text)
    assert page.find("section", id="empty")
    text = client.get("/").text
    examples = re.findall(r'<button type="button" class="example">([^<]+)</button>', text)
    assert 1 <= len(examples) <= 3
    assert examples[0] == "How many casualties did North Korean Soldiers suffer in Ukraine War?"
    assert all(q.endswith("?") for q in examples)


def test_the_article_page_marks_exactly_the_cited_span(client, seed_answerer):
    _, paragraphs = seed_answerer.index.reader.article(SEED_ID)
    text = paragraphs[2]
    start = text.index("1,100")
    end = start + len("1,100 casualties")
    r = client.get(f"/articles/{SEED_ID}", params={"p": 2, "start": start, "end": end})
    assert r.status_code == 200
    page = Tags(r.text)
    assert page.marks == ["1,100 casualties"]
    (target,) = page.find("p", id="p-2")
    assert "target" in (target["class"] or "")
    assert len(page.find("p", **{"class": "para"})) == len(paragraphs) - 1
    assert page.find("h1")
    assert target["data-n"] == "3", "paragraphs are numbered from 1, as the chat's source chips count them (¶ 3)"


@pytest.mark.parametrize(("role", "note"), [("answer", "quoted from here"), ("related", "related to your question"),
                                            ("closest", "came closest"), ("nonsense", None), (None, None)])
def test_the_article_page_says_what_the_passage_is_and_marks_the_short_answer(client, seed_answerer, role, note):
    _, paragraphs = seed_answerer.index.reader.article(SEED_ID)
    text = paragraphs[2]
    start, short = text.index("we assess"), text.index("1,100")
    query = {"p": 2, "start": start, "end": start + 120, "short_start": short, "short_end": short + 5}
    r = client.get(f"/articles/{SEED_ID}", params=query | ({"as": role} if role else {}))
    assert r.status_code == 200
    assert Tags(r.text).marks == [text[start:start + 120]]
    assert "<strong>1,100</strong>" in r.text
    assert (note in r.text) if note else 'class="role"' not in r.text
    assert ('<mark id="highlight" class="closest">' in r.text) == (role == "closest")


def test_a_short_answer_outside_the_mark_is_not_marked(client):
    r = client.get(f"/articles/{SEED_ID}", params={"p": 2, "start": 0, "end": 10, "short_start": 5, "short_end": 40})
    assert Tags(r.text).marks and "<strong>" not in r.text


def test_the_article_page_cites_the_answer_of_the_api(client):
    body = client.post("/api/ask", json={"question": "What has the North supplied to Russia?"}).json()
    c = body["citations"][0]
    r = client.get(f"/articles/{c['article_id']}", params={"p": c["paragraph_index"], "start": c["start"],
                                                            "end": c["end"]})
    assert Tags(r.text).marks == [c["text"][c["start"]:c["end"]]]


def test_a_question_about_the_article_links_to_its_marked_header(client):
    """"Who wrote this?" is answered from the byline: paragraph -1, the header line the page shows it in."""
    body = client.post("/api/ask", json={"question": "Who wrote the article?"}).json()
    c = body["citations"][0]
    assert body["found"] and body["short_answer"] == "AFP" and c["paragraph_index"] == -1
    r = client.get(f"/articles/{c['article_id']}", params={"p": -1, "start": c["start"], "end": c["end"]})
    page = Tags(r.text)
    assert page.marks == ["By AFP"]
    (header,) = page.find("p", id="p--1")
    assert "target" in header["class"] and "2024-12-23" in r.text


@pytest.mark.parametrize(("query", "marks"), [
    ("p=2&start=-5&end=3", ["\"Th"]),
    ("p=2&start=227&end=99999", ["statement."]),
    ("p=2&start=9&end=4", []),
    ("p=2", []),
    ("p=99&start=0&end=5", []),
    ("p=-2&start=0&end=5", []),
    ("p=--1&start=--1&end=5", []),
    ("p=%C2%B2&start=0&end=5", []),  # "²" is a digit to str.isdigit, not to int()
    ("p=abc&start=x&end=", []),
    ("start=0&end=5", []),
])
def test_bad_offsets_are_clamped_and_never_break_the_page(client, query, marks):
    r = client.get(f"/articles/{SEED_ID}?{query}")
    assert r.status_code == 200
    assert Tags(r.text).marks == marks


def test_hostile_article_text_is_escaped_and_a_javascript_url_is_not_a_link(hostile_client):
    r = hostile_client.get(f"/articles/{EVIL_ID}", params={"p": 1, "start": 15, "end": 44})
    assert r.status_code == 200
    html = r.text
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html and "<b>Jo</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    page = Tags(html)
    assert not page.find("img") and not page.find("b")
    assert [s["src"] for s in page.find("script")] == [s["src"] for s in page.find("script")
                                                      if s["src"].startswith("/static/")]
    assert page.marks == [EVIL_PARAGRAPHS[1][15:44]] == ["<script>alert(1)</script> rep"]
    assert all("javascript:" not in (a.get("href") or "") for a in page.find("a"))
    assert "javascript:alert(1)" not in html  # not kept as the article's url (`index.types.web_link`)
    assert hostile_client.get(f"/api/articles/{EVIL_ID}").json()["url"] is None


def test_an_http_url_becomes_a_link_to_the_original(hostile_client):
    page = Tags(hostile_client.get(f"/articles/{PLAIN_ID}").text)
    links = [a["href"] for a in page.find("a") if a.get("rel") and "noopener" in a["rel"]]
    assert links == ["https://example.org/cider?a=1&b=2"]


def test_paragraph_views_split_text_around_the_mark():
    views = paragraph_views(["abc", "hello world"], 1, 6, 11)
    assert (views[1].before, views[1].mark, views[1].after) == ("hello ", "world", "")
    assert views[0].before == "abc" and not views[0].target
    assert views[1].mark_parts == ("world", "", "")
    short = paragraph_views(["abc", "hello world"], 1, 0, 11, (6, 9))[1]
    assert short.mark_parts == ("hello ", "wor", "ld")


def test_an_unknown_article_page_is_a_404_page(client):
    r = client.get("/articles/no/such/article")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "no article" in r.text.lower() or "not found" in r.text.lower()
    assert "no/such/article" in r.text


def test_an_address_without_a_page_is_a_404_page_for_browsers_and_json_for_clients(client):
    page = client.get("/no-such-page", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text and 'href="/"' in page.text
    assert client.get("/no-such-page").json() == {"detail": "Not Found"}
    api = client.get("/api/no-such-endpoint", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}


@pytest.mark.parametrize("path", ["/", f"/articles/{SEED_ID}?p=1&start=0&end=4", "/docs", "/articles/nope"])
def test_pages_carry_the_security_headers(client, path):
    h = client.get(path).headers
    assert h["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "default-src 'self'" in h["content-security-policy"]
    assert "unsafe-inline" not in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"]


def test_static_files_are_served_with_types_and_no_inline_handlers(client):
    js = client.get("/static/chat.js")
    assert js.status_code == 200 and "javascript" in js.headers["content-type"]
    assert "innerHTML" not in js.text and "insertAdjacentHTML" not in js.text and "eval(" not in js.text
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/static/../app.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404



def test_templates_have_no_inline_scripts_styles_or_event_handlers():
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text()
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, template.name
        assert re.search(r"\son[a-z]+\s*=", text) is None, template.name
        assert "style=" not in text and "<style" not in text, template.name
        assert "|safe" not in text and "autoescape false" not in text, template.name


@pytest.mark.parametrize(("text", "html"), [
    ("run `qa index build PATH...` now", "run <code>qa index build PATH...</code> now"),
    ("`<b>` & `x`", "<code>&lt;b&gt;</code> &amp; <code>x</code>"),
    ("one ` backtick <i>", "one ` backtick &lt;i&gt;"),
])
def test_a_server_message_shows_its_commands_as_code_and_nothing_else_as_markup(text: str, html: str):
    assert str(code_spans(text)) == html

