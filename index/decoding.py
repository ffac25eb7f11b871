"""Bytes to text: UTF-8/16/32 with a BOM, UTF-16 without one, UTF-8, then cp1252 (then Latin-1 for the rest); and
the small text helpers every reader of outside input shares (titles, whitespace, JSON that may not parse)."""

from __future__ import annotations

import codecs
import contextlib
import json
import re
from typing import Any

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class UndecodableError(ValueError):
    """The bytes are not text in any encoding we accept."""


def decode_bytes(data: bytes, declared: str | None = None) -> str:
    """Decode article bytes, trying the encodings news files really come in; reject binary data. `declared`: the
    encoding the file names for itself (an HTML page's charset), used when the bytes are not UTF-8 (a page
    labelled Latin-1 but written in UTF-8 is common, and valid UTF-8 is seldom an accident)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return _checked(data.decode(encoding))
            except UnicodeDecodeError as exc:
                raise UndecodableError(f"invalid {encoding} after its byte-order mark") from exc
    if b"\x00" in data[:4096]:
        encoding = _utf16_without_bom(data[:4096])
        if encoding is None:
            return _with_stray_nuls(data)
        try:
            return _checked(data.decode(encoding))
        except UnicodeDecodeError as exc:
            raise UndecodableError(f"NUL bytes as in {encoding}, but not valid {encoding}") from exc
    try:
        return _checked(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    if declared:
        with contextlib.suppress(LookupError, UnicodeDecodeError):
            return _checked(data.decode(declared))
    try:
        return _checked(data.decode("cp1252"))
    except UnicodeDecodeError:
        return _checked(data.decode("latin-1"))


def _with_stray_nuls(data: bytes) -> str:
    """UTF-8 text with a few NUL bytes in it (a stray one a copy or an editor left), which `_checked` drops; else
    binary data."""
    try:
        return _checked(data.decode("utf-8"))
    except (UnicodeDecodeError, UndecodableError):
        raise UndecodableError("binary data (NUL bytes) and no UTF-16 byte-order mark") from None


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark, told by its mostly-Latin text: a NUL in every other byte."""
    even, odd = head[0:len(head) - len(head) % 2:2], head[1::2]
    if len(odd) < 8:
        return None
    even_nuls, odd_nuls = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nuls > 0.7 and even_nuls < 0.05:
        return "utf-16-le"
    if even_nuls > 0.7 and odd_nuls < 0.05:
        return "utf-16-be"
    return None


def _checked(text: str) -> str:
    """Refuse text that is mostly control characters: it is binary data that happened to decode. Else the text, with
    newlines for CR LF and CR, and without the NUL bytes a few it has (a stray one a copy or an editor left)."""
    sample = text[:4096]
    if sample:
        controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
        if controls / len(sample) > 0.05:
            raise UndecodableError("binary data (control characters), not text")
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


_WHITESPACE = re.compile(r"\s+")
MAX_TITLE_CHARS = 200


def headline(title: str, paragraphs: list[str] | tuple[str, ...]) -> str:
    """An article's title: `title` on one line, else the start of its first paragraph; cut at a word to at most
    MAX_TITLE_CHARS (with "…"), as it goes out with every citation of the article."""
    text = collapse_whitespace(title)
    if not text:
        return _cut(collapse_whitespace(next((p for p in paragraphs if p.strip()), "")), 80)
    return _cut(text, MAX_TITLE_CHARS)


def _cut(text: str, limit: int) -> str:
    """`text`, or its first `limit` characters cut at a word, with "…"."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace to one space, ends trimmed (a regex, so a huge paragraph is never split into words)."""
    return _WHITESPACE.sub(" ", text).strip()


def parse_json(text: str) -> tuple[Any, str | None]:
    """The JSON value of `text`, or None and why not: a syntax error, or what the parser gives up on (an
    integer of thousands of digits, arrays nested thousands deep)."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, exc.msg
    except RecursionError:
        return None, "nested too deeply"
    except ValueError as exc:
        return None, str(exc).split(";")[0]
