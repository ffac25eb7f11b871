"""Plain-text rendering of an answer for the terminal."""

from __future__ import annotations

from qa.metadata import HEADER
from qa.types import Answer

OPENING_CHARS = 120


def answer_text(answer: Answer) -> str:
    lines = []
    if answer.found:
        lines.append(answer.answer or "")
        if answer.short_answer:
            lines.append(f"  -> {answer.short_answer}")
        lines.append(f"confidence {answer.confidence:.2f}")
    else:
        lines.append("Not in the articles. Closest passages:" if answer.citations else "Not in the articles.")
    for c in answer.citations:
        dated = f", {c.date}" if c.date else ""
        where = "header" if c.paragraph_index == HEADER else f"paragraph {c.paragraph_index}"
        # a citation with nothing marked (the article a question about it looked at) shows its opening
        quoted = c.text[c.start:c.end] if c.end > c.start else _opening(c.text)
        lines.append(f"[{c.n}] {c.title}{dated} ({c.article_id}, {where}): {quoted}")
    return "\n".join(lines)


def _opening(text: str, chars: int = OPENING_CHARS) -> str:
    return text if len(text) <= chars else text[:chars].rsplit(" ", 1)[0] + " …"
