"""Small article corpora for the index tests: texts and file-writing helpers (imported by the tests)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.build import BuildSummary

Build = Callable[[list[Path], Path], BuildSummary]

REPO = Path(__file__).resolve().parents[2]
SEED_FILE = REPO / "examples" / "articles" / "000_d16ca97c03054509.txt"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06" + bytes(range(256))

BRIDGE_TITLE = "Harbour bridge reopens after repairs"
BRIDGE_PARAGRAPHS = [
    "The Harbour Bridge reopened to traffic on Tuesday after eight months of repairs.",
    "Engineers replaced more than 300 steel cables, the transport department said.",
    "Commuters had faced delays of up to an hour. Ferry services were doubled during the works.",
]
PRICES_PARAGRAPHS = ["A loaf now costs £1.20 in London, up from £1.05 last year.",
                     "Bakers blame the price of flour."]
BUDGET_PARAGRAPHS = ["The council approved a budget of 12 million euros.", "Schools get the largest share."]
HTML_PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Harbour Bridge Reopens After Repairs | Example News</title>
<meta property="og:title" content="Harbour Bridge Reopens After Repairs">
<meta name="author" content="Jane Reporter">
<meta property="article:published_time" content="2024-03-05T08:00:00Z">
<link rel="canonical" href="https://news.example.com/2024/03/05/harbour-bridge-reopens">
<script>var tracking = "SCRIPT_TEXT_MUST_NOT_BE_INDEXED";</script>
<style>.headline { color: red }</style>
</head><body>
<nav><ul><li><a href="/">Home</a></li>
<li><a href="/world">World NAVIGATION_MUST_NOT_BE_INDEXED</a></li></ul></nav>
<header><h1>Harbour Bridge Reopens After Repairs</h1></header>
<article>
<p>The Harbour Bridge reopened to traffic on Tuesday after eight months of repairs costing 40 million dollars,
city officials said.</p>
<p>Engineers replaced more than 300 steel cables and resurfaced the entire deck, according to the transport
department.</p>
<p>Commuters had faced delays of up to an hour while the bridge was closed, and ferry services were doubled
during the works.</p>
</article>
<script>console.log("ANOTHER_SCRIPT_MUST_NOT_BE_INDEXED")</script>
</body></html>
"""
HTML_PARAGRAPHS = [
    "The Harbour Bridge reopened to traffic on Tuesday after eight months of repairs costing 40 million "
    "dollars, city officials said.",
    "Engineers replaced more than 300 steel cables and resurfaced the entire deck, according to the "
    "transport department.",
    "Commuters had faced delays of up to an hour while the bridge was closed, and ferry services were "
    "doubled during the works.",
]
# JSON paragraphs are stored verbatim (dataset offsets, as in SQuAD, point into them), empty ones in place.
JSON_ONE_PARAGRAPHS = ["  The museum reopened  on Friday. ", "", "Visitors queued for two hours."]


def write(path: Path, data: bytes | str) -> Path:
    """Write bytes (or UTF-8 text) to `path`, creating its folders."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def plain_article(title: str, paragraphs: list[str]) -> str:
    """The BBC layout: headline, blank line, paragraphs separated by blank lines."""
    return title + "\n\n" + "\n\n".join(paragraphs) + "\n"


def jsonl(*lines: dict | str) -> str:
    return "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)


def write_mixed_corpus(corpus: Path) -> frozenset[str]:
    """Good articles in every format beside bad files of every kind; returns the ids that must be indexed."""
    write(corpus / "world" / "bridge.txt", plain_article(BRIDGE_TITLE, BRIDGE_PARAGRAPHS))
    write(corpus / "world" / "seed.txt", SEED_FILE.read_bytes())
    prices = plain_article("Bread prices rise", PRICES_PARAGRAPHS)
    write(corpus / "money" / "prices.txt", prices.encode("cp1252"))
    budget = plain_article("Council budget approved", BUDGET_PARAGRAPHS).replace("\n", "\r\n")
    write(corpus / "money" / "budget.txt", budget.encode("utf-16"))  # BOM + native order
    write(corpus / "pages" / "story.html", HTML_PAGE)
    write(corpus / "feeds" / "batch.jsonl", jsonl(
        {"id": "feed-1", "title": "Rain expected", "paragraphs": ["Rain is expected on Sunday."],
         "url": "https://example.com/rain", "date": "2024-05-01", "byline": "Met Desk", "source": "Example"},
        '{"id": "feed-broken", "title": "cut off',
        {"id": "feed-empty", "title": "No body"},
        {"id": "feed-2", "title": "Trains delayed",
         "paragraphs": ["Trains ran late after a signal failure."]},
        {"id": "feed-1", "title": "Same id again", "paragraphs": ["A duplicate id."]},
    ))
    write(corpus / "feeds" / "one.json", json.dumps(
        {"id": "json-one", "title": "Museum reopens", "paragraphs": JSON_ONE_PARAGRAPHS}))
    write(corpus / "feeds" / "many.json", json.dumps([
        {"id": "list-1", "title": "First of a list", "paragraphs": ["The first article of a JSON list."]},
        {"id": "list-2", "title": "Second of a list", "paragraphs": ["The second article of a JSON list."]},
    ]))
    write(corpus / "bad" / "empty.txt", b"")
    write(corpus / "bad" / "image.txt", PNG_BYTES)
    write(corpus / "bad" / "notes.docx", b"PK\x03\x04 not an article format we read")
    write(corpus / "bad" / "broken.json", '{"id": "x", "paragraphs": [')
    write(corpus / "bad" / "locked.txt", plain_article("Locked", ["Reading this file fails."]))
    write(corpus / "bad" / ".draft.txt", plain_article("Hidden draft", ["Hidden files are not articles."]))
    write(corpus / ".git" / "notes.txt", plain_article("Hidden folder", ["Hidden folders are not walked."]))
    (corpus / "bad" / "dangling.txt").symlink_to(corpus / "bad" / "gone.txt")
    if os.geteuid() != 0:
        unreadable = write(corpus / "bad" / "unreadable.txt", plain_article("No access", ["chmod 000."]))
        unreadable.chmod(0)
    return frozenset({"world/bridge", "world/seed", "money/prices", "money/budget", "pages/story",
                      "feed-1", "feed-2", "json-one", "list-1", "list-2"})


@dataclass(frozen=True)
class MixedBuild:
    corpus: Path
    index_dir: Path
    summary: BuildSummary
    expected_ids: frozenset[str]

    def skipped_reason(self, where_suffix: str) -> str:
        """The reason the build gave for skipping the path (or `path:LINE`) ending with `where_suffix`."""
        reasons = [s.reason for s in self.summary.skipped if s.where.endswith(where_suffix)]
        assert len(reasons) == 1, f"expected one skip for {where_suffix}, got {self.summary.skipped}"
        return reasons[0]


def sigkill_when_ready(child_script: str, args: list[str], ready: Path, cwd: Path) -> None:
    """Run `child_script` in a fresh interpreter; SIGKILL it once it creates `ready` (within 90 s)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    child = subprocess.Popen([sys.executable, "-c", child_script, *args, str(ready)], cwd=cwd, env=env,
                             stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 90
        while not ready.exists():
            assert child.poll() is None, f"the child ended before the kill: {child.stderr.read().decode()}"
            assert time.monotonic() < deadline, "the child never got half-way"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
