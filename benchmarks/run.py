"""The benchmark suite: measure speed, size and answer quality, then rewrite BENCHMARKS.md.

    .venv/bin/python benchmarks/run.py [--quick] [--only SECTION,...] [--rebuild]

Sections: floors, build, query, http, coldstart, quality (all of them by default, in that order). Each
writes benchmarks/results/SECTION.json; BENCHMARKS.md is then rendered from every results file there, so
`--only query` re-measures one section and keeps the others' last results. Every speed figure is reported
next to a floor measured in the same run (the same model encoding one question, or a plain
sentence-transformers pass over the same passages), so figures read as ratios on a noisy machine.

`--quick` is a smoke run (a few minutes): a smaller build (one BBC category), fewer questions, shorter load
tests, 300 sampled evaluation questions instead of 2,000. Results are marked as quick in BENCHMARKS.md.

Indexes for the query, HTTP and quality sections are cached in var/bench/ and reused by later runs;
`--rebuild` rebuilds them. Not part of the test suite. Every child process has a timeout, the server
listens on 127.0.0.1 only and is stopped at the end, also on errors and Ctrl+C.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import itertools
import json
import os
import platform
import random
import re
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import httpx
import psutil
import report
from measure import latency_stats

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "benchmarks"
RESULTS = BENCH_DIR / "results"
OUTPUT = REPO / "BENCHMARKS.md"
PYTHON = Path(sys.executable)
QA = PYTHON.parent / "qa"
MEASURE = BENCH_DIR / "measure.py"

INT8 = "-int8"  # a cached index of a corpus built with `qa index build --int8`
SECTIONS = ("floors", "build", "query", "http", "coldstart", "quality")
NEEDS_FLOOR_A = {"query", "http"}
NEEDS_FLOOR_B = {"build"}
ASK_QUESTION = "Who is the chancellor of the exchequer?"


class BenchError(RuntimeError):
    """A measurement could not be made (a child failed or timed out); the section is not written."""


# -- child processes ---------------------------------------------------------------------------------------

_live: set[subprocess.Popen] = set()


def _kill(proc: subprocess.Popen, grace: float = 0.0) -> None:
    """Stop a child we started (it leads its own process group): SIGINT first when `grace`, then SIGKILL."""
    if proc.poll() is None and grace:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(grace)
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    _live.discard(proc)


def _kill_all() -> None:
    for proc in list(_live):
        _kill(proc)


def _env() -> dict[str, str]:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    for name in ("QA_API_TOKEN", "QA_INDEX_DIR", "QA_HOST", "QA_PORT", "QA_ANSWER_THRESHOLD", "QA_WEIGHTS_FILE"):
        env.pop(name, None)
    return env


def spawn(cmd: list, **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen([str(c) for c in cmd], cwd=REPO, env=_env(), start_new_session=True, **kwargs)
    _live.add(proc)
    return proc


def call(cmd: list, timeout: float) -> tuple[str, str, float]:
    """Run a command to completion under `timeout`; (stdout, stderr, wall seconds). Non-zero exit fails."""
    started = time.perf_counter()
    proc = spawn(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raise BenchError(f"timed out after {timeout:.0f} s: {shown(cmd)}") from None
    finally:
        _kill(proc)
    seconds = time.perf_counter() - started
    if proc.returncode:
        tail = "\n".join(err.strip().splitlines()[-8:])
        raise BenchError(f"exit {proc.returncode}: {shown(cmd)}\n{tail}")
    return out, err, seconds


def worker(name: str, args: dict, timeout: float) -> dict:
    """One measurement of benchmarks/measure.py in a fresh process."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        args_file, out_file = Path(tmp) / "args.json", Path(tmp) / "out.json"
        args_file.write_text(json.dumps(args))
        call([PYTHON, MEASURE, name, args_file, out_file], timeout)
        return json.loads(out_file.read_text())


def shown(cmd: list) -> str:
    """A command as a reader would type it from the repository root."""
    parts = []
    for c in cmd:
        text = str(c)
        if text.startswith(str(REPO.parent) + "/"):
            text = os.path.relpath(text, REPO)
        parts.append(text)
    return shlex.join(parts)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the run -----------------------------------------------------------------------------------------------


