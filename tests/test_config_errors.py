"""Bad configuration: each case gives exit status 2, exactly one ``error:`` line naming the file (or the
setting that chose it), the key path and the fix, no traceback, and nothing in cdktf.out.

The named cases run in-process through ``main.main`` (what ``cdktf synth`` runs); a handful also run as
real processes through ``python main.py`` and ``make synth``, which share the same code path.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
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

Change = dict[str, Any] | str | bytes | Callable[[dict[str, Any]], dict[str, Any]] | None


def _without(*path: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def edit(data: dict[str, Any]) -> dict[str, Any]:
        node = data
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
        return data

    return edit


def _alias_bomb() -> str:
    """A "billion laughs": 9 levels of nine aliases each expand to 9**9 (387 million) strings."""
    lines = ["tier: development", 'l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Case:
    """One broken input. ``line`` is the start of the message after ``error: ``; ``{file}`` stands for the
    environment's file as the process shows it."""

    id: str
    env: str
    change: Change
    line: str
    base: str = ""  # the shipped file the broken one starts from (default: env)
    setup: Callable[[Path], dict[str, str]] | None = field(default=None)  # extra environment variables


def _empty_env(_: Path) -> dict[str, str]:
    return {"VIBERGLASS_ENV": ""}


def _missing_folder(tmp: Path) -> dict[str, str]:
    return {"VIBERGLASS_CONFIG_DIR": str(tmp / "no-such-config")}


def _file_is_a_folder(tmp: Path) -> dict[str, str]:
    (tmp / "config" / "dev.yaml").unlink()
    (tmp / "config" / "dev.yaml").mkdir()
    return {}


