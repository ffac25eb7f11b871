"""The `qa` command: build and inspect the index, ask, evaluate, serve.

The one place that reaches all three packages (index, qa, web); heavy modules are imported per command.
"""

from __future__ import annotations

import argparse
import json
import os
import reprlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pydantic import ValidationError

from qa.settings import Settings

if TYPE_CHECKING:
    from qa.answerer import Answerer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class UserError(Exception):
    """A mistake the user can fix; printed as one line, no traceback."""


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line on stderr, as every other error: the usage itself is a `--help` away."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"qa: error: {message} (see '{self.prog} --help')\n")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        flags = ("index_dir", "model", "host", "port", "build_int8", "answer_threshold")
        settings = _settings({k: v for k in flags if (v := getattr(args, k, None)) is not None})
        return args.run(args, settings) or 0
    except UserError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # whoever read the output stopped reading (`qa ask ... | head`): nothing to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # a file or folder the command needs, named by the error
        print(f"qa: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130


def _settings(flags: dict) -> Settings:
    """The `QA_*` environment read into `Settings`, command-line flags over it; a value that does not fit is a
    one-line error naming the setting (not echoing values that are not plain strings, nor long ones)."""
    try:
        return Settings(**flags)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "QA_" + "_".join(map(str, error["loc"])).upper() if error["loc"] else "settings"
            got = error.get("input")
            shown = f" (got {reprlib.repr(got)})" if isinstance(got, str | int | float) else ""
            problems.append(f"{name}: {error['msg']}{shown}")
        raise UserError(f"bad setting: {'; '.join(problems)}") from None


def _count(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` (to `high`)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be {low}..{high}" if high else f"must be {low} or more")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="qa", description="Answer questions from a folder of articles.")
    commands = parser.add_subparsers(dest="command", required=True)
    index_cmd = commands.add_parser("index", help="build and inspect the index")
    index_sub = index_cmd.add_subparsers(dest="index_command", required=True)

    build = index_sub.add_parser("build", help="rebuild the index from article files and folders")
    build.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _index_dir_flag(build)
    build.add_argument("--model", help="sentence-transformers model name or path (default: bundled MiniLM)")
    build.add_argument("--int8", action="store_true", default=None, dest="build_int8",
                       help="embed passages with an int8 copy of the model: ~2x faster (default: $QA_BUILD_INT8)")
    build.set_defaults(run=_build)

    add = index_sub.add_parser("add", help="add or update articles; only new and changed ones are embedded")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _index_dir_flag(add)
    add.set_defaults(run=_add)

    remove = index_sub.add_parser("remove", help="remove articles by id (all or nothing)")
    remove.add_argument("article_ids", nargs="+", metavar="ARTICLE_ID")
    _index_dir_flag(remove)
    remove.set_defaults(run=_remove)

    stats = index_sub.add_parser("stats", help="what is in the index")
    _index_dir_flag(stats)
    stats.add_argument("--json", action="store_true", help="print the manifest as JSON")
    stats.set_defaults(run=_stats)

    ask = commands.add_parser("ask", help="answer one question")
    ask.add_argument("question")
    ask.add_argument("--json", action="store_true", help="print the API's response body")
    ask.add_argument("--top-k", type=_count(1, 10), default=None, help="how many citations to return (1-10)")
    _index_dir_flag(ask)
    _threshold_flag(ask)
    ask.set_defaults(run=_ask)

    evaluate = commands.add_parser("eval", help="score questions.jsonl of a dataset against the index")
    evaluate.add_argument("dataset", type=Path, metavar="DATASET_DIR")
    evaluate.add_argument("--limit", type=_count(1), default=None, help="evaluate only the first N questions")
    evaluate.add_argument("--sample", type=_count(1), default=None, help="evaluate N questions sampled with a seed")
    evaluate.add_argument("--seed", type=int, default=650)
    evaluate.add_argument("--articles", choices=("all", "even", "odd"), default="all",
                          help="only questions of even- or odd-numbered articles (tuning split)")
    evaluate.add_argument("--json", action="store_true", help="print metrics as JSON")
    _index_dir_flag(evaluate)
    _threshold_flag(evaluate)
    evaluate.set_defaults(run=_eval)

    serve = commands.add_parser("serve", help="the web chat page and the API")
    serve.add_argument("--host", default=None, help="interface to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_count(1, 65535), default=None, help="port (default 8000)")
    _index_dir_flag(serve)
    _threshold_flag(serve)
    serve.set_defaults(run=_serve)
    return parser


def _threshold_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--threshold", type=_unit_interval, default=None, dest="answer_threshold", metavar="0..1",
                        help="the confidence an answer needs to be given (default: $QA_ANSWER_THRESHOLD, else the "
                        "fitted one); lower answers more, declines less")


def _unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text}")
    return value


def _index_dir_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--index-dir", type=Path, default=None,
                        help="index directory (default: $QA_INDEX_DIR or ./var/index)")


def _build(args: argparse.Namespace, settings: Settings) -> int:
    from index.build import BuildLockedError, build_index
    from index.export import ModelError

    _require_paths(args.paths)
    try:
        summary = build_index(args.paths, settings.index_dir, settings.model, settings.cache_dir,
                              int8=settings.build_int8)
    except (BuildLockedError, ModelError, ValueError, OSError) as exc:
        raise UserError(str(exc)) from exc
    c = summary.counts
    print(f"indexed {_counted(c, 'articles', 'paragraphs', 'sentences', 'passages')} in {summary.seconds:.1f} s "
          f"({summary.articles_per_second:.1f} articles/s)")
    print(f"index: {settings.index_dir}")
    _print_skipped(summary.skipped)
    return 0


def _counted(counts: dict[str, int], *names: str) -> str:
    """'1 article, 3 paragraphs, ...': each count with its name, singular for one."""
    return ", ".join(f"{counts[name]} {name[:-1] if counts[name] == 1 else name}" for name in names)


def _require_paths(paths: list[Path]) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UserError(f"no such file or directory: {', '.join(missing)}")


def _print_skipped(skipped: list) -> None:
    if skipped:
        print(f"skipped {len(skipped)}:")
        for item in skipped:
            print(f"  {item.where}: {item.reason}")


def _add(args: argparse.Namespace, settings: Settings) -> int:
    from index.build import add_to_index

    _require_paths(args.paths)
    return _update(settings, lambda: add_to_index(args.paths, settings.index_dir))


def _remove(args: argparse.Namespace, settings: Settings) -> int:
    from index.build import remove_from_index

    return _update(settings, lambda: remove_from_index(args.article_ids, settings.index_dir))


def _update(settings: Settings, run) -> int:
    """Run `qa index add/remove` and print its summary: what changed, what it embedded, the index now."""
    from index.build import BuildLockedError, UnknownArticleError
    from index.store import IndexMissingError

    try:
        summary = run()
    except (IndexMissingError, BuildLockedError, UnknownArticleError, ValueError, OSError) as exc:
        raise UserError(str(exc)) from exc
    c = summary.counts
    if summary.removed:  # the articles kept are copied, not "unchanged" articles that were given again
        print(f"removed {len(summary.removed)} articles, kept {c['articles']}; copied {summary.copied} passages, "
              f"in {summary.seconds:.1f} s")
    else:
        print(f"added {len(summary.added)}, changed {len(summary.changed)}, unchanged {summary.unchanged} "
              f"articles; embedded {summary.embedded} passages, copied {summary.copied}, in {summary.seconds:.1f} s")
    state = "now" if summary.embedded or summary.copied else "unchanged"
    print(f"index {state}: {_counted(c, 'articles', 'paragraphs', 'sentences', 'passages')} ({settings.index_dir})")
    for label, ids in (("added", summary.added), ("changed", summary.changed), ("removed", summary.removed)):
        if ids:
            more = f" and {len(ids) - 20} more" if len(ids) > 20 else ""
            print(f"{label}: {', '.join(ids[:20])}{more}")
    _print_skipped(summary.skipped)
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    from index.encoder import passage_graph
    from index.store import IndexMissingError, Manifest
    from index.vectors import VectorIndexInfo

    try:
        manifest = Manifest.read(settings.index_dir)
        directory = manifest.generation_dir(settings.index_dir)
    except IndexMissingError as exc:
        raise UserError(str(exc)) from exc
    if args.json:
        print(json.dumps(manifest.__dict__, indent=2))
        return 0
    print(f"index:      {settings.index_dir.resolve()}")
    int8 = passage_graph(directory) is not None
    print(f"model:      {manifest.model} ({manifest.dimension} dimensions{'; passages embedded in int8' * int8})")
    print(f"written:    {manifest.built_at} in {manifest.build_seconds} s (by the last build, add or remove)")
    for name, count in manifest.counts.items():
        print(f"{name + ':':<11} {count:,}")
    vectors = VectorIndexInfo.read(directory)
    if vectors:
        print(f"vectors:    {vectors.describe()}")
    return 0


def _answerer(settings: Settings) -> Answerer:
    """The answerer over `settings.index_dir`; a missing or damaged index or weights file is a `UserError`."""
    from index.store import IndexMissingError
    from qa.answerer import Answerer
    from qa.scoring import WeightsError

    try:
        return Answerer.load(settings)
    except (IndexMissingError, WeightsError) as exc:
        raise UserError(str(exc)) from exc


def _ask(args: argparse.Namespace, settings: Settings) -> int:
    from qa.render import answer_text

    answerer = _answerer(settings)
    if not args.question.strip():
        raise UserError("the question is empty")
    if len(args.question) > settings.max_question_chars:  # as the API refuses it: a question, not a document
        raise UserError(f"the question is {len(args.question):,} characters long; the limit is "
                        f"{settings.max_question_chars:,} (QA_MAX_QUESTION_CHARS)")
    answer = answerer.ask(args.question, top_k=args.top_k)
    print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2) if args.json else answer_text(answer))
    return 0


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from qa.evaluate import DatasetError, dataset_articles, evaluate_dataset, format_report

    if not args.dataset.is_dir():
        raise UserError(f"{args.dataset} is not a folder: pass the dataset's folder (with questions.jsonl or "
                        "conversations.jsonl)")
    if not any((args.dataset / name).exists() for name in ("questions.jsonl", "conversations.jsonl")):
        raise UserError(f"{args.dataset} has no questions.jsonl or conversations.jsonl")
    answerer = _answerer(settings)
    try:
        wanted = dataset_articles(args.dataset)
        if wanted and not wanted & set(answerer.index.reader.content_hashes()):
            print(f"qa: warning: none of the {len(wanted)} articles the questions are about is in the index "
                  f"{settings.index_dir}: every answer will count as wrong (is --index-dir right?)", file=sys.stderr)
        report = evaluate_dataset(answerer, args.dataset, limit=args.limit, sample=args.sample, seed=args.seed,
                                  articles=args.articles) | {"threshold": round(answerer.weights.threshold, 4)}
    except DatasetError as exc:
        raise UserError(str(exc)) from exc
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from qa.scoring import Weights, WeightsError
    from web.server import serve

    try:  # the server waits for an index to appear, but weights it cannot read are a mistake to say now
        Weights.load(settings.weights_file)
    except WeightsError as exc:
        raise UserError(str(exc)) from exc
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
