"""Argument types of ``python -m ops``: each refuses a bad value while arguments are parsed, so the command
stops with one ``error: argument --x: ...`` line and status 2 before anything is read or changed.
Standard library only (``plan-comment`` runs where nothing else is installed).
"""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from core import discovery
from core.naming import env_name_problem

MAX_WAIT_SECONDS = 24 * 3600
MAX_DAYS = 36500


def _show(value: str) -> str:
    return repr(value) if len(value) <= 60 else f"{value[:57]!r}... ({len(value):,} characters)"


def environment(value: str) -> str:
    problem = env_name_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(f"{problem}; give an environment of config/, e.g. dev or prod")
    return value


def seconds(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{_show(value)} is not a number of seconds") from None
    if not math.isfinite(number) or not 0 < number <= MAX_WAIT_SECONDS:
        raise argparse.ArgumentTypeError(f"{_show(value)}: give seconds above 0 and at most {MAX_WAIT_SECONDS}")
    return number


def whole(minimum: int, maximum: int, what: str) -> Callable[[str], int]:
    def parse(value: str) -> int:
        if not re.fullmatch(r"[0-9]+", value, re.ASCII) or not minimum <= int(value) <= maximum:
            raise argparse.ArgumentTypeError(f"{_show(value)} is not {what} ({minimum}-{maximum})")
        return int(value)

    return parse


days = whole(1, MAX_DAYS, "a number of days")


def revision(value: str) -> str:
    """A revision as people type it: ``41``, ``<family>:41`` or a task-definition ARN (the family is
    checked against the environment's when the command runs)."""
    arn = r"arn:[a-z-]+:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/"
    if not re.fullmatch(rf"(?:{arn})?(?:[A-Za-z0-9_-]{{1,255}}:)?[0-9]{{1,9}}", value, re.ASCII) or (
        int(value.rsplit(":", 1)[-1]) < 1
    ):
        raise argparse.ArgumentTypeError(
            f"{_show(value)} is not a task definition revision: give its number (41), <family>:41 or its ARN"
        )
    return value


_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_REPOSITORY = r"[a-z0-9.-]+(?::[0-9]+)?/[a-z0-9._/-]+"


def image(value: str) -> str:
    """A backend image as people type it: a tag (a commit SHA, full or 7+ characters), <repo>:<tag> or
    <repo>@sha256:<64 hex>."""
    if not re.fullmatch(rf"{_TAG}|{_REPOSITORY}:{_TAG}|{_REPOSITORY}@sha256:[0-9a-f]{{64}}", value, re.ASCII):
        raise argparse.ArgumentTypeError(
            f"{_show(value)} is not an image: give a tag such as a commit SHA (3f2c1ab or all 40 characters), "
            "<repository>:<tag> or <repository>@sha256:<digest>"
        )
    return value


def full_sha(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{40}", value, re.ASCII):
        raise argparse.ArgumentTypeError(f"{_show(value)} is not a full 40-character commit SHA (git rev-parse HEAD)")
    return value


def discovery_name(value: str) -> str:
    known = [*discovery.PARAMETERS, discovery.ALARM_TOPIC]
    if value not in known:
        raise argparse.ArgumentTypeError(f"{_show(value)} is not a discovery parameter; use one of: {', '.join(known)}")
    return value


def commit(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{7,40}", value, re.ASCII):
        raise argparse.ArgumentTypeError(f"{_show(value)} is not a git commit id (7-40 lower-case hex digits)")
    return value


def url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname or any(c.isspace() for c in value):
        raise argparse.ArgumentTypeError(f"{_show(value)} is not an http(s) URL, e.g. https://app.example.com")
    return value


def subject_prefix(value: str) -> str:
    # The roles trust the subject with StringEquals: a wildcard would be matched literally, never expanded.
    if not re.fullmatch(r"[A-Za-z0-9_.:/-]+", value, re.ASCII):
        raise argparse.ArgumentTypeError(
            f"{_show(value)} is not an OIDC subject prefix such as repo:owner/name "
            "(letters, digits and _ . : / - only; no wildcards)"
        )
    return value
