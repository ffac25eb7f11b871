"""Shared machinery of the hardening tests and of benchmarks/hardening.py: a generated news corpus, a real
`qa serve` subprocess on a free loopback port, a closed-loop HTTP load generator with latency percentiles,
and `qa index build` run as a subprocess (optionally with a fast fake encoder, for parsing and memory tests
where the embedding model is not what is being tested).

Everything talks to 127.0.0.1 only; every wait has a deadline; every process started here is stopped by
its own handle (never by name).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
LOOPBACK = "127.0.0.1"

# --------------------------------------------------------------------------------------------------------
# A generated corpus: each article states a few facts nothing else states, so questions have one answer.

TOWNS = ["Ashcombe", "Brantwick", "Carrowmore", "Dunhallow", "Elmsworth", "Fernleigh", "Glenmarsh", "Hollybrook",
         "Ivybridge", "Kestrel Bay", "Larkhill", "Millbeck", "Northwold", "Oakhurst", "Pennard", "Quarrymoor",
         "Redcastle", "Saltmarsh", "Thornbury", "Upwell", "Valehead", "Westerly", "Yarrowdale", "Zennor Cove"]
THINGS = ["library", "swimming pool", "footbridge", "harbour wall", "tram line", "concert hall", "fire station",
          "cycle path", "primary school", "market hall", "lifeboat station", "community orchard"]
FIRST = ["Amira", "Bruno", "Celia", "Dmitri", "Elena", "Farid", "Greta", "Hamish", "Ines", "Jonah", "Keiko",
         "Lars", "Marta", "Nikhil", "Olwen", "Pavel", "Rosa", "Soren", "Tamsin", "Umar"]
LAST = ["Achterberg", "Blackwood", "Castellano", "Dunmore", "Eriksen", "Fairweather", "Gallagher", "Holloway",
        "Ivanova", "Jarvis", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Pemberton"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]


@dataclass(frozen=True)
class NewsArticle:
    article_id: str
    title: str
    paragraphs: list[str]
    question: str  # a question only this article answers
    answer: str  # the short answer, as it appears in the article

    def as_json(self) -> dict:
        return {"id": self.article_id, "title": self.title, "paragraphs": self.paragraphs,
                "url": f"https://news.example.org/{self.article_id}", "date": "2024-05-01",
                "source": "Generated Gazette"}


def news_articles(count: int, seed: int = 7, prefix: str = "news") -> list[NewsArticle]:
    """`count` distinct synthetic local-news articles with ids `prefix/NNN`, reproducible from `seed`."""
    rng = random.Random(seed)
    articles = []
    for n in range(count):
        town = f"{rng.choice(TOWNS)} {n}" if n >= len(TOWNS) else TOWNS[n]
        thing = rng.choice(THINGS)
        mayor = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        cost = f"{rng.randint(2, 95)}.{rng.randint(1, 9)} million pounds"
        year = rng.randint(1890, 2015)
        workers = rng.randint(12, 480)
        month = rng.choice(MONTHS)
        title = f"{town} opens its new {thing}"
        paragraphs = [
            f"The new {thing} in {town} opened to the public on a wet morning in {month}, after three years of "
            f"planning and two years of building work.",
            f"The project cost {cost}, most of it paid by the county council, and employed {workers} workers "
            f"at its busiest.",
            f"Mayor {mayor} said the town had waited since {year} for a {thing} of its own. \"This belongs to "
            f"everyone here,\" {mayor.split()[0]} told the crowd.",
            f"Local traders expect more visitors to {town} over the summer, and the bus company has added an "
            f"hourly service from the station.",
        ]
        articles.append(NewsArticle(f"{prefix}/{n:03d}", title, paragraphs,
                                    f"How much did the new {thing} in {town} cost?", cost))
    return articles


# Untrusted text in every field a page shows; and an id that looks like a path out of the index.
EVIL_ID = "evil/one"
EVIL = {
    "id": EVIL_ID,
    "title": "<script>alert('title')</script> Storm <img src=x onerror=alert(1)> hits Brackenport pier",
    "paragraphs": [
        "A storm damaged the Brackenport pier on Monday, and <script>alert('p')</script> repairs will cost "
        "7 million pounds, the harbour master said.",
        "Witnesses saw <img src=x onerror=alert(2)> waves over the lamp posts; a <a href=\"javascript:alert(3)\">"
        "link</a> and <iframe src=javascript:alert(7)></iframe> were posted online.",
    ],
    "url": "javascript:alert(4)", "byline": "<b onmouseover=alert(5)>Reporter</b>", "date": "<i>2024</i>",
    "source": "<svg onload=alert(6)>",
}
EVIL_QUESTION = "<script>alert(1)</script> How much will the Brackenport pier repairs cost?"
TRAVERSAL_ID = "../../secrets/passwords"
TRAVERSAL = {"id": TRAVERSAL_ID, "title": "An article whose id looks like a path",
             "paragraphs": ["This text comes from the index, never from a file on the server."]}


def write_news_corpus(folder: Path, articles: list[NewsArticle], extra: list[dict] = ()) -> Path:
    """One JSONL file of the articles (and `extra` raw objects) in `folder` (created); returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(a.as_json()) for a in articles] + [json.dumps(e) for e in extra]
    (folder / "articles.jsonl").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return folder


