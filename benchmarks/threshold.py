"""The answering threshold's trade-off: answers given right against unanswerable questions declined, at each
threshold, on the report sets of BENCHMARKS.md (SQuAD odd articles, the BBC questions).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/threshold.py   # then benchmarks/run.py --render-only

Every question is answered once with the threshold at 0 (`QA_ANSWER_THRESHOLD`), so each gets its best answer
and its confidence; a threshold t then gives exactly the answers with confidence >= t (the threshold changes
nothing else about an answer; but confidences are rounded to 4 decimals, so one within 0.00005 of a threshold
may land on its other side), and declines the rest. Writes results/threshold.json and results/threshold.md.
Conversations are left out: a declined turn changes what the next one is resolved with.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from qa.answerer import Answerer  # noqa: E402
from qa.evaluate import judge, select_questions  # noqa: E402
from qa.scoring import Weights  # noqa: E402
from qa.settings import Settings  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
DATA = ROOT.parent / "shared" / "data"
THRESHOLDS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


def outcomes(index_dir: Path, dataset: Path, articles: str, sample: int | None) -> list[dict]:
    """Per question: unanswerable or not, the best answer's confidence, and whether it is right and cited."""
    answerer = Answerer.load(Settings(index_dir=index_dir, answer_threshold=0.0, read_ahead=False))
    rows = []
    for q in select_questions(dataset, articles, sample, seed=650):
        answer = answerer.ask(q.question, top_k=5)
        rows.append({"impossible": q.is_impossible, "confidence": answer.confidence,
                     "right": judge(answer, q)["correct"]})
    return rows


def at(rows: list[dict], threshold: float) -> dict:
    answerable = [r for r in rows if not r["impossible"]]
    impossible = [r for r in rows if r["impossible"]]
    point = {"threshold": threshold,
             "right": sum(r["right"] and r["confidence"] >= threshold for r in answerable) / len(answerable),
             "answered": sum(r["confidence"] >= threshold for r in answerable) / len(answerable)}
    if impossible:
        point["declined"] = sum(r["confidence"] < threshold for r in impossible) / len(impossible)
        point["balanced"] = (point["right"] + point["declined"]) / 2
    return point


def markdown(curves: dict[str, list[dict]], fitted: float, when: str, seconds: float) -> str:
    """A table: a row per threshold (the points of each set's curve, in the same order), the shipped one in bold;
    for each set right + cited (and for sets with unanswerable questions: declined and balanced accuracy)."""
    measures = {name: ("right", "declined", "balanced") if "declined" in points[0] else ("right",)
                for name, points in curves.items()}
    labels = {"right": "right + cited", "declined": "declined", "balanced": "balanced"}
    header = ["threshold"] + [f"{name}: {labels[m]}" for name, ms in measures.items() for m in ms]
    lines = ["### The answering threshold: answers against declines", "",
             f"`benchmarks/threshold.py` ({when}, {seconds:.0f} s): every question answered once at threshold 0, "
             "then each threshold applied to the confidences (exact, as the threshold changes nothing else, but for "
             "answers within 0.00005 of a threshold: confidences are given to 4 decimals). "
             "\"Right + cited\" is over answerable questions, \"declined\" over unanswerable ones. The shipped "
             f"threshold ({fitted:.2f}, in bold) is fitted by `benchmarks/tune.py` on the tuning questions; these "
             "are the report sets, where nothing is chosen. `--threshold` (`qa ask`, `qa eval`, `qa serve`) or "
             "`QA_ANSWER_THRESHOLD` sets another.", "",
             "| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |"]
    for k, threshold in enumerate(sorted({*THRESHOLDS, fitted})):
        cells = [f"{points[k][m]:.3f}" for name, points in curves.items() for m in measures[name]]
        label = f"**{threshold:.2f}** (shipped)" if threshold == fitted else f"{threshold:.2f}"
        lines.append("| " + " | ".join([label, *cells]) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench-dir", type=Path, default=ROOT / "var" / "bench", help="the cached indexes")
    parser.add_argument("--sample", type=int, default=2000, help="SQuAD questions sampled (seed 650), as run.py")
    args = parser.parse_args()
    started = time.perf_counter()
    sets = {
        "squad-v1.1 odd": outcomes(args.bench_dir / "index-squad-v1.1", DATA / "squad-v1.1-dev", "odd", args.sample),
        "squad-v2.0 odd": outcomes(args.bench_dir / "index-squad-v2.0", DATA / "squad-v2.0-dev", "odd", args.sample),
        "bbc-questions": outcomes(args.bench_dir / "index-bbc", ROOT / "benchmarks" / "data" / "bbc-questions",
                                  "all", None),
    }
    seconds = time.perf_counter() - started
    fitted = round(Weights.load(Settings().weights_file).threshold, 4)
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    curves = {name: [at(rows, t) for t in sorted({*THRESHOLDS, fitted})] for name, rows in sets.items()}
    (RESULTS / "threshold.json").write_text(json.dumps(
        {"date": when, "seconds": round(seconds, 1), "fitted": fitted, "curves": curves}, indent=2) + "\n")
    table = markdown(curves, fitted, when, seconds)
    (RESULTS / "threshold.md").write_text(table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
