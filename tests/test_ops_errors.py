"""``python -m ops``: bad input is status 2, a failure while working status 1, each exactly one ``error:``
line on stderr without a traceback; nothing is read from or changed in AWS before the input is accepted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from ops import discovery
from ops.__main__ import main
from ops.errors import InputError, OpsError, from_aws
from tests.conftest import ROOT, without_credentials

# (case, argv, start of the one line) -- each refused while the arguments are parsed.
BAD_ARGUMENTS = [
    ("unknown-command", ["deploy-everything"], "error: argument COMMAND: invalid choice: 'deploy-everything'"),
    ("missing-env", ["smoke"], "error: the following arguments are required: --env"),
    ("empty-env", ["smoke", "--env", ""], "error: argument --env: is empty"),
    ("env-with-a-path", ["smoke", "--env", "../prod"], "error: argument --env: '../prod' is not an environment"),
    ("env-upper-case", ["registry-login", "--env", "Prod"], "error: argument --env: 'Prod' is not an environment"),
    ("timeout-nan", ["smoke", "--env", "dev", "--timeout", "nan"], "error: argument --timeout: 'nan'"),
    ("timeout-negative", ["smoke", "--env", "dev", "--timeout", "-5"], "error: argument --timeout: '-5'"),
    ("interval-zero", ["restart", "backend", "--env", "dev", "--interval", "0"], "error: argument --interval: '0'"),
    ("revision-zero", ["rollback", "backend", "--env", "dev", "--to-revision", "0"], "error: argument --to-revision"),
    (
        "noncurrent-days-negative",
        ["bootstrap-state", "--env", "dev", "--noncurrent-days", "-1"],
        "error: argument --noncurrent-days: '-1'",
    ),
    (
        "noncurrent-days-in-arabic-digits",
        ["bootstrap-state", "--env", "dev", "--noncurrent-days", "٩٠"],
        "error: argument --noncurrent-days: '٩٠'",
    ),
    ("discover-unknown-name", ["discover", "--env", "dev", "ecs/nope"], "error: argument names: 'ecs/nope' is not a"),
    ("commit-not-hex", ["deploy", "frontend", "--env", "dev", "--commit", "main"], "error: argument --commit: 'main'"),
    (
        "url-without-scheme",
        ["smoke", "--env", "dev", "--frontend-url", "example.com"],
        "error: argument --frontend-url",
    ),
    (
        "subject-with-wildcard",
        ["bootstrap-github-oidc", "--env", "dev", "--subject-prefix", "repo:org/*"],
        "error: argument --subject-prefix: 'repo:org/*'",
    ),
]


@pytest.mark.parametrize(("case", "argv", "line"), BAD_ARGUMENTS, ids=[c[0] for c in BAD_ARGUMENTS])
def test_bad_arguments_are_one_line_and_status_2(
    case: str, argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1, captured.err
    assert captured.err.startswith(line), captured.err
    assert "--help`" in captured.err  # where to read more


def test_building_workers_needs_an_existing_context(capsys: pytest.CaptureFixture[str]) -> None:
    """Checked before any AWS call; ``--plan`` may name a folder of another machine."""
    assert main(["deploy", "workers", "--env", "dev", "--tag", "dev-abc1234", "--context", "/no/such/folder"]) == 2
    assert capsys.readouterr().err == (
        "error: --context '/no/such/folder' is not a folder; give the application repository root\n"
    )


def test_empty_env_creates_no_roles(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    """``bootstrap-github-oidc --env ''`` once created viberglass--github-apply from dev's settings."""
    with pytest.raises(SystemExit) as exit_info:
        main(["bootstrap-github-oidc", "--env", ""])
    assert exit_info.value.code == 2
    assert boto3.client("iam").list_roles()["Roles"] == []
    capsys.readouterr()


def test_unknown_environment_is_bad_input_naming_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["discover", "--env", "staging", "ecs/cluster"]) == 2
    assert capsys.readouterr().err.startswith("error: --env: unknown environment 'staging'; use one of: dev, prod")


def test_discover_refuses_unknown_names_before_reading_anything() -> None:
    """The function the workflows' `ops discover` runs: an unknown name is input, not a crash."""
    with pytest.raises(InputError, match=r"'ecs/nope': not discovery parameters; use one of: "):
        discovery.read("dev", "ecs/cluster", "ecs/nope")


def test_missing_credentials_are_bad_input(
    aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    without_credentials(monkeypatch, tmp_path)
    assert main(["discover", "--env", "dev", "ecs/cluster"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ssm GetParameters: no usable AWS credentials")
    assert len(err.splitlines()) == 1


def test_unknown_profile_is_bad_input(
    aws: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """botocore raises ProfileNotFound while the client is made, outside any wrapped call."""
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    assert main(["registry-login", "--env", "dev"]) == 2
    err = capsys.readouterr().err
    assert "no usable AWS credentials (The config profile (no-such-profile) could not be found)" in err
    assert len(err.splitlines()) == 1


def test_refused_credentials_are_bad_input_and_other_aws_errors_a_failure() -> None:
    from botocore.exceptions import ClientError, EndpointConnectionError

    expired = ClientError({"Error": {"Code": "ExpiredToken", "Message": "The security token expired"}}, "GetParameters")
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "GetParameters")
    offline = EndpointConnectionError(endpoint_url="https://ssm.eu-west-1.amazonaws.com/")
    assert (type(from_aws(expired)), type(from_aws(throttled)), type(from_aws(offline))) == (
        InputError,
        OpsError,
        OpsError,
    )
    assert from_aws(ValueError("not botocore")) is None


def test_an_unexpected_error_is_one_line_status_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug in a command (here a stand-in handler that raises) is not a traceback: one line, status 1."""

    def broken(*_args: object) -> object:
        raise KeyError("ecs/cluster")

    monkeypatch.setattr(discovery, "read", broken)
    monkeypatch.delenv("VIBERGLASS_TRACEBACK", raising=False)
    assert main(["discover", "--env", "dev", "ecs/cluster"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: KeyError: 'ecs/cluster' (an unexpected error; set VIBERGLASS_TRACEBACK=1")
    assert len(err.splitlines()) == 1


def test_tracebacks_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> object:
        raise KeyError("ecs/cluster")

    monkeypatch.setattr(discovery, "read", broken)
    monkeypatch.setenv("VIBERGLASS_TRACEBACK", "1")
    with pytest.raises(KeyError):
        main(["discover", "--env", "dev", "ecs/cluster"])


PROCESS_CASES = [
    (["discover", "--env", "dev", "ecs/nope"], "error: argument names: 'ecs/nope'"),
    (["bootstrap-github-oidc", "--env", ""], "error: argument --env: is empty"),
    (["discover", "--env", "dev", "ecs/cluster"], "error: ssm GetParameters: no usable AWS credentials"),
]


@pytest.mark.parametrize(("argv", "line"), PROCESS_CASES, ids=["unknown-name", "empty-env", "no-credentials"])
def test_python_m_ops_process(argv: list[str], line: str, tmp_path: Path) -> None:
    """The real entry point: status 2, one line, no traceback (credentials removed from its environment)."""
    drop = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "VIBERGLASS_ENV"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_ENDPOINT_URL="http://127.0.0.1:9",  # never reached: no credentials, so nothing is sent
    )
    result = subprocess.run(
        [sys.executable, "-m", "ops", *argv], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(line), result.stderr
