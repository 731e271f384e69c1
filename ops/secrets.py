"""``ops secrets set NAME --env ENV``: write an operator-held secret from stdin into its SSM parameter."""

from __future__ import annotations

import getpass
import sys
from typing import TextIO

from core import app_contract as app
from ops.common import InputError, Report, aws_call, client, load_config

# The operator-held backend secrets (parameters under /viberglass/<env>/backend/; the backend reads them at
# start). Generated keys (WEBHOOK_SECRET_ENCRYPTION_KEY, ...) are not here: replacing one would make what
# the application encrypted with it unreadable.
BACKEND = {s.parameter for s in app.BACKEND_SECRETS if s.origin == "operator"}
GITHUB_TOKEN = "github-token"  # noqa: S105 (a name, not a value)


def parameter_name(env: str, name: str) -> tuple[str, bool]:
    """(SSM name, whether the backend must restart to see it) for an allowed secret name."""
    if name in BACKEND:
        return f"/viberglass/{env}/backend/{name}", True
    if name == GITHUB_TOKEN:
        return load_config(env).frontend.github_token_parameter, False
    allowed = ", ".join(sorted([*BACKEND, GITHUB_TOKEN]))
    raise InputError(f"{name!r} is not a secret the stacks define; use one of: {allowed}")


def read_value(stdin: TextIO) -> str:
    """The secret from stdin (a prompt without echo on a terminal); one trailing newline is dropped."""
    value = getpass.getpass("value (not echoed): ") if stdin.isatty() else stdin.read()
    value = value[:-1] if value.endswith("\n") else value
    if not value.strip():
        raise InputError("no value on stdin; pipe it in, e.g. `pbpaste | python -m ops secrets set ...`")
    return value


def set_secret(env: str, name: str, *, stdin: TextIO | None = None, report: Report | None = None) -> str:
    report = report or Report()
    parameter, restart = parameter_name(env, name)
    value = read_value(stdin or sys.stdin)
    cfg = load_config(env)
    key = f"alias/viberglass-{env}-ssm"
    if aws_call(f"kms DescribeKey {key}", lambda: client("kms", cfg.aws.region).describe_key(KeyId=key),
                missing={"NotFoundException"}) is None:  # fmt: skip
        raise InputError(
            f"{key} does not exist yet: the base stack creates it; deploy base first "
            f"(`VIBERGLASS_ENV={env} cdktf deploy base`), then set the secret"
        )
    ssm = client("ssm", cfg.aws.region)
    if restart:
        # The platform stack creates these parameters; a value written before it would make its create fail.
        found = aws_call(
            f"ssm DescribeParameters {parameter}",
            lambda: ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [parameter]}])["Parameters"],
        )
        if not found:
            raise InputError(
                f"{parameter} does not exist yet: the platform stack creates it; deploy platform first "
                f"(`VIBERGLASS_ENV={env} cdktf deploy base workers platform`), then set the secret"
            )
    aws_call(
        f"ssm PutParameter {parameter}",
        lambda: ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", KeyId=key, Overwrite=True),
    )
    report.section(f"Stored {parameter} (SecureString, {key}); the value was not printed.")
    if restart:
        report.info(
            "The backend reads it at start: restart it with "
            f"`python -m ops restart backend --env {env}` (a new deployment of the same revision)."
        )
    return parameter
