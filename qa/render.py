"""Plain-text rendering of an answer for the terminal."""

from __future__ import annotations

from qa.metadata import HEADER
from qa.types import Answer


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
        lines.append(f"[{c.n}] {c.title}{dated} ({c.article_id}, {where}): "
                     f"{c.text[c.start:c.end]}")
    return "\n".join(lines)
