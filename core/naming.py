"""One naming rule for every resource (after cloudposse/terraform-null-label).

Names are ``viberglass-{env}-{component}``; when a service caps the length, the name is cut and ends in a
short hash of the full name, so two long names never collapse into one and the result never changes
between runs.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

PROJECT = "viberglass"
_HASH_LENGTH = 6
# An environment name is part of every resource name: S3 buckets (`{env}-viberglass-uploads`), IAM roles
# (`viberglass-{env}-github-apply`, at most 64 characters), log groups, SSM paths and GitHub Environment
# names. Lower-case ASCII letters and digits in dash-separated words satisfy all of them; 40 characters
# keep the longest fixed IAM role name within 64.
ENV_NAME = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*", re.ASCII)
MAX_ENV_LENGTH = 40


def env_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be an environment name, or ``None`` when it can."""
    if not name:
        return "is empty"
    if len(name) > MAX_ENV_LENGTH:
        return f"is {len(name)} characters long; an environment name has at most {MAX_ENV_LENGTH}"
    if not ENV_NAME.fullmatch(name):
        # At most MAX_ENV_LENGTH characters here (refused above), so the name is shown whole.
        return f"{name!r} is not an environment name (lower-case letters and digits, words joined by single dashes)"
    return None


def shorten(name: str, max_length: int) -> str:
    """Return ``name`` if it fits, else a deterministic cut that ends in ``-<hash>`` and fits exactly."""
    if max_length < _HASH_LENGTH + 2:
        raise ValueError(f"max_length {max_length} leaves no room for a hash suffix")
    if len(name) <= max_length:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:_HASH_LENGTH]
    head = name[: max_length - _HASH_LENGTH - 1].rstrip("-")
    return f"{head}-{digest}"


@dataclass(frozen=True)
class Naming:
    """Builds every name of one environment.

    :param env: environment name (``dev``, ``prod``); lower-case letters, digits and dashes.
    :param project: the project prefix. Default: ``viberglass``.
    """

    env: str
    project: str = PROJECT

    def __post_init__(self) -> None:
        problem = env_name_problem(self.env)
        if problem:
            raise ValueError(f"environment name {problem}")

    @property
    def prefix(self) -> str:
        """``viberglass-{env}``: the stem shared by every name of the environment."""
        return f"{self.project}-{self.env}"

    def name(self, component: str, *, max_length: int = 64) -> str:
        """``viberglass-{env}-{component}``, capped at ``max_length`` (default 64)."""
        return shorten(f"{self.prefix}-{component}", max_length)

    def env_first(self, component: str, *, max_length: int = 63) -> str:
        """``{env}-viberglass-{component}``: the form the backend image and S3 bucket names use."""
        return shorten(f"{self.env}-{self.project}-{component}", max_length)

    def log_group(self, kind: str, component: str) -> str:
        """A log group path such as ``/ecs/viberglass-{env}-worker`` (``kind`` is ``ecs`` or ``aws/lambda``)."""
        return f"/{kind}/{self.prefix}-{component}"

    def parameter(self, *parts: str) -> str:
        """An SSM parameter name under ``/viberglass/{env}/``."""
        return "/".join(["", self.project, self.env, *parts])

    def kms_alias(self, purpose: str) -> str:
        """``alias/viberglass-{env}-{purpose}``."""
        return f"alias/{self.prefix}-{purpose}"
