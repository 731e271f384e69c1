"""Field checks that know AWS, git and the filesystem, each refusing with the value's problem and the fix.

Every check is ASCII-only on purpose: Python's ``\\d`` and ``\\w`` also match digits and letters of other
scripts (``"١٢٣"``), which AWS refuses at apply time. The schema attaches them to its fields with
``Annotated[str, check(...)]``; the loader turns a refusal into one line naming the file and the key.
"""

from __future__ import annotations

import datetime
import difflib
import ipaddress
import re
from collections.abc import Callable
from typing import Any

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

from core import aws_limits
from core.naming import env_name_problem

REFUSED = "config"  # the pydantic error type of every refusal below


def refuse(problem: str, fix: str) -> PydanticCustomError:
    """A refusal the loader reports as ``<key>: <problem>; <fix>``."""
    return PydanticCustomError(REFUSED, "{problem}; {fix}", {"problem": problem, "fix": fix})


def show(value: Any, limit: int = 60) -> str:
    """A value as the user wrote it, short enough for one line: strings quoted, long ones cut."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[: limit - 3]!r}... ({len(value):,} characters)"
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    if isinstance(value, datetime.date):  # YAML reads an unquoted 2024-01-01 as a date: show it as written
        return str(value)
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


Check = Callable[[str], str]


def check(function: Check) -> AfterValidator:
    return AfterValidator(function)


def pattern(regex: str, what: str, example: str, *, max_length: int | None = None, min_length: int = 1) -> Check:
    """Refuse a value that does not match ``regex`` (ASCII) or whose length is outside the bounds."""
    compiled = re.compile(regex, re.ASCII)

    def run(value: str) -> str:
        if len(value) < min_length:
            raise refuse(f"{show(value)} is too short for {what}", f"write it like {example}")
        if max_length is not None and len(value) > max_length:
            raise refuse(
                f"{show(value)} is longer than {max_length} characters, the limit for {what}",
                f"write it like {example}",
            )
        if not compiled.fullmatch(value):
            raise refuse(f"{show(value)} is not {what}", f"write it like {example}")
        return value

    # What docs/configuration.md says of the field (config/reference.py reads it).
    limit = f", at most {max_length} characters" if max_length is not None else ""
    run.__doc__ = f"{what} (e.g. `{example}`{limit})"
    return run


def aws_region(value: str) -> str:
    """An AWS region the installed AWS SDK knows (botocore's endpoint data, no network)."""
    known = aws_limits.regions()
    if value in known:
        return value
    close = difflib.get_close_matches(value, sorted(known), n=1)
    hint = f"did you mean {close[0]}? " if close else ""
    raise refuse(
        f"{show(value)} is not an AWS region (the installed AWS SDK knows {len(known)})",
        f"{hint}use a region such as eu-west-1, us-east-1 or ap-southeast-2",
    )


def account_id(value: str) -> str:
    """A 12-digit AWS account id (ASCII digits, quoted in YAML)."""
    if re.fullmatch(r"[0-9]{12}", value, re.ASCII):
        return value
    raise refuse(f"{show(value)} is not an AWS account id", 'write the 12 ASCII digits in quotes, e.g. "123456789012"')


def cidr(value: str) -> str:
    """An IPv4 block written with ASCII digits (``ipaddress`` accepts other scripts' digits too)."""
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}", value, re.ASCII):
        raise refuse(f"{show(value)} is not an IPv4 CIDR block", "write it like 10.0.0.0/16")
    try:
        ipaddress.IPv4Network(value, strict=False)
    except ValueError:
        raise refuse(f"{show(value)} is not an IPv4 CIDR block", "write it like 10.0.0.0/16") from None
    return value


def _bucket_problem(value: str) -> str | None:
    if not 3 <= len(value) <= 63:
        return f"is {len(value)} characters long (S3 allows 3-63)"
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", value, re.ASCII):
        return (
            "may hold only lower-case letters, digits, dots and dashes, and must start and end with a letter or digit"
        )
    if ".." in value or ".-" in value or "-." in value:
        return "has two dots, or a dot next to a dash, in a row"
    if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", value):
        return "is formatted as an IP address"
    if value.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or value.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
    ):
        return "uses a prefix or suffix S3 reserves"
    return None


