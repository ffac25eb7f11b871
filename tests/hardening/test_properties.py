"""Property tests (hypothesis) for parsing, chunking and citations: whatever the text, a file's paragraphs
come back as written, sentence and passage offsets slice the paragraph exactly, and every citation's
`text[start:end]` is the span it claims (the answer, when found), in the paragraph the article really has
at `paragraph_index`. Plus: the chat page quotes a citation with the same (code point) offsets."""

from __future__ import annotations

import codecs
import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from index.chunking import MAX_PASSAGE_CHARS, passages_for, split_sentences
from index.formats.jsonl import _CLOSED, read_json
from index.formats.text import parse_date, parse_text
from index.types import Article, Skipped
from qa.answerer import Answerer
from qa.question import Question
from qa.settings import Settings
from tests.conftest import make_index
from tests.hardening.support import REPO, write_news_corpus
from web.pages import paragraph_views

PROPERTY = settings(max_examples=120, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# ------------------------------------------------------------------------------------ text files round trip

# Words of news text in many scripts (accents, CJK, emoji and other astral characters, combining marks,
# right-to-left): nothing that markdown or the metadata lines of the scraped layout give a meaning to.
WORD = st.text(st.sampled_from(list("abcdefghijklmnopqrstuvwxyzéüßøçñ日本語中文한국😀🚢𝔘\u0301ـعربي0123456789")),
               min_size=1, max_size=12)
SENTENCE = st.lists(WORD, min_size=1, max_size=14).map(lambda ws: " ".join(ws)) \
    .map(lambda s: s[:1].upper() + s[1:] + st_end(s))
PARAGRAPH = st.lists(SENTENCE, min_size=1, max_size=5).map(" ".join)


def st_end(sentence: str) -> str:
    return "?!."[len(sentence) % 3]


def plain_file(title: str, paragraphs: list[str], newline: str, spaces: str) -> str:
    """The plain layout with a given line ending and given whitespace runs between words."""
    body = (newline * 2).join(p.replace(" ", spaces) for p in paragraphs)
    return f"{title}{newline}{newline}{body}{newline}"


ENCODINGS = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-8-bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16-le-bom": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    "utf-16-be-bom": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "utf-32": lambda t: t.encode("utf-32"),
}


@PROPERTY
@given(title=SENTENCE, paragraphs=st.lists(PARAGRAPH, min_size=1, max_size=6),
       newline=st.sampled_from(["\n", "\r\n", "\r"]), spaces=st.sampled_from([" ", "  ", "\t", " \t "]),
       encoding=st.sampled_from(sorted(ENCODINGS)))
def test_property_a_text_file_parses_back_to_its_title_and_paragraphs(title, paragraphs, newline, spaces,
                                                                      encoding):
    assume(all(parse_date(p) is None for p in paragraphs))  # a paragraph that is only a date is metadata
    data = ENCODINGS[encoding](plain_file(title, paragraphs, newline, spaces))
    article = parse_text(data, "a", "a.txt")
    assert isinstance(article, Article), article
    assert article.title == title
    assert list(article.paragraphs) == paragraphs


CP1252_WORD = st.text(st.sampled_from(list("abcdefghijklmnopqrstuvwxyzéèàçüöñåæøÉÀÇ0123456789")), min_size=1,
                      max_size=10)


@PROPERTY
@given(words=st.lists(CP1252_WORD, min_size=2, max_size=40), newline=st.sampled_from(["\n", "\r\n"]))
def test_property_a_cp1252_file_parses_back_to_its_text(words, newline):
    """cp1252 letters (0xC0-0xFF, never followed by a 0x80-0xBF byte here) cannot pass for UTF-8."""
    paragraph = " ".join(words) + "."
    article = parse_text(plain_file("Title here", [paragraph], newline, " ").encode("cp1252"), "a", "a.txt")
    assert isinstance(article, Article) and list(article.paragraphs) == [paragraph]


JSON_ARTICLE = st.fixed_dictionaries({
    "id": st.text(min_size=1, max_size=30).filter(lambda s: s.strip()),
    "title": st.text(min_size=1, max_size=60).filter(lambda s: s.strip()),
    "paragraphs": st.lists(st.text(max_size=200).filter(lambda p: not _CLOSED.search(p)), min_size=1,
                           max_size=5).filter(lambda ps: any(p.strip() for p in ps)),
})
BROKEN_LINE = st.sampled_from(['{"id": "cut', "[1, 2]", '"just a string"', "{}", '{"id": "x"}', "nonsense",
                               '{"id": "y", "paragraphs": [3]}', '{"id": "", "paragraphs": ["a"]}'])


@PROPERTY
@given(lines=st.lists(st.one_of(JSON_ARTICLE, BROKEN_LINE), min_size=1, max_size=12),
       newline=st.sampled_from(["\n", "\r\n"]), bom=st.booleans())