# Every case the issue lists (silently accepted, tracebacks, slow, misleading, exit codes).
ISSUE_CASES: list[Case] = [
    Case(
        "region-that-does-not-exist", "dev", {"aws": {"region": "zz-nowhere-9"}}, "{file}: aws.region: 'zz-nowhere-9'"
    ),
    Case("state-region-banana", "dev", {"state": {"s3": {"region": "banana"}}}, "{file}: state.s3.region: 'banana'"),
    Case(
        "lock-table-with-space-and-bang",
        "dev",
        {"state": {"s3": {"dynamodb_table": "my locks!"}}},
        "{file}: state.s3.dynamodb_table: 'my locks!'",
    ),
    Case(
        "account-id-in-arabic-indic-digits",
        "dev",
        {"aws": {"account_id": "١٢٣٤٥٦٧٨٩٠١٢"}},
        "{file}: aws.account_id: '١٢٣٤٥٦٧٨٩٠١٢' is not an AWS account id",
    ),
    Case(
        "engine-version-in-arabic-indic-digits",
        "dev",
        {"database": {"engine_version": "١٦"}},
        "{file}: database.engine_version: '١٦' is not a PostgreSQL version",
    ),
    Case("max-count-10-to-the-30", "dev", {"backend": {"max_count": 10**30}}, "{file}: backend.max_count: "),
    Case(
        "desired-count-100000",
        "dev",
        {"backend": {"desired_count": 100000, "max_count": 100000}},
        "{file}: backend.desired_count: 100000 is above the maximum 5000",
    ),
    Case(
        "slash-30-subnets",
        "dev",
        {"network": {"public_subnets": ["10.0.1.0/30", "10.0.2.0/30"]}},
        "{file}: network.public_subnets[0]: 10.0.1.0/30 is a /30",
    ),
    Case("empty-branch", "dev", {"frontend": {"branch": ""}}, "{file}: frontend.branch: '' is not a git branch name"),
    Case(
        "branch-of-100000-characters",
        "dev",
        {"frontend": {"branch": "b" * 100_000}},
        "{file}: frontend.branch: 'bbb",
    ),
    Case("star-branch", "dev", {"frontend": {"branch": "*"}}, "{file}: frontend.branch: '*' is not a git branch name"),
    Case(
        "key-prefix-climbing-out",
        "dev",
        {"state": {"s3": {"key_prefix": "../x"}}},
        "{file}: state.s3.key_prefix: '../x' has a '..' segment",
    ),
    Case("viberglass-env-empty", "", None, "VIBERGLASS_ENV: is set but empty", base="dev", setup=_empty_env),
    Case("prod-single-az-database", "prod", {"database": {"multi_az": False}}, "{file}: database.multi_az: false"),
    Case(
        "prod-without-flow-logs-and-one-nat",
        "prod",
        {"network": {"flow_logs": False, "single_nat_gateway": True}},
        "{file}: network.flow_logs: false",
    ),
    Case(
        "prod-with-one-nat-gateway",
        "prod",
        {"network": {"single_nat_gateway": True}},
        "{file}: network.single_nat_gateway: true",
    ),
    Case(
        "prod-without-uploads-versioning",
        "prod",
        {"uploads": {"versioning": False}},
        "{file}: uploads.versioning: false",
    ),
    Case(
        "prod-with-one-day-of-backups",
        "prod",
        {"database": {"backup_retention_days": 1}},
        "{file}: database.backup_retention_days: 1 days are too few",
    ),
    Case(
        "prod-yaml-as-development-without-protections",
        "prod",
        {
            "tier": "development",
            "database": {"deletion_protection": False, "final_snapshot": False, "multi_az": False},
        },
        "{file}: tier: is development but the environment is named 'prod'",
    ),
    Case(
        "prod-eu-copy-declared-development",
        "prod-eu",
        {"tier": "development"},
        "{file}: tier: is development but the environment is named 'prod-eu'",
        base="prod",
    ),
    Case("prod-eu-copy-without-tier", "prod-eu", _without("tier"), "{file}: tier: is missing", base="prod"),
    Case("non-utf8-bytes", "dev", b"tier: development\naws:\n  region: eu-west-1\xff\n", "{file}: line 3: byte 0xff"),
    Case(
        "deeply-nested-yaml",
        "dev",
        "tier: development\nnetwork: " + "[" * 5000 + "]" * 5000 + "\n",
        "{file}: line 2: values are nested more than 20 levels deep",
    ),
    Case(
        # The catalog is the application's (core/app_contract.py), not a setting: nothing to leave out.
        "worker-catalog-without-multi-agent",
        "dev",
        {"workers": {"images": {"lambda": {"repository": "viberator-lambda-worker", "kind": "lambda"}}}},
        "{file}: workers.images: unknown key",
    ),
    Case("alias-bomb", "dev", _alias_bomb(), "{file}: l4: expands to more than 10,000 values"),
    Case("config-folder-missing", "dev", {}, "VIBERGLASS_CONFIG_DIR: ", setup=_missing_folder),
    Case("env-file-is-a-folder", "dev", {}, "{file} is a folder, not a file", setup=_file_is_a_folder),
]

