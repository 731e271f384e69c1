"""The backend's SSM secrets, kept out of Terraform: ``ops secrets init`` creates them, ``ops secrets set``
replaces an operator-held one with a value from stdin.

They are SecureStrings under ``/viberglass/<env>/backend/`` encrypted with the environment key
(``alias/viberglass-<env>-ssm``, from the base stack); the backend's task definition names them by ARN.
They are not Terraform resources: the AWS provider reads a SecureString resource with decryption on every
refresh, so a Terraform-managed one would have to be readable by whoever plans (any pull request of this
repository) and, unless write-only, would sit in plans and state (docs/security.md).
"""

from __future__ import annotations

import getpass
import secrets as random
import string
import sys
from functools import partial
from typing import Any, TextIO

from core import app_contract as app
from ops.common import InputError, Report, aws_call, client, load_config

# parameter name under /viberglass/<env>/backend/ -> the contract's secret (not the RDS-managed password).
PARAMETERS = {s.parameter: s for s in app.BACKEND_SECRETS if s.origin != "database"}
# What an operator may set. Generated keys (WEBHOOK_SECRET_ENCRYPTION_KEY, ...) are not here: replacing one
# would make what the application encrypted with it unreadable.
BACKEND = {name for name, s in PARAMETERS.items() if s.origin == "operator"}
GENERATED_KEY_LENGTH = 64  # letters and digits: ~380 bits for a key the application hashes with SHA-256
_ALPHABET = string.ascii_letters + string.digits


def parameter_path(env: str, name: str) -> str:
    return f"/viberglass/{env}/backend/{name}"


def parameter_name(env: str, name: str) -> str:
    """The SSM name of an operator-held secret."""
    if name in BACKEND:
        return parameter_path(env, name)
    if name == "github-token":
        raise InputError(
            "the GitHub token is no longer stored: connect the Amplify app once with "
            f"`viberglass-ops connect frontend --env {env}` (it reads the token from stdin)"
        )
    raise InputError(f"{name!r} is not a secret the stacks define; use one of: {', '.join(sorted(BACKEND))}")


def read_value(stdin: TextIO) -> str:
    """The secret from stdin (a prompt without echo on a terminal); one trailing newline is dropped."""
    value = getpass.getpass("value (not echoed): ") if stdin.isatty() else stdin.read()
    value = value[:-1] if value.endswith("\n") else value
    if not value.strip():
        raise InputError("no value on stdin; pipe it in, e.g. `pbpaste | viberglass-ops secrets set ...`")
    return value


def generated_key() -> str:
    return "".join(random.choice(_ALPHABET) for _ in range(GENERATED_KEY_LENGTH))


def _key_alias(env: str, region: str) -> str:
    """The environment key's alias; refused before the base stack created it."""
    key = f"alias/viberglass-{env}-ssm"
    if aws_call(f"kms DescribeKey {key}", lambda: client("kms", region).describe_key(KeyId=key),
                missing={"NotFoundException"}) is None:  # fmt: skip
        raise InputError(
            f"{key} does not exist yet: the base stack creates it; deploy base first "
            f"(`VIBERGLASS_ENV={env} cdktf deploy base`), then run this again"
        )
    return key


def _existing(ssm: Any, names: list[str]) -> set[str]:
    found: set[str] = set()
    paginator = ssm.get_paginator("describe_parameters")
    filters = [{"Key": "Name", "Option": "Equals", "Values": names}]
    for page in aws_call("ssm DescribeParameters", lambda: list(paginator.paginate(ParameterFilters=filters))):
        found.update(p["Name"] for p in page.get("Parameters", []))
    return found


def _create(ssm: Any, path: str, value: str, key: str) -> None:
    aws_call(
        f"ssm PutParameter {path}",
        lambda: ssm.put_parameter(Name=path, Value=value, Type="SecureString", KeyId=key, Overwrite=False),
    )


def init(env: str, *, dry_run: bool, report: Report | None = None) -> Report:
    """Create every missing backend secret: generated keys with a random value, operator-held ones with the
    contract's placeholder (the application keeps Slack off while it reads ``not-configured``). Existing
    parameters are never read or changed. Values are never printed."""
    report = report or Report(dry_run=dry_run)
    cfg = load_config(env)
    key = _key_alias(env, cfg.aws.region)
    ssm = client("ssm", cfg.aws.region)
    names = {parameter_path(env, name): secret for name, secret in PARAMETERS.items()}
    existing = _existing(ssm, sorted(names))
    report.section(f"Backend secrets of {env} (SecureStrings with {key})")
    for path, secret in names.items():
        if path in existing:
            report.ok(f"{path} exists (not read)")
            continue
        generated = secret.origin == "generated"
        value = generated_key() if generated else secret.initial
        what = "a generated key (value not shown)" if generated else f"{secret.initial!r} until an operator sets it"
        report.change(f"create {path}: {what}", partial(_create, ssm, path, value, key))
    report.summary()
    return report


def set_secret(env: str, name: str, *, stdin: TextIO | None = None, report: Report | None = None) -> str:
    report = report or Report()
    parameter = parameter_name(env, name)
    value = read_value(stdin or sys.stdin)
    cfg = load_config(env)
    key = _key_alias(env, cfg.aws.region)
    ssm = client("ssm", cfg.aws.region)
    aws_call(
        f"ssm PutParameter {parameter}",
        lambda: ssm.put_parameter(Name=parameter, Value=value, Type="SecureString", KeyId=key, Overwrite=True),
    )
    report.section(f"Stored {parameter} (SecureString, {key}); the value was not printed.")
    report.info(
        "The backend reads it at start: restart it with "
        f"`viberglass-ops restart backend --env {env}` (a new deployment of the same revision)."
    )
    return parameter
