"""Long waits say where they are at least every 30 seconds, even when nothing changes (ops/waiting.py).

Time is a fake clock here: `Timing` takes the clock and the sleep, so minutes pass in microseconds."""

from __future__ import annotations

import io
import itertools
import re

import pytest

from ops.common import Report
from ops.waiting import PROGRESS_EVERY, Timing, wait_until


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
