"""End to end in a real browser: `qa serve` on the seed index, Debian's Chromium driven by Playwright.

Asks on the chat page, reads the answer and its citation, asks a follow-up in the same session, opens the
citation and finds the cited span inside a <mark> on the article page; then the same at phone width.
Screenshots go to test-artifacts/ (gitignored). The browser is never downloaded: /usr/bin/chromium or skip.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.request import urlopen

import pytest

from tests.hardening.support import Server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SEED_QUESTION = "How many casualties have North Korean troops suffered?"
FOLLOW_UP = "What weapons has the North supplied to them?"


@pytest.fixture(scope="module")
def server(seed_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real `qa serve` in a subprocess on a free loopback port (`tests.hardening.support.Server`, which
    takes another port if that one is taken before the server binds it); yields its base URL."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with Server(seed_index, log, host="127.0.0.1", env={"QA_RELOAD_CHECK_SECONDS": "0.5"}) as live:
        yield live.base
        returncode = live.stop()
    output = live.output()
    assert returncode == 0, f"Ctrl+C should stop `qa serve` cleanly:\n{output}"
    assert "serving" in output and f"{live.base}/" in output
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium); "
                    "the e2e test never downloads a browser")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def new_page(browser, base: str, **context_options):
    """A page that may load nothing but the app (proves the page needs no CDN) and records JS errors."""
    context = browser.new_context(**context_options)
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                  else route.abort())
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    return context, page


def ask(page, question: str) -> tuple[dict, dict]:
    """Type a question, press Enter, wait for its answer bubble; returns (request body, response body)."""
    box = page.get_by_label("Your question")
    box.fill(question)
    bubbles = page.locator("#conversation > li.msg.bot:not(.pending)")
    before = bubbles.count()
    with page.expect_response(lambda r: r.url.endswith("/api/ask")) as response_info:
        box.press("Enter")
    response = response_info.value
    assert response.status == 200, response.text()
    bubbles.nth(before).wait_for()
    return json.loads(response.request.post_data), response.json()


def test_ask_follow_up_and_open_the_citation_in_a_browser(server: str, browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context, page = new_page(browser, server, viewport={"width": 1280, "height": 860})
    try:
        page.goto(f"{server}/")
        assert page.title() == "Ask the articles"
        assert page.evaluate("document.activeElement.id") == "question", "the page opens ready to type into"
        assert page.locator("#conversation").get_attribute("aria-live") == "polite"
        assert page.locator(".example").count() >= 1
        page.screenshot(path=str(ARTIFACTS / "chat-empty.png"))

        # Shift+Enter is a new line, not a send
        box = page.get_by_label("Your question")
        box.fill("first line")
        box.press("Shift+Enter")
        assert box.input_value() == "first line\n"
        assert page.locator("#conversation > li").count() == 0

        sent, answer = ask(page, SEED_QUESTION)
        assert sent == {"question": SEED_QUESTION}
        bubble = page.locator("#conversation > li.msg.bot").last
        assert "1,100" in bubble.inner_text()
        if answer["found"]:
            assert answer["answer"] in bubble.locator(".answer").inner_text()
            if answer["short_answer"]:
                assert bubble.locator(".answer strong").inner_text() == answer["short_answer"]
            assert bubble.locator(".conf").inner_text() in ("very likely", "likely", "unsure")
        else:
            assert "couldn’t find" in bubble.inner_text()
        chips = bubble.locator("a.chip")
        assert chips.count() == len(answer["citations"]) >= 1
        first = answer["citations"][0]
        assert chips.first.locator(".n").inner_text() == "1"
        assert first["title"] in chips.first.inner_text()
        session = page.evaluate("sessionStorage.getItem('qa.session')")
        assert session == answer["session_id"]
        assert not page.locator("#empty").is_visible()

        sent2, answer2 = ask(page, FOLLOW_UP)
        assert sent2 == {"question": FOLLOW_UP, "session_id": session}
        assert answer2["session_id"] == session
        assert page.locator("#conversation > li.msg.user").count() == 2
        assert page.locator("#conversation > li.msg.bot").count() == 2
        assert page.evaluate("document.activeElement.id") == "question"
        page.screenshot(path=str(ARTIFACTS / "chat-conversation.png"))

        # the conversation survives a reload (same tab), and "New conversation" starts afresh
        page.reload()
        assert page.locator("#conversation > li.msg.bot").count() == 2

        with page.expect_navigation():
            page.locator("#conversation > li.msg.bot").first.locator("a.chip").first.click()
        assert f"/articles/{first['article_id']}?p={first['paragraph_index']}" in page.url
        mark = page.locator("mark#highlight")
        mark.wait_for()
        assert mark.inner_text() == first["text"][first["start"]:first["end"]]
        if answer["found"]:
            assert "quoted from here" in page.locator("#role").inner_text()
            if answer["short_answer"]:
                assert mark.locator("strong").inner_text() == answer["short_answer"]
        assert mark.is_visible()
        box_ = mark.bounding_box()
        assert box_ and 0 <= box_["y"] < 860, "the cited span is scrolled into view"
        assert page.locator("h1").inner_text() == first["title"]
        original = page.get_by_role("link", name="Read the original article")
        assert original.get_attribute("href") == first["url"]
        page.screenshot(path=str(ARTIFACTS / "article-highlight.png"))

        page.go_back()
        session = page.evaluate("sessionStorage.getItem('qa.session')")
        page.get_by_role("button", name="New conversation").click()
        assert page.locator("#conversation > li").count() == 0
        assert page.locator("#empty").is_visible()
        assert page.evaluate("sessionStorage.getItem('qa.session')") is None
        # a slip of the finger: the cleared conversation comes back, session and all, until the next question
        page.get_by_role("button", name="Bring the last one back").click()
        assert page.locator("#conversation > li.msg.bot").count() == 2 and not page.locator("#empty").is_visible()
        assert page.evaluate("sessionStorage.getItem('qa.session')") == session
        page.reload()
        assert page.locator("#conversation > li.msg.bot").count() == 2
        page.get_by_role("button", name="New conversation").click()
        page.reload()  # the offer to bring it back outlives a reload
        page.get_by_role("button", name="Bring the last one back").click()
        assert page.locator("#conversation > li.msg.bot").count() == 2
        page.get_by_role("button", name="New conversation").click()
        page.locator("#question").fill("How many loaves a day?")
        page.locator("#question").press("Enter")
        page.locator("#conversation > li.msg.bot:not(.pending)").wait_for()
        assert page.locator("#conversation > li.msg.bot").count() == 1
        assert not page.locator("#undo-row").is_visible()
        page.reload()
        assert not page.locator("#undo-row").is_visible() and page.locator("#conversation > li.msg.bot").count() == 1
        assert page.problems == []
    finally:
        context.close()


def test_the_chat_page_works_at_phone_width(server: str, browser) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    context, page = new_page(browser, server, viewport={"width": 390, "height": 800}, device_scale_factor=2,
                             is_mobile=True, has_touch=True)
    try:
        page.goto(f"{server}/")
        page.screenshot(path=str(ARTIFACTS / "phone-empty.png"))
        example = page.locator(".example").first
        with page.expect_response(lambda r: r.url.endswith("/api/ask")):
            example.click()
        page.locator("#conversation > li.msg.bot:not(.pending)").first.wait_for()
        no_sideways_scroll = "document.documentElement.scrollWidth <= window.innerWidth + 1"
        assert page.evaluate(no_sideways_scroll)
        assert page.get_by_role("button", name="Send").is_visible()
        page.screenshot(path=str(ARTIFACTS / "phone-answer.png"))
        page.locator("a.chip").first.click()
        page.locator("mark#highlight").wait_for()
        assert page.evaluate(no_sideways_scroll)
        page.screenshot(path=str(ARTIFACTS / "phone-article.png"))
        assert page.problems == []
    finally:
        context.close()


IN_VIEW = """(() => { const r = document.getElementById("highlight").getBoundingClientRect();
                   return r.top >= 0 && r.bottom <= window.innerHeight; })()"""


def test_a_highlight_in_a_paragraph_taller_than_the_window_is_scrolled_into_view(server: str, browser) -> None:
    article = json.loads(urlopen(f"{server}/api/articles").read())["articles"][0]["article_id"]
    paragraphs = json.loads(urlopen(f"{server}/api/articles/{article}").read())["paragraphs"]
    p, text = max(enumerate(paragraphs), key=lambda item: len(item[1]))
    context, page = new_page(browser, server, viewport={"width": 240, "height": 160})
    try:
        page.goto(f"{server}/articles/{article}?p={p}&start={len(text) - 20}&end={len(text)}")
        assert page.evaluate("document.querySelector('.para.target').offsetHeight > window.innerHeight")
        assert page.evaluate(IN_VIEW), "the highlight, at the paragraph's end, is in view (not the paragraph's middle)"
    finally:
        context.close()


def test_an_unreachable_or_failing_server_is_reported_politely(server: str, browser) -> None:
    context, page = new_page(browser, server, viewport={"width": 1024, "height": 700})
    try:
        page.goto(f"{server}/")
        page.route("**/api/ask", lambda route: route.fulfill(
            status=503, content_type="application/json",
            body=json.dumps({"detail": "No index has been built yet: run `qa index build PATH...`"})))
        box = page.get_by_label("Your question")
        box.fill("Anything?")
        box.press("Enter")
        error = page.locator("#conversation > li.msg.error")
        error.wait_for()
        assert error.locator("code").inner_text() == "qa index build PATH...", "a command is shown as code"
        assert box.input_value() == "Anything?", "an unanswered question goes back into the box"
        page.reload()  # as the page does itself once an index is built
        assert box.input_value() == "Anything?", "what is in the box outlives a reload"
        page.unroute("**/api/ask")
        page.route("**/api/ask", lambda route: route.abort())
        box.fill("Again?")
        box.press("Enter")
        page.locator("#conversation > li.msg.error").nth(1).wait_for()
        assert "could not be reached" in page.locator("#conversation > li.msg.error").nth(1).inner_text()
        assert box.input_value() == "Again?"
        page.screenshot(path=str(ARTIFACTS / "chat-errors.png"))
        assert [p for p in page.problems if "Failed to load resource" not in p] == []
    finally:
        context.close()


def test_an_answer_still_on_its_way_never_lands_in_a_new_conversation_or_as_a_false_outage(server: str,
                                                                                           browser) -> None:
    """Replies are held back here (the route is answered by hand), as on a slow server."""
    context, page = new_page(browser, server, viewport={"width": 1024, "height": 700})
    held = []
    try:
        page.goto(f"{server}/")
        page.route("**/api/ask", lambda route: held.append(route))
        box = page.get_by_label("Your question")
        box.fill("How many casualties?")
        box.press("Enter")
        page.locator("#conversation > li.pending").wait_for()
        box.fill("a draft being typed")
        page.get_by_role("button", name="New conversation").click()
        assert box.input_value() == "a draft being typed", "a new conversation keeps what is being typed"
        assert not page.locator("#undo-row").is_visible(), "a question without its reply is not kept to bring back"
        held[0].fulfill(status=200, content_type="application/json", body=json.dumps({
            "found": False, "answer": None, "short_answer": None, "confidence": 0.0, "citations": [],
            "session_id": "the-old-conversation", "took_ms": 1.0}))
        page.wait_for_timeout(500)
        assert page.locator("#conversation > li").count() == 0, "the old question's reply is dropped"
        assert page.evaluate("sessionStorage.getItem('qa.session')") is None

        box.fill("Who is fighting?")
        box.press("Enter")
        page.locator("#conversation > li.pending").wait_for()
        page.reload()  # leaving while the answer is on its way: the page went away, not the server
        assert page.locator("#conversation > li.msg.error").count() == 0
        assert page.get_by_label("Your question").input_value() == "Who is fighting?", "it is there to ask again"
        assert page.locator("#conversation > li").count() == 0, "and not in the transcript without a reply"

        box = page.get_by_label("Your question")
        box.fill("   \n  ")
        box.press("Enter")
        assert box.input_value() == "" and box.evaluate("b => b.validity.valueMissing")
        assert page.locator("#conversation > li.msg.bot").count() == 0, "only spaces: nothing is sent"
        assert [p for p in page.problems if "Failed to load resource" not in p] == []
    finally:
        context.close()


def test_a_citation_link_keeps_an_article_id_with_dot_segments_whole(server: str, browser) -> None:
    """Ids come from the articles (a JSONL `id` may be "../notes"): the link must reach that id, not a path the
    browser resolved the dots of; ordinary ids keep their slashes."""
    context, page = new_page(browser, server, viewport={"width": 1024, "height": 700})
    try:
        page.goto(f"{server}/")
        _, answer = ask(page, SEED_QUESTION)
        citations = [dict(answer["citations"][0], article_id=article_id, n=n)
                     for n, article_id in enumerate(("../../etc/passwd", "news/./x", "world/asia/korea"), 1)]
        page.route("**/api/ask", lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(dict(answer, citations=citations))))
        ask(page, SEED_QUESTION)
        chips = page.locator("#conversation > li.msg.bot").last.locator("a.chip")
        hrefs = [chips.nth(k).evaluate("a => a.href") for k in range(3)]
        assert hrefs[0].startswith(f"{server}/articles/..%2F..%2Fetc%2Fpasswd?p=")
        assert hrefs[1].startswith(f"{server}/articles/news%2F.%2Fx?p=")
        assert hrefs[2].startswith(f"{server}/articles/world/asia/korea?p=")
        assert page.problems == []
    finally:
        context.close()


def test_who_wrote_the_article_cites_and_marks_its_byline(server: str, browser) -> None:
    context, page = new_page(browser, server, viewport={"width": 1024, "height": 700})
    try:
        page.goto(f"{server}/")
        _, answer = ask(page, "Who wrote the article?")
        assert answer["found"] and answer["short_answer"] == "AFP"
        chip = page.locator("#conversation > li.msg.bot").last.locator("a.chip").first
        assert chip.locator(".p").inner_text() == "header"
        with page.expect_navigation():
            chip.click()
        mark = page.locator("mark#highlight")
        mark.wait_for()
        assert mark.inner_text() == "By AFP" and mark.locator("strong").inner_text() == "AFP"
        assert page.problems == []
    finally:
        context.close()


def test_each_answer_ends_above_the_question_box_and_a_lost_session_is_said(server: str, browser) -> None:
    """The question box sticks to the bottom of the window: once the conversation scrolls, each new answer with
    its sources must still be scrolled into view above it. A paste cut at the box's limit is said. A session the
    server no longer has (expired, or the server restarted) is answered on its own, and the page says so."""
    context, page = new_page(browser, server, viewport={"width": 800, "height": 520})
    try:
        page.goto(f"{server}/")
        for _ in range(3):
            _, answer = ask(page, SEED_QUESTION)
            page.wait_for_timeout(600)  # the smooth scroll
            last = page.locator("#conversation > li.msg.bot").last
            bubble, composer = last.bounding_box(), page.locator("#ask-form").bounding_box()
            assert bubble and composer
            assert bubble["y"] + bubble["height"] <= composer["y"] + 1, (bubble, composer)
        assert f"({round(answer['confidence'] * 100)}%)" in last.locator(".meta").first.inner_text()
        assert "You asked:" in page.locator("#conversation > li.msg.user").first.inner_text()
        assert "expired" not in page.locator("#conversation").inner_text()
        box = page.get_by_label("Your question")
        box.focus()
        page.keyboard.insert_text("Why? " * 300)  # as a paste: the box keeps its maxlength
        limit = int(box.get_attribute("maxlength"))
        assert len(box.input_value()) == limit
        assert f"at most {limit} characters" in page.locator("#hint").inner_text()
        box.fill("")
        page.evaluate("sessionStorage.setItem('qa.session', 'gone-from-the-server')")
        sent, answer = ask(page, SEED_QUESTION)
        assert sent["session_id"] == "gone-from-the-server" != answer["session_id"]
        assert "expired" in page.locator("#conversation > li.msg.bot").last.inner_text()
        assert page.problems == []
    finally:
        context.close()
