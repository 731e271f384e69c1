"""The Terraform version, read from ``terraform.env`` at the repository root (its one home)."""

from __future__ import annotations

import re
from pathlib import Path

TERRAFORM_ENV = Path(__file__).resolve().parent.parent / "terraform.env"
_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")


def terraform_env(path: Path = TERRAFORM_ENV) -> dict[str, str]:
    """The KEY=value lines of ``terraform.env`` (the same file the workflows read with shell)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    for key in ("TERRAFORM_VERSION", "TERRAFORM_MIN_VERSION"):
        if not _VERSION.match(values.get(key, "")):
            raise ValueError(f"{path.name}: {key} must be a version like 1.10 or 1.10.5, not {values.get(key)!r}")
    return values


def required_version(path: Path = TERRAFORM_ENV) -> str:
    """The ``required_version`` constraint of every synthesized stack."""
    return f">= {terraform_env(path)['TERRAFORM_MIN_VERSION']}"