# Earlier cases, kept: every one must keep failing the same way.
CASES: list[Case] = [
    Case("unknown-top-level-key", "dev", {"netwrok": {"mode": "standard"}}, "{file}: netwrok: unknown key"),
    Case("unknown-nested-key", "dev", {"backend": {"cpus": 256}}, "{file}: backend.cpus: unknown key"),
    Case("wrong-type", "dev", {"backend": {"cpu": "256"}}, "{file}: backend.cpu: is '256' (text), not a whole number"),
    Case("bad-cidr", "dev", {"network": {"vpc_cidr": "10.0.0.0/33"}}, "{file}: network.vpc_cidr: '10.0.0.0/33'"),
    Case("cidr-host-bits", "dev", {"network": {"vpc_cidr": "10.0.0.1/16"}}, "{file}: network.vpc_cidr: 10.0.0.1/16"),
    Case(
        "subnet-outside-vpc",
        "dev",
        {"network": {"public_subnets": ["10.0.1.0/24", "10.9.2.0/24"]}},
        "{file}: network.public_subnets[1]: 10.9.2.0/24 is outside",
    ),
    Case(
        "overlapping-subnets",
        "dev",
        {"network": {"private_subnets": ["10.0.10.0/24", "10.0.1.0/25"]}},
        "{file}: network.private_subnets[1]: 10.0.1.0/25 overlaps",
    ),
    Case(
        "subnet-count-vs-zones",
        "dev",
        {"network": {"public_subnets": ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]}},
        "{file}: network.public_subnets: 3 subnets for 2 availability zones",
    ),
    Case(
        "zone-of-another-region",
        "dev",
        {"aws": {"availability_zones": ["eu-west-1a", "us-east-1b"]}},
        "{file}: aws.availability_zones: 'us-east-1b' is not a zone of eu-west-1",
    ),
    Case(
        "one-zone-only",
        "dev",
        {"aws": {"availability_zones": ["eu-west-1a"]}},
        "{file}: aws.availability_zones: lists 1 zone(s)",
    ),
    Case(
        "public-subnet-too-small-for-the-alb",
        "dev",
        {"network": {"public_subnets": ["10.0.1.0/28", "10.0.2.0/28"]}},
        "{file}: network.public_subnets[0]: 10.0.1.0/28 is too small for the load balancer",
    ),
    Case(
        "private-subnets-too-small-for-max-count",
        "dev",
        {"network": {"private_subnets": ["10.0.10.0/28", "10.0.11.0/28"]}, "backend": {"max_count": 20}},
        "{file}: network.private_subnets[0]: 10.0.10.0/28 has 11 usable addresses",
    ),
    Case("retention-cloudwatch-rejects", "dev", {"logs": {"retention_days": 10}}, "{file}: logs.retention_days: 10"),
    Case(
        "unknown-network-mode", "dev", {"network": {"mode": "hybrid"}}, "{file}: network.mode: 'hybrid' is not one of"
    ),
    Case(
        "worker-image-prefix-not-an-ecr-path",
        "dev",
        {"workers": {"image_prefix": "Dev/"}},
        "{file}: workers.image_prefix: 'Dev/' is not an ECR repository name",
    ),
    Case(
        "shared-repositories-are-gone",
        "prod",
        {"workers": {"owns_repositories": False}},
        "{file}: workers.owns_repositories: unknown key",
    ),
    Case(
        "literal-secret",
        "dev",
        {"frontend": {"github_token": FAKE_GITHUB_TOKEN}},
        "{file}: frontend.github_token: looks like a literal secret",
    ),
    Case(
        "secret-shaped-value",
        "dev",
        {"domains": {"api_domain": FAKE_AWS_KEY_ID}},
        "{file}: domains.api_domain: looks like a literal secret",
    ),
    Case("s3-backend-without-settings", "dev", {"state": {"s3": None}}, "{file}: state.s3: backend is s3"),
    Case(
        "s3-backend-without-locking",
        "dev",
        {"state": {"s3": {"dynamodb_table": None}}},
        "{file}: state.s3.dynamodb_table: the s3 backend has no locking",
    ),
    Case("cloud-backend-without-settings", "dev", {"state": {"backend": "cloud"}}, "{file}: state.cloud: "),
    Case("incomplete-s3-settings", "dev", {"state": {"s3": {"bucket": None}}}, "{file}: state.s3.bucket: is empty"),
    Case(
        "prod-without-deletion-protection",
        "prod",
        {"database": {"deletion_protection": False}},
        "{file}: database.deletion_protection: false",
    ),
    Case(
        "prod-without-deploy-workflow-ref",
        "prod",
        {"github": {"app_deploy_workflow_ref": None}},
        "{file}: github.app_deploy_workflow_ref: null is not allowed in a production environment (any job in the",
    ),
    Case("prod-without-api-domain", "prod", {"domains": {"api_domain": None}}, "{file}: domains.api_domain: null"),
    Case(
        "prod-without-final-snapshot",
        "prod",
        {"database": {"final_snapshot": False}},
        "{file}: database.final_snapshot: false",
    ),
    Case("prod-standard-network", "prod", {"network": {"mode": "standard"}}, "{file}: network.mode: 'standard'"),
    Case("prod-local-state", "prod", {"state": {"backend": "local"}}, "{file}: state.backend: 'local'"),
    Case(
        "api-domain-without-zone",
        "dev",
        {"domains": {"api_domain": "api.example.com"}},
        "{file}: domains.route53_zone_id: is missing",
    ),
    Case("fargate-pair-rejected", "dev", {"backend": {"cpu": 256, "memory": 4096}}, "{file}: backend.memory: 4096 MiB"),
    Case("fargate-cpu-rejected", "dev", {"workers": {"cpu": 3000}}, "{file}: workers.cpu: 3000"),
    Case("min-above-desired", "dev", {"backend": {"min_count": 2, "desired_count": 1}}, "{file}: backend.min_count: 2"),
    Case(
        "desired-above-max", "dev", {"backend": {"desired_count": 4, "max_count": 3}}, "{file}: backend.desired_count"
    ),
    Case(
        "max-storage-below-allocated",
        "dev",
        {"database": {"max_allocated_storage": 10}},
        "{file}: database.max_allocated_storage: 10",
    ),
    Case("name-not-matching-file", "dev", {"name": "prod"}, "{file}: name: 'prod' does not match"),
    Case("unknown-tier", "dev", {"tier": "staging"}, "{file}: tier: 'staging' is not a tier"),
    Case("invalid-yaml", "dev", "network: [unclosed\n", "{file}: line 2: invalid YAML"),
    Case(
        "duplicate-key",
        "dev",
        "tier: development\nlogs:\n  retention_days: 7\nlogs:\n  retention_days: 14\n",
        "{file}: line 4: invalid YAML: duplicate key 'logs'",
    ),
    Case("alias-to-itself", "dev", "tier: development\nnetwork: &n [*n]\n", "{file}: network[0]: refers to itself"),
    Case("number-as-key", "dev", "tier: development\n1: x\n", "{file}: the key 1 is not text"),
    Case("a-list-not-a-mapping", "dev", "- tier\n- development\n", "{file}: the file holds a list"),
    Case(
        "ecr-repository-name",
        "dev",
        {"workers": {"image_prefix": "Viberator//x"}},
        "{file}: workers.image_prefix: 'Viberator//x' is not an ECR repository name",
    ),
    Case(
        "app-repository-as-a-url",
        "dev",
        {"github": {"app_repository": "https://github.com/Ilities/viberglass"}},
        "{file}: github.app_repository: 'https://github.com/Ilities/viberglass' is not a GitHub repository",
    ),
    Case(
        "deploy-workflow-ref-not-a-ref",
        "dev",
        {"github": {"app_deploy_workflow_ref": "main"}},
        "{file}: github.app_deploy_workflow_ref: 'main' is not a full git ref or a full (40 hex digits, lower case)"
        " commit SHA",
    ),
    Case(
        "deploy-workflow-ref-a-short-sha",
        "dev",
        {"github": {"app_deploy_workflow_ref": "0123abc"}},
        "{file}: github.app_deploy_workflow_ref: '0123abc' is not a full git ref or a full (40 hex digits",
    ),
    Case(
        "deploy-workflow-ref-a-sha-and-a-tail",
        "dev",
        {"github": {"app_deploy_workflow_ref": "0123456789abcdef0123456789abcdef01234567x"}},
        "{file}: github.app_deploy_workflow_ref: '0123456789abcdef0123456789abcdef01234567x' is not a full git ref",
    ),
    Case(
        "account-id-missing",
        "dev",
        {"aws": {"account_id": None}},
        "{file}: aws.account_id: is empty (null), not text",
    ),
    Case(
        "app-root-climbing-out",
        "dev",
        {"frontend": {"app_root": "apps/../../etc"}},
        "{file}: frontend.app_root: 'apps/../../etc' has a '..' segment",
    ),
    Case("bucket-like-an-ip", "dev", {"state": {"s3": {"bucket": "10.0.0.1"}}}, "{file}: state.s3.bucket: '10.0.0.1'"),
]

