"""Hostile files in one build: every kind the issue lists in one folder, built by the real `qa index build`
CLI (with a fake encoder: the model is not under test here). The build exits 0, skips exactly the files that
cannot be read, each with its reason, and every readable article is in the index, text intact. Then memory:
the peak RSS of a build stays bounded by its largest file, not by the corpus (slow)."""

from __future__ import annotations

import codecs
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.build import MAX_FEED_BYTES, MAX_FILE_BYTES
from index.discover import MAX_DEPTH
from index.store import IndexReader, Manifest
from index.types import Skipped
from tests.hardening.support import run_build

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06" + bytes(range(256)) * 4
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"


def big_paragraph(size: int) -> str:
    """One paragraph of `size` characters, sentences but no blank line (a scraped page with no breaks)."""
    words = ("the harbour board said repairs to the north pier would cost more than expected after a "
             "winter of storms and that ferries would run from the south quay until the work was done").split()
    out, n, k = [], 0, 0
    while n < size:
        sentence = " ".join(words[(k + i) % len(words)] for i in range(9 + k % 17)).capitalize() + f" {k}. "
        out.append(sentence)
        n += len(sentence)
        k += 1
    return "".join(out)[:size].strip()


def plain(title: str, *paragraphs: str) -> str:
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


@dataclass(frozen=True)
class Hostile:
    corpus: Path
    articles: dict[str, tuple[str, list[str] | None]]  # id -> (title, paragraphs or None: checked elsewhere)
    skipped: dict[str, str]  # where (relative to corpus) -> regex the reason must match
    big_size: int


