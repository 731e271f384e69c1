"""Long waits say where they are at least every 30 seconds, even when nothing changes (ops/waiting.py).

Time is a fake clock here: `Timing` takes the clock and the sleep, so minutes pass in microseconds."""

from __future__ import annotations

import io
import itertools
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from ops.common import Report
from ops.waiting import PROGRESS_EVERY, Timing, http_ok, smoke, wait_until


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        # A wait never sleeps for nothing (it would spin without time passing).
        assert seconds > 0, "slept 0 s: the wait would spin"
        self.now += seconds


def _wait(statuses: list[tuple[bool | None, str]], *, interval: float, timeout: float = 900) -> tuple[list[float], str]:
    """Run a wait whose check answers ``statuses`` in turn (the last one forever); (the elapsed second of
    every progress line, the output)."""
    clock, out = FakeClock(), io.StringIO()
    answers = iter(statuses)
    last = statuses[-1]

    def check() -> tuple[bool | None, str]:
        return next(answers, last)

    timing = Timing(timeout=timeout, interval=interval, clock=clock, sleep=clock.sleep)
    wait_until(Report(out=out), "Amplify job 7", check, timing)
    text = out.getvalue()
    return [float(s) for s in re.findall(r"\[\s*(\d+)s\]", text)], text


@pytest.mark.parametrize("interval", [5, 10, 29, 45, 120])
def test_an_unchanged_status_is_repeated_at_least_every_30_seconds(interval: float) -> None:
    seconds, text = _wait([(None, "RUNNING")] * 40 + [(True, "SUCCEED")], interval=interval, timeout=10**6)
    gaps = [b - a for a, b in itertools.pairwise(seconds)]
    assert max(gaps) <= PROGRESS_EVERY
    assert "Amplify job 7: still RUNNING" in text and text.rstrip().endswith("Amplify job 7: SUCCEED")


def test_a_changed_status_is_printed_at_once_and_not_repeated_sooner() -> None:
    _, text = _wait([(None, "PENDING"), (None, "RUNNING"), (None, "RUNNING"), (True, "SUCCEED")], interval=5)
    assert text.splitlines() == ["  [    0s] Amplify job 7: PENDING", "  [    5s] Amplify job 7: RUNNING",
                                 "  [   15s] Amplify job 7: SUCCEED"]  # fmt: skip


def test_a_timeout_says_so_and_keeps_reporting_until_then() -> None:
    seconds, text = _wait([(None, "RUNNING")], interval=10, timeout=100)
    assert seconds[-1] == 100 and "gave up after 100s" in text
    assert len(seconds) >= 100 / PROGRESS_EVERY


def test_a_wait_that_times_out_is_a_failure_naming_the_last_status() -> None:
    """The caller (a deploy, a frontend release) reads the timeout as a failure, never as done."""
    clock = FakeClock()
    timing = Timing(timeout=100, interval=10, clock=clock, sleep=clock.sleep)
    result = wait_until(Report(out=io.StringIO()), "rollout", lambda: (None, "IN_PROGRESS"), timing)
    assert result == (False, "timed out after 100s (IN_PROGRESS)")


def test_checks_keep_their_interval_while_progress_is_printed() -> None:
    """A 120-second interval still prints every 30 s, without calling the AWS API more often."""
    calls = []
    clock = FakeClock()

    def check() -> tuple[bool | None, str]:
        calls.append(clock.now)
        return (True, "COMPLETED") if len(calls) == 3 else (None, "IN_PROGRESS")

    out = io.StringIO()
    wait_until(Report(out=out), "rollout", check, Timing(timeout=900, interval=120, clock=clock, sleep=clock.sleep))
    assert [c - calls[0] for c in calls] == [0, 120, 240]
    assert out.getvalue().count("still IN_PROGRESS") == 7  # 30, 60, ..., 210 s


def test_a_check_on_the_30_second_mark_says_still_then() -> None:
    """An interval of exactly 30 s: the check itself falls on the progress mark and must say "still"."""
    _, text = _wait([(None, "RUNNING")] * 3 + [(True, "SUCCEED")], interval=PROGRESS_EVERY)
    assert text.splitlines() == [
        "  [    0s] Amplify job 7: RUNNING",
        "  [   30s] Amplify job 7: still RUNNING",
        "  [   60s] Amplify job 7: still RUNNING",
        "  [   90s] Amplify job 7: SUCCEED",
    ]


# -- HTTP smoke checks against a local server (127.0.0.1) ------------------------------------------------------


class _Server:
    """A local HTTP server answering GETs with ``status``; ``hang`` seconds of silence first."""

    def __init__(self, status: int = 200, hang: float = 0.0) -> None:
        import threading
        import time
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self
        self.status, self.hang, self.hits = status, hang, 0

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                time.sleep(owner.hang)
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def server() -> Iterator[_Server]:
    found = _Server()
    yield found
    found.close()


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_only_http_and_https_urls_are_fetched() -> None:
    assert http_ok("ftp://example.com/x") == (False, "not an http(s) URL: ftp://example.com/x")
    assert http_ok("file:///etc/passwd") == (False, "not an http(s) URL: file:///etc/passwd")
    # An https URL is fetched (and here refused by a closed port), not turned away by its scheme.
    ok, status = http_ok(f"https://127.0.0.1:{_closed_port()}/")
    assert (ok, status) == (False, "[Errno 111] Connection refused")


@pytest.mark.parametrize(("status", "expected"), [(200, (True, "200")), (204, (True, "204")),
                                                  (404, (False, "404")), (503, (False, "503"))])  # fmt: skip
def test_a_2xx_answer_is_healthy_and_any_error_status_is_named(server: _Server, status: int, expected: Any) -> None:
    server.status = status
    assert http_ok(server.url) == expected


def test_a_refused_connection_is_named_by_its_reason() -> None:
    assert http_ok(f"http://127.0.0.1:{_closed_port()}/") == (False, "[Errno 111] Connection refused")


def test_a_silent_server_is_given_up_on_after_the_timeout() -> None:
    silent = _Server(hang=3)
    try:
        start = time.monotonic()
        assert http_ok(silent.url, timeout=0.2) == (False, "timed out")
        assert time.monotonic() - start < 2
    finally:
        silent.hang = 0
        silent.close()


def _smoke(url: str, attempts: int | None = None) -> tuple[bool, list[str], list[float]]:
    out, slept = io.StringIO(), list[float]()
    timing = Timing(interval=7, sleep=slept.append)
    kwargs = {} if attempts is None else {"attempts": attempts}
    ok = smoke(Report(out=out), url, timing, **kwargs)
    return ok, [line.strip() for line in out.getvalue().splitlines()], slept


def test_smoke_tries_five_times_by_default_interval_apart_and_not_after_the_last(server: _Server) -> None:
    server.status = 502
    ok, lines, slept = _smoke(server.url)
    assert not ok
    assert lines == [f"smoke {server.url}: 502 (attempt {n}/5)" for n in range(1, 6)]
    assert slept == [7, 7, 7, 7] and server.hits == 5


def test_smoke_stops_at_the_first_healthy_answer(server: _Server) -> None:
    ok, lines, slept = _smoke(server.url, attempts=3)
    assert ok and lines == [f"smoke {server.url}: 200 (attempt 1/3)"] and slept == [] and server.hits == 1


def test_smoke_with_one_attempt_tries_once(server: _Server) -> None:
    server.status = 500
    ok, lines, slept = _smoke(server.url, attempts=1)
    assert (ok, lines, slept, server.hits) == (False, [f"smoke {server.url}: 500 (attempt 1/1)"], [], 1)