ALL_CASES = ISSUE_CASES + CASES


# The shipped files as read once for the module (parsing and writing them again for each of ~100 cases was
# most of this file's in-process time); each case changes a deep copy.
SHIPPED = {env: raw_config(env) for env in ("dev", "prod")}
SHIPPED_TEXT = {env: yaml.safe_dump(data) for env, data in SHIPPED.items()}


def _shipped(env: str) -> dict[str, Any]:
    return copy.deepcopy(SHIPPED[env]) if env in SHIPPED else raw_config(env)


def _prepare(tmp: Path, case: Case) -> tuple[dict[str, str], Path]:
    """Write the shipped files and the broken one into ``tmp/config``; return the environment variables
    that select it and the broken file's path."""
    directory = tmp / "config"
    directory.mkdir(parents=True, exist_ok=True)
    for shipped in ("dev", "prod"):
        (directory / f"{shipped}.yaml").write_text(SHIPPED_TEXT[shipped])
    name = case.env or case.base
    path = directory / f"{name}.yaml"
    change = case.change
    if isinstance(change, bytes):
        path.write_bytes(change)
    elif isinstance(change, str):
        path.write_text(change)
    else:
        data = _shipped(case.base or case.env)
        data = change(data) if callable(change) else merge(data, change or {})
        # libyaml's emitter (yaml.safe_dump's representer, ~10x faster); the loader under test is the project's.
        path.write_text(yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True))
    variables = {"VIBERGLASS_CONFIG_DIR": str(directory), "VIBERGLASS_ENV": case.env}
    if case.setup:
        variables.update(case.setup(tmp))
    return variables, path