def test_property_jsonl_keeps_every_good_object_verbatim_and_names_every_broken_line(lines, newline, bom):
    """Every good object is kept verbatim, the first of its id; broken lines and repeated ids are named by line (a
    file with no good object, all its lines broken alike, is named once)."""
    assume(len(lines) > 1)  # a file of one line is a JSON document, not JSON lines
    text = newline.join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + newline
    data = (codecs.BOM_UTF8 if bom else b"") + text.encode("utf-8", "surrogatepass")
    results = list(read_json(data, "f.jsonl"))
    articles = [r for r in results if isinstance(r, Article)]
    skipped = [r for r in results if isinstance(r, Skipped)]
    kept, seen = [], set()
    for n, x in enumerate(lines, start=1):
        if isinstance(x, dict) and x["id"].strip() not in seen:
            seen.add(x["id"].strip())
            kept.append(n)
    assert [(a.article_id, list(a.paragraphs)) for a in articles] == [
        (lines[n - 1]["id"].strip(), lines[n - 1]["paragraphs"]) for n in kept]
    assert all(s.reason for s in skipped)
    if not articles and len({s.reason for s in skipped}) == 1:  # all broken alike: one skip for the file
        assert [s.where for s in skipped] == ["f.jsonl"]
        return
    assert sorted(int(s.where.rsplit(":", 1)[1]) for s in skipped) == [
        n for n in range(1, len(lines) + 1) if n not in kept]


# ------------------------------------------------------------------------------------ chunking offsets


@PROPERTY
@given(paragraph=st.one_of(PARAGRAPH, st.text(max_size=600), st.lists(PARAGRAPH, max_size=30).map(" ".join)),
       max_chars=st.sampled_from([20, 120, MAX_PASSAGE_CHARS]))
def test_property_passages_are_windows_of_whole_sentences_whose_offsets_slice_the_paragraph(paragraph,
                                                                                            max_chars):
    sentences = split_sentences(paragraph, max_chars)
    passages = passages_for(3, sentences, max_chars)
    assert [s for p in passages for s in p.sentences] == sentences  # each sentence in one passage, in order
    for p in passages:
        assert p.paragraph_index == 3 and p.sentences
        assert (p.start, p.end) == (p.sentences[0].start, p.sentences[-1].end)
        assert p.end - p.start <= max_chars or len(p.sentences) == 1
        text = paragraph[p.start:p.end]
        assert text == text.strip() and text
    kept = "".join(paragraph[s.start:s.end] for s in sentences)
    assert "".join(kept.split()) == "".join(paragraph.split())  # no character is lost but whitespace


@PROPERTY
@given(text=st.text(max_size=80), p=st.integers(-2, 3), start=st.integers(-50, 120) | st.none(),
       end=st.integers(-50, 120) | st.none())
def test_property_the_article_page_mark_is_the_slice_and_nothing_is_lost(text, p, start, end):
    views = paragraph_views(["before", text, "after"], p, start, end)
    assert [v.before + v.mark + v.after for v in views] == ["before", text, "after"]
    view = views[1]
    if p == 1 and start is not None and end is not None and 0 <= start <= end <= len(text):
        assert view.mark == text[start:end]
    assert sum(v.target for v in views) == (1 if 0 <= p < 3 else 0)


# ------------------------------------------------------------------------------------ citations

# Articles whose answers sit after astral characters (emoji, math letters), combining marks, CJK, NBSP and
# zero-width characters: where UTF-16 and byte offsets would part from code point offsets.
TRICKY = [
    {"id": "t/emoji", "title": "Ferry 🚢 service to Inchmore resumes",
     "paragraphs": ["🚢🚢 The ferry 🚢 to Inchmore resumed on Monday 😀 after a 12-week break for repairs.",
                    "Tickets 🎟️ cost 7 pounds 50 for adults, the operator 𝔘𝔫𝔦𝔬𝔫 Ferries said."]},
    {"id": "t/combining", "title": "Cafe\u0301 owner wins award",
     "paragraphs": ["Zoe\u0308 Marti\u0301nez, who runs the cafe\u0301 on Quay Street, won the regional award.",
                    "The award was worth 3,000 euros and came with a brass plaque."]},
    {"id": "t/cjk", "title": "東京 delegation visits Harrowgate",
     "paragraphs": ["A delegation of 14 planners from 東京都庁 visited Harrowgate on Thursday.",
                    "They studied the town's 1960s tram depot, now a 200-seat theatre。"]},
    {"id": "t/spaces", "title": "Bridge\u00a0toll\u00a0scrapped",
     "paragraphs": ["The\u00a0toll on the Westmoor bridge,\u2009which\u200b raised 1.2 million pounds a year, "
                    "was scrapped on 1\u00a0March.", "Drivers\u3000had paid\u00a02 pounds each way."]},
    {"id": "t/rtl", "title": "Library adds Arabic collection",
     "paragraphs": ["The library added 850 books in Arabic, including مكتبة الإسكندرية guides, this spring.",
                    "\u202eThe collection\u202c was funded by a 40,000-pound grant from the county."]},
]
QUESTION_WORDS = ["How", "much", "many", "did", "who", "won", "the", "award", "ferry", "Inchmore", "tickets",
                  "cost", "delegation", "planners", "東京", "toll", "bridge", "books", "grant", "😀", "\u0301",
                  "what", "when", "was", "scrapped", "weeks", "break", "🚢", "Zoe\u0308", "theatre"]
