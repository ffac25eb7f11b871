"""`qa eval`: run a dataset's questions against the index and score answers, citations and abstention.

Datasets use the layout of ../shared/data/*: `articles.jsonl` and `questions.jsonl` with `answers`,
`article_id`, `paragraph_index` and `is_impossible`. Short answers are scored with SQuAD's official
normalisation (lower case, no punctuation, no articles, single spaces).
"""

from __future__ import annotations

import random
import re
import statistics
import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Protocol

from index.decoding import parse_json
from qa.types import Answer

CALIBRATION_BINS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0001)


class Asks(Protocol):
    def ask(self, question: str, session_id: str | None = None, top_k: int | None = None) -> Answer: ...


@dataclass(frozen=True)
class GoldQuestion:
    id: str
    question: str
    answers: tuple[str, ...]
    article_id: str
    paragraph_index: int | None
    is_impossible: bool
    answer_starts: tuple[int, ...] = ()


def normalize_answer(text: str) -> str:
    """SQuAD's official answer normalisation."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def exact_match(prediction: str, gold: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(gold))


def f1_score(prediction: str, gold: str) -> float:
    """Token F1 between a prediction and one gold answer (SQuAD's definition)."""
    predicted, expected = normalize_answer(prediction).split(), normalize_answer(gold).split()
    common = Counter(predicted) & Counter(expected)
    overlap = sum(common.values())
    if overlap == 0:
        return 0.0
    precision, recall = overlap / len(predicted), overlap / len(expected)
    return 2 * precision * recall / (precision + recall)


def contains_answer(text: str, answers: tuple[str, ...]) -> bool:
    """Whether `text` contains any gold answer, compared after normalisation."""
    haystack = f" {normalize_answer(text)} "
    return any(f" {normalize_answer(a)} " in haystack for a in answers if normalize_answer(a))


class DatasetError(ValueError):
    """A dataset file that cannot be read as one, with the file and line."""


def load_questions(dataset: Path, articles: str = "all") -> list[GoldQuestion]:
    """Questions of a dataset; `articles` = 'even' or 'odd' keeps those of even/odd-numbered articles."""
    order = {}
    articles_file = dataset / "articles.jsonl"
    if articles != "all" and not articles_file.exists():
        raise DatasetError(f"{articles} articles are counted in the order of {articles_file}, which does not exist")
    if articles_file.exists():
        for n, (where, record) in enumerate(_records(articles_file)):
            order[_field(record, "id", where)] = n
    questions = []
    for where, q in _records(dataset / "questions.jsonl"):
        question = _gold(q, q.get("id", where), where)
        if articles != "all" and question.article_id not in order:
            raise DatasetError(f"{where}: article {question.article_id!r} is not in {articles_file}, so it is "
                               f"neither even nor odd")
        position = order.get(question.article_id, 0)
        if (articles == "even" and position % 2) or (articles == "odd" and not position % 2):
            continue
        questions.append(question)
    return questions


def load_conversations(path: Path) -> list[list[tuple[GoldQuestion, bool]]]:
    """Each conversation of `conversations.jsonl` as its turns, each as scored and whether it changes topic."""
    conversations = []
    for where, conversation in _records(path):
        turns = conversation.get("turns")
        if not isinstance(turns, list) or not all(isinstance(t, dict) for t in turns):
            raise DatasetError(f'{where}: no "turns" list of objects')
        conversations.append([(_gold(turn, f"turn-{n}", f"{where} turn {n + 1}"), bool(turn.get("topic_change")))
                              for n, turn in enumerate(turns)])
    return conversations


def dataset_articles(dataset: Path) -> set[str]:
    """The ids of the articles a dataset's questions and conversation turns are answered from."""
    golds = load_questions(dataset) if (dataset / "questions.jsonl").exists() else []
    if (dataset / "conversations.jsonl").exists():
        golds += [gold for turns in load_conversations(dataset / "conversations.jsonl") for gold, _ in turns]
    return {g.article_id for g in golds if g.article_id}


def _records(path: Path) -> Iterator[tuple[str, dict]]:
    """Each non-blank line's JSON object, with where it is (`file:line`); UTF-8, with or without a BOM."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from exc
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            value, problem = parse_json(line)
            if problem or not isinstance(value, dict):
                reason = f"invalid JSON ({problem})" if problem else "not a JSON object"
                raise DatasetError(f"{path}:{n}: {reason}")
            yield f"{path}:{n}", value


def _gold(record: dict, question_id: str, where: str) -> GoldQuestion:
    """A question or conversation turn as scored (`answers` a list of strings, `paragraph_index` null or int)."""
    text = _field(record, "question", where)
    answers = record.get("answers") or []
    index = record.get("paragraph_index")
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise DatasetError(f'{where}: "answers" must be a list of strings')
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        raise DatasetError(f'{where}: "paragraph_index" must be an integer or null')
    if not record.get("is_impossible") and not (answers and record.get("article_id")):
        raise DatasetError(f'{where}: an answerable question needs "answers" and "article_id" '
                           f'(or "is_impossible": true)')
    return GoldQuestion(str(question_id), text, tuple(answers),
                        record.get("article_id"), index, bool(record.get("is_impossible")),
                        tuple(record.get("answer_starts") or ()))


def _field(record: dict, name: str, where: str) -> str:
    """A required string field of a record."""
    value = record.get(name)
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        raise DatasetError(f'{where}: no "{name}"')
    return str(value)


def tuning_questions(dataset: Path, *others: Path) -> list[GoldQuestion]:
    """Questions of `dataset`'s even-numbered articles, leaving out articles that are odd-numbered in any of
    `others`: the SQuAD v2.0 dev articles are all v1.1 dev articles too, at positions of another parity for
    most, so fitting on one set's even articles alone would fit on articles the other set reports on."""
    reported = {q.article_id for other in others for q in load_questions(other, "odd")}
    return [q for q in load_questions(dataset, "even") if q.article_id not in reported]


def judge(answer: Answer, gold: GoldQuestion) -> dict:
    """Per-question outcome: ranks, correctness and short-answer scores."""
    cited = [(c.article_id, c.paragraph_index) for c in answer.citations]
    target = (gold.article_id, gold.paragraph_index)
    right_citation = bool(cited) and cited[0] == target
    correct = (not gold.is_impossible and answer.found and right_citation
               and contains_answer(answer.answer or "", gold.answers))
    short = answer.short_answer if answer.found else None
    return {
        "p_at_1": right_citation,
        "r_at_5": target in cited[:5],
        "correct": correct,
        "found": answer.found,
        "impossible": gold.is_impossible,
        "confidence": answer.confidence,
        "words": len((answer.answer or "").split()),
        "short_given": short is not None,
        "em": max((exact_match(short, a) for a in gold.answers), default=0.0) if short else 0.0,
        "f1": max((f1_score(short, a) for a in gold.answers), default=0.0) if short else 0.0,
        "took_ms": answer.took_ms,
    }


def evaluate_dataset(answerer: Asks, dataset: Path, limit: int | None = None, sample: int | None = None,
                     seed: int = 650, articles: str = "all") -> dict:
    """Score `questions.jsonl` and, when present, the follow-up turns of `conversations.jsonl`."""
    report: dict = {"dataset": str(dataset), "articles": articles}
    questions = select_questions(dataset, articles, sample, seed, limit) \
        if (dataset / "questions.jsonl").exists() else None
    if questions is not None and not questions:  # said before any conversation is run
        raise DatasetError(f"{dataset / 'questions.jsonl'} has no questions"
                           + (f" about {articles}-numbered articles" if articles != "all" else ""))
    if (dataset / "conversations.jsonl").exists():
        report |= evaluate_conversations(answerer, dataset / "conversations.jsonl")
    if questions is None:
        return report
    outcomes = [judge(answerer.ask(q.question, top_k=5), q) for q in questions]
    return summarize(outcomes) | report


def select_questions(dataset: Path, articles: str = "all", sample: int | None = None, seed: int = 650,
                     limit: int | None = None) -> list[GoldQuestion]:
    """The questions `qa eval` scores: of even, odd or all articles, then a seeded sample, then the first `limit`."""
    questions = load_questions(dataset, articles)
    if sample is not None and sample < len(questions):
        questions = random.Random(seed).sample(questions, sample)
    return questions[:limit] if limit is not None else questions


def evaluate_conversations(answerer: Asks, path: Path) -> dict:
    """Run `conversations.jsonl` turn by turn in one session each; score the turns after the first (right +
    cited, and the follow-ups' short-answer F1, 0 when none is given)."""
    followups: list[dict] = []
    topic_changes: list[dict] = []
    for turns in load_conversations(path):
        session_id = None
        for n, (gold, topic_change) in enumerate(turns):
            answer = answerer.ask(gold.question, session_id=session_id, top_k=5)
            session_id = answer.session_id
            if n:
                (topic_changes if topic_change else followups).append(judge(answer, gold))
    return {  # a rate over no turns is null, not 0
        "followup_turns": len(followups),
        "followup_right_with_citation": _mean(o["correct"] for o in followups) if followups else None,
        "followup_short_answer_f1": _mean(o["f1"] for o in followups) if followups else None,
        "topic_change_turns": len(topic_changes),
        "topic_change_right_with_citation": _mean(o["correct"] for o in topic_changes) if topic_changes else None,
    }


def summarize(outcomes: list[dict]) -> dict:
    """Aggregate per-question outcomes into the metrics `qa eval` prints."""
    answerable = [o for o in outcomes if not o["impossible"]]
    impossible = [o for o in outcomes if o["impossible"]]
    answered = [o for o in outcomes if o["found"]]
    latencies = sorted(o["took_ms"] for o in outcomes)
    report: dict = {"questions": len(outcomes), "answerable": len(answerable), "unanswerable": len(impossible)}
    if answerable:
        given = [o for o in answerable if o["short_given"]]
        report |= {
            "paragraph_p_at_1": _mean(o["p_at_1"] for o in answerable),
            "paragraph_r_at_5": _mean(o["r_at_5"] for o in answerable),
            "answer_correct_with_citation": _mean(o["correct"] for o in answerable),
            "answered": _mean(o["found"] for o in answerable),
            "median_answer_words": statistics.median([o["words"] for o in answerable if o["found"]] or [0]),
            "short_answer_em": _mean(o["em"] for o in answerable),
            "short_answer_f1": _mean(o["f1"] for o in answerable),
            "short_answer_given": round(len(given) / len(answerable), 4),
            "short_answer_f1_when_given": _mean(o["f1"] for o in given) if given else 0.0,
        }
    if impossible:
        report["unanswerable_declined"] = _mean(not o["found"] for o in impossible)
        if answerable:
            right = sum(o["correct"] for o in answerable) / len(answerable)  # unrounded: rounded once
            declined = sum(not o["found"] for o in impossible) / len(impossible)
            report["balanced_accuracy"] = round((right + declined) / 2, 4)
    report["calibration"] = calibration(answered)
    if latencies:
        report["latency_ms_p50"] = _percentile(latencies, 50)
        report["latency_ms_p95"] = _percentile(latencies, 95)
    return report


def calibration(answered: list[dict]) -> list[dict]:
    """Reliability table: for answers given, confidence bin vs the share that were right."""
    rows = []
    for low, high in pairwise(CALIBRATION_BINS):
        in_bin = [o for o in answered if low <= o["confidence"] < high]
        if in_bin:
            rows.append({"bin": f"{low:.1f}-{min(high, 1.0):.1f}", "answers": len(in_bin),
                         "mean_confidence": _mean(o["confidence"] for o in in_bin),
                         "right": _mean(o["correct"] for o in in_bin)})
    return rows


def _mean(values) -> float:
    values = list(values)
    return round(sum(values) / len(values), 4) if values else 0.0


def _percentile(sorted_values: list[float], pct: float) -> float:
    k = min(len(sorted_values) - 1, max(0, round(pct / 100 * (len(sorted_values) - 1))))
    return round(sorted_values[k], 2)


def format_report(report: dict) -> str:
    asked = (f"{report['questions']} questions ({report['answerable']} answerable, {report['unanswerable']} "
             f"unanswerable) from {report['dataset']} [{report['articles']} articles]" if "questions" in report
             else f"conversations from {report['dataset']}")
    lines = [asked + (f", answered at confidence >= {report['threshold']:.2f}" if "threshold" in report else "")]
    if "followup_turns" in report:
        lines.append(f"  {report['followup_turns']} follow-up turns, {report['topic_change_turns']} topic changes")
    labels = {
        "paragraph_p_at_1": "paragraph P@1", "paragraph_r_at_5": "paragraph R@5",
        "answer_correct_with_citation": "answer contains gold + right citation", "answered": "answered",
        "median_answer_words": "median answer words", "short_answer_em": "short answer EM",
        "short_answer_f1": "short answer F1", "short_answer_given": "short answer given",
        "short_answer_f1_when_given": "short answer F1 when given",
        "unanswerable_declined": "unanswerable declined", "balanced_accuracy": "balanced (answered right, declined)",
        "followup_right_with_citation": "follow-up turns right + cited",
        "followup_short_answer_f1": "follow-up turns short answer F1",
        "topic_change_right_with_citation": "topic-change turns right + cited",
        "latency_ms_p50": "latency p50 (ms)", "latency_ms_p95": "latency p95 (ms)",
    }
    for key, label in labels.items():
        if report.get(key) is not None:
            lines.append(f"  {label:<40} {report[key]}")
    if report.get("calibration"):
        lines.append("  calibration (confidence bin: answers, mean confidence, share right)")
        for row in report["calibration"]:
            lines.append(f"    {row['bin']}: {row['answers']:>5}  {row['mean_confidence']:.3f}  {row['right']:.3f}")
    return "\n".join(lines)