# --------------------------------------------------------------------------------------------------------
# Processes


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_") or k == "QA_CACHE_DIR"}
    env.update({"HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def run_build(paths: list[Path], index_dir: Path, *, fake_encoder: bool = False, timeout: float = 600,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`qa index build PATHS --index-dir INDEX_DIR` in a subprocess; with `fake_encoder`, through
    tests/hardening/fake_encoder.py (same CLI, hash vectors instead of the model; prints its peak RSS)."""
    args = ["index", "build", *map(str, paths), "--index-dir", str(index_dir)]
    command = ([PYTHON, "-m", "tests.hardening.fake_encoder", *args] if fake_encoder
               else [PYTHON, "-m", "qa.cli", *args])
    return subprocess.run(command, cwd=REPO, env=env or child_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def run_build_command(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """`qa ARGS...` (e.g. `index add PATH --index-dir DIR`) in a subprocess."""
    return subprocess.run([PYTHON, "-m", "qa.cli", *args], cwd=REPO, env=child_env(), capture_output=True,
                          text=True, timeout=timeout, check=False)


def start_build(paths: list[Path], index_dir: Path, log: Path) -> subprocess.Popen:
    """A real `qa index build` subprocess (not waited for), its output in `log`."""
    with open(log, "wb") as out:
        return subprocess.Popen([PYTHON, "-m", "qa.cli", "index", "build", *map(str, paths), "--index-dir",
                                 str(index_dir)], cwd=REPO, env=child_env(), stdout=out,
                                stderr=subprocess.STDOUT)


class Server:
    """A real `qa serve` subprocess over `index_dir` on a free loopback port (`host=None`: the default
    host, which must be loopback). Use as a context manager; `stop()` sends Ctrl+C and waits."""

    def __init__(self, index_dir: Path, log: Path, *, host: str | None = None,
                 env: dict[str, str] | None = None, require_index: bool = True) -> None:
        self.index_dir = index_dir
        self.log = log
        self.host = host
        self.env = env
        self.require_index = require_index
        self._start()

    def _start(self) -> None:
        self.port = free_port()
        self.base = f"http://{LOOPBACK}:{self.port}"
        command = [PYTHON, "-m", "qa.cli", "serve", "--index-dir", str(self.index_dir), "--port", str(self.port)]
        if self.host:
            command += ["--host", self.host]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(command, cwd=REPO, env=child_env(**(self.env or {})), stdout=out,
                                         stderr=subprocess.STDOUT)
        self.process = psutil.Process(self.proc.pid)

    def __enter__(self) -> Server:
        attempts = 3
        while True:
            try:
                self.wait_ready()
                return self
            except BaseException:
                self.stop()
                attempts -= 1
                # another process took the free port between free_port() and the server's bind: a new port
                if not attempts or "address already in use" not in self.output().lower():
                    raise
            self._start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"qa serve exited with {self.proc.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError):
                status, _, _ = request(self.port, "GET", "/healthz", timeout=5)
                if status == 200 or (status == 503 and not self.require_index):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError(f"qa serve did not become ready in {timeout} s:\n{self.output()}")
            time.sleep(0.2)

    def rss(self) -> int:
        return self.process.memory_info().rss

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def wait_for(predicate: Callable[[], object], timeout: float, every: float = 0.1, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")
        time.sleep(every)


# --------------------------------------------------------------------------------------------------------
# HTTP


def request(port: int, method: str, path: str, body: dict | bytes | None = None,
            headers: dict[str, str] | None = None, timeout: float = 30,
            conn: http.client.HTTPConnection | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request, the path sent exactly as given (no normalisation of `..` or `%2e`)."""
    own = conn is None
    conn = conn or http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    hdrs = {"Content-Type": "application/json"} if isinstance(body, dict) else {}
    hdrs.update(headers or {})
    try:
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        payload = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, payload
    finally:
        if own:
            conn.close()


@dataclass(frozen=True)
class Sample:
    started: float  # seconds since the load began
    seconds: float
    kind: str
    status: int  # 0: no response (connection error, timeout)
    error: str = ""
    retry_after: str | None = None


@dataclass
class LoadReport:
    clients: int
    duration: float
    samples: list[Sample] = field(default_factory=list)
    rss_before: int = 0
    rss_after: int = 0
    rss_max: int = 0
    rss_trace: list[tuple[float, int]] = field(default_factory=list)

    @property
    def statuses(self) -> Counter:
        return Counter(s.status for s in self.samples)

    def failures(self, allowed: tuple[int, ...] = (200,)) -> list[Sample]:
        return [s for s in self.samples if s.status not in allowed]

    def latencies(self, status: int | None = 200, saying: str = "") -> list[float]:
        """Seconds of the requests answered with `status` (any if None) whose error message holds `saying`."""
        return sorted(s.seconds for s in self.samples
                      if (status is None or s.status == status) and saying in (s.error or ""))

    def percentile(self, q: float, status: int | None = 200, saying: str = "") -> float:
        values = self.latencies(status, saying)
        if not values:
            return float("nan")
        rank = max(0, min(len(values) - 1, math.ceil(q / 100 * len(values)) - 1))  # nearest rank
        return values[rank]

    def summary(self) -> dict:
        elapsed = self.duration or 1.0
        return {
            "clients": self.clients, "seconds": round(self.duration, 1), "requests": len(self.samples),
            "errors": len(self.failures()), "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "requests_per_second": round(len(self.samples) / elapsed, 1),
            "p50_ms": round(self.percentile(50) * 1000, 1), "p95_ms": round(self.percentile(95) * 1000, 1),
            "p99_ms": round(self.percentile(99) * 1000, 1),
            "max_ms": round((self.latencies()[-1] if self.latencies() else float("nan")) * 1000, 1),
            "by_kind": {kind: n for kind, n in sorted(Counter(s.kind for s in self.samples).items())},
            "rss_before_mb": round(self.rss_before / 2**20, 1), "rss_after_mb": round(self.rss_after / 2**20, 1),
            "rss_max_mb": round(self.rss_max / 2**20, 1),
        }


class Traffic:
    """What one client asks, in a loop: mostly questions (a conversation of three turns, then a new one),
    sometimes the article list, an article as JSON, or an article page with a highlighted span."""

    def __init__(self, articles: list[NewsArticle], seed: int, headers: dict[str, str] | None = None) -> None:
        self.articles = articles
        self.rng = random.Random(seed)
        self.headers = headers or {}
        self.session: str | None = None
        self.turn = 0

    def next(self) -> tuple[str, str, str, dict | None]:
        """(kind, method, path, body) of the next request."""
        roll = self.rng.random()
        article = self.rng.choice(self.articles)
        if roll < 0.08:
            return "list", "GET", "/api/articles?limit=20", None
        if roll < 0.14:
            return "article_json", "GET", f"/api/articles/{article.article_id}", None
        if roll < 0.20:
            return "article_page", "GET", f"/articles/{article.article_id}?p=1&start=4&end=30", None
        self.turn += 1
        if self.turn % 3 == 1:
            self.session = None
            body = {"question": article.question}
        else:
            body = {"question": self.rng.choice(["Who said that?", "And how many workers did it employ?",
                                                 "When did it open?"]), "session_id": self.session}
        return "ask", "POST", "/api/ask", body

    def seen(self, kind: str, status: int, payload: bytes) -> None:
        if kind == "ask" and status == 200:
            self.session = json.loads(payload)["session_id"]


def run_load(port: int, clients: int, seconds: float, traffic: Callable[[int], Traffic],
             process: psutil.Process | None = None, stop: threading.Event | None = None,
             timeout: float = 30) -> LoadReport:
    """`clients` threads, each on its own keep-alive connection, sending requests back to back for
    `seconds` (or until `stop` is set). Every request is recorded, with its status and latency."""
    report = LoadReport(clients, seconds)
    lock = threading.Lock()
    stop = stop or threading.Event()
    began = time.monotonic()

    def client(k: int) -> None:
        plan = traffic(k)
        conn: http.client.HTTPConnection | None = None
        samples = []
        while not stop.is_set() and time.monotonic() - began < seconds:
            kind, method, path, body = plan.next()
            conn = conn or http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
            t0 = time.monotonic()
            try:
                status, headers, payload = request(port, method, path, body, plan.headers, conn=conn)
            except (OSError, http.client.HTTPException) as exc:
                samples.append(Sample(t0 - began, time.monotonic() - t0, kind, 0, f"{type(exc).__name__}: {exc}"))
                conn.close()
                conn = None
                continue
            elapsed = time.monotonic() - t0
            error = "" if status == 200 else payload[:200].decode(errors="replace")
            samples.append(Sample(t0 - began, elapsed, kind, status, error, headers.get("retry-after")))
            plan.seen(kind, status, payload)
            if headers.get("connection", "").lower() == "close":
                conn.close()
                conn = None
        if conn is not None:
            conn.close()
        with lock:
            report.samples.extend(samples)

    def watch() -> None:
        while not stop.is_set() and time.monotonic() - began < seconds:
            with contextlib.suppress(psutil.Error):
                rss = process.memory_info().rss
                report.rss_trace.append((round(time.monotonic() - began, 2), rss))
                report.rss_max = max(report.rss_max, rss)
            stop.wait(0.5)

    if process is not None:
        report.rss_before = process.memory_info().rss
    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    if process is not None:
        threads.append(threading.Thread(target=watch, daemon=True))
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 30)
    report.duration = time.monotonic() - began
    if process is not None:
        report.rss_after = process.memory_info().rss
        report.rss_max = max(report.rss_max, report.rss_after)
    report.samples.sort(key=lambda s: s.started)
    return report


@contextlib.contextmanager
def background_load(port: int, clients: int, traffic: Callable[[int], Traffic], max_seconds: float = 300,
                    process: psutil.Process | None = None) -> Iterator[list[LoadReport]]:
    """Load in a background thread until the block ends (or `max_seconds`); then the list holds its report."""
    stop = threading.Event()
    reports: list[LoadReport] = []
    thread = threading.Thread(target=lambda: reports.append(
        run_load(port, clients, max_seconds, traffic, process=process, stop=stop)), daemon=True)
    thread.start()
    try:
        yield reports
    finally:
        stop.set()
        thread.join(120)


def warm_up(port: int, articles: list[NewsArticle], n: int = 8) -> None:
    """A few sequential requests, so the first measured ones do not pay for lazy initialisation."""
    for article in articles[:n]:
        request(port, "POST", "/api/ask", {"question": article.question})
        request(port, "GET", f"/articles/{article.article_id}?p=1&start=0&end=5")
    request(port, "GET", "/")