QUESTIONS = st.one_of(
    st.lists(st.sampled_from(QUESTION_WORDS), min_size=1, max_size=9).map(lambda ws: " ".join(ws) + "?"),
    st.text(min_size=1, max_size=60).filter(lambda t: t.strip()),
    st.sampled_from(["How much did the Inchmore ferry tickets cost?", "Who won the regional award?",
                     "How many planners visited Harrowgate?", "When was the Westmoor bridge toll scrapped?",
                     "How big was the grant for the Arabic collection?"]),
)


@pytest.fixture(scope="module")
def tricky(tmp_path_factory: pytest.TempPathFactory) -> tuple[Answerer, dict[str, list[str]]]:
    root = tmp_path_factory.mktemp("tricky")
    corpus = write_news_corpus(root / "corpus", [], TRICKY)
    index_dir = make_index([corpus], root / "index")
    answerer = Answerer.load(Settings(index_dir=index_dir))
    return answerer, {a["id"]: a["paragraphs"] for a in TRICKY}


@PROPERTY
@given(question=QUESTIONS, top_k=st.integers(1, 10))
def test_property_every_citation_slices_exactly_to_what_it_claims(tricky, question, top_k):
    answerer, paragraphs = tricky
    answer = answerer.ask(question, top_k=top_k).to_dict()
    has_words = bool(Question.parse(question).terms)  # without a content word, no passage is close: none cited
    assert (1 if has_words else 0) <= len(answer["citations"]) <= (top_k if has_words else 0)
    for n, c in enumerate(answer["citations"], start=1):
        assert c["n"] == n
        assert c["text"] == paragraphs[c["article_id"]][c["paragraph_index"]]
        assert 0 <= c["start"] < c["end"] <= len(c["text"]), c
        span = c["text"][c["start"]:c["end"]]
        assert span == span.strip() and span
    if answer["found"]:
        first = answer["citations"][0]
        assert first["text"][first["start"]:first["end"]] == answer["answer"]
        if answer["short_answer"] is not None:
            assert answer["short_answer"] in answer["answer"]
    else:
        assert answer["answer"] is None and answer["short_answer"] is None


def test_the_tricky_questions_are_answered_from_their_articles(tricky):
    answerer, _ = tricky
    for question, article_id, words in [("How much did the Inchmore ferry tickets cost?", "t/emoji", "7 pounds"),
                                        ("How many planners visited Harrowgate?", "t/cjk", "14"),
                                        ("Who won the regional award?", "t/combining", "Marti\u0301nez")]:
        answer = answerer.ask(question)
        assert answer.citations[0].article_id == article_id, (question, answer)
        first = answer.citations[0]
        assert words in first.text[first.start:first.end], (question, answer)


# ------------------------------------------------------------------------------------ the chat page's quote

QUOTE = """
const source = require("fs").readFileSync(process.argv[1], "utf8");
const match = source.match(/function quote\\(c\\) \\{[\\s\\S]*?\\n  \\}/);
if (!match) { console.error("no quote(c) function in chat.js"); process.exit(2); }
const quote = new Function("return " + match[0])();
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
console.log(JSON.stringify(cases.map(quote)));
"""


def test_the_chat_page_quotes_a_citation_at_its_code_point_offsets(tmp_path: Path):
    """The API's offsets count code points (Python); JavaScript strings count UTF-16 units. Quoting
    `text.slice(start, end)` in the page cut the wrong span after any emoji; the page must count as the API
    does. chat.js's `quote(c)` is run in node over many random citations."""
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    if node.returncode != 0:
        pytest.skip("node is not installed")
    rng = random.Random(5)
    alphabet = list("ab c.日😀🚢𝔘\u0301\u00a0é")
    cases = []
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40)))
        start = rng.randint(0, len(text))
        cases.append({"text": text, "start": start, "end": rng.randint(start, len(text))})
    for c in TRICKY:
        text = c["paragraphs"][0]
        cases.append({"text": text, "start": text.index("The ferry") if "ferry" in text else 0, "end": len(text)})
    result = subprocess.run(["node", "-e", QUOTE, str(REPO / "web" / "static" / "chat.js")],
                            input=json.dumps(cases), capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [c["text"][c["start"]:c["end"]] for c in cases]
