"""`.txt`/`.md` articles: the plain news layout and the scraped markdown layout.

Plain: headline on the first line, then paragraphs separated by blank lines (the BBC corpus); a file without
blank lines has a paragraph a line, and a first line that is a long sentence is the lead, not a headline.
Scraped: `# Title` (after a few short preamble lines: breadcrumbs, an image, "Skip to content"), `By [Agency](#)`,
a date line, photo captions, body, `Original url:` then `<url>`; YAML front matter (`---` ... `---`) gives the
title, date, author and url. Metadata lines are recognised in both layouts and never become body paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from index.decoding import UndecodableError, collapse_whitespace, decode_bytes, headline
from index.types import Article, Skipped

_BYLINE = re.compile(r"^(?:by|written by)\s+(.{2,120})$", re.IGNORECASE)
_BYLINE_MAX_WORDS = 12
_URL_LABEL = re.compile(r"^(?:original\s+url|source\s+url|url|source)\s*:\s*(\S*)$", re.IGNORECASE)
_URL = re.compile(r"^<?(https?://[^\s>]+)>?$")
_RELATED = re.compile(r"^\*\*\s*(?:related|read more|see also)[^*]*\*\*", re.IGNORECASE)
# A photo credit closing a caption: "**AFP**", "**REUTERS / Brendan McDermid**"
# (or "**AP Photo/Evan Vucci**"), not "**TCP/IP networking**"
_CAPTION_CREDIT = re.compile(r"\*\*(?:[^*a-z]{2,80}|[A-Z][A-Za-z .&-]{1,30}\s?/\s?"
                             r"[A-Z][\w.'’-]*(?:\s[A-Z][\w.'’-]*){0,3})\*\*\s*$")
# A photo caption in words, a line of its own: "Photo: Fallen trees blocked the A470.", "Image: Getty Images"
_CAPTION = re.compile(r"^(?:photo|image|picture|photograph|caption|illustration)s?\s*:\s.{0,300}$", re.IGNORECASE)
# A photo credit ending a caption in words, dropped from its text: "... (Credit: Gwen Hughes)", "... Photograph: Gwen
# Hughes/PA" (not "The photo: a 50/50 split")
_CREDIT = re.compile(r"\s*(?:(?i:\((?:photo|image|picture)?\s*credits?\s*:[^()]{1,80}\))|"
                     r"(?<=[.!?\"”])\s*(?:Photograph|Photo|Picture|Image)s?:\s*[A-Z][^.:!?\"”/]{0,59}/\s*"
                     r"[A-Z][^.:!?\"”/]{0,29})$")
# A horizontal rule or a setext heading's underline: "* * *", "___", "=====", "---"
_RULE = re.compile(r"^(?:=+|(?:[-*_]\s*){3,})$")
_UNDERLINE = re.compile(r"^(?:=+|-+)$")
_IMAGE = re.compile(r"^!\[[^\]]*\]\([^)]*\)")
_LINK = re.compile(r"!?\[([^\]\n]{0,300})\]\([^)\n]{0,2000}\)")
_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
_SINGLE_EMPHASIS = re.compile(r"(?<![\w*])\*(?![\s*])([^*\n]{1,300}?)(?<!\s)\*(?![\w*])"
                              r"|(?<!\w)_(?![\s_])([^_\n]{1,300}?)(?<!\s)_(?!\w)")
_STRUCK = re.compile(r"~~(?!\s)[^~\n]{1,300}?~~\s?")  # struck-out text is not what the article says
_CODE = re.compile(r"`([^`\n]{1,300})`")
_AUTOLINK = re.compile(r"<(https?://[^\s>]{1,2000})>")
_REFERENCE_LINK = re.compile(r"\[([^\]\n]{1,300})\]\[([^\]\n]{0,300})\]")
# A link reference definition: "[1]: https://... "Title"" (not "[Editor's note]: This story was corrected.")
_LINK_DEFINITION = re.compile(r"^[ \t]{0,3}\[([^\]\n]{1,300})\]:[ \t]*<?[^\s>]+>?"
                              r"(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?[ \t]*$\n?", re.MULTILINE)
# A footnote's mark ("grazing land.[^1]") and the mark opening its text ("[^1]: The Ranchers Association filed ...")
_FOOTNOTE = re.compile(r"^[ \t]{0,3}\[\^[^\]\s]{1,20}\]:[ \t]*|\[\^[^\]\s]{1,20}\]", re.MULTILINE)
_FENCE = re.compile(r"[ \t]*(```|~~~)")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-+*]|\d{1,3}[.)])[ \t]+")
_LIST_OPENING = re.compile(r"^[ \t]*(?:[-+*]|1[.)])[ \t]+")  # a list that interrupts prose (CommonMark)
_QUOTE_MARKER = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)
_TABLE_RULE = re.compile(r"^\|?[ \t]*:?-{3,}:?[ \t]*(?:\|[ \t]*:?-{3,}:?[ \t]*)*\|?$")
# A run of 100+ characters that is no word of any language: base64 (an inline image's data), a tracking URL
_JUNK = re.compile(r"(?<!\S)[A-Za-z0-9+/=_%&?.:;,#~\-]{100,}(?!\S)")
_DATE_FORMATS = ("%B %d, %Y", "%b %d, %Y", "%b. %d, %Y", "%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%A, %B %d, %Y",
                 "%A, %d %B %Y", "%A %d %B %Y", "%a %d %b %Y", "%a, %d %b %Y")
_SEPT = re.compile(r"\bSept\b")  # AP style: "Sept. 5, 2024"
# "Updated: ...", "Published on ..." before a date; ", 10:04 a.m." or " 22:17 GMT" after it
_DATE_PREFIX = re.compile(r"^(?:(?:last\s+)?(?:updated|published|posted)(?:\s+on)?\s*:?\s*)", re.IGNORECASE)
_DATE_TIME = re.compile(r",?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:\s*(?:[ap]\.?m\.?))?(?:\s*[A-Z]{2,4})?$", re.IGNORECASE)
_ISO_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")
_HEADING = re.compile(r"^#{1,6}\s+")
# A page's share buttons: "Share on Twitter | Share on Facebook", "Share this article", "Email · Print"
_SHARE_BUTTON = (r"(?:share(?:\s+(?:on|via|to)\s+[\w.]+|\s+this(?:\s+(?:article|story|page))?)?"
                 r"|tweet|email|print|copy link)")
_SHARE = re.compile(rf"^{_SHARE_BUTTON}(?:(?:\s*+[|·•,/]\s*+|\s++){_SHARE_BUTTON})*+$", re.IGNORECASE)
_HAS_DIGIT = re.compile(r"\d")
_META_SEPARATOR = re.compile(r"\s+[|·•]\s+")
_SOURCE_CHARS = 80
# A person's name alone on a line: two or three capitalised words ("Owen Pritchard", "Anna de Vries"), maybe two
# such names joined by "and"
_NAME = r"[A-Z][\w'’\-]+(?:\s(?:de\s|van\s|von\s)?[A-Z][\w'’\-]+\.?){1,2}"
_NAME_LINE = re.compile(rf"^{_NAME}(?:\s+and\s+{_NAME})?$")
_NOT_SOURCE = re.compile(r"\d|@|\b(?:writer|editor|correspondent|reporter|columnist|staff|contributor|producer|"
                         r"twitter|facebook|linkedin|instagram|e-?mail|print|share|follow|read)\b", re.IGNORECASE)
_PREAMBLE_BLOCKS = 4  # short lines a scraped page may have before its `# Title`
_PREAMBLE_CHARS = 150
_LEAD_CHARS = 150  # a first line this long that ends a sentence is the lead paragraph, not a headline
_SENTENCE_END = ('.', '!', '?', '"', "'", "”", "’", ":", ")")


@dataclass
class _Meta:
    byline: str | None = None
    date: str | None = None
    url: str | None = None
    source: str | None = None
    body: list[str] = field(default_factory=list)


def parse_text(data: bytes, article_id: str, where: str, markdown: bool = False) -> Article | Skipped:
    """Parse a text or markdown article; empty or undecodable files become `Skipped`. A `markdown` file's code,
    link definitions, quotations, lists and tables are read as such (`markdown_blocks`); in a text file a line
    opening with "- " is prose (the BBC corpus has such paragraphs)."""
    try:
        text = decode_bytes(data)
    except UndecodableError as exc:
        return Skipped(where, str(exc))
    fields, text = _front_matter(text)
    if markdown:
        text = _markdown_inline(_without_fences(text))
    blocks = [b.strip() for b in re.split(r"\n[ \t]*\n", text.strip())]
    if markdown:
        blocks = [paragraph for block in blocks for paragraph in markdown_blocks(block)]
    blocks = _after_preamble([b for b in blocks if b])
    if not blocks:
        return Skipped(where, "empty file")
    first_line, _, rest = blocks[0].partition("\n")
    if (len(first_line) >= _LEAD_CHARS and first_line.rstrip().endswith(_SENTENCE_END)) \
            or not _may_be_headline(first_line, rest, fields.get("title")):
        first_line, rest = "", blocks[0]  # no headline: the file starts with its lead
    title = fields.get("title") or clean_inline(_HEADING.sub("", first_line))
    blocks = ([rest.strip()] if rest.strip() else []) + blocks[1:]
    lines = len(blocks) == 1 and blocks[0].count("\n") >= 1  # no blank lines: a paragraph a line
    if lines:
        blocks = [line.strip() for line in blocks[0].splitlines() if line.strip()]
    meta = _read_blocks(blocks, _front_meta(fields))
    # Only a scraped page has paragraphs cut by its scraper; in the plain layout a blank line is always a
    # paragraph break (the BBC corpus has paragraphs that start lower-case because names were links).
    scraped = lines or first_line.startswith("#") or meta.byline is not None or meta.url is not None
    paragraphs = _join_broken(meta.body) if scraped else meta.body
    if not title and not paragraphs:
        return Skipped(where, "no title and no body text")
    if not paragraphs:
        return Skipped(where, "no body paragraphs after the headline")
    return Article(article_id, headline(title, paragraphs), tuple(paragraphs), meta.byline, meta.date, meta.url,
                   meta.source)


def _without_fences(text: str) -> str:
    """`text` without its fenced code blocks (a fence never closed is left as text)."""
    lines = text.split("\n")
    kept: list[str] = []
    opened: tuple[int, str] | None = None
    for line in lines:
        fence = _FENCE.match(line)
        if opened is None:
            if fence:
                opened = (len(kept), fence.group(1))
            kept.append(line)
        elif fence and fence.group(1) == opened[1] and not line.strip().strip(opened[1][0]):
            del kept[opened[0]:]  # the code and its opening fence
            opened = None
        else:
            kept.append(line)
    return "\n".join(kept)


def _markdown_inline(text: str) -> str:
    """Markdown's inline marks taken off their words: struck-out text dropped, *emphasis*, _emphasis_, `code`,
    <autolinks>, footnote marks[^1] (a footnote's text stays, as a paragraph), and [reference][1] links whose
    definition the text gives (the definitions dropped)."""
    text = _FOOTNOTE.sub("", text)
    labels = {m.group(1).lower() for m in _LINK_DEFINITION.finditer(text)}
    text = _LINK_DEFINITION.sub("", text)
    text = _REFERENCE_LINK.sub(lambda m: m.group(1) if (m.group(2) or m.group(1)).lower() in labels else m.group(0),
                               text)
    text = _SINGLE_EMPHASIS.sub(lambda m: m.group(1) or m.group(2), _STRUCK.sub("", _AUTOLINK.sub(r"\1", text)))
    return _CODE.sub(r"\1", text)


def markdown_blocks(block: str, prose_by_line: bool = False) -> list[str]:
    """A block as the paragraphs it holds: a quotation without its `>` marks, a list an item a paragraph, a table
    a row a paragraph ("Floor: Ground; Books: 12,000"), prose as it is (a line a paragraph with `prose_by_line`);
    a list or table may follow a line of prose with no blank line between ("The new layout by floor:" then
    "- Ground: ...")."""
    if _RULE.match(block):  # "* * *" is no list
        return [block]
    block = _QUOTE_MARKER.sub("", block) if block.startswith(">") else block
    lines = block.splitlines()
    paragraphs: list[str] = []
    prose: list[str] = []
    k = 0
    while k < len(lines):
        run = _table_rows(lines, k) or _list_items(lines, k)
        if run is None:
            (paragraphs if prose_by_line else prose).append(lines[k])
            k += 1
            continue
        if prose:
            paragraphs.append("\n".join(prose))
            prose = []
        rows, k = run
        paragraphs.extend(rows)
    if prose:
        paragraphs.append("\n".join(prose))
    return paragraphs


def _table_rows(lines: list[str], k: int) -> tuple[list[str], int] | None:
    """A table from line `k` (a header row over a rule, outer pipes or not): a paragraph a row, and the line after
    it; None when no table starts there."""
    if k + 2 >= len(lines) or "|" not in lines[k] or "|" not in lines[k + 1] \
            or not _TABLE_RULE.match(lines[k + 1].strip()):
        return None
    head = _cells(lines[k])
    end = k + 2
    while end < len(lines) and "|" in lines[end]:
        end += 1
    rows = ["; ".join(f"{h}: {c}" if h else c for h, c in zip(head, _cells(row), strict=False) if c)
            for row in lines[k + 2:end]]
    return [row for row in rows if row], end


def _list_items(lines: list[str], k: int) -> tuple[list[str], int] | None:
    """A list from line `k`: an item a paragraph (an item may go on in indented lines), and the line after it;
    None when no list starts there. A list after prose in the same block opens with "-", "*", "+" or "1."
    (CommonMark: "in 2004.\n3 people" stays prose)."""
    marker = _LIST_ITEM.match(lines[k])
    if marker is None or (k and not _LIST_OPENING.match(lines[k])):
        return None
    items = [lines[k][marker.end():]]
    end = k + 1
    while end < len(lines):
        if marker := _LIST_ITEM.match(lines[end]):
            items.append(lines[end][marker.end():])
        elif lines[end][:1].isspace() and lines[end].strip():  # an item continued on the next line
            items[-1] += " " + lines[end].strip()
        else:
            break
        end += 1
    return items, end


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]  # `_read_blocks` cleans the row


def _may_be_headline(first_line: str, rest: str, title: str | None) -> bool:
    """Whether the first line may be a headline: always without a title from front matter; with one, only a
    heading ("# ...", or underlined "===") or the title again. Else it is the first paragraph."""
    return not title or first_line.startswith("#") or _UNDERLINE.match(rest.partition("\n")[0].strip()) is not None \
        or clean_inline(first_line) == title


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """The `key: value` fields of a YAML front matter block (lower-case keys, quotes dropped) and the text after
    it; no fields and the whole text when it has none (a `---` rule opening a file is no front matter)."""
    found = _FRONT_MATTER.match(text)
    if not found:
        return {}, text
    fields: dict[str, str] = {}
    for line in found.group(1).splitlines():
        if (field_ := _FRONT_FIELD.match(line)) and field_.group(2).strip("\"'"):
            fields.setdefault(field_.group(1).lower(), field_.group(2).strip("\"'"))
    return (fields, text[found.end():]) if fields else ({}, text)


def _front_meta(fields: dict[str, str]) -> _Meta:
    """The byline, date, url and source that front matter gives (none without front matter)."""
    return _Meta(fields.get("author") or fields.get("byline"),
                 parse_date(fields.get("date") or fields.get("published") or ""),
                 fields.get("url") or fields.get("link") or fields.get("canonical_url"),
                 fields.get("source") or fields.get("publisher") or fields.get("site_name"))


def _after_preamble(blocks: list[str]) -> list[str]:
    """The blocks from a `# Title` that a few short lines come before (a scraped page's breadcrumbs, hero image
    or "Skip to main content"), else all of them."""
    for k, block in enumerate(blocks[:_PREAMBLE_BLOCKS + 1]):
        if block.startswith("# "):
            return blocks[k:] if all(len(b) <= _PREAMBLE_CHARS for b in blocks[:k]) else blocks
    return blocks


def _read_blocks(blocks: list[str], meta: _Meta) -> _Meta:
    expecting_url = False
    for block in _metadata_lines_apart(blocks):
        if not meta.body and meta.byline is None and (named := _name_over_date(block)):
            meta.byline, meta.date = named[0], meta.date or named[1]
            continue
        heading, _, underline = block.rpartition("\n")
        if heading and _UNDERLINE.match(underline.strip()):  # a setext heading ("Subhead" over "------")
            block = heading
        line = _HEADING.sub("", collapse_whitespace(block))
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
        if not meta.body and meta.byline is None and (byline := parse_byline(clean_inline(line))):
            byline, date = _dated(byline)
            meta.byline, source = split_source(byline)
            meta.date, meta.source = meta.date or date, meta.source or source
            continue
        if meta.date is None and (date := parse_date(line)):
            meta.date = date
            continue
        if not meta.body and (both := parse_meta_line(clean_inline(line))):
            meta.byline, meta.date, meta.source = meta.byline or both[0], meta.date or both[1], meta.source or both[2]
            continue
        if _RELATED.match(line) or _IMAGE.match(line) or _CAPTION_CREDIT.search(line) or _RULE.match(line) \
                or _SHARE.match(line):
            continue
        cleaned = clean_inline(line)
        if cleaned:
            meta.body.append(cleaned)
    return meta


def _metadata_lines_apart(blocks: list[str]) -> Iterator[str]:
    """The blocks, a block all of whose lines are a byline, a date or share buttons as a block a line ("By Elena
    Sokolova" over "Published: 3 Feb 2025, 18:05 GMT"); a wrapped paragraph ("By Monday morning, rescuers had" over
    "pulled 30 survivors ...") stays whole."""
    for block in blocks:
        lines = [_CREDIT.sub("", line) for line in block.split("\n") if not _CAPTION.match(line.strip())]
        if len(lines) > 1 and all(_is_metadata(clean_inline(line)) for line in lines):
            yield from lines
        elif lines:
            yield "\n".join(lines)


def _name_over_date(block: str) -> tuple[str, str] | None:
    """The name and the date of a block of a name alone over a date ("Owen Pritchard" over "Tuesday 3 December
    2024"); None for any other block."""
    lines = block.split("\n")
    if len(lines) != 2:
        return None
    first, second = (clean_inline(line) for line in lines)
    if not _NAME_LINE.match(first) or not (date := parse_date(second)):
        return None
    return first, date


def _is_metadata(line: str) -> bool:
    return bool(parse_byline(line) or parse_date(line) or _SHARE.match(line) or parse_meta_line(line))


def _join_broken(paragraphs: list[str]) -> list[str]:
    """Re-join a paragraph that a scraper cut mid-sentence (no closing punctuation, next starts lowercase)."""
    joined: list[str] = []
    for paragraph in paragraphs:
        if joined and not joined[-1].endswith(_SENTENCE_END) and paragraph[:1].islower():
            joined[-1] = f"{joined[-1]} {paragraph}"
        else:
            joined.append(paragraph)
    return joined


def _dated(byline: str) -> tuple[str, str | None]:
    """A byline without the date it ends with ("Carla Mendes | 5 March 2024", "Carla Mendes, 5 March 2024"), and
    that date."""
    for separator in (" | ", ", ", " · ", " - ", " – ", " — "):
        for at in (m.start() for m in re.finditer(re.escape(separator), byline)):  # "Mendes, March 5, 2024"
            if at and (date := parse_date(byline[at + len(separator):])):
                return byline[:at].strip(), date
    return byline, None


def split_source(byline: str) -> tuple[str, str | None]:
    """A byline's name and the source a bar or a dot sets after it ("Elena Sokolova | Northport Herald via Regional
    Wire"), when that reads as a source (`_is_source`); a comma or a dash may set a post instead ("Jane Doe, Political
    Editor"), so they are left alone."""
    for separator in (" | ", " · "):
        name, _, source = byline.partition(separator)
        if name.strip() and _is_source(source.strip()):
            return name.strip(), source.strip()
    return byline, None


def _is_source(text: str) -> bool:
    """Whether what follows a byline is a source: capitalised, one part, not a post ("Staff Writer"), a time ("5 min
    read", "Updated 3 hours ago"), a handle or share buttons."""
    return bool(text) and text[:1].isupper() and len(text) <= _SOURCE_CHARS and not _NOT_SOURCE.search(text) \
        and not _META_SEPARATOR.search(text)


def parse_meta_line(line: str) -> tuple[str | None, str, str | None] | None:
    """(byline, date, source) of a line of a date and a byline or a source or both, in either order, set apart by
    bars or dots, the source after the byline or, without one, beside a date that says it is one ("Published 2
    November 2023 · By Amara Nwosu | Northport Herald", "Published 3 Dec 2024 · Northport Herald", not "3 Dec 2024 |
    Wales" or "Owen Pritchard · 3 Dec 2024"); None for any other line."""
    parts = [part.strip() for part in _META_SEPARATOR.split(line.strip())]
    if not 2 <= len(parts) <= 3:
        return None
    dates = [(k, date) for k, part in enumerate(parts) if (date := parse_date(part))]
    bylines = [(k, byline) for k, part in enumerate(parts) if (byline := parse_byline(part))]
    if len(dates) != 1 or len(bylines) > 1:
        return None
    dated, date = dates[0]
    named, byline = bylines[0] if bylines else (None, None)
    rest = [k for k in range(len(parts)) if k not in (dated, named)]
    if len(rest) > 1 or (named is None and (not rest or not _DATE_PREFIX.match(parts[dated]))):
        return None
    if rest and (not _is_source(parts[rest[0]]) or (rest[0] != named + 1 if named is not None
                                                     else abs(rest[0] - dated) != 1)):
        return None
    return byline, date, parts[rest[0]] if rest else None


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
    """Drop markdown links and emphasis, keeping their words, and runs of characters no one reads (`_JUNK`);
    collapse whitespace."""
    text = _JUNK.sub(" ", _LINK.sub(r"\1", text))
    text = _EMPHASIS.sub(r"\2", text)
    return collapse_whitespace(text)


def parse_date(line: str) -> str | None:
    """An ISO date if the whole line is a date in a common news format (maybe after "Updated:" and before a
    time: "Published: 18 Dec 2023, 22:17 GMT"), else None."""
    if len(line) > 60 or not _HAS_DIGIT.search(line):  # every date format has a day or a year: no strptime
        return None
    if iso := _ISO_DATE.match(line.strip()):
        line = iso.group(1)
    candidate = _SEPT.sub("Sep", _DATE_TIME.sub("", _DATE_PREFIX.sub("", line.strip())).rstrip(".").strip())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(candidate, fmt).date().isoformat()
        except ValueError:
            continue
    return None
