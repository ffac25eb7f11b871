"""`.html` articles: main text through trafilatura (boilerplate, navigation and scripts dropped)."""

from __future__ import annotations

import re

import lxml.html
import trafilatura
from trafilatura.settings import set_date_params

from index.decoding import UndecodableError, collapse_whitespace, decode_bytes, headline
from index.types import Article, Skipped

_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def read_html(data: bytes, article_id: str, where: str) -> Article | Skipped:
    """Extract title, author, date, canonical URL and body paragraphs from an HTML page."""
    declared = _CHARSET.search(data[:4096])
    try:
        html = decode_bytes(data, declared.group(1).decode("ascii") if declared else None)
    except UndecodableError as exc:
        return Skipped(where, str(exc))
    try:
        # the original (published) date, none guessed from the text: "in 2019" is no date of 2019-01-01
        doc = trafilatura.bare_extraction(html, with_metadata=True, favor_recall=True,
                                          date_extraction_params=set_date_params(extensive=False))
    except Exception as exc:  # trafilatura raises a variety of parser errors on broken markup
        return Skipped(where, f"unparseable HTML ({type(exc).__name__})")
    if doc is None or not (doc.text or "").strip():
        return Skipped(where, "no main text found in the HTML")
    title = collapse_whitespace(doc.title or "")
    paragraphs = [collapse_whitespace(line) for line in doc.text.split("\n")]
    paragraphs = [p for p in paragraphs if p]
    if paragraphs and title and paragraphs[0] == title:
        paragraphs = paragraphs[1:]
    if not paragraphs:
        return Skipped(where, "no body paragraphs in the HTML")
    if _only_link_texts(html, paragraphs):
        return Skipped(where, "only navigation links in the HTML, no article text")
    return Article(
        article_id=article_id,
        title=headline(title, paragraphs),
        paragraphs=tuple(paragraphs),
        byline=doc.author or None,
        date=doc.date or None,
        url=doc.url or None,
        source=doc.sitename or None,
    )


def _only_link_texts(html: str, paragraphs: list[str]) -> bool:
    """Whether every extracted paragraph is just the text of a link (a page of navigation, not an article)."""
    try:
        links = {collapse_whitespace(a.text_content()) for a in lxml.html.fromstring(html).iter("a")}
    except (ValueError, lxml.etree.ParserError):
        return False
    return all(p in links for p in paragraphs)
