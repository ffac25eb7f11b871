"""`.html` articles: main text through trafilatura (boilerplate, navigation and scripts dropped)."""

from __future__ import annotations

import re

import lxml.html
import trafilatura
from trafilatura.settings import set_date_params

from index.decoding import UndecodableError, collapse_whitespace, decode_bytes, headline, parse_json
from index.formats.text import markdown_blocks, parse_byline, parse_date, parse_meta_line, split_source
from index.types import Article, Skipped

_CHARSET = re.compile(rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
# A live blog's time stamps ("11:42 PM", "09.15 GMT"): no paragraph of the article
_TIME = re.compile(r"^[0-2]?\d[:.][0-5]\d\s*(?:[AaPp]\.?[Mm]\.?)?\s*"
                   r"(?:GMT|BST|UTC|CET|CEST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|IST|JST|AEST|AEDT)?$")
_TOP = 3  # lines of the extracted text a byline or date may be read from
_BYLINE_XPATH = ('//*[(contains(@class, "byline") or contains(@class, "author") or contains(@class, "meta")'
                 ' or @rel="author") and not(ancestor-or-self::*[self::aside or self::footer or self::nav'
                 ' or contains(@class, "comment")])]')
_BYLINE_CHARS = 160
_BUTTON_CHARS = 40  # a line of a consent notice that is a button ("Accept all", "Manage options")
_ARTICLE_TYPE = re.compile(r"Article|Posting")  # schema.org: NewsArticle, ReportageNewsArticle, LiveBlogPosting
# A cookie or consent notice speaks to the reader about their data ("We and our 842 partners store ... cookies")
# in every line but its buttons
_CONSENT = re.compile(r"\b(?:we|our partners)\b.{0,200}\b(?:cookies?|personal data|consent)\b"
                      r"|\byour (?:consent|privacy|preferences|choices)\b|\baccept all\b"
                      r"|\bmanage (?:cookies|preferences|options|settings)\b", re.IGNORECASE)


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
    lines = [line for line in (collapse_whitespace(line) for line in doc.text.split("\n")) if line]
    paragraphs = markdown_blocks("\n".join(lines), prose_by_line=True)  # its tables and lists, as in markdown
    tree = _tree(html)
    meta = next((found for p in paragraphs[:_TOP] if (found := parse_meta_line(p))), (None, None, None))
    byline = doc.author or next((name for p in paragraphs[:_TOP] if (name := _byline(p))), None) or meta[0] \
        or _marked_byline(tree)
    date = doc.date or next((day for p in paragraphs[:_TOP] if (day := parse_date(p))), None) or meta[1]
    paragraphs = [p for k, p in enumerate(paragraphs) if not _page_furniture(p, k, title, byline)]
    name, source = split_source(byline) if byline else (None, None)
    if not paragraphs:
        return Skipped(where, "no body paragraphs in the HTML")
    if _only_link_texts(tree, paragraphs):
        return Skipped(where, "only navigation links in the HTML, no article text")
    if all(_CONSENT.search(p) or len(p) <= _BUTTON_CHARS for p in paragraphs):
        return Skipped(where, "a cookie or consent notice, no article text")
    return Article(
        article_id=article_id,
        title=headline(title, paragraphs),
        paragraphs=tuple(paragraphs),
        byline=name,
        date=date,
        url=doc.url or _json_ld_url(tree),
        source=doc.sitename or meta[2] or source,
    )


def _byline(line: str) -> str | None:
    """The name of a line that is only a byline ("By Jo Park"): a few words, no clause ("By Monday, petrol prices
    had gone up." is the lead)."""
    name = parse_byline(line)
    if name is None or "," in name or len(name.split()) > 5 or name.endswith((".", ":", '"', "”", "!", "?")):
        return None
    return name


def _marked_byline(tree: lxml.html.HtmlElement | None) -> str | None:
    """The name in the first element a page marks as a byline (its class or rel says "byline", "author" or
    "meta"; not in an aside, a footer, a menu or a comment) that reads as one, alone or in a line with a date
    ("Published 2 November 2023 · By Amara Nwosu"), for a page where trafilatura found none."""
    if tree is None:
        return None
    for element in tree.xpath(_BYLINE_XPATH):
        text = collapse_whitespace(element.text_content())
        if len(text) <= _BYLINE_CHARS and (name := _byline(text) or _meta_byline(text)):
            return name
    return None


def _meta_byline(text: str) -> str | None:
    found = parse_meta_line(text)
    return found[0] if found else None


def _page_furniture(paragraph: str, k: int, title: str, byline: str | None) -> bool:
    """Whether line `k` of the extracted text is the page's, not the article's: the title again, the byline, a
    date above the body or a live blog's time stamp."""
    return paragraph == title or (byline is not None and paragraph in (f"By {byline}", f"by {byline}")) \
        or (k < _TOP and (parse_date(paragraph) is not None or parse_meta_line(paragraph) is not None)) \
        or _TIME.match(paragraph) is not None


def _json_ld_url(tree: lxml.html.HtmlElement | None) -> str | None:
    """The url an article's JSON-LD gives (`url`, else `mainEntityOfPage`), for a page with no canonical link."""
    scripts = tree.xpath('//script[@type="application/ld+json"]/text()') if tree is not None else []
    for script in scripts:
        found, _ = parse_json(script)
        items = [item for item in (found if isinstance(found, list) else [found]) if isinstance(item, dict)]
        items += [node for item in items if isinstance(item.get("@graph"), list) for node in item["@graph"]]
        for item in items:
            if not isinstance(item, dict) or not _ARTICLE_TYPE.search(str(item.get("@type", ""))):
                continue
            page = item.get("mainEntityOfPage")
            url = item.get("url") or (page.get("@id") if isinstance(page, dict) else page)
            if isinstance(url, str) and url.strip():
                return url.strip()
    return None


def _only_link_texts(tree: lxml.html.HtmlElement | None, paragraphs: list[str]) -> bool:
    """Whether every extracted paragraph is just the text of a link (a page of navigation, not an article)."""
    if tree is None:
        return False
    links = {collapse_whitespace(a.text_content()) for a in tree.iter("a")}
    return all(p in links for p in paragraphs)


def _tree(html: str) -> lxml.html.HtmlElement | None:
    """The page parsed by lxml (for what trafilatura does not give), None when lxml cannot parse it."""
    try:
        return lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError):
        return None