def s3_bucket(value: str) -> str:
    """An S3 bucket name: 3-63 lower-case letters, digits, dots and dashes, none of S3's reserved forms."""
    problem = _bucket_problem(value)
    if problem:
        raise refuse(
            f"{show(value)} is not an S3 bucket name: it {problem}", "use a name like viberglass-terraform-state"
        )
    return value


def dynamodb_table(value: str) -> str:
    """A DynamoDB table name: 3-255 letters, digits, ``_``, ``-``, ``.``."""
    if re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", value, re.ASCII):
        return value
    raise refuse(
        f"{show(value)} is not a DynamoDB table name (3-255 letters, digits, '_', '-', '.')",
        "use a name like viberglass-terraform-locks",
    )


def _segments_problem(value: str, allowed: str) -> str | None:
    """Path-like values: words of ``allowed`` characters separated by single slashes, no ``.``/``..``."""
    if value.startswith("/") or value.endswith("/") or "//" in value:
        return "has an empty path segment or a leading/trailing slash"
    for segment in value.split("/"):
        if segment in {".", ".."}:
            return f"has a {segment!r} segment (a path must not climb out of its prefix)"
        if not re.fullmatch(allowed, segment, re.ASCII):
            return f"has the segment {show(segment)} with characters outside {allowed}"
    return None


def state_key_prefix(value: str) -> str:
    """An S3 key prefix: words joined by ``/``, no ``.``/``..`` segment, at most 900 characters."""
    problem = _segments_problem(value, r"[A-Za-z0-9_.-]+") if value else "is empty"
    if problem is None and len(value) > 900:
        problem = "is longer than 900 characters (S3 keys hold at most 1,024 bytes)"
    if problem:
        raise refuse(f"{show(value)} {problem}", "use plain words joined by '/', like viberglass or teams/viberglass")
    return value


def repository_path(value: str) -> str:
    """A folder inside the application repository (Amplify's monorepo app root)."""
    problem = _segments_problem(value, r"[A-Za-z0-9_.-]+") if value else "is empty"
    if problem:
        raise refuse(f"{show(value)} {problem}", "give the folder relative to the repository root, like apps/frontend")
    return value


def git_branch(value: str) -> str:
    """A branch name git (``git check-ref-format --branch``) and Amplify (1-255 characters) both accept."""
    problem = None
    if not value:
        problem = "is empty"
    elif len(value) > 255:
        problem = f"is {len(value):,} characters long (Amplify allows 255)"
    elif re.search(r"[\x00-\x20\x7f~^:?*\[\\]", value):
        problem = "contains a space, control character or one of ~ ^ : ? * [ \\"
    elif not value.isascii():
        problem = "contains non-ASCII characters"
    elif value == "@" or "@{" in value or ".." in value or "//" in value:
        problem = "contains '..', '//' or '@{', or is '@'"
    elif value.startswith(("/", "-")) or value.endswith(("/", ".")):
        problem = "starts with '/' or '-', or ends with '/' or '.'"
    elif any(part.startswith(".") or part.endswith(".lock") for part in value.split("/")):
        problem = "has a part starting with '.' or ending with '.lock'"
    if problem:
        raise refuse(
            f"{show(value)} is not a git branch name: it {problem}", "use the branch Amplify builds, e.g. main"
        )
    return value


def ecr_repository(value: str) -> str:
    """An ECR repository name: lower-case words joined by ``.``, ``_``, ``-``, namespaces by ``/``."""
    word = r"[a-z0-9]+(?:[._-][a-z0-9]+)*"
    if 2 <= len(value) <= 256 and re.fullmatch(rf"(?:{word}/)*{word}", value, re.ASCII):
        return value
    raise refuse(
        f"{show(value)} is not an ECR repository name (2-256 lower-case letters and digits in words joined by "
        "'.', '_', '-', namespaces by '/')",
        "write it like viberator-worker-codex",
    )


def env_name(value: str) -> str:
    """An environment name: lower-case letters and digits, words joined by single dashes."""
    problem = env_name_problem(value)
    if problem:
        raise refuse(problem, "use lower-case letters and digits, words joined by single dashes, e.g. prod-eu")
    return value
