"""Fit the ranking, sentence and confidence weights (qa/weights.json) on even-numbered SQuAD articles only.

    python benchmarks/tune.py --v1-index /tmp/idx_squad-v1.1-dev --v2-index /tmp/idx_squad-v2.0-dev \
        [--news benchmarks/data/bbc-tune --news-index var/bench/index-bbc]

Only articles even-numbered in both SQuAD dev sets are used (`tuning_questions`), so the odd-numbered
articles each set reports on were never fitted on. The reader (qa/reader.npz) is trained on the same
articles by benchmarks/train_reader.py. Stages:
(1) a conditional-logit model ranking candidate paragraphs (gold paragraph = the positive);
(2) the same for sentences of the top paragraphs (positive = the sentence holding a gold answer start);
(2b) how much the reader's reading of the best three sentences weighs in choosing among them (a grid);
(3) the reader's span probability needed to give a short answer (given ones average F1 >= 0.6);
(4) a logistic model of P(answer right | evidence) on v1.1 and v2.0 questions, the calibrated confidence;
(5) the confidence threshold for answering (balancing v1.1 answers and declined unanswerables).
`qa eval --articles odd` reports on the odd-numbered articles. With `--news`, a news tuning set (written
for fitting only, on articles no evaluation set uses) joins every stage with `--news-share` of SQuAD's weight,
so the models also learn how news differs (short paragraphs, the lead paragraph summing up the article).
With `--followups` (a conversations.jsonl asked against the news index), the follow-up turns answered right +
cited join the threshold's objective in (5): every turn's answer depends on the threshold only through whether
the turn is answered, so the conversations are replayed at each threshold.
Non-linear models over the same features were tried against these linear ones (2026-12-07, 5-fold
cross-validation by article on the tuning questions, bbc-tune at the news share) and not taken. (1) Ranking
P@1, linear 0.832 / 0.862 / 0.595 (v1.1 / v2.0 / bbc-tune). An MLP added to the conditional logit (16 or 32
tanh units, features also relative to the candidates' best and mean) gave 0.831-0.841 / 0.857-0.860 / 0.560-0.590.
Boosted trees (scikit-learn HistGradientBoosting, pointwise) gave 0.831 / 0.864 / 0.595. (4)+(5) Confidence: the
objective of (5) without follow-ups was 0.662 with the logistic model and 0.655-0.657 with boosted trees, whose
AUC was within 0.015 of the logistic's. The linear models are not what limits these figures; the evidence is.
`--fold-readers` (2026-12-08, readers from `train_reader.py --fold 0` and `--fold 1`; the feature bounds on in both
fits) takes the shipped reader's hold on its own training articles out of the fit: on the tuning questions v1.1 right
went 0.713 -> 0.630 and v2.0 balanced 0.634 -> 0.544 (against 0.716 and 0.515 on the odd articles), the reading
weight fell from 1.0 to 0.5, the short answers' threshold rose from 0.026 to 0.198 and the answering threshold from
0.45 to 0.47. On the report sets, against the shipped weights (fitted at c29d04e) and a refit without fold readers:
P@1 0.884 / 0.887 / 0.892 (v1.1 odd), 0.700 / 0.740 / 0.727 (BBC questions); right + cited 0.716 / 0.689 / 0.688
(v1.1 odd), 0.533 / 0.533 / 0.500 (BBC); balanced 0.515 / 0.530 / 0.534 (v2.0 odd), 0.667 / 0.682 / 0.665 (BBC); short
F1 0.549 / 0.530 / 0.492 (v1.1 odd); follow-ups held-out 0.691 / 0.619 / 0.660, dev 0.667 / 0.651 / 0.683. Both refits
answer less and decline more (on a 15-article news folder: 156 / 146 / 147 of 241 probes answered right), so the
shipped weights stay; the fold readers' span threshold is the most cautious, as readers trained on half the articles
read less well than the shipped one.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from train_reader import FOLDS, fold_articles

from index.export import DEFAULT_MODEL, exported_encoder
from qa.answerer import Answerer
from qa.conversation import Resolved
from qa.evaluate import (
    GoldQuestion,
    contains_answer,
    evaluate_conversations,
    f1_score,
    load_questions,
    tuning_questions,
)
from qa.evidence import PARAGRAPH_FEATURES, SENTENCE_FEATURES, typed_near
from qa.extract import CASCADE, TOP_PARAGRAPHS, extract, options, rank_paragraphs, reading_features
from qa.reader import Reader
from qa.scoring import WEIGHTS_FILE, LinearModel, Weights
from qa.settings import Settings

CONFIDENCE_FEATURES = (
    "paragraph_score", "paragraph_margin", "sentence_score", "sentence_margin", "cos", "coverage",
    "window_coverage", "paragraph_coverage", "missing_idf", "dense", "bm25_abs", "typed", "type_found",
    "typed_missing", "answer_missing_idf", "answer_missing_second", "answer_coverage", "number_mismatch",
    "negation_mismatch", "answerable", "span_probability",
)


def fit_conditional_logit(groups: list[tuple[np.ndarray, int]], l2: float = 1e-3, steps: int = 800,
                          group_weights: np.ndarray | None = None):
    """Weights maximising sum g_i log softmax(X_i w)[positive_i] over groups (rows of X are candidates)."""
    d = groups[0][0].shape[1]
    g = np.ones(len(groups)) if group_weights is None else np.asarray(group_weights, dtype=float)
    g = g / g.sum()
    w = np.zeros(d)
    m, v = np.zeros(d), np.zeros(d)
    for t in range(1, steps + 1):
        grad = l2 * w
        for (x, positive), weight in zip(groups, g, strict=True):
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            grad += weight * (x.T @ p - x[positive])
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 3000,
                 sample_weights: np.ndarray | None = None):
    """Binary logistic regression (with bias as the last weight), rows weighted by `sample_weights`."""
    x = np.hstack([x, np.ones((len(x), 1))])
    r = np.ones(len(y)) if sample_weights is None else np.asarray(sample_weights, dtype=float)
    r = r / r.mean()
    w = np.zeros(x.shape[1])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -30, 30)))
        grad = x.T @ (r * (p - y)) / len(y) + l2 * np.r_[w[:-1], 0]
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w[:-1], float(w[-1])


def collect(answerer: Answerer, questions: list[GoldQuestion]):
    """Ranked evidence for each question (features do not depend on the weights)."""
    rows = []
    for n, q in enumerate(questions):
        rows.append((q, *answerer.rank(answerer.index, Resolved(q.question))))
        if n % 500 == 0:
            print(f"  {n}/{len(questions)}", file=sys.stderr)
    return rows


def paragraph_groups(rows):
    groups = []
    for q, _, evidence in rows:
        gold = [k for k, p in enumerate(evidence) if (p.article_id, p.index) == (q.article_id, q.paragraph_index)]
        if gold and len(evidence) > 1:
            x = np.array([[p.features[f] for f in PARAGRAPH_FEATURES] for p in evidence])
            groups.append((x, gold[0]))
    return groups


def sentence_groups(rows, weights: Weights):
    groups = []
    for q, query, evidence in rows:
        ranked = rank_paragraphs(evidence, weights)
        options, positive = [], None
        for p in ranked[:TOP_PARAGRAPHS]:
            is_gold = (p.article_id, p.index) == (q.article_id, q.paragraph_index)
            typed_near(p, query)
            for s in p.sentences:
                s.features["paragraph"] = p.score - ranked[0].score
                if is_gold and positive is None and any(s.start <= a < s.end for a in q.answer_starts):
                    positive = len(options)
                options.append([s.features[f] for f in SENTENCE_FEATURES])
        if positive is not None and len(options) > 1:
            groups.append((np.array(options), positive))
    return groups


READING_GRID = [(a, s) for a in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0) for s in (0.0, 0.5, 1.0, 2.0)]


def fit_reading(weights: Weights, readers: Readers, squad: list, news: list) -> LinearModel:
    """How much the reader's reading of the best `CASCADE.options` sentences weighs in choosing among them: the
    grid point whose choices hold a gold answer in the gold paragraph most often (SQuAD and news averaged).
    The shipped 3.0 is the grid's edge. Beyond it the choices hardly change: the pipeline's right + cited at
    threshold 0 with answerable 3 / 6 / 9 / 15 was 0.701 / 0.702 / 0.700 / 0.698. That was measured with a reader
    that never saw the articles: `train_reader.py --validate`'s reader on the three validation articles' 1,075
    v1.1 questions. On bbc-tune, with the shipped reader, it was 0.620 / 0.620 / 0.615 / 0.615."""
    reading_on = replace(weights, reading=LinearModel({"answerable": 1.0}))  # non-empty: read them all
    sets = [[_graded_options(q, query, evidence, reading_on, readers.of(q)) for q, query, evidence in rows]
            for rows in (squad, news) if rows]

    def hit_rate(model: LinearModel, groups: list) -> float:
        return float(np.mean([max(g, key=lambda o: o[0] + model.score(o[1]))[2] for g in groups if g]))

    def grid_model(point: tuple[float, float]) -> LinearModel:
        return LinearModel({"answerable": point[0], "span": point[1]})

    scores = {point: np.mean([hit_rate(grid_model(point), groups) for groups in sets]) for point in READING_GRID}
    best = max(READING_GRID, key=scores.__getitem__)
    print(f"reading {best}: right window {scores[best]:.4f} (without the reader's reading "
          f"{scores[(0.0, 0.0)]:.4f})", file=sys.stderr)
    return grid_model(best)


def _graded_options(q: GoldQuestion, query, evidence, weights: Weights, reader: Reader) -> list:
    """(sentence score, reading features, holds a gold answer in the gold paragraph) of each read option."""
    found = [o for o in options(rank_paragraphs(evidence, weights), query, weights, reader,
                                replace(CASCADE, lift=math.inf))
             if o.read is not None]
    return [(o.score, reading_features(o.read),
             (o.paragraph.article_id, o.paragraph.index) == (q.article_id, q.paragraph_index)
             and contains_answer(o.paragraph.text[o.start:o.end], q.answers)) for o in found]


def span_threshold(rows, weights: Weights, readers: Readers, floor: float = 0.6) -> float:
    """The lowest reader probability at which the short answers given still average F1 >= `floor`."""
    everything = replace(weights, span_threshold=0.0)  # the reader's best span for every answer window
    given = []
    for q, query, evidence in rows:
        extraction = None if q.is_impossible else extract(rank_paragraphs(evidence, weights), query, everything,
                                                          readers.of(q))
        if extraction is not None and extraction.short_start is not None:
            short = extraction.paragraph.text[extraction.short_start:extraction.short_end]
            given.append((extraction.features["span_probability"], max(f1_score(short, a) for a in q.answers)))
    given.sort(reverse=True)
    threshold, total = 1.0, 0.0
    for n, (probability, f1) in enumerate(given, start=1):
        total += f1
        if total / n >= floor:
            threshold = probability
    print(f"short answers: threshold {threshold:.3f}", file=sys.stderr)
    return float(threshold)


def confidence_rows(rows, weights: Weights, readers: Readers):
    x, y, impossible = [], [], []
    for q, query, evidence in rows:
        ranked = rank_paragraphs(evidence, weights)
        extraction = extract(ranked, query, weights, readers.of(q))
        if extraction is None:
            continue
        p = extraction.paragraph
        right = (not q.is_impossible and (p.article_id, p.index) == (q.article_id, q.paragraph_index)
                 and contains_answer(p.text[extraction.start:extraction.end], q.answers))
        x.append([extraction.features[f] for f in CONFIDENCE_FEATURES])
        y.append(float(right))
        impossible.append(q.is_impossible)
    return np.array(x), np.array(y), np.array(impossible)


THRESHOLDS = np.linspace(0.05, 0.95, 91)
BOUNDS = (0.5, 99.5)  # percentiles of each confidence feature over the fitting rows: the range the model trusts


def best_threshold(v1: tuple[np.ndarray, np.ndarray],
                   declining: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]],
                   followups: dict[float, float] | None = None) -> float:
    """The threshold maximising the mean of v1.1 answers right, each `declining` set's balanced accuracy and,
    when given, the follow-up turns right + cited at each of `THRESHOLDS` (`followups`).

    `declining` holds (name, confidence, right, impossible) of sets with unanswerable questions (v2.0, news).
    v2.0 alone (half its questions unanswerable) would push the threshold up until most answerable
    questions are declined too; v1.1 and the follow-ups keep the cost of a wrong "not in the articles" in view.
    """
    best, best_t, parts = -1.0, 0.5, []
    for t in THRESHOLDS:
        scores = [float(np.mean((v1[0] >= t) & v1[1].astype(bool)))]
        for _, p, right, impossible in declining:
            answered = p >= t
            scores.append((np.mean(answered[~impossible] & right[~impossible].astype(bool))
                           + np.mean(~answered[impossible])) / 2)
        if followups:
            scores.append(followups[float(t)])
        if np.mean(scores) > best:
            best, best_t, parts = float(np.mean(scores)), float(t), scores
    names = ["v1.1 right", *(f"{name} balanced" for name, *_ in declining)]
    names += ["follow-ups right"] if followups else []
    print(f"threshold {best_t:.2f}: " + ", ".join(f"{n} {v:.4f}" for n, v in zip(names, parts, strict=True))
          + " (tuning questions)", file=sys.stderr)
    return best_t


def followup_rates(answerer: Answerer, weights: Weights, conversations: Path) -> dict[float, float]:
    """The follow-up turns answered right + cited with `weights` at each of `THRESHOLDS`."""
    rates, shipped = {}, answerer.weights
    try:
        for t in THRESHOLDS:
            answerer.weights = replace(weights, threshold=float(t))
            rates[float(t)] = evaluate_conversations(answerer, conversations)["followup_right_with_citation"]
    finally:
        answerer.weights = shipped
    return rates


def with_news(squad: list, news: list, share: float) -> tuple[list, np.ndarray]:
    """SQuAD items then news items, with weights that give the news items `share` of SQuAD's total weight."""
    return squad + news, np.r_[np.ones(len(squad)), np.full(len(news), share * len(squad) / max(1, len(news)))]