def write_hostile_corpus(corpus: Path, big_size: int = 2_000_000) -> Hostile:
    articles: dict[str, tuple[str, list[str] | None]] = {}
    skipped: dict[str, str] = {}

    def put(rel: str, data: bytes | str) -> Path:
        path = corpus / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
        return path

    # ---- readable, each must be indexed
    put("ok/plain.txt", plain("Ferry fares frozen", "Ferry fares will stay at 4 pounds until May.",
                              "The operator said fuel costs had fallen."))
    articles["ok/plain"] = ("Ferry fares frozen", ["Ferry fares will stay at 4 pounds until May.",
                                                   "The operator said fuel costs had fallen."])
    cp = ["A pint now costs £4.10 – “too much”, say drinkers.", "Brewers blame the price of barley…"]
    put("ok/cp1252.txt", plain("Beer prices rise", *cp).encode("cp1252"))
    articles["ok/cp1252"] = ("Beer prices rise", cp)
    u16 = ["Le café a rouvert ses portes à Montréal.", "Über 300 Gäste kamen — 東京 too."]
    put("ok/utf16le.txt", codecs.BOM_UTF16_LE + plain("Café reopens", *u16).encode("utf-16-le"))
    u16be = [*u16, "Le café ouvre aussi le dimanche."]  # another text: a copy would be indexed once
    put("ok/utf16be.txt", codecs.BOM_UTF16_BE + plain("Café reopens again", *u16be).encode("utf-16-be"))
    articles["ok/utf16le"] = ("Café reopens", u16)
    articles["ok/utf16be"] = ("Café reopens again", u16be)
    crlf = ["Snow closed the pass on Monday.", "Ploughs cleared it by Wednesday."]
    put("ok/crlf.txt", plain("Mountain pass reopens", *crlf).replace("\n", "\r\n"))
    articles["ok/crlf"] = ("Mountain pass reopens", crlf)
    markup = [f"The council website showed {SCRIPT} instead of the agenda, officials said.",
              f"A reader sent {IMG} and <b>bold</b> text, plus a link javascript:alert(1) in a comment."]
    put("ok/markup-in-text.md", plain(f"# Website shows {SCRIPT}", *markup))
    articles["ok/markup-in-text"] = (f"Website shows {SCRIPT}", markup)
    put("ok/page.html", """<!doctype html><html><head><title>Tram line extended</title>
<script>var SCRIPT_IN_HEAD = 1;</script><style>p { color: red }</style></head><body>
<nav><a href="/">Home</a> <a href="/x">NAVIGATION_ONLY</a></nav>
<article><h1>Tram line extended</h1>
<p>The tram line now reaches the <b>airport</b>, <a href="javascript:alert(1)">the council</a> said on Friday.</p>
<script>document.write("SCRIPT_IN_BODY")</script>
<p>Trams will run every 8 minutes &amp; cost 2 pounds; &lt;script&gt; stays text.</p></article></body></html>""")
    articles["ok/page"] = ("Tram line extended", None)
    big = big_paragraph(big_size)
    put("ok/big.txt", plain("One enormous paragraph", big))
    articles["ok/big"] = ("One enormous paragraph", [big])
    deep = "/".join(f"d{k}" for k in range(MAX_DEPTH - 1))
    put(f"ok/{deep}/deep.txt", plain("Deep but within reach", "Found at the bottom of the tree."))
    articles[f"ok/{deep}/deep"] = ("Deep but within reach", ["Found at the bottom of the tree."])
    put("feeds/feed.jsonl", "\n".join([
        json.dumps({"id": "feed-1", "title": "Good before", "paragraphs": ["The first good line."]}),
        '{"id": "feed-cut", "title": "cut off in the mid',
        json.dumps({"id": "feed-nobody", "title": "No paragraphs at all"}),
        json.dumps({"id": "feed-badparas", "title": "Paragraphs not strings", "paragraphs": [1, 2]}),
        json.dumps({"id": "feed-blank", "title": "Only blank paragraphs", "paragraphs": ["", "  "]}),
        json.dumps(["an", "array", "not", "an", "object"]),
        "garbage that is not json at all",
        json.dumps({"id": "feed-2", "title": f"Good after {SCRIPT}", "paragraphs": [f"Second good {IMG}."]}),
        json.dumps({"id": "feed-1", "title": "Same id again", "paragraphs": ["A duplicate."]}),
    ]) + "\n")
    articles["feed-1"] = ("Good before", ["The first good line."])
    articles["feed-2"] = (f"Good after {SCRIPT}", [f"Second good {IMG}."])
    skipped.update({"feeds/feed.jsonl:2": r"invalid JSON", "feeds/feed.jsonl:3": r'no "paragraphs"',
                    "feeds/feed.jsonl:4": r'no "paragraphs"', "feeds/feed.jsonl:5": r"no non-empty paragraphs",
                    "feeds/feed.jsonl:6": r"not a JSON object", "feeds/feed.jsonl:7": r"invalid JSON",
                    "feeds/feed.jsonl:9": r"duplicate article id 'feed-1'"})
    put("feeds/odd-json.jsonl", "\n".join([
        '{"id": "odd-bigint", "title": "x", "paragraphs": ["y"], "n": ' + "9" * 5000 + "}",
        "[" * 100_000 + "]" * 100_000,
        '{"id": "odd-surrogate", "title": "Bad \\ud800 title", "paragraphs": ["Lone \\udc00 half of a pair."]}',
        json.dumps({"id": "odd-after", "title": "Still read", "paragraphs": ["After the odd lines."]}),
    ]) + "\n")
    skipped.update({"feeds/odd-json.jsonl:1": r"invalid JSON \(Exceeds the limit",
                    "feeds/odd-json.jsonl:2": r"invalid JSON \(nested too deeply\)"})
    articles["odd-surrogate"] = ("Bad \ufffd title", ["Lone \ufffd half of a pair."])
    articles["odd-after"] = ("Still read", ["After the odd lines."])
    put(os.fsdecode(b"ok/caf\xe9.txt"), plain("Name not UTF-8", "The file name has a Latin-1 byte."))
    articles["ok/caf%E9"] = ("Name not UTF-8", ["The file name has a Latin-1 byte."])
    put(os.fsdecode(b"ok/caf\xe8.txt"), plain("Another name not UTF-8", "Its name differs by one byte."))
    articles["ok/caf%E8"] = ("Another name not UTF-8", ["Its name differs by one byte."])
    put("feeds/list.json", json.dumps([{"id": "list-1", "title": "Listed", "paragraphs": ["In a JSON list."]},
                                       {"id": "list-2", "title": "No paragraphs"}]))
    articles["list-1"] = ("Listed", ["In a JSON list."])
    skipped["feeds/list.json[1]"] = r'no "paragraphs"'

    # ---- unreadable or not articles: skipped, each with its reason
    put("bad/empty.txt", b"")
    skipped["bad/empty.txt"] = r"^empty file$"
    put("bad/blank.md", " \n\r\n\t\n")
    skipped["bad/blank.md"] = r"^empty file$"
    put("bad/empty.jsonl", b"")
    skipped["bad/empty.jsonl"] = r"^empty file$"
    put("bad/image.txt", PNG)
    skipped["bad/image.txt"] = r"binary data"
    put("bad/image.html", PNG)
    skipped["bad/image.html"] = r"binary data"
    put("bad/headline-only.txt", "Just a headline\n")
    skipped["bad/headline-only.txt"] = r"no body paragraphs"
    put("bad/script-only.html", "<html><body><script>alert('x')</script><style>p {}</style></body></html>")
    skipped["bad/script-only.html"] = r"no (main text|body paragraphs)"
    put("bad/broken.json", '{"id": "x", "paragraphs": [')
    skipped["bad/broken.json"] = r"invalid JSON"  # a JSON document cut short: one skip
    for name in ("notes.docx", "scan.pdf", "archive.zip", "README"):
        put(f"bad/{name}", b"PK\x03\x04 not an article")
        ext = Path(name).suffix or "(no extension)"
        skipped[f"bad/{name}"] = "^" + re.escape(f"unsupported file type '{ext}'") + "$"
    locked = put("bad/locked.txt", plain("Locked", "Nobody may read this."))
    locked.chmod(0)
    skipped["bad/locked.txt"] = r"cannot read file \(Permission denied\)"
    locked_dir = corpus / "bad" / "locked-folder"
    put("bad/locked-folder/inside.txt", plain("Inside", "Behind a folder nobody may list."))
    locked_dir.chmod(0)
    skipped["bad/locked-folder"] = r"cannot read folder \(Permission denied\)"
    huge = corpus / "bad" / "huge.txt"
    with open(huge, "wb") as f:  # sparse: no disk space used
        f.truncate(MAX_FILE_BYTES + 1024 * 1024)
    skipped["bad/huge.txt"] = r"file too large"
    with open(corpus / "bad" / "huge.jsonl", "wb") as f:  # a feed of many articles may hold more than one
        f.truncate(MAX_FEED_BYTES + 1024 * 1024)
    skipped["bad/huge.jsonl"] = r"file too large \(257 MiB > 256 MiB\)"
    (corpus / "bad" / "dangling.txt").symlink_to(corpus / "bad" / "gone.txt")
    skipped["bad/dangling.txt"] = r"broken symlink"
    os.mkfifo(corpus / "bad" / "pipe.txt")
    skipped["bad/pipe.txt"] = r"not a regular file"
    (corpus / "loop").mkdir()
    (corpus / "loop" / "back").symlink_to(corpus)  # loop/back/loop/back/... forever
    skipped["loop/back"] = r"symlink loop"
    too_deep = "/".join(f"t{k}" for k in range(MAX_DEPTH + 3))
    put(f"deep/{too_deep}/lost.txt", plain("Too deep", "Beyond the depth limit."))
    skipped["deep/" + "/".join(f"t{k}" for k in range(MAX_DEPTH))] = rf"nested deeper than {MAX_DEPTH} folders"

    # ---- hidden: neither indexed nor reported
    put(".hidden.txt", plain("Hidden", "Hidden files are not articles."))
    put("ok/.draft.md", plain("Draft", "Not yet."))
    put(".git/objects/notes.txt", plain("Git", "Hidden folders are not walked."))
    return Hostile(corpus, articles, skipped, big_size)


