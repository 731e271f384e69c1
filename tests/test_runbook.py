"""docs/operations.md only mentions commands that exist, with flags they accept."""

from __future__ import annotations

import io
import re
import shlex

import pytest

from ops.__main__ import build_parser
from tests.conftest import ROOT, Stacks
from tests.tf import items, one

RUNBOOK = (ROOT / "docs" / "operations.md").read_text()
COMMANDS = sorted({m.strip().rstrip("`") for m in re.findall(r"python -m ops ([^`\n|]+)", RUNBOOK)})


def test_the_runbook_mentions_the_commands() -> None:
    verbs = {c.split()[0] for c in COMMANDS}
    assert verbs >= {"bootstrap-state", "bootstrap-github-oidc", "secrets", "deploy", "rollback", "restart", "smoke"}


@pytest.mark.parametrize("command", COMMANDS)
def test_every_runbook_command_parses(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = [a if not a.startswith("<") else "x" for a in shlex.split(command)]
    if args[-1] == "--help":
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args(args)
        assert exit_info.value.code == 0 and "example:" in capsys.readouterr().out
        return
    parsed = build_parser().parse_args(args)
    assert callable(parsed.handler)


def test_every_make_target_in_the_docs_exists() -> None:
    makefile = (ROOT / "Makefile").read_text()
    docs = RUNBOOK + (ROOT / "README.md").read_text()
    for target in set(re.findall(r"\bmake ([a-z][a-z-]*)", docs)):
        assert re.search(rf"^{target}:", makefile, re.M), target


# -- a fresh account, in the order docs/operations.md gives ------------------------------------------------------

FRESH = RUNBOOK.split("## A fresh environment, step by step", 1)[1].split("\n## ", 1)[0]


def _position(text: str) -> int:
    assert text in FRESH, f"the fresh-environment steps no longer mention {text!r}"
    return FRESH.index(text)


def test_the_fresh_environment_steps_are_in_dependency_order() -> None:
    """base creates the KMS alias `ops secrets set` encrypts with; the platform plan reads the GitHub token
    parameter; the platform stack creates the backend's secret parameters; the backend runs worker images."""
    order = [
        "ops bootstrap-state --env dev",
        "ops bootstrap-github-oidc --env dev",
        "cdktf deploy base",
        "ops secrets set github-token --env dev",
        "cdktf deploy base workers platform",
        "ops secrets set slackSigningSecret --env dev",
        "ops deploy workers --env dev",
    ]
    positions = [_position(step) for step in order]
    assert positions == sorted(positions)
    readme = (ROOT / "README.md").read_text()
    assert (
        readme.index("cdktf deploy base\n")
        < readme.index("ops secrets set github-token")
        < readme.index("cdktf deploy base workers platform")
    )


@pytest.mark.managed_policies
def test_a_fresh_account_in_runbook_order(aws: str, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, dev: Stacks) -> None:  # fmt: skip
    """The AWS-touching steps on the moto server, in the documented order. Terraform cannot run here: the
    two `cdktf deploy` steps are stand-ins that create, with boto3, exactly the resources of the synthesized
    stacks the later steps need (the KMS alias of base; the Slack parameter of platform), by the names the
    synthesized JSON gives them."""
    import boto3

    from ops.__main__ import main

    def ops(*argv: str, stdin: str | None = None) -> tuple[int, str]:
        if stdin is not None:
            monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        status = main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out + captured.err

    assert ops("bootstrap-state", "--env", "dev")[0] == 0
    assert ops("bootstrap-github-oidc", "--env", "dev")[0] == 0
    # Before base: the secret has no key to be encrypted with, and the command says what to do.
    status, output = ops("secrets", "set", "github-token", "--env", "dev", stdin="token\n")
    assert status == 2 and "deploy base first" in output

    # Stand-in for `cdktf deploy base`: the environment key and its alias, as synthesized.
    alias = one(dev["base"], "aws_kms_alias")["name"]
    kms = boto3.client("kms", region_name="eu-west-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=alias, TargetKeyId=key_id)

    (token,) = [body for _, body in items(dev["platform"], "aws_ssm_parameter", data=True)]
    token_name = token["name"]  # what the platform plan reads
    status, output = ops("secrets", "set", "github-token", "--env", "dev", stdin="gh-test-value\n")
    assert status == 0 and "gh-test-value" not in output
    ssm = boto3.client("ssm", region_name="eu-west-1")
    stored = ssm.get_parameter(Name=token_name, WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", "gh-test-value")

    # Slack secrets are platform's parameters: before platform the command refuses to create them.
    status, output = ops("secrets", "set", "slackSigningSecret", "--env", "dev", stdin="s3cr3t\n")
    assert status == 2 and "deploy platform first" in output

    # Stand-in for `cdktf deploy base workers platform`: the Slack parameter, as synthesized.
    slack = one(dev["platform"], "aws_ssm_parameter", name="/viberglass/dev/backend/slackSigningSecret")
    ssm.put_parameter(Name=slack["name"], Value=slack["value"], Type="SecureString", KeyId=alias)
    status, output = ops("secrets", "set", "slackSigningSecret", "--env", "dev", stdin="s3cr3t\n")
    assert status == 0 and "restart backend --env dev" in output
    assert ssm.get_parameter(Name=slack["name"], WithDecryption=True)["Parameter"]["Value"] == "s3cr3t"
