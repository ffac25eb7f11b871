"""Articles in: text comes in the encodings news files really use; what no fallback decodes is skipped."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from index.decoding import UndecodableError, decode_bytes
from index.formats import read_file
from index.types import Article, Skipped
from tests.index.index_corpus import PNG_BYTES, plain_article, write

TITLE = "Café owners fear the euro’s rise"
PARAGRAPHS = ["Prices at the Café Müller rose to €4 — a record.", "“We cannot go on,” said its owner."]
TEXT = plain_article(TITLE, PARAGRAPHS)


def parse(path: Path) -> Article | Skipped:
    (result,) = read_file(path, "a", path.read_bytes())
    return result


@pytest.mark.parametrize("encoding, data", [
    ("UTF-8", TEXT.encode("utf-8")),
    ("UTF-8 with BOM", TEXT.encode("utf-8-sig")),
    ("UTF-16 LE with BOM", b"\xff\xfe" + TEXT.encode("utf-16-le")),
    ("UTF-16 BE with BOM", b"\xfe\xff" + TEXT.encode("utf-16-be")),
    ("UTF-32 LE with BOM", b"\xff\xfe\x00\x00" + TEXT.encode("utf-32-le")),
    ("UTF-16 LE without BOM", TEXT.encode("utf-16-le")),
    ("UTF-16 BE without BOM", TEXT.encode("utf-16-be")),
    ("cp1252", TEXT.encode("cp1252")),
    ("UTF-8, CRLF line endings", TEXT.replace("\n", "\r\n").encode("utf-8")),
    ("UTF-16 LE with BOM, CRLF line endings", b"\xff\xfe" + TEXT.replace("\n", "\r\n").encode("utf-16-le")),
    ("cp1252, old Mac CR line endings", TEXT.replace("\n", "\r").encode("cp1252")),
])
def test_every_accepted_encoding_gives_the_same_article(tmp_path: Path, encoding: str, data: bytes) -> None:
    article = parse(write(tmp_path / "a.txt", data))
    assert isinstance(article, Article), f"{encoding}: {article}"
    assert article.title == TITLE
    assert list(article.paragraphs) == PARAGRAPHS


def test_cp1252_pound_sign_byte_comes_out_as_a_pound_sign() -> None:
    """The BBC corpus's sport/199.txt has one 0xA3 byte (a Latin-1/cp1252 pound sign), otherwise ASCII."""
    assert decode_bytes(b"a \xa315.8m signing") == "a £15.8m signing"


def test_cp1252_punctuation_bytes_come_out_as_punctuation() -> None:
    assert decode_bytes(b"\x93Quoted\x94 \x96 \x80100") == "“Quoted” – €100"


def test_bytes_cp1252_lacks_fall_back_to_latin1_instead_of_failing() -> None:
    assert decode_bytes(b"caf\xe9 \x81") == "café \x81"


def test_the_bom_is_not_part_of_the_text() -> None:
    assert decode_bytes("Title".encode("utf-8-sig")) == "Title"
    assert decode_bytes("Title".encode("utf-16")) == "Title"


def test_crlf_and_cr_become_newlines() -> None:
    assert decode_bytes(b"a\r\nb\rc\n") == "a\nb\nc\n"


@pytest.mark.parametrize("what, data", [
    ("a PNG image", PNG_BYTES),
    ("NUL bytes", b"Title\n\nBody\x00\x00\x00\x00 text."),
    ("random bytes", random.Random(650).randbytes(8192)),
    ("every other byte NUL, but not UTF-16", b"T\x00i\x00t\x00l\x00e\x00\n\x00\n\x00\x01\xd8A\x00"),
])
def test_binary_data_is_refused(what: str, data: bytes) -> None:
    with pytest.raises(UndecodableError):
        decode_bytes(data)


def test_a_stray_nul_byte_in_utf8_text_is_dropped_not_the_article() -> None:
    text = "Council budget agreed\n\nThe council met on Monday and agreed a budget of 40m pounds for the year."
    data = text.replace("Monday", "Mon\x00day").encode()
    assert decode_bytes(data) == text


@pytest.mark.parametrize("name", ["a.txt", "a.md", "a.html", "a.json", "a.jsonl"])
def test_binary_file_is_skipped_with_a_reason_in_every_format(tmp_path: Path, name: str) -> None:
    result = parse(write(tmp_path / name, PNG_BYTES))
    assert isinstance(result, Skipped)
    assert "binary" in result.reason


@pytest.mark.parametrize("data", [b"", b"\n\n  \r\n\t\n", b"\xef\xbb\xbf"])
@pytest.mark.parametrize("name", ["a.txt", "a.md", "a.json", "a.jsonl"])
def test_empty_file_is_skipped_with_a_reason(tmp_path: Path, name: str, data: bytes) -> None:
    result = parse(write(tmp_path / name, data))
    assert isinstance(result, Skipped)
    assert "empty" in result.reason


def test_empty_html_file_is_skipped_with_a_reason(tmp_path: Path) -> None:
    result = parse(write(tmp_path / "a.html", b""))
    assert isinstance(result, Skipped)
    assert result.reason