def parse_skips(output: str, corpus: Path) -> dict[str, str]:
    """The CLI summary's `  WHERE: REASON` lines, WHERE made relative to the corpus."""
    _, _, listing = output.partition("\nskipped ")
    skips = {}
    for line in listing.splitlines()[1:]:
        assert line.startswith(f"  {corpus}/"), line
        where, _, reason = line[len(f"  {corpus}/"):].partition(": ")
        assert where not in skips, f"{where} reported twice"
        skips[where] = reason
    return skips


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Hostile, str, Path]:
    root = tmp_path_factory.mktemp("hostile-corpus")
    hostile = write_hostile_corpus(root / "corpus")
    try:
        result = run_build([hostile.corpus], root / "index", fake_encoder=True, timeout=300)
    finally:  # let pytest clean up the tmp dir
        (hostile.corpus / "bad" / "locked-folder").chmod(0o755)
        (hostile.corpus / "bad" / "locked.txt").chmod(0o644)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return hostile, result.stdout, root / "index"


def test_a_build_of_hostile_files_exits_0_and_skips_exactly_the_unreadable_ones_with_reasons(hostile_build):
    hostile, output, _ = hostile_build
    skips = parse_skips(output, hostile.corpus)
    assert set(skips) == set(hostile.skipped), (sorted(set(skips) - set(hostile.skipped)),
                                                sorted(set(hostile.skipped) - set(skips)))
    for where, pattern in hostile.skipped.items():
        assert re.search(pattern, skips[where]), (where, skips[where])
    assert f"skipped {len(hostile.skipped)}:" in output
    assert "hidden" not in output.lower() and ".git" not in output and "draft" not in output