def machine() -> dict:
    cpu = platform.processor() or "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    packages = {}
    for name in ("onnxruntime", "torch", "sentence-transformers", "faiss-cpu", "bm25s", "uvicorn"):
        with contextlib.suppress(PackageNotFoundError):
            packages[name] = version(name)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                          timeout=30).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "index", "qa", "web"],
                           cwd=REPO, capture_output=True, text=True, timeout=30).stdout.strip()
    return {"cores": os.cpu_count(), "cpu": cpu, "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(terse=True),
            "packages": packages, "git": head + (" + uncommitted changes in index/qa/web" if dirty else "")}


def index_code_hash() -> str:
    digest = hashlib.sha256()
    for path in sorted((REPO / "index").rglob("*.py")):
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _generation(directory: Path) -> str | None:
    """The generation an index directory's manifest points at (None without a readable manifest): a build
    outside the suite changes it, so a bench stamp that names another generation no longer describes the index."""
    try:
        return json.loads((directory / "manifest.json").read_text()).get("generation")
    except (OSError, ValueError):
        return None


class Run:
    """One invocation: options, machine, floors measured so far, cached indexes, sections' results."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.quick = args.quick
        self.shared = args.shared.resolve()
        self.data = self.shared / "data"
        self.bench = args.bench_dir.resolve()
        self.logs = self.bench / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        argv = (["--quick"] * args.quick + ([f"--only={args.only}"] if args.only else [])
                + ["--rebuild"] * args.rebuild + ([f"--floor-sample={args.floor_sample}"] if args.floor_sample else []))
        self.command = shown([".venv/bin/python", "benchmarks/run.py", *argv])
        self.machine = machine()
        self.floor_b: dict | None = None
        self.rebuilt: set[str] = set()
        self.built: dict[str, dict] = {}
        self.questions = self._questions()

    # corpora and cached indexes

    def corpus(self, name: str) -> list[Path]:
        """The article paths of a corpus (a name ending in INT8 is the same corpus, built with `--int8`)."""
        return {
            "bbc": [self.data / "bbc-news", self.shared / "seeds"],
            "bbc-business": [self.data / "bbc-news" / "business", self.shared / "seeds"],
            "squad-v1.1": [self.data / "squad-v1.1-dev" / "articles.jsonl"],
            "squad-v2.0": [self.data / "squad-v2.0-dev" / "articles.jsonl"],
        }[name.removesuffix(INT8)]

    def index(self, name: str) -> Path:
        """The cached index of a corpus, built when missing (or once per run with --rebuild)."""
        directory = self.bench / f"index-{name}"
        stamp_file = directory / "bench-stamp.json"
        wanted = self.args.rebuild and name not in self.rebuilt
        stamp = json.loads(stamp_file.read_text()) if stamp_file.exists() else None
        if stamp and (stamp.get("generation") is None or stamp["generation"] != _generation(directory)):
            print(f"  note: {directory.name} was built outside this suite since its stamp; rebuilding it",
                  file=sys.stderr)
            stamp = None
        if not wanted and stamp:
            if stamp.get("index_code") != index_code_hash():
                stamp["stale"] = True
                print(f"  note: index/ code changed since {directory.name} was built; --rebuild rebuilds it",
                      file=sys.stderr)
            self.built.setdefault(name, stamp)
            return directory
        flags = ["--int8"] if name.endswith(INT8) else []
        cmd = [QA, "index", "build", *self.corpus(name), *flags, "--index-dir", directory]
        print(f"  building {shown([directory])}: {shown(cmd)}", file=sys.stderr)
        out, _, seconds = call(cmd, timeout=3600)
        self.adopt(name, directory, cmd, seconds, out)
        return directory

    def adopt(self, name: str, directory: Path, cmd: list, seconds: float, out: str) -> None:
        stamp = {"command": shown(cmd), "built_at": now(), "seconds": round(seconds, 1),
                 "index_code": index_code_hash(), "generation": _generation(directory),
                 "summary": out.strip().splitlines()[0] if out.strip() else ""}
        (directory / "bench-stamp.json").write_text(json.dumps(stamp, indent=2))
        self.rebuilt.add(name)
        self.built[name] = stamp

    def _questions(self) -> list[str]:
        """The latency question mix: the 250 BBC questions (150 answerable, 100 not) and 50 SQuAD v1.1
        questions (not about the BBC: they exercise the "not in the articles" path), shuffled."""
        bbc = [json.loads(line)["question"] for line in
               (BENCH_DIR / "data" / "bbc-questions" / "questions.jsonl").read_text().splitlines() if line.strip()]
        squad_file = self.data / "squad-v1.1-dev" / "questions.jsonl"
        squad = [json.loads(line)["question"] for line in squad_file.read_text().splitlines() if line.strip()]
        mix = bbc + random.Random(650).sample(squad, 50)
        random.Random(650).shuffle(mix)
        return mix

    # floors

    def floors_a(self) -> dict:
        """Floor (a), measured again right before each section that uses it (it takes seconds), so that it
        sees the same load as the figures it sits next to."""
        questions = self.questions[:100 if self.quick else 200]
        print(f"  floor (a): one question through the model, {len(questions)} questions", file=sys.stderr)
        encoder = {"encoder_dir": str(self.encoder_dir()), "questions": questions}
        ours = worker("onnx_question", encoder, 600)
        int8 = worker("onnx_question", encoder | {"int8": True}, 600)
        plain = worker("torch_question", {"questions": questions}, 900)
        return {"date": now(), "command": self.command, "quick": self.quick,
                "onnx_1_thread": ours, "onnx_int8_1_thread": int8, "torch_fp32_1_thread": plain}

    def encoder_dir(self) -> Path:
        """The exported ONNX encoder the build links into every index (exported on first use)."""
        code = ("from qa.settings import Settings; from index.export import exported_encoder; "
                "s = Settings(); print(exported_encoder(s.model, s.cache_dir))")
        out, _, _ = call([PYTHON, "-c", code], timeout=900)
        return Path(out.strip().splitlines()[-1])

    def floors_b(self) -> dict:
        """Floor (b), measured once per run (it takes minutes): by the floors section, else by the build's."""
        if self.floor_b is None:
            corpus = self.build_corpus()
            sample = self.args.floor_sample or (1500 if self.quick else None)
            print(f"  floor (b): sentence-transformers encode() over the build's passages"
                  f"{f' (sample of {sample})' if sample else ''}", file=sys.stderr)
            result = worker("torch_passages", {"paths": [str(p) for p in self.corpus(corpus)], "sample": sample},
                            3600)
            self.floor_b = {"date": now(), "command": self.command, "quick": self.quick, "corpus": corpus,
                            "paths": [shown([p]) for p in self.corpus(corpus)], **result}
        return self.floor_b

    def build_corpus(self) -> str:
        return "bbc-business" if self.quick else "bbc"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


