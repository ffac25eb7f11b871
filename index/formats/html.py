"""`.html` articles: main text through trafilatura (boilerplate, navigation and scripts dropped)."""

from __future__ import annotations

import trafilatura

from index.decoding import UndecodableError, collapse_whitespace, decode_bytes
from index.types import Article, Skipped


def read_html(data: bytes, article_id: str, where: str) -> Article | Skipped:
    """Extract title, author, date, canonical URL and body paragraphs from an HTML page."""
    try:
        html = decode_bytes(data)
    except UndecodableError as exc:
        return Skipped(where, str(exc))
    try:
        doc = trafilatura.bare_extraction(html, with_metadata=True, favor_recall=True)
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
    return Article(
        article_id=article_id,
        title=title or paragraphs[0][:80],
        paragraphs=tuple(paragraphs),
        byline=doc.author or None,
        date=doc.date or None,
        url=doc.url or None,
        source=doc.sitename or None,
    )
