"""`.json`/`.jsonl` articles: `{"id", "title", "paragraphs": [...]}`, optional url, date, byline, source; one object,
a list of them (bare or as `{"articles": [...]}`), or one per line."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from typing import Any

from index.decoding import UndecodableError, collapse_whitespace, decode_bytes, headline, parse_json
from index.types import Article, Skipped, first_of_each_id

_OPTIONAL = ("url", "date", "byline", "source")
# Markup a feed left in its text ("<p>The council approved a <strong>$1.2 billion</strong> budget &amp; ...</p>"):
# a text with a closing tag of text formatting or a line break is markup; then its tags go, a block's leaving a
# space. Other text is kept verbatim, "<script>" and all: the article pages escape it.
_CLOSED = re.compile(r"</(?:p|div|span|a|b|i|u|em|strong|small|mark|sup|sub|q|cite|abbr|time|h[1-6]|ul|ol|li|"
                     r"blockquote|figure|figcaption)>|<br\s*/?>", re.IGNORECASE)
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|h[1-6]|ul|ol|li|blockquote|figure|figcaption)\b[^<>]{0,500}>", re.IGNORECASE)
_INLINE_TAG = re.compile(r"</?(?:span|a|b|i|u|em|strong|small|mark|sup|sub|q|cite|abbr|time|img)\b[^<>]{0,500}>",
                         re.IGNORECASE)


def read_json(data: bytes, where: str) -> Iterator[Article | Skipped]:
    """Yield one article per object: a JSON object or list, or one object per line (broken lines skipped). A file
    none of whose objects is an article, all for one reason (a dataset's questions.jsonl), is one skipped line."""
    read = list(_read_json(data, where))
    reasons = {item.reason for item in read if isinstance(item, Skipped)}
    if len(read) > 1 and len(reasons) == 1 and all(isinstance(item, Skipped) for item in read):
        yield Skipped(where, f"no articles: none of its {len(read):,} objects is one ({reasons.pop()})")
    else:
        yield from read


def _read_json(data: bytes, where: str) -> Iterator[Article | Skipped]:
    try:
        text = decode_bytes(data)
    except UndecodableError as exc:
        yield Skipped(where, str(exc))
        return
    if not text.strip():
        yield Skipped(where, "empty file")
        return
    whole, problem = parse_json(text)
    if isinstance(whole, dict) and (listed := _wrapped(whole)):
        key, whole = listed
        where = f"{where}:{key}"
    if isinstance(whole, dict):
        yield article_from_object(whole, where)
    elif isinstance(whole, list):
        yield from first_of_each_id((article_from_object(obj, f"{where}[{n}]"), f"{where}[{n}]")
                                     for n, obj in enumerate(whole))
    elif problem and _one_document(text):
        yield Skipped(where, f"invalid JSON ({problem})")
    else:
        yield from first_of_each_id(_read_lines(text, where))


def _wrapped(obj: dict) -> tuple[str, list] | None:
    """`{"articles": [...]}` (any one key) around the articles: the key and the list; None for an article."""
    if any(key in obj for key in ("id", "paragraphs", "text")):
        return None
    lists = [(key, value) for key, value in obj.items()
             if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)]
    return lists[0] if len(lists) == 1 else None


def _one_document(text: str) -> bool:
    """Whether broken JSON was meant as one document, not JSON Lines: its first line is no JSON value and opens
    an array or ends opening one or an object (`[`, `{`, `{"articles": [`). It is reported once, not by line."""
    first = text.lstrip().split("\n", 1)[0].strip()
    return (first.startswith("[") or first.endswith(("[", "{"))) and parse_json(first)[1] is not None


def _read_lines(text: str, where: str) -> Iterator[tuple[Article | Skipped, str]]:
    """Each non-blank line's article (or why not), with where it is: `file:line`."""
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        at = f"{where}:{line_no}"
        obj, problem = parse_json(line)
        yield (Skipped(at, f"invalid JSON ({problem})") if problem else article_from_object(obj, at)), at


def article_from_object(obj: Any, where: str) -> Article | Skipped:
    """Validate one JSON object as an article."""
    if not isinstance(obj, dict):
        return Skipped(where, "not a JSON object")
    article_id = obj.get("id")
    if not isinstance(article_id, str | int) or not str(article_id).strip():
        return Skipped(where, 'missing "id"')
    paragraphs = obj.get("paragraphs")
    if paragraphs is None and isinstance(obj.get("text"), str):
        paragraphs = re.split(r"\n\s*\n", obj["text"])
    if not isinstance(paragraphs, list) or not all(isinstance(p, str) for p in paragraphs):
        return Skipped(where, 'no "paragraphs" list of strings')
    paragraphs = [_without_markup(p) for p in paragraphs]
    if not any(p.strip() for p in paragraphs):
        return Skipped(where, "no non-empty paragraphs")
    title = headline(_without_markup(obj["title"]) if isinstance(obj.get("title"), str) else "", paragraphs)
    extras = {k: str(obj[k]) for k in _OPTIONAL if isinstance(obj.get(k), str | int) and str(obj[k]).strip()}
    # Paragraph text is kept verbatim (and empty ones in place) so indexes and offsets match the source (but for
    # markup, `_without_markup`).
    return Article(article_id=str(article_id).strip(), title=title, paragraphs=tuple(paragraphs), **extras)


def _without_markup(text: str) -> str:
    """`text` without the HTML tags and entities a feed left in it; text without markup is kept as it is."""
    if not _CLOSED.search(text):
        return text
    text = _INLINE_TAG.sub("", _BLOCK_TAG.sub(" ", text))
    return collapse_whitespace(html.unescape(text))