# -- sections ----------------------------------------------------------------------------------------------


def section_floors(run: Run) -> dict:
    return {"a": run.floors_a(), "b": run.floors_b()}  # b last: the build section follows and reuses it


def section_build(run: Run) -> dict:
    floor = run.floors_b()
    run.encoder_dir()  # the ONNX export is made once per machine and cached: keep it out of the build time
    corpus = run.build_corpus()
    paths = run.corpus(corpus)
    work = Path(tempfile.mkdtemp(prefix="build-", dir=run.bench))
    target = work / "index"
    cmd = [QA, "index", "build", *paths, "--index-dir", target]
    timed = ["/usr/bin/time", "-v", *cmd] if Path("/usr/bin/time").exists() else cmd
    print(f"  {shown(cmd)}", file=sys.stderr)
    try:
        peak = _PeakRss() if timed is cmd else None
        with peak or contextlib.nullcontext():
            out, err, seconds = call(timed, timeout=3600)
        usage = _time_v(err) if timed is not cmd else {"max_rss_mb": peak.mb if peak else None}
        summary = _summary(out)
        sizes = index_sizes(target)
        int8_cmd = [QA, "index", "build", *paths, "--int8", "--index-dir", work / "int8"]
        print(f"  {shown(int8_cmd)}", file=sys.stderr)
        int8_out, _, int8_seconds = call(int8_cmd, timeout=3600)
        promoted = False
        if corpus == "bbc":  # fresh builds of the current code: they become the cached BBC indexes
            builds = (("bbc", target, cmd, seconds, out),
                      ("bbc" + INT8, work / "int8", int8_cmd, int8_seconds, int8_out))
            for name, built, command, took, printed in builds:
                cached = run.bench / f"index-{name}"
                shutil.rmtree(cached, ignore_errors=True)
                os.replace(built, cached)
                run.adopt(name, cached, [*command[:-1], cached], took, printed)
            promoted = True
    finally:
        shutil.rmtree(work, ignore_errors=True)
    passages = summary.get("passages", 0)
    floor_seconds = passages / floor["passages_per_second"] if floor.get("passages_per_second") else None
    int8 = {"command": shown(int8_cmd), "seconds": round(int8_seconds, 2),
            "ratio_to_floor_b": round(int8_seconds / floor_seconds, 2) if floor_seconds else None}
    return {
        "corpus": corpus, "paths": [shown([p]) for p in paths], "build_command": shown(cmd),
        "counts": {k: summary[k] for k in ("articles", "paragraphs", "sentences", "passages") if k in summary},
        "seconds": round(seconds, 2), "seconds_reported": summary.get("seconds"),
        "articles_per_second": round(summary.get("articles", 0) / seconds, 2),
        "passages_per_second": round(passages / seconds, 2),
        "floor_b_seconds_same_passages": round(floor_seconds, 2) if floor_seconds else None,
        "ratio_to_floor_b": round(seconds / floor_seconds, 2) if floor_seconds else None,
        "usage": usage, "sizes": sizes, "became_cached_index": promoted, "floor_b": floor, "int8": int8,
    }


