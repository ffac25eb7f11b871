"""`.txt`/`.md` articles: the plain news layout and the scraped markdown layout.

Plain: headline on the first line, then paragraphs separated by blank lines (the BBC corpus).
Scraped: `# Title`, `By [Agency](#)`, a date line, photo captions, body, `Original url:` then `<url>`.
Metadata lines are recognised in both layouts and never become body paragraphs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from index.decoding import UndecodableError, collapse_whitespace, decode_bytes, headline
from index.types import Article, Skipped

_BYLINE = re.compile(r"^(?:by|written by)\s+(.{2,120})$", re.IGNORECASE)
_BYLINE_MAX_WORDS = 12
_URL_LABEL = re.compile(r"^(?:original\s+url|source\s+url|url|source)\s*:\s*(\S*)$", re.IGNORECASE)
_URL = re.compile(r"^<?(https?://[^\s>]+)>?$")
_RELATED = re.compile(r"^\*\*\s*(?:related|read more|see also)[^*]*\*\*", re.IGNORECASE)
_CAPTION_CREDIT = re.compile(r"\*\*[^*a-z]{2,80}\*\*\s*$")
_IMAGE = re.compile(r"^!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%A, %B %d, %Y")
_SENTENCE_END = ('.', '!', '?', '"', "'", "”", "’", ":", ")")


@dataclass
class _Meta:
    byline: str | None = None
    date: str | None = None
    url: str | None = None
    body: list[str] = field(default_factory=list)


def parse_text(data: bytes, article_id: str, where: str) -> Article | Skipped:
    """Parse a text or markdown article; empty or undecodable files become `Skipped`."""
    try:
        text = decode_bytes(data)
    except UndecodableError as exc:
        return Skipped(where, str(exc))
    blocks = [b.strip() for b in re.split(r"\n[ \t]*\n", text.strip())]
    blocks = [b for b in blocks if b]
    if not blocks:
        return Skipped(where, "empty file")
    first_line, _, rest = blocks[0].partition("\n")
    title = clean_inline(first_line.lstrip("#").strip())
    blocks = ([rest.strip()] if rest.strip() else []) + blocks[1:]
    meta = _read_blocks(blocks)
    # Only a scraped page has paragraphs cut by its scraper; in the plain layout a blank line is always a
    # paragraph break (the BBC corpus has paragraphs that start lower-case because names were links).
    scraped = first_line.startswith("#") or meta.byline is not None or meta.url is not None
    paragraphs = _join_broken(meta.body) if scraped else meta.body
    if not title and not paragraphs:
        return Skipped(where, "no title and no body text")
    if not paragraphs:
        return Skipped(where, "no body paragraphs after the headline")
    return Article(article_id, headline(title, paragraphs), tuple(paragraphs), meta.byline, meta.date, meta.url)


def _read_blocks(blocks: list[str]) -> _Meta:
    meta = _Meta()
    expecting_url = False
    for block in blocks:
        line = collapse_whitespace(block)
        if expecting_url and (m := _URL.match(line)):
            meta.url = m.group(1)
            expecting_url = False
            continue
        expecting_url = False
        if m := _URL_LABEL.match(line):
            url = _URL.match(m.group(1)) if m.group(1) else None
            meta.url = url.group(1) if url else meta.url
            expecting_url = url is None
            continue
        if not meta.body and meta.byline is None and (byline := parse_byline(line)):
            meta.byline = byline
            continue
        if meta.date is None and (date := parse_date(line)):
            meta.date = date
            continue
        if _RELATED.match(line) or _IMAGE.match(line) or _CAPTION_CREDIT.search(line):
            continue
        cleaned = clean_inline(line)
        if cleaned:
            meta.body.append(cleaned)
    return meta


def _join_broken(paragraphs: list[str]) -> list[str]:
    """Re-join a paragraph that a scraper cut mid-sentence (no closing punctuation, next starts lowercase)."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and not joined[-1].endswith(_SENTENCE_END) and paragraph[:1].islower():
            joined[-1] = f"{joined[-1]} {paragraph}"
        else:
            joined.append(paragraph)
    return joined


def parse_byline(line: str) -> str | None:
    """The name in a `By Name` line; None for a sentence ("By early 2005 the net could have...")."""
    m = _BYLINE.match(line)
    if not m:
        return None
    name = clean_inline(m.group(1))
    words = name.split()
    if not name[:1].isupper() or len(words) > _BYLINE_MAX_WORDS or name.endswith(("!", "?")):
        return None
    if name.endswith(".") and len(words[-1]) > 3:  # a sentence, not "By John Smith Jr."
        return None
    return name


def clean_inline(text: str) -> str:
    """Drop markdown links and emphasis, keeping their words; collapse whitespace."""
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub(r"\2", text)
    return collapse_whitespace(text)


def parse_date(line: str) -> str | None:
    """An ISO date if the whole line is a date in a common news format, else None."""
    if len(line) > 40:
        return None
    candidate = line.strip().rstrip(".")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(candidate, fmt).date().isoformat()
        except ValueError:
            continue
    return None
