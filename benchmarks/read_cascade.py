"""Replay the reader's cascade (qa/extract.py `Cascade`: margin, lift, options) over a grid on tuning questions.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/read_cascade.py [--followups 2.0:2.5 2.5:3.5 ...]

For each grid point: reads per question, answers right + cited and balanced accuracy on 1500 questions of even
SQuAD v1.1 and v2.0 dev articles (seed 7, as `qa eval --articles even`) and on bbc-tune, with the shipped weights
and confidence; then, for the points given with `--followups` (margin:lift), the bbc-followups turns answered
right + cited. Readings are cached, so every point costs one reading of each option at most. Only tuning and
dev sets are read here; the choice and its figures are in `qa.extract.Cascade`'s docstring.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.answerer import Answerer  # noqa: E402
from qa.conversation import Resolved  # noqa: E402
from qa.evaluate import contains_answer, evaluate_conversations, load_questions, tuning_questions  # noqa: E402
from qa.extract import CASCADE, Cascade, extract  # noqa: E402
from qa.reader import Reader  # noqa: E402
from qa.settings import Settings  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
BENCH = ROOT / "var" / "bench"
MARGINS = (1.5, 2.0, 2.5, 3.0)
LIFTS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, math.inf)


def question_sets() -> dict[str, tuple[Path, list]]:
    v1, v2 = DATA / "squad-v1.1-dev", DATA / "squad-v2.0-dev"
    return {
        "v1.1": (BENCH / "index-squad-v1.1", random.Random(7).sample(tuning_questions(v1, v2), 1500)),
        "v2.0": (BENCH / "index-squad-v2.0", random.Random(7).sample(tuning_questions(v2, v1), 1500)),
        "bbc-tune": (BENCH / "index-bbc", load_questions(ROOT / "benchmarks/data/bbc-tune")),
    }


def cache_readings() -> list[int]:
    """Every (question, window) is read once, whichever grid points read it; the returned counter counts the
    cascade's reads (cached or not)."""
    read, seen, reads = Reader.read, {}, [0]

    def cached(self: Reader, question: str, window: str, avoid: tuple[tuple[int, int], ...] = ()):
        reads[0] += 1
        if (question, window, avoid) not in seen:
            seen[question, window, avoid] = read(self, question, window, avoid)
        return seen[question, window, avoid]

    Reader.read = cached
    return reads


def score(answerer: Answerer, rows: list, reads: list[int], cascade: Cascade) -> tuple[float, float, float | None]:
    """Reads per question (`reads`: the reading counter), answerable questions right + cited, balanced accuracy
    (None without unanswerables)."""
    right = declined = impossible = 0
    reads[0] = 0
    for q, query, ranked in rows:
        extraction = extract(ranked, query, answerer.weights, answerer.reader, cascade=cascade)
        found = extraction is not None and (
            answerer.weights.confidence.probability(extraction.features) >= answerer.weights.threshold)
        if q.is_impossible:
            impossible += 1
            declined += not found
        elif found:
            p = extraction.paragraph
            right += ((p.article_id, p.index) == (q.article_id, q.paragraph_index)
                      and contains_answer(p.text[extraction.start:extraction.end], q.answers))
    answerable = len(rows) - impossible
    share = right / answerable
    return reads[0] / len(rows), share, (share + declined / impossible) / 2 if impossible else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--followups", nargs="*", default=[], metavar="MARGIN:LIFT")
    args = ap.parse_args()
    reads = cache_readings()
    sets = {}
    for name, (index, questions) in question_sets().items():
        answerer = Answerer.load(Settings(index_dir=index, read_ahead=False))
        sets[name] = answerer, [(q, *answerer.rank(answerer.index, Resolved(q.question))) for q in questions]
    for count in (2, 3):
        for margin in MARGINS:
            for lift in LIFTS:
                cascade = Cascade(count, margin, lift)
                figures = {name: score(answerer, rows, reads, cascade) for name, (answerer, rows) in sets.items()}
                print(f"margin {margin} lift {lift} options {count}: " + "; ".join(
                    f"{name} reads {r:.3f} right {s:.4f}" + (f" balanced {b:.4f}" if b is not None else "")
                    for name, (r, s, b) in figures.items()), flush=True)
    answerer = sets["bbc-tune"][0]
    for point in args.followups:
        margin, lift = map(float, point.split(":"))
        answerer.cascade = Cascade(CASCADE.options, margin, lift)
        turns = evaluate_conversations(answerer, ROOT / "benchmarks/data/bbc-followups/conversations.jsonl")
        rate = turns["followup_right_with_citation"] or 0.0  # None over no follow-up turns
        print(f"margin {margin} lift {lift}: follow-ups right + cited "
              f"{rate * turns['followup_turns']:.0f} of {turns['followup_turns']}")


if __name__ == "__main__":
    main()
