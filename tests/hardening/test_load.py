"""Load on a real `qa serve` over loopback: 16 clients asking back to back (questions, follow-ups, article
pages and lists). No failed request, p99 under 1 s, memory flat (60 s, slow; a short variant always runs).
Past capacity the server sheds with 503 + Retry-After at once instead of queueing; slow clients (headers
or body trickled, or nothing sent at all) are cut off after the request timeout instead of holding a slot
or a socket forever."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.hardening.support import (
    LOOPBACK,
    LoadReport,
    Server,
    Traffic,
    request,
    run_load,
    wait_for,
    warm_up,
)

CLIENTS = 16


def describe(report: LoadReport) -> str:
    s = report.summary()
    return (f"{s['requests']} requests in {s['seconds']} s ({s['requests_per_second']}/s), {s['errors']} errors "
            f"{s['statuses']}, p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, p99 {s['p99_ms']} ms, max {s['max_ms']} "
            f"ms, RSS {s['rss_before_mb']} -> {s['rss_after_mb']} MB (max {s['rss_max_mb']})")


def rss_at(report: LoadReport, second: float) -> int:
    """The server's RSS at the first sample taken after `second` seconds of load."""
    return next(rss for t, rss in report.rss_trace if t >= second)


def one_client_median(port: int, news) -> float:
    """Seconds a question takes with no other client: how fast this machine is right now."""
    took = []
    for article in news[:11]:
        started = time.monotonic()
        assert request(port, "POST", "/api/ask", {"question": article.question})[0] == 200
        took.append(time.monotonic() - started)
    return sorted(took)[len(took) // 2]


def check_load(report: LoadReport, p99_limit: float, one_client: float) -> None:
    """No failure, mostly questions, and p99 under `p99_limit` seconds, or on a machine that answers one client
    slowly (other jobs on its 2 cores), under 20 of its one-client answers: 16 clients queue for 2 cores."""
    failures = report.failures()
    assert not failures, f"{len(failures)} failed requests, first: {failures[:3]}\n{describe(report)}"
    assert report.summary()["by_kind"].get("ask", 0) > len(report.samples) / 2
    limit = max(p99_limit, 20 * one_client)
    assert report.percentile(99) < limit, f"p99 limit {limit:.2f} s (one client: {one_client * 1000:.0f} ms); " \
        + describe(report)


def test_16_clients_for_a_few_seconds_get_every_answer_quickly(live: Server, news, record_property):
    """The short variant (6 s) of the 60-s test below; the p99 bound is looser (a short run on a shared CPU
    is at the mercy of whatever else runs in those seconds)."""
    one_client = one_client_median(live.port, news)
    report = run_load(live.port, CLIENTS, 6, lambda k: Traffic(news, seed=k), process=live.process)
    record_property("load_8s", report.summary())
    print(describe(report))
    check_load(report, p99_limit=1.5, one_client=one_client)


@pytest.mark.slow
@pytest.mark.timeout(200)
def test_16_clients_for_60_seconds_no_failure_p99_under_1s_memory_flat(news_index: Path, news, tmp_path: Path,
                                                                       record_property):
    with Server(news_index, tmp_path / "serve.log") as server:  # a fresh server: its memory is ours to watch
        warm_up(server.port, news, n=20)
        one_client = one_client_median(server.port, news)
        report = run_load(server.port, CLIENTS, 60, lambda k: Traffic(news, seed=100 + k),
                          process=server.process)
        record_property("load_60s", report.summary())
        print(describe(report))
        check_load(report, p99_limit=1.0, one_client=one_client)
        assert len(report.samples) > 16 * 30, describe(report)  # every client kept asking
        # Memory: the first seconds warm up (allocator arenas, thread pool, sessions); after that the only
        # growth is the bounded session store (~4 KB a conversation, ~1,600 of them in 60 s).
        settled = rss_at(report, 10)
        assert report.rss_after - settled < 30 * 2**20, describe(report)
        assert report.rss_max - report.rss_before < 60 * 2**20, describe(report)
        assert server.stop() == 0
    assert "Traceback" not in server.output()


# ----------------------------------------------------------------------------------------- past capacity


@pytest.fixture(scope="module")
def small_server(news_index: Path, news, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`qa serve` with room for 2 requests at a time and a 2-s request timeout."""
    env = {"QA_MAX_CONCURRENT_REQUESTS": "2", "QA_REQUEST_TIMEOUT_SECONDS": "2"}
    with Server(news_index, tmp_path_factory.mktemp("small") / "serve.log", env=env) as server:
        warm_up(server.port, news, n=2)
        yield server


def test_past_capacity_the_server_sheds_with_503_and_retry_after_at_once(small_server: Server, news):
    report = run_load(small_server.port, CLIENTS, 3, lambda k: Traffic(news, seed=200 + k))
    statuses = report.statuses
    print(describe(report))
    assert statuses[200] > 20, describe(report)
    assert statuses[503] > 20, describe(report)
    assert set(statuses) == {200, 503}, [s for s in report.samples if s.status not in (200, 503)][:5]
    shed = [s for s in report.samples if s.status == 503]
    assert all(s.retry_after and s.retry_after.isdigit() for s in shed), shed[:3]
    # busy: shed at once; "took longer than 2 s": an answer past the request timeout on a starved machine
    assert all("busy" in s.error or "longer than" in s.error for s in shed), shed[:3]
    assert sum("busy" in s.error for s in shed) > 20, describe(report)
    # shedding is immediate, not a queue: a refusal is faster than an answer (0.25 s, or the median answer on a
    # machine slow enough that answers take longer)
    assert report.percentile(95, status=503, saying="busy") < max(0.25, report.percentile(50, status=200)), \
        describe(report)
    status, _, _ = request(small_server.port, "POST", "/api/ask", {"question": news[0].question})
    assert status == 200
    status, _, _ = request(small_server.port, "GET", "/healthz")
    assert status == 200


def raw(port: int) -> socket.socket:
    s = socket.create_connection((LOOPBACK, port), timeout=10)
    s.settimeout(10)
    return s


def closed_within(s: socket.socket, seconds: float, trickle: bytes = b"") -> tuple[float, bytes]:
    """Wait until the server closes `s` (optionally sending one byte of `trickle` every 0.3 s); returns
    how long it took and what the server sent before closing."""
    began = time.monotonic()
    received = b""
    s.settimeout(0.3)
    k = 0
    while time.monotonic() - began < seconds:
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            if k < len(trickle):
                try:
                    s.sendall(trickle[k:k + 1])
                except OSError:
                    return time.monotonic() - began, received
                k += 1
            continue
        except OSError:
            return time.monotonic() - began, received
        if not chunk:
            return time.monotonic() - began, received
        received += chunk
    raise AssertionError(f"the server kept the connection open for {seconds} s (got {received[:200]!r})")


def test_a_stalled_request_body_is_cut_off_and_frees_its_slot(small_server: Server, news):
    port = small_server.port
    head = (b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200\r\n\r\n{\"question\": ")
    stalled = [raw(port) for _ in range(2)]
    try:
        for s in stalled:
            s.sendall(head)
        def refused() -> dict | None:
            status, headers, _ = request(port, "POST", "/api/ask", {"question": news[0].question})
            return headers if status == 503 else None

        # both slots are held by the stalled bodies once the server has read their headers
        assert wait_for(refused, 10, what="the stalled requests to hold both slots")["retry-after"]
        for s in stalled:
            _took, got = closed_within(s, 6)
            assert got.startswith(b"HTTP/1.1 408"), got[:200]
            assert b"did not arrive" in got
    finally:
        for s in stalled:
            s.close()
    status, _, _ = request(port, "POST", "/api/ask", {"question": news[0].question})
    assert status == 200


SLOW_HEADERS = {
    "nothing at all": (b"", b""),
    "half a request line": (b"GET /api/artic", b""),
    "headers a byte at a time": (b"GET / HTTP/1.1\r\n", b"X-Slow: " + b"a" * 200),
    "headers after a kept-alive answer": (b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\n",
                                          b"X-Slow: " + b"a" * 200),
}


def test_a_client_that_does_not_finish_its_headers_is_disconnected(small_server: Server):
    """Each kind of slow client at once, on its own connection: each is closed after the 2-s timeout."""
    took: dict[str, float] = {}

    def one(what: str, send: bytes, trickle: bytes) -> None:
        s = raw(small_server.port)
        try:
            s.sendall(send)
            took[what] = closed_within(s, 8, trickle)[0]
        except AssertionError:
            took[what] = float("inf")
        finally:
            s.close()

    threads = [threading.Thread(target=one, args=(what, *args)) for what, args in SLOW_HEADERS.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    assert set(took) == set(SLOW_HEADERS)
    assert all(1 < t < 6 for t in took.values()), took


def test_slow_clients_do_not_stop_others_from_being_answered(small_server: Server, news):
    """Many connections trickling their headers hold no request slot: real requests keep being answered."""
    port = small_server.port
    slow = [raw(port) for _ in range(40)]
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            for s in slow:
                with contextlib.suppress(OSError):
                    s.sendall(b"X")
            stop.wait(0.2)

    try:
        for s in slow:
            s.sendall(b"GET / HTTP/1.1\r\nX-Slow: ")
        thread = threading.Thread(target=trickle, daemon=True)
        thread.start()
        for article in news[:5]:
            status, _, _ = request(port, "POST", "/api/ask", {"question": article.question})
            assert status == 200
    finally:
        stop.set()
        for s in slow:
            s.close()


def read_head(s: socket.socket, got: bytes = b"") -> bytes:
    """What the server sent, up to the end of its response headers (or until it closes)."""
    s.settimeout(10)
    while b"\r\n\r\n" not in got:
        more = s.recv(65536)
        if not more:
            break
        got += more
    return got


def test_an_oversized_body_is_refused_on_the_wire_declared_or_chunked(live: Server):
    """16 KB is the default limit: a larger body is refused with 413 whether it declares its length (refused
    before a byte is read) or streams in chunks without one (refused as soon as it passes the limit)."""
    declared = raw(live.port)
    try:
        declared.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 50000000\r\n\r\n{")
        got = read_head(declared)
    finally:
        declared.close()
    assert got.startswith(b"HTTP/1.1 413"), got[:200]
    chunked = raw(live.port)
    try:
        chunked.sendall(b"POST /api/ask HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        b"Transfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 4096
        got = b""
        for _ in range(64):  # up to 256 KB
            try:
                chunked.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                break
            chunked.settimeout(0.05)
            try:
                got += chunked.recv(65536)
            except TimeoutError:
                continue
            if got:
                break
        got = read_head(chunked, got)
    finally:
        chunked.close()
    assert got.startswith(b"HTTP/1.1 413"), got[:200]
    assert request(live.port, "GET", "/healthz")[0] == 200
