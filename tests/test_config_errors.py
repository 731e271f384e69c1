"""Bad configuration: each gives exit status 2, one line naming the file, the key path and the fix, no
traceback, and nothing written to cdktf.out (SPEC §3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import main
from config.defaults import merge
from tests.conftest import ROOT, raw_config

# Credential-shaped values are assembled at run time, so no secret scanner mistakes this file for a leak.
FAKE_GITHUB_TOKEN = "ghp" + "_" + "x1" * 18
FAKE_AWS_KEY_ID = "AKIA" + "TESTONLY" * 2

# (case id, environment, change to the shipped file (dict merged over it, or raw text), key in message)
CASES: list[tuple[str, str, dict[str, Any] | str, str]] = [
    ("unknown-top-level-key", "dev", {"netwrok": {"mode": "standard"}}, "netwrok"),
    ("unknown-nested-key", "dev", {"backend": {"cpus": 256}}, "backend.cpus"),
    ("wrong-type", "dev", {"backend": {"cpu": "256"}}, "backend.cpu"),
    ("bad-cidr", "dev", {"network": {"vpc_cidr": "10.0.0.0/33"}}, "network.vpc_cidr"),
    ("cidr-host-bits", "dev", {"network": {"vpc_cidr": "10.0.0.1/16"}}, "network.vpc_cidr"),
    (
        "subnet-outside-vpc",
        "dev",
        {"network": {"public_subnets": ["10.0.1.0/24", "10.9.2.0/24"]}},
        "network.public_subnets[1]",
    ),
    (
        "overlapping-subnets",
        "dev",
        {"network": {"private_subnets": ["10.0.10.0/24", "10.0.1.0/25"]}},
        "network.private_subnets[1]",
    ),
    (
        "subnet-count-vs-zones",
        "dev",
        {"network": {"public_subnets": ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]}},
        "network.public_subnets",
    ),
    (
        "zone-of-another-region",
        "dev",
        {"aws": {"availability_zones": ["eu-west-1a", "us-east-1b"]}},
        "aws.availability_zones",
    ),
    ("retention-cloudwatch-rejects", "dev", {"logs": {"retention_days": 10}}, "logs.retention_days"),
    ("unknown-network-mode", "dev", {"network": {"mode": "hybrid"}}, "network.mode"),
    ("worker-image-prefix-not-an-ecr-path", "dev", {"workers": {"image_prefix": "Dev/"}}, "workers.image_prefix"),
    ("shared-repositories-are-gone", "prod", {"workers": {"owns_repositories": False}}, "workers.owns_repositories"),
    (
        "literal-secret",
        "dev",
        {"frontend": {"github_token": FAKE_GITHUB_TOKEN}},
        "frontend.github_token",
    ),
    ("secret-shaped-value", "dev", {"domains": {"api_domain": FAKE_AWS_KEY_ID}}, "domains.api_domain"),
    ("s3-backend-without-settings", "dev", {"state": {"s3": None}}, "state.s3"),
    ("s3-backend-without-locking", "dev", {"state": {"s3": {"dynamodb_table": None}}}, "state.s3.dynamodb_table"),
    ("cloud-backend-without-settings", "dev", {"state": {"backend": "cloud"}}, "state.cloud"),
    ("incomplete-s3-settings", "dev", {"state": {"s3": {"bucket": None}}}, "state.s3.bucket"),
    (
        "prod-without-deletion-protection",
        "prod",
        {"database": {"deletion_protection": False}},
        "database.deletion_protection",
    ),
    ("prod-without-api-domain", "prod", {"domains": {"api_domain": None}}, "domains.api_domain"),
    ("prod-without-final-snapshot", "prod", {"database": {"final_snapshot": False}}, "database.final_snapshot"),
    ("api-domain-without-zone", "dev", {"domains": {"api_domain": "api.example.com"}}, "domains.route53_zone_id"),
    ("fargate-pair-rejected", "dev", {"backend": {"cpu": 256, "memory": 4096}}, "backend.memory"),
    ("fargate-cpu-rejected", "dev", {"workers": {"cpu": 3000}}, "workers.cpu"),
    ("min-above-desired", "dev", {"backend": {"min_count": 2, "desired_count": 1}}, "backend.min_count"),
    ("desired-above-max", "dev", {"backend": {"desired_count": 4, "max_count": 3}}, "backend.desired_count"),
    (
        "max-storage-below-allocated",
        "dev",
        {"database": {"max_allocated_storage": 10}},
        "database.max_allocated_storage",
    ),
    ("name-not-matching-file", "dev", {"name": "prod"}, "name"),
    ("invalid-yaml", "dev", "network: [unclosed\n", "line"),
    ("duplicate-key", "dev", "logs:\n  retention_days: 7\nlogs:\n  retention_days: 14\n", "line 3"),
]


def _write(directory: Path, env: str, change: dict[str, Any] | str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for shipped in ("dev", "prod"):
        (directory / f"{shipped}.yaml").write_text(yaml.safe_dump(raw_config(shipped)))
    path = directory / f"{env}.yaml"
    text = change if isinstance(change, str) else yaml.safe_dump(merge(raw_config(env), change))
    path.write_text(text)
    return path


def _run_main(
    tmp_path: Path, env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("VIBERGLASS_ENV", env)
    monkeypatch.chdir(tmp_path)
    status = main.main()
    captured = capsys.readouterr()
    return status, captured.out + captured.err


@pytest.mark.parametrize(("case", "env", "change", "key"), CASES, ids=[c[0] for c in CASES])
def test_bad_configuration_gives_one_clear_line(
    case: str,
    env: str,
    change: dict[str, Any] | str,
    key: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _write(tmp_path / "config", env, change)
    status, output = _run_main(tmp_path, env, monkeypatch, capsys)
    lines = output.splitlines()
    assert status == 2
    assert len(lines) == 1, output
    assert lines[0].startswith(f"error: config/{env}.yaml: {key}"), lines[0]
    assert "; " in lines[0]  # problem; fix
    assert not (tmp_path / "cdktf.out").exists()


def test_secret_value_is_never_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = FAKE_GITHUB_TOKEN
    _write(tmp_path / "config", "dev", {"frontend": {"github_token": secret}})
    _, output = _run_main(tmp_path, "dev", monkeypatch, capsys)
    assert secret not in output and "secret" in output


def test_unknown_environment_lists_the_known_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "config", "dev", {})
    status, output = _run_main(tmp_path, "staging", monkeypatch, capsys)
    assert status == 2
    assert output.strip() == (
        "error: VIBERGLASS_ENV: unknown environment 'staging'; use one of: dev, prod (files in config)"
    )
    assert not (tmp_path / "cdktf.out").exists()


def test_unknown_key_names_the_keys_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "config", "dev", {"logs": {"retention": 7}})
    _, output = _run_main(tmp_path, "dev", monkeypatch, capsys)
    assert "known keys here: retention_days" in output


def test_retention_error_suggests_the_nearest_accepted_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path / "config", "dev", {"logs": {"retention_days": 10}})
    _, output = _run_main(tmp_path, "dev", monkeypatch, capsys)
    assert "use 7 " in output or "use 14 " in output


def test_process_exits_2_without_traceback(tmp_path: Path) -> None:
    """The same through a real process, as `cdktf synth` runs it."""
    _write(tmp_path / "config", "dev", {"logs": {"retention_days": 10}})
    env = {**os.environ, "VIBERGLASS_CONFIG_DIR": str(tmp_path / "config"), "VIBERGLASS_ENV": "dev"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "cdktf.out").exists()
