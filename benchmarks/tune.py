"""Fit the ranking, sentence and confidence weights (qa/weights.json) on even-numbered SQuAD articles only.

    python benchmarks/tune.py --v1-index /tmp/idx_squad-v1.1-dev --v2-index /tmp/idx_squad-v2.0-dev

Stages: (1) a conditional-logit model ranking candidate paragraphs (gold paragraph = the positive);
(2) the same for sentences of the top paragraphs (positive = the sentence holding a gold answer start);
(3) a logistic model of P(answer right | evidence) on v1.1 and v2.0 questions, the calibrated confidence;
(4) the confidence threshold for answering that maximises v2.0's balanced accuracy. Odd-numbered articles
are never looked at here; `qa eval --articles odd` reports on them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa.answerer import Answerer
from qa.conversation import Resolved
from qa.evaluate import GoldQuestion, contains_answer, load_questions
from qa.evidence import PARAGRAPH_FEATURES, SENTENCE_FEATURES
from qa.extract import TOP_PARAGRAPHS, extract, rank_paragraphs
from qa.question import Question
from qa.scoring import WEIGHTS_FILE, LinearModel, Weights
from qa.settings import Settings

CONFIDENCE_FEATURES = (
    "paragraph_score", "paragraph_margin", "sentence_score", "sentence_margin", "cos", "coverage",
    "window_coverage", "paragraph_coverage", "missing_idf", "dense", "bm25_abs", "typed", "type_found",
    "typed_missing",
)


def fit_conditional_logit(groups: list[tuple[np.ndarray, int]], l2: float = 1e-3, steps: int = 800):
    """Weights maximising sum log softmax(X w)[positive] over groups (rows of X are candidates)."""
    d = groups[0][0].shape[1]
    w = np.zeros(d)
    m, v = np.zeros(d), np.zeros(d)
    for t in range(1, steps + 1):
        grad = l2 * w
        for x, positive in groups:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += (x.T @ p - x[positive]) / len(groups)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 3000):
    """Binary logistic regression (with bias as the last weight)."""
    x = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(x.shape[1])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (p - y) / len(y) + l2 * np.r_[w[:-1], 0]
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w[:-1], float(w[-1])


def collect(answerer: Answerer, questions: list[GoldQuestion]):
    """Ranked evidence for each question (features do not depend on the weights)."""
    rows = []
    for n, q in enumerate(questions):
        evidence = answerer._rank(answerer.index, q.question, Resolved(q.question))
        rows.append((q, evidence))
        if n % 500 == 0:
            print(f"  {n}/{len(questions)}", file=sys.stderr)
    return rows


def paragraph_groups(rows):
    groups = []
    for q, evidence in rows:
        gold = [k for k, p in enumerate(evidence) if (p.article_id, p.index) == (q.article_id, q.paragraph_index)]
        if gold and len(evidence) > 1:
            x = np.array([[p.features[f] for f in PARAGRAPH_FEATURES] for p in evidence])
            groups.append((x, gold[0]))
    return groups


def sentence_groups(rows, weights: Weights):
    groups = []
    for q, evidence in rows:
        ranked = rank_paragraphs(evidence, weights)
        options, positive = [], None
        for p in ranked[:TOP_PARAGRAPHS]:
            is_gold = (p.article_id, p.index) == (q.article_id, q.paragraph_index)
            for s in p.sentences:
                s.features["paragraph"] = p.score - ranked[0].score
                if is_gold and positive is None and any(s.start <= a < s.end for a in q.answer_starts):
                    positive = len(options)
                options.append([s.features[f] for f in SENTENCE_FEATURES])
        if positive is not None and len(options) > 1:
            groups.append((np.array(options), positive))
    return groups


def confidence_rows(rows, weights: Weights):
    x, y, impossible = [], [], []
    for q, evidence in rows:
        ranked = rank_paragraphs(evidence, weights)
        extraction = extract(ranked, Question.parse(q.question), weights)
        if extraction is None:
            continue
        p = extraction.paragraph
        right = (not q.is_impossible and (p.article_id, p.index) == (q.article_id, q.paragraph_index)
                 and contains_answer(p.text[extraction.start:extraction.end], q.answers))
        x.append([extraction.features[f] for f in CONFIDENCE_FEATURES])
        y.append(float(right))
        impossible.append(q.is_impossible)
    return np.array(x), np.array(y), np.array(impossible)


def best_threshold(probabilities: np.ndarray, right: np.ndarray, impossible: np.ndarray) -> float:
    """The threshold maximising mean(answerable answered right, unanswerable declined)."""
    best, best_t = -1.0, 0.5
    for t in np.linspace(0.05, 0.95, 91):
        answered = probabilities >= t
        score = (np.mean(answered[~impossible] & right[~impossible].astype(bool))
                 + np.mean(~answered[impossible])) / 2
        if score > best:
            best, best_t = score, float(t)
    print(f"threshold {best_t:.2f}: balanced accuracy {best:.4f} (even articles)", file=sys.stderr)
    return best_t


def sample(questions: list[GoldQuestion], n: int | None, seed: int = 7) -> list[GoldQuestion]:
    return random.Random(seed).sample(questions, n) if n and n < len(questions) else questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--v1-index", type=Path, required=True)
    ap.add_argument("--v2-index", type=Path, required=True)
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--sample", type=int, default=3000, help="questions per dataset (even articles)")
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = ap.parse_args()

    weights = Weights.load()
    v1 = Answerer.load(Settings(index_dir=args.v1_index))
    v2 = Answerer.load(Settings(index_dir=args.v2_index))
    print("collecting evidence", file=sys.stderr)
    rows1 = collect(v1, sample(load_questions(args.shared / "squad-v1.1-dev", "even"), args.sample))
    rows2 = collect(v2, sample(load_questions(args.shared / "squad-v2.0-dev", "even"), args.sample))

    answerable = rows1 + [r for r in rows2 if not r[0].is_impossible]
    w = fit_conditional_logit(paragraph_groups(answerable))
    weights = replace(weights, paragraph=LinearModel(dict(zip(PARAGRAPH_FEATURES, map(float, w), strict=True))))
    w = fit_conditional_logit(sentence_groups(answerable, weights))
    weights = replace(weights, sentence=LinearModel(dict(zip(SENTENCE_FEATURES, map(float, w), strict=True))))

    x1, y1, _ = confidence_rows(rows1, weights)
    x2, y2, impossible = confidence_rows(rows2, weights)
    w, bias = fit_logistic(np.vstack([x1, x2]), np.concatenate([y1, y2]))
    confidence = LinearModel(dict(zip(CONFIDENCE_FEATURES, map(float, w), strict=True)), bias)
    probabilities = np.array([confidence.probability(dict(zip(CONFIDENCE_FEATURES, row, strict=True)))
                              for row in x2])
    threshold = best_threshold(probabilities, y2, impossible)
    weights = replace(weights, confidence=confidence, threshold=threshold)
    args.out.write_text(json.dumps(weights.to_dict(), indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
