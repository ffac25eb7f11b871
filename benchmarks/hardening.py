"""Hardening figures: load, shedding, rebuild under traffic, a killed build, repeated swaps, build memory.

    .venv/bin/python benchmarks/hardening.py            # ~4-5 minutes on 2 cores
    .venv/bin/python benchmarks/hardening.py --quick    # ~1.5 minutes: shorter load, smaller corpora

Writes benchmarks/results/hardening.json and the markdown fragment benchmarks/results/hardening.md (included
in BENCHMARKS.md by benchmarks/run.py). Everything runs on 127.0.0.1 with real `qa serve` and `qa index
build` subprocesses (the machinery of tests/hardening/support.py), every wait has a deadline, and every
process started here is stopped by its handle. Not part of the test suite; the tests in tests/hardening/
assert the same properties with bounds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.hardening.support import (  # noqa: E402
    EVIL,
    TRAVERSAL,
    NewsArticle,
    Server,
    Traffic,
    background_load,
    news_articles,
    request,
    run_build,
    run_load,
    start_build,
    wait_for,
    warm_up,
    write_news_corpus,
)

RESULTS = REPO / "benchmarks" / "results"
FRESH = NewsArticle(
    "fresh/lighthouse", "Skerryvane lighthouse keeper retires after 41 years",
    ["Margaret Tull retired on Sunday after 41 years as keeper of the Skerryvane light.",
     "She said the hardest winter was 1987, when supply boats could not land for six weeks."],
    "How many years was Margaret Tull keeper of the Skerryvane light?", "41 years")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def generation(server: Server) -> str:
    return json.loads(request(server.port, "GET", "/healthz", timeout=10)[2])["index"]["generation"]


def served(server: Server, article_id: str) -> bool:
    return request(server.port, "GET", f"/api/articles/{article_id}", timeout=10)[0] == 200


def log(message: str) -> None:
    print(f"[hardening {datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def measure_load(index_dir: Path, news: list[NewsArticle], work: Path, seconds: float, clients: int) -> dict:
    with Server(index_dir, work / "serve-load.log") as server:
        warm_up(server.port, news, n=20)
        report = run_load(server.port, clients, seconds, lambda k: Traffic(news, seed=100 + k),
                          process=server.process)
        settled = next((rss for t, rss in report.rss_trace if t >= min(10, seconds / 3)), report.rss_before)
        summary = report.summary()
        summary["rss_settled_mb"] = round(settled / 2**20, 1)
        summary["failures"] = [f"{s.kind} {s.status} {s.error[:120]}" for s in report.failures()[:5]]
        summary["exit_code"] = server.stop()
    return summary


def measure_shedding(index_dir: Path, news: list[NewsArticle], work: Path, seconds: float, clients: int) -> dict:
    env = {"QA_MAX_CONCURRENT_REQUESTS": "2"}
    with Server(index_dir, work / "serve-shed.log", env=env) as server:
        warm_up(server.port, news, n=2)
        report = run_load(server.port, clients, seconds, lambda k: Traffic(news, seed=200 + k))
    shed = [s for s in report.samples if s.status == 503]
    return {
        "max_concurrent_requests": 2, "clients": clients, "seconds": round(report.duration, 1),
        "requests": len(report.samples), "statuses": {str(k): v for k, v in sorted(report.statuses.items())},
        "shed_with_retry_after": sum(1 for s in shed if s.retry_after),
        "answered_p50_ms": round(report.percentile(50) * 1000, 1),
        "answered_p99_ms": round(report.percentile(99) * 1000, 1),
        "shed_p50_ms": round(report.percentile(50, status=503) * 1000, 1),
        "shed_p99_ms": round(report.percentile(99, status=503) * 1000, 1),
    }


def measure_rebuild(index_dir: Path, news: list[NewsArticle], work: Path, clients: int) -> dict:
    target = work / "rebuild-index"
    shutil.copytree(index_dir, target, symlinks=True)
    corpus = write_news_corpus(work / "rebuild-corpus", [*news[:-1], FRESH])
    traffic = news[:-1]
    with Server(target, work / "serve-rebuild.log") as server:
        warm_up(server.port, news)
        before = generation(server)
        with background_load(server.port, clients, lambda k: Traffic(traffic, seed=300 + k),
                             process=server.process) as reports:
            time.sleep(2)
            started = time.monotonic()
            build = start_build([corpus], target, work / "rebuild-build.log")
            code = build.wait(timeout=600)
            build_seconds = time.monotonic() - started
            built = time.monotonic()
            wait_for(lambda: served(server, FRESH.article_id), 30, what="the new index")
            swap_seconds = time.monotonic() - built
            time.sleep(2)
        after = generation(server)
        server.stop()
    summary = reports[0].summary()
    summary.update({"build_exit_code": code, "build_seconds": round(build_seconds, 1),
                    "new_index_served_after_s": round(swap_seconds, 2), "generation_changed": after != before})
    return summary


def measure_killed_build(index_dir: Path, news: list[NewsArticle], work: Path, clients: int, big: int) -> dict:
    target = work / "killed-index"
    shutil.copytree(index_dir, target, symlinks=True)
    big_corpus = write_news_corpus(work / "killed-corpus", news_articles(big, seed=11, prefix="big"))
    next_corpus = write_news_corpus(work / "next-corpus", [*news[:-1], FRESH])
    with Server(target, work / "serve-killed.log") as server:
        warm_up(server.port, news)
        before = generation(server)
        with background_load(server.port, clients, lambda k: Traffic(news, seed=400 + k)) as reports:
            started = time.monotonic()
            build = start_build([big_corpus], target, work / "killed-build.log")
            try:
                wait_for(lambda: any(p.stat().st_size > 0 for p in target.glob("gen-*.tmp/sentences.f16"))
                         or build.poll() is not None, 300, what="the build to be half-way")
                killed_after = time.monotonic() - started
                build.send_signal(signal.SIGKILL)
                code = build.wait(timeout=30)
            finally:
                if build.poll() is None:
                    build.kill()
                    build.wait()
            leftovers = sorted(p.name for p in target.glob("*.tmp"))
            time.sleep(3)
            still_old = generation(server) == before
            result = run_build([next_corpus], target, timeout=600)
            built = time.monotonic()
            wait_for(lambda: served(server, FRESH.article_id), 30, what="the next build's index")
            swap_seconds = time.monotonic() - built
        server.stop()
    summary = reports[0].summary()
    summary.update({
        "killed_after_s": round(killed_after, 1), "kill_exit_code": code, "leftovers_after_kill": leftovers,
        "old_index_kept_serving": still_old, "next_build_exit_code": result.returncode,
        "leftovers_after_next_build": sorted(p.name for p in target.glob("*.tmp")) + sorted(
            p.name for p in target.glob(".*.tmp")),
        "next_index_served_after_s": round(swap_seconds, 2)})
    return summary


def measure_swaps(index_dir: Path, corpus: Path, news: list[NewsArticle], work: Path, swaps: int) -> dict:
    target = work / "swap-index"
    shutil.copytree(index_dir, target, symlinks=True)
    rss, fds = [], []
    with Server(target, work / "serve-swaps.log") as server:
        warm_up(server.port, news)
        start_rss = server.rss() >> 20
        for _ in range(swaps):
            before = generation(server)
            result = run_build([corpus], target, fake_encoder=True, timeout=300)
            if result.returncode != 0:
                raise RuntimeError(result.stderr)
            wait_for(lambda: generation(server) != before, 30, what="the swap")  # noqa: B023
            warm_up(server.port, news, n=3)
            rss.append(server.rss() >> 20)
            fds.append(server.process.num_fds())
        server.stop()
    return {"swaps": swaps, "rss_mb_before": start_rss, "rss_mb_after_each_swap": rss, "open_fds": fds}


def peak_rss_mb(stderr: str) -> float:
    match = re.search(r"PEAK_RSS_KB=(\d+)", stderr)
    return round(int(match.group(1)) / 1024, 1) if match else float("nan")


def measure_build_memory(work: Path, big_mb: int, many: int) -> dict:
    from tests.hardening.test_hostile_corpus import big_paragraph, plain, write_many

    small = work / "mem-small"
    small.mkdir()
    (small / "one.txt").write_text(plain("Small", "One short paragraph."))
    big = work / "mem-big"
    big.mkdir()
    (big / "big.txt").write_text(plain("Huge", big_paragraph(big_mb * 1_000_000)))
    many_bytes = write_many(work / "mem-many", many)
    out = {}
    for name, label in (("small", "one small article"), ("big", f"one {big_mb} MB paragraph"),
                        ("many", f"{many:,} articles, {many_bytes / 1e6:.1f} MB")):
        started = time.monotonic()
        result = run_build([work / f"mem-{name}"], work / f"mem-index-{name}", fake_encoder=True, timeout=600)
        out[name] = {"what": label, "exit_code": result.returncode, "peak_rss_mb": peak_rss_mb(result.stderr),
                     "seconds": round(time.monotonic() - started, 1)}
    return out


def render(r: dict) -> str:
    load, shed, rebuild, killed, swaps, memory = (r[k] for k in ("load", "shedding", "rebuild", "killed_build",
                                                                 "swaps", "build_memory"))
    ok = "no" if load["errors"] == 0 else f"**{load['errors']}**"
    big_mb = r["build_memory_big_mb"]
    per_mb = (memory["big"]["peak_rss_mb"] - memory["small"]["peak_rss_mb"]) / big_mb
    many_growth = memory["many"]["peak_rss_mb"] - memory["small"]["peak_rss_mb"]
    lines = [
        "### Hardening: load, shedding, rebuild under traffic, a killed build",
        "",
        f"`{r['command']}` ({r['date']}, {r['cpus']} CPUs, load average {r['load_average_start']} at the start, "
        f"{r['load_average_end']} at the end{', quick run' if r['quick'] else ''}). Real `qa serve` and "
        f"`qa index build` subprocesses on 127.0.0.1; an index of {r['articles']} generated news articles "
        "(real model). Clients are closed-loop threads on keep-alive connections, sending requests back to "
        "back: 80% questions (a question, then two follow-ups in its session), 20% article lists, articles "
        "as JSON and article pages. The machine is shared with other work, so latencies are noisy.",
        "",
        "| what was tried | requests | failed | p50 / p95 / p99 | server RSS before → after (max) |",
        "| --- | --- | --- | --- | --- |",
        f"| {load['clients']} clients for {load['seconds']:.0f} s | {load['requests']:,} "
        f"({load['requests_per_second']}/s) | {ok} | {load['p50_ms']:.0f} / {load['p95_ms']:.0f} / "
        f"**{load['p99_ms']:.0f} ms** | {load['rss_before_mb']:.0f} → {load['rss_after_mb']:.0f} MB "
        f"({load['rss_max_mb']:.0f}; {load['rss_settled_mb']:.0f} after warm-up) |",
        f"| {rebuild['clients']} clients while `qa index build` replaces the index "
        f"({rebuild['build_seconds']:.0f} s build) | {rebuild['requests']:,} | "
        f"{rebuild['errors']} | {rebuild['p50_ms']:.0f} / {rebuild['p95_ms']:.0f} / {rebuild['p99_ms']:.0f} ms "
        f"| {rebuild['rss_before_mb']:.0f} → {rebuild['rss_after_mb']:.0f} MB |",
        f"| {killed['clients']} clients while a build is SIGKILLed half-way, then rebuilt | "
        f"{killed['requests']:,} | {killed['errors']} | {killed['p50_ms']:.0f} / {killed['p95_ms']:.0f} / "
        f"{killed['p99_ms']:.0f} ms | — |",
        "",
        f"- **Rebuild under traffic**: the new index answered {rebuild['new_index_served_after_s']} s after the "
        f"build exited (the server polls the manifest every second); no request failed during the build or the "
        f"swap.",
        f"- **Killed build**: SIGKILL {killed['killed_after_s']} s into a {r['killed_corpus']}-article build, "
        f"with passages already embedded (leftover: `{', '.join(killed['leftovers_after_kill']) or 'none'}`); "
        f"the old index kept serving: {'yes' if killed['old_index_kept_serving'] else '**no**'}; the next build "
        f"exited {killed['next_build_exit_code']}, removed the leftovers "
        f"({'none left' if not killed['leftovers_after_next_build'] else killed['leftovers_after_next_build']}) "
        f"and was served {killed['next_index_served_after_s']} s later.",
        f"- **Past capacity** (`QA_MAX_CONCURRENT_REQUESTS=2`, {shed['clients']} clients, {shed['seconds']:.0f} s):"
        f" {shed['requests']:,} requests, statuses {shed['statuses']}; every 503 carried Retry-After "
        f"({shed['shed_with_retry_after']:,} of {shed['statuses'].get('503', 0):,}); a refusal took "
        f"{shed['shed_p50_ms']} ms (p99 {shed['shed_p99_ms']} ms), an answer {shed['answered_p50_ms']} ms "
        f"(p99 {shed['answered_p99_ms']} ms): shed at once, no queue.",
        f"- **Repeated swaps**: server RSS {swaps['rss_mb_before']} MB, then after each of {swaps['swaps']} "
        f"rebuilds {swaps['rss_mb_after_each_swap']} MB; open files {swaps['open_fds']}.",
        "- **Build memory** (peak RSS of `qa index build`, fake encoder: the model's share is a constant): "
        + "; ".join(f"{m['what']}: {m['peak_rss_mb']:.0f} MB" for m in memory.values())
        + f". Over the small build, the huge paragraph adds {per_mb:.0f} MB per MB of text while that one file "
        f"is parsed and chunked; the many articles add {many_growth:.0f} MB in all (their passage vectors, "
        "once), not their text.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="shorter load, smaller corpora (~1.5 minutes)")
    ap.add_argument("--seconds", type=float, default=None, help="load duration (default 60, quick 10)")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--render-only", action="store_true", help="only rewrite hardening.md from hardening.json")
    args = ap.parse_args()
    if args.render_only:
        (RESULTS / "hardening.md").write_text(render(json.loads((RESULTS / "hardening.json").read_text())))
        return 0
    seconds = args.seconds or (10 if args.quick else 60)
    big_corpus = 200 if args.quick else 400
    started = time.monotonic()
    result: dict = {
        "command": "benchmarks/hardening.py" + (" --quick" if args.quick else "")
                   + (f" --seconds {args.seconds:g}" if args.seconds else ""),
        "date": datetime.now(UTC).date().isoformat(), "cpus": os.cpu_count(), "python": platform.python_version(),
        "quick": args.quick, "load_average_start": load_average(), "killed_corpus": big_corpus,
    }
    news = news_articles(40)
    with tempfile.TemporaryDirectory(prefix="qa-hardening-") as tmp:
        work = Path(tmp)
        corpus = write_news_corpus(work / "corpus", news, [EVIL, TRAVERSAL])
        result["articles"] = len(news) + 2
        index_dir = work / "index"
        log("building the news index")
        built = run_build([corpus], index_dir, timeout=600)
        if built.returncode != 0:
            raise SystemExit(f"build failed: {built.stderr}")
        log(f"load: {args.clients} clients for {seconds:g} s")
        result["load"] = measure_load(index_dir, news, work, seconds, args.clients)
        log("past capacity")
        result["shedding"] = measure_shedding(index_dir, news, work, 5 if args.quick else 10, args.clients)
        log("rebuild under traffic")
        result["rebuild"] = measure_rebuild(index_dir, news, work, 6)
        log("a killed build")
        result["killed_build"] = measure_killed_build(index_dir, news, work, 6, big_corpus)
        log("repeated swaps")
        result["swaps"] = measure_swaps(index_dir, corpus, news, work, 4 if args.quick else 8)
        log("build memory")
        result["build_memory_big_mb"] = 2 if args.quick else 10
        result["build_memory"] = measure_build_memory(work, result["build_memory_big_mb"],
                                                      500 if args.quick else 2000)
    result["load_average_end"] = load_average()
    result["seconds"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "hardening.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / "hardening.md").write_text(render(result))
    log(f"done in {result['seconds']} s: {shlex.quote(str(RESULTS / 'hardening.md'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