class _PeakRss:
    """Polls the RSS of our process tree's children (when /usr/bin/time is missing)."""

    def __init__(self) -> None:
        self.mb = 0.0
        self._stop = threading.Event()

    def __enter__(self) -> _PeakRss:
        def poll() -> None:
            while not self._stop.wait(0.2):
                for child in psutil.Process().children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        self.mb = max(self.mb, child.memory_info().rss / 2**20)

        threading.Thread(target=poll, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()


def _time_v(err: str) -> dict:
    """The figures of GNU time -v that matter here."""
    fields = {"Maximum resident set size (kbytes)": "max_rss_kb", "User time (seconds)": "user_seconds",
              "System time (seconds)": "system_seconds", "Percent of CPU this job got": "cpu_percent"}
    usage: dict = {}
    for line in err.splitlines():
        key, _, value = line.strip().rpartition(": ")
        if key in fields:
            usage[fields[key]] = float(value.rstrip("%"))
    if "max_rss_kb" in usage:
        usage["max_rss_mb"] = round(usage.pop("max_rss_kb") / 1024, 1)
    return usage


def _summary(out: str) -> dict:
    m = re.search(r"indexed (\d+) articles, (\d+) paragraphs, (\d+) sentences, (\d+) passages in ([\d.]+) s", out)
    if not m:
        raise BenchError(f"unexpected build summary: {out.strip()[:300]}")
    keys = ("articles", "paragraphs", "sentences", "passages")
    return dict(zip(keys, map(int, m.groups()[:4]), strict=True)) | {"seconds": float(m.group(5))}


def index_sizes(index_dir: Path) -> dict:
    """Bytes on disk per part of the live generation; encoder files are noted when hard-linked."""
    generation = json.loads((index_dir / "manifest.json").read_text())["generation"]
    gen = index_dir / generation
    parts = {"sqlite": ["index.sqlite"], "faiss": ["passages.faiss"], "sentence_vectors": ["sentences.f16"],
             "bm25": ["bm25"], "encoder": ["encoder.onnx", "tokenizer.json", "encoder.json"]}
    sizes: dict = {}
    linked = False
    for part, names in parts.items():
        total = 0
        for name in names:
            path = gen / name
            files = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path] if path.exists() else []
            for f in files:
                info = f.stat()
                total += info.st_size
                linked |= part == "encoder" and info.st_nlink > 1
        sizes[part] = total
    known = {n for names in parts.values() for n in names}
    sizes["other"] = sum(p.stat().st_size for p in gen.rglob("*")
                         if p.is_file() and p.relative_to(gen).parts[0] not in known)
    sizes["manifest"] = (index_dir / "manifest.json").stat().st_size
    sizes["total"] = sum(sizes.values())
    sizes["encoder_hard_linked"] = linked
    return sizes


