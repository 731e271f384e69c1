"""What every ops command shares: errors with exit codes, progress output, AWS clients, config."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ops.environment import load_config
from ops.errors import EXIT_AWS, EXIT_INPUT, EXIT_OK, InputError, OpsError, from_aws

__all__ = ["EXIT_AWS", "EXIT_INPUT", "EXIT_OK", "InputError", "OpsError", "Report", "aws_call", "client", "load_config"]


def client(service: str, region: str) -> Any:
    """A boto3 client; ``AWS_ENDPOINT_URL`` (tests: a local moto server) is honoured by boto3 itself."""
    retries = Config(retries={"max_attempts": 5, "mode": "standard"}, connect_timeout=10, read_timeout=60)
    make: Any = boto3.client  # service names are dynamic here; the stubs only type literal names
    return make(service, region_name=region, config=retries)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@dataclass
class Report:
    """Progress lines for the operator and the list of changes made (or planned, with ``dry_run``)."""

    dry_run: bool = False
    out: TextIO = field(default_factory=lambda: sys.stdout)
    changes: list[str] = field(default_factory=list)

    def info(self, message: str) -> None:
        print(f"  {message}", file=self.out, flush=True)

    def ok(self, message: str) -> None:
        print(f"  ok      {message}", file=self.out, flush=True)

    def change(self, message: str, action: Callable[[], object]) -> None:
        """Record ``message``; run ``action`` unless this is a dry run."""
        self.changes.append(message)
        if self.dry_run:
            print(f"  would   {message}", file=self.out, flush=True)
            return
        action()
        print(f"  changed {message}", file=self.out, flush=True)

    def section(self, title: str) -> None:
        print(title, file=self.out, flush=True)

    def summary(self) -> None:
        if not self.changes:
            print("No changes: everything is already in place.", file=self.out)
        elif self.dry_run:
            print(f"Dry run: {len(self.changes)} change(s) would be made; nothing was changed.", file=self.out)
        else:
            print(f"Done: {len(self.changes)} change(s) made.", file=self.out)


def aws_call(what: str, call: Callable[[], Any], *, missing: Collection[str] = ()) -> Any:
    """Run ``call``; turn an AWS failure into one readable line. An error whose code is in ``missing``
    (e.g. ``NoSuchEntity`` when reading something that may not exist yet) returns ``None`` instead."""
    try:
        return call()
    except ClientError as error:
        if error_code(error) in missing:
            return None
        raise from_aws(error, what) or OpsError(f"{what}: {error}") from None
    except BotoCoreError as error:
        # Missing or refused credentials are the operator's input (exit 2), anything else a failure (exit 1).
        raise from_aws(error, what) or OpsError(f"{what}: {error}") from None