def _expected(case: Case, path: Path, cwd: Path) -> str:
    """The message start, with the file shown as the process shows it: relative to its working folder."""
    try:
        shown = str(path.resolve().relative_to(cwd.resolve()))
    except ValueError:
        shown = str(path)
    return "error: " + case.line.replace("{file}", shown)


def _assert_one_line(output: str, expected: str) -> None:
    lines = output.splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(expected), f"{lines[0]!r} does not start with {expected!r}"
    assert "; " in lines[0]  # problem; fix
    assert "Traceback" not in output


def _load_synth_script() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("synth_script", ROOT / "scripts" / "synth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SYNTH_SCRIPT = _load_synth_script()


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_bad_configuration_gives_one_clear_line(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through ``main.py`` (what the cdktf CLI runs) and through ``scripts/synth.py`` (what ``make synth``
    runs), in this process."""
    variables, path = _prepare(tmp_path, case)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CDKTF_OUTDIR", "cdktf.out")
    for entry_point in (lambda: main.main([]), lambda: SYNTH_SCRIPT.main(["cdktf.out"])):
        status = entry_point()
        captured = capsys.readouterr()
        assert status == 2
        assert captured.out == ""
        _assert_one_line(captured.err, _expected(case, path, tmp_path))
        assert not (tmp_path / "cdktf.out").exists()


def test_ids_are_unique() -> None:
    assert len({c.id for c in ALL_CASES}) == len(ALL_CASES)


def test_alias_bomb_is_refused_fast(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """9**9 strings behind aliases: refused without expanding them. Expanding them takes minutes (half a
    minute on a quiet machine before the guard); the bound turns such a regression into a failure rather than a
    hang, with room for a loaded machine (the refusal itself takes milliseconds)."""
    case = next(c for c in ISSUE_CASES if c.id == "alias-bomb")
    variables, _ = _prepare(tmp_path, case)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    start = time.perf_counter()
    assert main.main([]) == 2
    assert time.perf_counter() - start < 10.0
    assert "expands to more than" in capsys.readouterr().err


def test_failed_run_clears_earlier_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stale synth must not pass for this run's result: manifest and stacks go, other files stay."""
    variables, _ = _prepare(tmp_path, Case("x", "dev", {"logs": {"retention_days": 10}}, ""))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cdktf.out" / "stacks" / "base").mkdir(parents=True)
    (tmp_path / "cdktf.out" / "manifest.json").write_text("{}")
    assert main.main([]) == 2
    assert not (tmp_path / "cdktf.out").exists()
    (tmp_path / "cdktf.out" / "stacks").mkdir(parents=True)
    (tmp_path / "cdktf.out" / "notes.txt").write_text("mine")
    assert main.main([]) == 2
    assert [p.name for p in (tmp_path / "cdktf.out").iterdir()] == ["notes.txt"]
    capsys.readouterr()


def test_check_only_leaves_an_earlier_synthesis_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`main.py --check` writes nothing, so a bad file (or another environment's) removes nothing either;
    `make synth` (scripts/synth.py), which would write, still clears."""
    variables, _ = _prepare(tmp_path, Case("x", "dev", {"logs": {"retention_days": 10}}, ""))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CDKTF_OUTDIR", "cdktf.out")
    (tmp_path / "cdktf.out" / "stacks" / "base").mkdir(parents=True)
    assert main.main(["--check"]) == 2
    assert (tmp_path / "cdktf.out" / "stacks" / "base").is_dir()
    assert SYNTH_SCRIPT.main(["cdktf.out"]) == 2
    assert not (tmp_path / "cdktf.out").exists()
    capsys.readouterr()


def test_a_successful_make_synth_prints_no_spinner_frames() -> None:
    """The cdktf CLI replays its spinner (about a hundred frames) when not on a terminal: only the lines that
    say something remain, once each."""
    frames = "".join(f"\x1b[2K\x1b[1G{c} Synthesizing\r" for c in "\u280b\u2819\u2839\u2838" * 25)
    output = frames + "\n\x1b[32mGenerated Terraform code for the stacks: base, platform, workers\x1b[0m\n" * 2
    assert SYNTH_SCRIPT.progress_removed(output) == "Generated Terraform code for the stacks: base, platform, workers\n"


def test_synthesis_failure_exits_1_with_one_line_and_no_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A failure while synthesizing (here a stand-in build that writes half a stack and raises) is status
    1, one line, and the half-written output is removed (it used to leave an empty cdktf.out/stacks)."""
    import stacks

    def half_a_synth(_config: Any) -> Any:
        (tmp_path / "cdktf.out" / "stacks" / "base").mkdir(parents=True)
        raise KeyError("multi-agent")

    monkeypatch.setattr(stacks, "build_app", half_a_synth)
    monkeypatch.delenv("VIBERGLASS_CONFIG_DIR", raising=False)
    monkeypatch.setenv("VIBERGLASS_ENV", "dev")
    monkeypatch.chdir(tmp_path)
    assert main.main([]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: synthesis of dev failed: KeyError: 'multi-agent'")
    assert len(captured.err.splitlines()) == 1 and captured.out == ""
    assert not (tmp_path / "cdktf.out").exists()


def test_secret_value_is_never_repeated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    variables, _ = _prepare(tmp_path, Case("x", "dev", {"frontend": {"github_token": FAKE_GITHUB_TOKEN}}, ""))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    main.main([])
    output = capsys.readouterr().err
    assert FAKE_GITHUB_TOKEN not in output and "secret" in output


def test_unknown_environment_lists_the_known_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    variables, _ = _prepare(tmp_path, Case("x", "dev", {}, ""))
    (tmp_path / "config" / "staging.yml").write_text("tier: development\n")
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VIBERGLASS_ENV", "staging")
    monkeypatch.chdir(tmp_path)
    assert main.main([]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: VIBERGLASS_ENV: unknown environment 'staging'; use one of: dev, prod (files in config); "
        "config/staging.yml exists: rename it to staging.yaml"
    )


def test_unknown_key_names_the_keys_that_exist(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    variables, _ = _prepare(tmp_path, Case("x", "dev", {"logs": {"retention": 7}}, ""))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    main.main([])
    assert "known keys here: retention_days" in capsys.readouterr().err


def test_retention_error_suggests_the_nearest_accepted_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    variables, _ = _prepare(tmp_path, Case("x", "dev", {"logs": {"retention_days": 10}}, ""))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    main.main([])
    output = capsys.readouterr().err
    assert "use 7 " in output or "use 14 " in output


def _clean_environment(**extra: str) -> dict[str, str]:
    drop = {"VIBERGLASS_CONFIG_DIR", "VIBERGLASS_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "CDKTF_OUTDIR"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "CHECKPOINT_DISABLE": "1", **extra}


# The cases that also run as processes: one of each stage (schema, AWS knowledge, production minimums,
# the YAML reader, the environment variable, the folder).
PROCESS_CASES = [
    c
    for c in ISSUE_CASES
    if c.id
    in {
        "region-that-does-not-exist",
        "prod-single-az-database",
        "prod-eu-copy-without-tier",
        "non-utf8-bytes",
        "alias-bomb",
        "viberglass-env-empty",
        "env-file-is-a-folder",
    }
]


@pytest.mark.parametrize("case", PROCESS_CASES, ids=[c.id for c in PROCESS_CASES])
def test_python_main_py_process(case: Case, tmp_path: Path) -> None:
    """``python main.py`` as the cdktf CLI starts it: status 2, one line, no traceback, nothing written."""
    variables, path = _prepare(tmp_path, case)
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        cwd=tmp_path,
        env=_clean_environment(**variables),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (2, "")
    _assert_one_line(result.stderr, _expected(case, path, tmp_path))
    assert not (tmp_path / "cdktf.out").exists()


MAKE_TRAILER = "make: *** [Makefile:"


@pytest.mark.slow
@pytest.mark.parametrize("case", PROCESS_CASES, ids=[c.id for c in PROCESS_CASES])
def test_make_synth_process(case: Case, tmp_path: Path) -> None:
    """``make synth``: the configuration is checked before the cdktf CLI runs, so the line arrives without
    the CLI's report around it. GNU make turns any failed recipe into its own status 2 and adds one
    ``make: *** [...] Error 2`` line naming the recipe's status; it cannot be silenced."""
    variables, path = _prepare(tmp_path, case)
    out = tmp_path / "cdktf.out"
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "synth", f"SYNTH_OUT={out}"],
        env=_clean_environment(**variables),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert (result.returncode, result.stdout) == (2, "")
    lines = result.stderr.splitlines()
    errors = [line for line in lines if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(_expected(case, path, ROOT)), result.stderr
    assert [line for line in lines if not line.startswith("error:")] == [
        line for line in lines if line.startswith(MAKE_TRAILER) and line.endswith("synth] Error 2")
    ]
    assert len(lines) == 2 and "Traceback" not in result.stderr and "cdktf encountered" not in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_make_synth_failure_while_working_is_one_line(tmp_path: Path) -> None:
    """A synthesis that fails after the configuration passed (here jsii cannot start Node: JSII_NODE points
    nowhere) reaches the user as the application's one line, not the cdktf CLI's report; make reports
    the recipe's status 1 as its Error 1. An earlier synth's output does not survive."""
    out = tmp_path / "cdktf.out"
    (out / "stacks" / "base").mkdir(parents=True)
    (out / "manifest.json").write_text("{}")
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "synth", f"SYNTH_OUT={out}"],
        env=_clean_environment(VIBERGLASS_ENV="dev", JSII_NODE=str(tmp_path / "no-node")),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert lines[0].startswith("error: synthesis of dev failed: FileNotFoundError"), result.stderr
    assert lines[1:] == [next(line for line in lines if line.startswith(MAKE_TRAILER))]
    assert lines[1].endswith("synth] Error 1")
    assert not out.exists()


def test_python_m_stacks_validates_every_environment_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m stacks``: a bad name among several stops before anything is synthesized."""
    from stacks.__main__ import main as stacks_main

    assert stacks_main(["--outdir", str(tmp_path / "out"), "dev", "prod-"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: environment argument: 'prod-' is not an environment name")
    assert len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_python_m_stacks_synthesis_failure_is_status_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A stand-in build that writes half a stack and fails: one line, status 1, the half stack removed."""
    import stacks
    from stacks.__main__ import main as stacks_main

    def half_a_synth(_config: Any, *, outdir: str) -> Any:
        (Path(outdir) / "stacks" / "base").mkdir(parents=True)
        raise RuntimeError("jsii runtime exited")

    monkeypatch.setattr(stacks, "build_app", half_a_synth)
    assert stacks_main(["--outdir", str(tmp_path / "out"), "dev"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: synthesis of dev failed: RuntimeError: jsii runtime exited")
    assert not (tmp_path / "out" / "dev").exists()
