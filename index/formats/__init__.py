"""Readers for each article file format; all of them yield `Article` or `Skipped`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from index.formats.html import read_html
from index.formats.jsonl import read_json
from index.formats.text import parse_text
from index.types import Article, Skipped

READERS = {
    ".txt": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".jsonl": "json",
}


def read_file(path: Path, article_id: str, data: bytes) -> Iterator[Article | Skipped]:
    """Parse one file's bytes by its extension (the caller has checked the extension is supported)."""
    kind = READERS[path.suffix.lower()]
    if kind == "json":
        yield from read_json(data, str(path))
    elif kind == "html":
        yield read_html(data, article_id, str(path))
    else:
        yield parse_text(data, article_id, str(path), markdown=kind == "markdown")