def section_query(run: Run) -> dict:
    index_dir = run.index("bbc")
    floor = run.floors_a()
    questions = run.questions[:100 if run.quick else 300]
    args = {"index_dir": str(index_dir), "questions": questions}
    result = worker("answerer_questions", args, 1800)
    serial = worker("answerer_questions", args | {"read_ahead": False}, 1800)  # a fresh process: caches as cold
    result["serial"] = {k: serial[k] for k in ("p50", "p95", "p99", "mean", "cpu_ms")}
    result["serial"]["same_answers"] = serial["answers_digest"] == result["answers_digest"]
    return {"index": shown([index_dir]), "questions": len(questions), "latency_ms": result,
            "ratio_p50_to_floor_onnx": report.ratio(result["p50"], floor["onnx_1_thread"]["p50"]),
            "ratio_p50_to_floor_onnx_int8": report.ratio(result["p50"], floor["onnx_int8_1_thread"]["p50"]),
            "ratio_p50_to_floor_torch": report.ratio(result["p50"], floor["torch_fp32_1_thread"]["p50"]),
            "floor_a": floor, "index_built": run.built.get("bbc")}


class Server:
    """`qa serve` on a free loopback port, in its own process group; always stopped on exit."""

    def __init__(self, run: Run, index_dir: Path, tag: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = [QA, "serve", "--host", "127.0.0.1", "--port", self.port, "--index-dir", index_dir]
        self.log = run.logs / f"serve-{tag}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> float:
        """Start the server; seconds from process start to the first successful answer."""
        with open(self.log, "wb") as log:
            started = time.perf_counter()
            self.proc = spawn(self.cmd, stdout=log, stderr=subprocess.STDOUT)
        with httpx.Client(timeout=30) as client:
            while time.perf_counter() - started < timeout:
                if self.proc.poll() is not None:
                    raise BenchError(f"qa serve exited with {self.proc.returncode}; see {self.log}")
                with contextlib.suppress(httpx.TransportError):
                    if client.post(f"{self.url}/api/ask", json={"question": ASK_QUESTION}).status_code == 200:
                        return time.perf_counter() - started
                time.sleep(0.02)
        raise BenchError(f"qa serve gave no answer within {timeout:.0f} s; see {self.log}")

    def rss_mb(self) -> float | None:
        if not self.proc or self.proc.poll() is not None:
            return None
        with contextlib.suppress(psutil.Error):
            procs = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
            return round(sum(p.memory_info().rss for p in procs) / 2**20, 1)
        return None

    def cpu_seconds(self) -> float | None:
        if not self.proc or self.proc.poll() is not None:
            return None
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(self.proc.pid).cpu_times()
            return times.user + times.system
        return None

    def stop(self) -> None:
        if self.proc:
            _kill(self.proc, grace=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def load_test(url: str, questions: list[str], clients: int, seconds: float, max_requests: int) -> dict:
    """`clients` threads posting /api/ask back to back until `seconds` pass or `max_requests` are sent."""
    feed = itertools.cycle(questions)
    lock = threading.Lock()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    sent = 0
    deadline = time.perf_counter() + seconds

    def client() -> None:
        nonlocal sent
        with httpx.Client(timeout=30) as http:
            while time.perf_counter() < deadline:
                with lock:
                    if sent >= max_requests:
                        return
                    sent += 1
                    question = next(feed)
                started = time.perf_counter()
                try:
                    response = http.post(f"{url}/api/ask", json={"question": question})
                    problem = None if response.status_code == 200 else f"HTTP {response.status_code}"
                except httpx.HTTPError as exc:
                    problem = type(exc).__name__
                took = (time.perf_counter() - started) * 1000
                with lock:
                    if problem:
                        errors[problem] = errors.get(problem, 0) + 1
                    else:
                        latencies.append(took)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    wall = time.perf_counter() - started
    return {"clients": clients, "requests": sent, "ok": len(latencies), "errors": sum(errors.values()),
            "error_kinds": errors, "seconds": round(wall, 2),
            "throughput_rps": round(len(latencies) / wall, 2) if wall else 0.0, "latency_ms": latency_stats(latencies)}


def page_weight(url: str) -> dict:
    """Bytes of the chat page `/` and of the stylesheets and scripts it links (uncompressed)."""
    with httpx.Client(timeout=30) as http:
        html = http.get(f"{url}/").content
        linked = re.findall(rb'(?:href|src)="(/static/[^"?]+\.(?:css|js))(?:\?[^"]*)?"', html)
        assets = {path.decode(): len(http.get(f"{url}{path.decode()}").content) for path in linked}
    return {"html_bytes": len(html), "assets": assets, "total_bytes": len(html) + sum(assets.values())}


def section_http(run: Run) -> dict:
    index_dir = run.index("bbc")
    floor = run.floors_a()
    seconds = 8 if run.quick else 25
    with Server(run, index_dir, "http") as server:
        print(f"  {shown(server.cmd)}", file=sys.stderr)
        startup = server.start()
        load_test(server.url, run.questions[:10], 1, 5, 10)  # warm-up
        rss_before = server.rss_mb()
        tests = []
        for clients, most in ((1, 2000), (8, 4000)):
            cpu = server.cpu_seconds()
            result = load_test(server.url, run.questions, clients, seconds, most)
            used = (server.cpu_seconds() or 0.0) - (cpu or 0.0)
            result["server_cpu_percent"] = round(100 * used / result["seconds"], 1) if result["seconds"] else None
            tests.append(result)
        one, eight = tests
        rss_after = server.rss_mb()
        weight = page_weight(server.url)
        cmd = shown(server.cmd)
    base = floor["onnx_1_thread"]["p50"]
    for result in (one, eight):
        result["ratio_p50_to_floor_onnx"] = report.ratio(result["latency_ms"].get("p50"), base)
    return {"index": shown([index_dir]), "serve_command": cmd, "seconds_per_test": seconds,
            "startup_seconds_to_first_answer": round(startup, 2), "one_client": one, "eight_clients": eight,
            "server_rss_mb_before": rss_before, "server_rss_mb_after": rss_after, "page_weight": weight,
            "floor_a": floor,
            "index_built": run.built.get("bbc")}


def _median_wall(cmd: list, runs: int, timeout: float, warmup: bool = True) -> dict:
    if warmup:
        call(cmd, timeout)
    walls = [call(cmd, timeout)[2] for _ in range(runs)]
    return {"command": shown(cmd), "runs": runs, "median_seconds": round(statistics.median(walls), 3),
            "all_seconds": [round(w, 3) for w in walls]}


def section_coldstart(run: Run) -> dict:
    index_dir = run.index("bbc")
    runs = 1 if run.quick else 3
    python = _median_wall([PYTHON, "-c", "pass"], 3, 60)
    ask = _median_wall([QA, "ask", ASK_QUESTION, "--index-dir", index_dir], 3, 300)
    serve = []
    for n in range(runs):
        with Server(run, index_dir, f"coldstart-{n}") as server:
            serve.append(server.start())
            cmd = shown(server.cmd)
    torch_import = _median_wall([PYTHON, "-c", "import torch, sentence_transformers"], runs, 300)
    st_code = ("import torch, sentence_transformers; from index.export import resolve_model, DEFAULT_MODEL; "
               "sentence_transformers.SentenceTransformer(resolve_model(DEFAULT_MODEL), device='cpu')"
               f".encode({ASK_QUESTION!r})")
    st_first = _median_wall([PYTHON, "-c", st_code], runs, 300, warmup=False)
    floor = torch_import["median_seconds"]
    return {
        "index": shown([index_dir]), "python_startup": python, "qa_ask": ask,
        "qa_serve_to_first_answer": {"command": cmd, "runs": runs, "median_seconds": round(statistics.median(serve), 3),
                                     "all_seconds": [round(s, 3) for s in serve]},
        "import_torch_sentence_transformers": torch_import, "sentence_transformers_first_encode": st_first,
        "ratio_ask_to_torch_import": report.ratio(ask["median_seconds"], floor),
        "ratio_serve_to_torch_import": report.ratio(statistics.median(serve), floor),
        "index_built": run.built.get("bbc"),
    }


def section_quality(run: Run) -> dict:
    sample = 300 if run.quick else 2000
    evals = []
    indexes = {}
    for name, dataset, corpus, articles, sampled in [
        ("squad-v1.1 odd", run.data / "squad-v1.1-dev", "squad-v1.1", "odd", True),
        ("squad-v1.1 all", run.data / "squad-v1.1-dev", "squad-v1.1", "all", True),
        ("squad-v2.0 odd", run.data / "squad-v2.0-dev", "squad-v2.0", "odd", True),
        ("squad-v2.0 all", run.data / "squad-v2.0-dev", "squad-v2.0", "all", True),
        ("bbc-questions", BENCH_DIR / "data" / "bbc-questions", "bbc", "all", False),
        ("bbc-followups", BENCH_DIR / "data" / "bbc-followups", "bbc", "all", False),
        ("bbc-followups-heldout", BENCH_DIR / "data" / "bbc-followups-heldout", "bbc", "all", False),
        ("squad-v1.1 odd, --int8 build", run.data / "squad-v1.1-dev", "squad-v1.1" + INT8, "odd", True),
        ("squad-v2.0 odd, --int8 build", run.data / "squad-v2.0-dev", "squad-v2.0" + INT8, "odd", True),
        ("bbc-questions, --int8 build", BENCH_DIR / "data" / "bbc-questions", "bbc" + INT8, "all", False),
    ]:
        index_dir = indexes.get(corpus) or indexes.setdefault(corpus, run.index(corpus))
        cmd = [QA, "eval", os.path.relpath(dataset, REPO), "--index-dir", index_dir, "--json"]
        if sampled:
            cmd += ["--sample", sample, "--seed", 650, "--articles", articles]
        print(f"  {shown(cmd)}", file=sys.stderr)
        out, _, seconds = call(cmd, timeout=3600)
        evals.append({"name": name, "command": shown(cmd), "seconds": round(seconds, 1),
                      "report": json.loads(out)})
    return {"sample": sample, "evaluations": evals,
            "indexes": {c: {"index": shown([d]), **(run.built.get(c) or {})} for c, d in indexes.items()}}


SECTION_FUNCTIONS = {"floors": section_floors, "build": section_build, "query": section_query,
                     "http": section_http, "coldstart": section_coldstart, "quality": section_quality}


# -- main --------------------------------------------------------------------------------------------------


def load_results() -> dict[str, dict]:
    results = {}
    for name in SECTIONS:
        path = RESULTS / f"{name}.json"
        if path.exists():
            results[name] = json.loads(path.read_text())
    return results


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="a smoke run: smaller build, fewer questions")
    ap.add_argument("--only", default="", help=f"comma-separated sections: {','.join(SECTIONS)}")
    ap.add_argument("--rebuild", action="store_true", help="rebuild the cached indexes in var/bench/")
    ap.add_argument("--floor-sample", type=int, default=None, metavar="N",
                    help="floor (b): encode a seeded sample of N passages and extrapolate "
                         "(default: 1500 with --quick, else all)")
    ap.add_argument("--render-only", action="store_true", help="only rewrite BENCHMARKS.md from results/")
    ap.add_argument("--shared", type=Path, default=REPO.parent / "shared", help="the shared data folder")
    ap.add_argument("--bench-dir", type=Path, default=REPO / "var" / "bench", help="cached indexes and logs")
    args = ap.parse_args(argv)
    chosen = [s.strip() for s in args.only.split(",") if s.strip()] or list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        ap.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    args.sections = [s for s in SECTIONS if s in chosen]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    RESULTS.mkdir(parents=True, exist_ok=True)
    failed = []
    try:
        if not args.render_only:
            failed = run_sections(Run(args))
    finally:
        _kill_all()
    fragments = {path.stem: path.read_text() for path in sorted(RESULTS.glob("*.md"))}
    OUTPUT.write_text(report.render(load_results(), fragments))
    print(f"wrote {OUTPUT.relative_to(REPO)}", file=sys.stderr)
    if failed:
        print(f"failed: {', '.join(failed)} (their previous results were kept)", file=sys.stderr)
    return 1 if failed else 0


def run_sections(run: Run) -> list[str]:
    failed = []
    for name in run.args.sections:
        print(f"[{name}]", file=sys.stderr)
        started, load_before = time.perf_counter(), os.getloadavg()
        try:
            data = SECTION_FUNCTIONS[name](run)
        except BenchError as exc:
            print(f"  {name} failed: {exc}", file=sys.stderr)
            failed.append(name)
            continue
        except Exception:  # a bug in the suite: report it, keep the section's old results, go on
            traceback.print_exc()
            failed.append(name)
            continue
        record = {"section": name, "command": run.command, "date": now(), "quick": run.quick,
                  "machine": run.machine, "seconds": round(time.perf_counter() - started, 1),
                  "load_average": {"before": [round(x, 2) for x in load_before],
                                   "after": [round(x, 2) for x in os.getloadavg()]},
                  **data}
        (RESULTS / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
        print(f"  done in {record['seconds']} s", file=sys.stderr)
    return failed


if __name__ == "__main__":
    sys.exit(main())