@dataclass(frozen=True)
class Readers:
    """The reader each tuning question is read with: the shipped one, or with fold readers the one trained without
    the question's article. The shipped reader learnt the SQuAD tuning articles, so on their questions its readings
    are surer than on any others, and a confidence fitted on those readings trusts them too much elsewhere."""

    shipped: Reader
    by_article: dict[str, Reader] = field(default_factory=dict)

    @classmethod
    def load(cls, shipped: Reader, folds: list[Path], cache_dir: Path) -> Readers:
        by_article = {}
        for fold, weights in enumerate(folds):
            reader = Reader.load(exported_encoder(DEFAULT_MODEL, cache_dir), cache_dir, weights)
            by_article |= dict.fromkeys(fold_articles(fold), reader)
        return cls(shipped, by_article)

    def of(self, q: GoldQuestion) -> Reader:
        return self.by_article.get(q.article_id, self.shipped)


def sample(questions: list[GoldQuestion], n: int | None, seed: int = 7) -> list[GoldQuestion]:
    return random.Random(seed).sample(questions, n) if n and n < len(questions) else questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--v1-index", type=Path, required=True)
    ap.add_argument("--v2-index", type=Path, required=True)
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--sample", type=int, default=3000, help="questions per dataset (even articles)")
    ap.add_argument("--news", type=Path, help="a news tuning set (e.g. benchmarks/data/bbc-tune)")
    ap.add_argument("--news-index", type=Path, help="the index the news tuning set is asked against")
    ap.add_argument("--news-share", type=float, default=0.5,
                    help="the news questions' total weight, relative to the SQuAD questions'")
    ap.add_argument("--followups", type=Path, help="conversations asked against --news-index (e.g. benchmarks/"
                    "data/bbc-followups/conversations.jsonl): their follow-up turns join the threshold's choice")
    ap.add_argument("--fold-readers", type=Path, nargs="+", default=[], help="readers each trained without one "
                    "fold of the SQuAD tuning articles (train_reader.py --fold N, in fold order): each SQuAD question "
                    "is read by the one that never saw its article")
    ap.add_argument("--out", type=Path, default=WEIGHTS_FILE)
    args = ap.parse_args()
    if bool(args.news) != bool(args.news_index):
        ap.error("--news and --news-index go together")
    if args.followups and not args.news_index:
        ap.error("--followups needs --news-index")
    if args.fold_readers and len(args.fold_readers) != FOLDS:
        ap.error(f"--fold-readers takes one reader for each of the {FOLDS} folds")

    weights = Weights.load()
    v1 = Answerer.load(Settings(index_dir=args.v1_index))
    v2 = Answerer.load(Settings(index_dir=args.v2_index))
    print("collecting evidence", file=sys.stderr)
    v1_dir, v2_dir = args.shared / "squad-v1.1-dev", args.shared / "squad-v2.0-dev"
    rows1 = collect(v1, sample(tuning_questions(v1_dir, v2_dir), args.sample))
    rows2 = collect(v2, sample(tuning_questions(v2_dir, v1_dir), args.sample))
    news = Answerer.load(Settings(index_dir=args.news_index, read_ahead=False)) if args.news_index else None
    news_rows = collect(news, load_questions(args.news)) if args.news else []
    answerable = rows1 + [r for r in rows2 if not r[0].is_impossible]
    news_answerable = [r for r in news_rows if not r[0].is_impossible]

    weights = fit_ranking(weights, answerable, news_answerable, args.news_share)
    readers = Readers.load(v1.reader, args.fold_readers, Settings().cache_dir)
    weights = replace(weights, reading=fit_reading(weights, readers, answerable, news_answerable))
    weights = replace(weights, span_threshold=span_threshold(rows1, weights, readers))
    followups = (news, args.followups) if args.followups else None
    weights = fit_confidence(weights, readers, rows1, rows2, news_rows, args.news_share, followups)
    args.out.write_text(json.dumps(weights.to_dict(), indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


def fit_ranking(weights: Weights, answerable: list, news: list, share: float) -> Weights:
    """Stages (1) and (2): the paragraph model, then the sentence model on the paragraphs it ranks."""
    groups, group_weights = with_news(paragraph_groups(answerable), paragraph_groups(news), share)
    fitted = dict(zip(PARAGRAPH_FEATURES, map(float, fit_conditional_logit(groups, group_weights=group_weights)),
                      strict=True))
    fitted["context"] = weights.paragraph.weights.get("context", 0.0)  # SQuAD has no conversations: set by hand
    weights = replace(weights, paragraph=LinearModel(fitted))
    groups, group_weights = with_news(sentence_groups(answerable, weights), sentence_groups(news, weights), share)
    w = fit_conditional_logit(groups, group_weights=group_weights)
    return replace(weights, sentence=LinearModel(dict(zip(SENTENCE_FEATURES, map(float, w), strict=True))))


def fit_confidence(weights: Weights, readers: Readers, rows1: list, rows2: list, news_rows: list,
                   share: float, followups: tuple[Answerer, Path] | None = None) -> Weights:
    """Stages (4) and (5): the confidence model and the threshold for answering (`followups`: an answerer on
    the news index and conversations to replay with the fitted weights)."""
    sets = [confidence_rows(rows, weights, readers) for rows in (rows1, rows2, news_rows)]
    squad = np.concatenate([sets[0][1], sets[1][1]])
    _, row_weights = with_news(list(squad), list(sets[2][1]), share)
    x = np.vstack([xs for xs, ys, _ in sets if len(ys)])
    low, high = np.percentile(x, BOUNDS, axis=0)
    w, bias = fit_logistic(np.clip(x, low, high), np.concatenate([ys for _, ys, _ in sets]), sample_weights=row_weights)
    fitted = dict(zip(CONFIDENCE_FEATURES, map(float, w), strict=True))
    fitted["context"] = weights.confidence.weights.get("context", 0.0)  # set by hand, as for paragraphs
    bounds = {f: (float(a), float(b)) for f, a, b in zip(CONFIDENCE_FEATURES, low, high, strict=True) if a < b}
    confidence = LinearModel(fitted, bias, bounds)
    p1, p2, pn = (np.array([confidence.probability(dict(zip(CONFIDENCE_FEATURES, row, strict=True)))
                            for row in xs]) for xs, _, _ in sets)
    declining = [("v2.0", p2, sets[1][1], sets[1][2])]
    if news_rows:
        declining.append(("news", pn, sets[2][1], sets[2][2]))
    fitted = replace(weights, confidence=confidence)
    rates = followup_rates(followups[0], fitted, followups[1]) if followups else None
    return replace(fitted, threshold=best_threshold((p1, sets[0][1]), declining, rates))


if __name__ == "__main__":
    main()
