"""Waiting with progress lines and a deadline, and HTTP smoke checks."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

from ops.common import Report


@dataclass(frozen=True)
class Timing:
    """How long to wait and how often to look. Defaults suit real deploys; tests shorten them."""

    timeout: float = 900.0
    interval: float = 10.0


def wait_until(
    report: Report, what: str, check: Callable[[], tuple[bool | None, str]], timing: Timing
) -> tuple[bool, str]:
    """Poll ``check`` -> (True: done, False: failed, None: not yet; status text) until done or the deadline."""
    start = time.monotonic()
    last = ""
    while True:
        outcome, status = check()
        elapsed = time.monotonic() - start
        if status != last or outcome is not None:
            report.info(f"[{elapsed:5.0f}s] {what}: {status}")
            last = status
        if outcome is not None:
            return outcome, status
        if elapsed >= timing.timeout:
            return False, f"timed out after {timing.timeout:.0f}s ({status})"
        time.sleep(timing.interval)


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
            time.sleep(timing.interval)
    return False