def test_every_readable_article_of_the_hostile_corpus_is_indexed_intact(hostile_build):
    hostile, output, index_dir = hostile_build
    reader = IndexReader(index_dir)
    try:
        ids = {a.article_id for a in reader.articles(0, 1000)}
        assert ids == set(hostile.articles), (sorted(ids - set(hostile.articles)),
                                              sorted(set(hostile.articles) - ids))
        for article_id, (title, paragraphs) in hostile.articles.items():
            record, stored = reader.article(article_id)
            assert record.title == title, article_id
            if paragraphs is not None:
                assert stored == paragraphs, article_id
        _, big = reader.article("ok/big")
        assert len(big) == 1 and len(big[0]) >= hostile.big_size - 1  # one paragraph, not a character lost
        _, page = reader.article("ok/page")
        text = "\n".join(page)
        assert "airport" in text and "every 8 minutes & cost 2 pounds; <script> stays text." in text
        assert "SCRIPT_IN_HEAD" not in text and "SCRIPT_IN_BODY" not in text and "NAVIGATION_ONLY" not in text
    finally:
        reader.close()
    manifest = Manifest.read(index_dir)
    assert manifest.counts["articles"] == len(hostile.articles)
    assert f"indexed {len(hostile.articles)} articles" in output


def test_a_hostile_build_leaves_no_temporary_files(hostile_build):
    _, _, index_dir = hostile_build
    names = sorted(p.name for p in index_dir.iterdir())
    assert [n for n in names if n.endswith(".tmp")] == []
    assert [n for n in names if n.startswith("gen-")] == [Manifest.read(index_dir).generation]


def test_a_page_of_navigation_links_only_is_not_an_article():
    from index.formats.html import read_html

    page = (b"<html><head><title>Site</title></head><body><nav><ul><li><a href='/'>Home</a></li>"
            b"<li><a href='/w'>World</a></li></ul></nav><footer>Copyright 2024</footer></body></html>")
    result = read_html(page, "nav", "nav.html")
    assert result == Skipped("nav.html", "only navigation links in the HTML, no article text")


# ------------------------------------------------------------------------------------------------ memory


def peak_rss_kb(stderr: str) -> int:
    match = re.search(r"PEAK_RSS_KB=(\d+)", stderr)
    assert match, stderr[-2000:]
    return int(match.group(1))


def write_many(folder: Path, count: int, paragraph_chars: int = 1000) -> int:
    """`count` articles of five paragraphs each; returns the total bytes."""
    folder.mkdir(parents=True)
    total = 0
    for n in range(count):
        text = plain(f"Article number {n}", *(big_paragraph(paragraph_chars) + f" ({n}.{k})" for k in range(5)))
        (folder / f"{n:05d}.txt").write_text(text)
        total += len(text)
    return total


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_build_memory_is_bounded_by_the_largest_file_not_the_corpus(tmp_path: Path, record_property):
    """Peak RSS of the build process, over a baseline build of one small article:
    - a single 10 MB paragraph: the file's text is parsed whole (it is one paragraph), but its ~10,000
      passages' vectors must not all be held at once (they were: +230 MB; a window at a time: ~+110 MB);
    - 2,000 articles (10 MB of text, ~20,000 passages): articles stream through; what grows is only the
      passage vectors (FAISS, ~30 MB) and the BM25 terms, not the text or the sentence vectors (~135 MB)."""
    small = tmp_path / "small"
    small.mkdir()
    (small / "one.txt").write_text(plain("Small", "One short paragraph."))
    big = tmp_path / "big"
    big.mkdir()
    (big / "big.txt").write_text(plain("Huge", big_paragraph(10_000_000)))
    many_bytes = write_many(tmp_path / "many", 2000)

    peaks = {}
    for name in ("small", "big", "many"):
        result = run_build([tmp_path / name], tmp_path / f"index-{name}", fake_encoder=True, timeout=240)
        assert result.returncode == 0, result.stderr
        peaks[name] = peak_rss_kb(result.stderr) / 1024
    growth_big = peaks["big"] - peaks["small"]
    growth_many = peaks["many"] - peaks["small"]
    record_property("build_peak_rss_mb", peaks)
    print(f"peak RSS MB: {peaks}; many corpus {many_bytes / 1e6:.1f} MB of text")
    assert Manifest.read(tmp_path / "index-big").counts["passages"] > 9000
    assert Manifest.read(tmp_path / "index-many").counts["articles"] == 2000
    assert growth_big < 170, f"a 10 MB paragraph grew the build by {growth_big:.0f} MB: {peaks}"
    assert growth_many < 80, f"a 10 MB corpus of 2,000 articles grew the build by {growth_many:.0f} MB: {peaks}"
