"""Waiting with progress lines and a deadline, and HTTP smoke checks."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from ops.common import Report

# A wait says where it is at least this often, even when nothing changes: a silent CI log for minutes looks
# like a hang, and GitHub shows no activity indicator for a step.
PROGRESS_EVERY = 30.0


@dataclass(frozen=True)
class Timing:
    """How long to wait, how often to look and how often to say so. Defaults suit real deploys; tests
    shorten them or pass a fake ``clock``/``sleep`` (monotonic seconds, and how to let time pass)."""

    timeout: float = 900.0
    interval: float = 10.0
    progress: float = PROGRESS_EVERY
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)


def wait_until(
    report: Report, what: str, check: Callable[[], tuple[bool | None, str]], timing: Timing
) -> tuple[bool, str]:
    """Poll ``check`` -> (True: done, False: failed, None: not yet; status text) every ``timing.interval``
    seconds until done or the deadline.

    A progress line is printed when the status changes, when the wait ends, and at least every
    ``timing.progress`` seconds in between ("still <status>"), however long the interval between checks."""
    start = timing.clock()
    deadline = start + timing.timeout
    last, said_at = None, start

    def say(now: float, text: str) -> None:
        nonlocal said_at
        report.info(f"[{now - start:5.0f}s] {what}: {text}")
        said_at = now

    while True:
        outcome, status = check()
        now = timing.clock()
        if status != last or outcome is not None or now - said_at >= timing.progress:
            say(now, status if status != last or outcome is not None else f"still {status}")
            last = status
        if outcome is not None:
            return outcome, status
        if now >= deadline:
            say(now, f"gave up after {timing.timeout:.0f}s")
            return False, f"timed out after {timing.timeout:.0f}s ({status})"
        next_check = min(now + timing.interval, deadline)
        while now < next_check:
            if now - said_at >= timing.progress:
                say(now, f"still {status}")
            timing.sleep(min(next_check - now, said_at + timing.progress - now))
            now = timing.clock()


def http_ok(url: str, *, timeout: float = 10.0) -> tuple[bool, str]:
    """GET ``url``; (True, "200") on a 2xx answer."""
    if not url.startswith(("http://", "https://")):
        return False, f"not an http(s) URL: {url}"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            return 200 <= response.status < 300, str(response.status)
    except urllib.error.HTTPError as error:
        return False, str(error.code)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return False, str(getattr(error, "reason", error))


def smoke(report: Report, url: str, timing: Timing, *, attempts: int = 5) -> bool:
    """Up to ``attempts`` GETs of ``url``, ``timing.interval`` apart; True on the first 2xx."""
    for attempt in range(1, attempts + 1):
        ok, status = http_ok(url)
        report.info(f"smoke {url}: {status} (attempt {attempt}/{attempts})")
        if ok:
            return True
        if attempt < attempts:
            timing.sleep(timing.interval)
    return False
