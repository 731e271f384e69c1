"""Project policy rules: a passing and a failing fixture each, the real stacks, and the gate itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from policy import __main__ as gate
from policy import checkov_gate, rules
from tests.conftest import ROOT, Stacks

FIXTURES = ROOT / "tests" / "fixtures" / "policy"


def _fixture(rule: str, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / rule / f"{kind}.json").read_text())
    return data


def _write_synth_dir(tmp: Path, env: str, stacks: dict[str, Any]) -> Path:
    for name, stack in stacks.items():
        path = tmp / env / "stacks" / name / "cdk.tf.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(stack))
    return tmp


def test_every_rule_has_a_fixture_pair() -> None:
    assert sorted(p.name for p in FIXTURES.iterdir()) == sorted(rules.RULES)


@pytest.mark.parametrize("rule", sorted(rules.RULES))
def test_passing_fixture_passes(rule: str) -> None:
    data = _fixture(rule, "pass")
    assert rules.RULES[rule](data["stacks"], data["env"]) == []


@pytest.mark.parametrize("rule", sorted(rules.RULES))
def test_failing_fixture_fails(rule: str) -> None:
    data = _fixture(rule, "fail")
    assert len(rules.RULES[rule](data["stacks"], data["env"])) == 1


@pytest.mark.parametrize("rule", sorted(rules.RULES))
def test_gate_exits_1_on_a_broken_fixture(rule: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _fixture(rule, "fail")
    _write_synth_dir(tmp_path, data["env"], data["stacks"])
    assert gate.main(["--synth-dir", str(tmp_path), "--no-checkov", data["env"]]) == 1
    assert f"FAIL {data['env']}: [{rule}]" in capsys.readouterr().out


def test_gate_exits_0_on_a_passing_fixture(tmp_path: Path) -> None:
    data = _fixture("trust-is-pinned", "pass")
    _write_synth_dir(tmp_path, data["env"], data["stacks"])
    assert gate.main(["--synth-dir", str(tmp_path), "--no-checkov", data["env"]]) == 0


def test_shipped_stacks_follow_every_rule(each_env: tuple[str, Stacks]) -> None:
    env, stacks = each_env
    real = {k: v for k, v in stacks.items() if k != "manifest"}
    assert rules.check(real, env) == []


def test_every_checkov_exception_has_a_reason() -> None:
    skips = checkov_gate.load_skips()
    assert skips
    assert all(len(s.reason) > 20 for s in skips)


def test_checkov_findings_outside_the_list_fail() -> None:
    report = {
        "summary": {"passed": 3},
        "results": {
            "failed_checks": [
                {
                    "check_id": "CKV_AWS_18",
                    "check_name": "logging",
                    "resource": "resource.other_bucket_ABCDEF12",
                    "file_path": "/platform/cdk.tf.json",
                }
            ]
        },
    }
    paths = {("/platform/cdk.tf.json", "other_bucket_ABCDEF12"): "platform/other/bucket"}
    result = checkov_gate.evaluate("dev", report, paths, checkov_gate.load_skips())
    assert result.failed == ["dev: CKV_AWS_18 platform/other/bucket: logging"]


def test_env_scoped_exception_does_not_cover_prod() -> None:
    report = {
        "results": {
            "failed_checks": [
                {
                    "check_id": "CKV_AWS_157",
                    "check_name": "multi-az",
                    "resource": "resource.database_instance_1",
                    "file_path": "/platform/cdk.tf.json",
                }
            ]
        }
    }
    paths = {("/platform/cdk.tf.json", "database_instance_1"): "platform/database/instance"}
    skips = checkov_gate.load_skips()
    assert checkov_gate.evaluate("dev", report, paths, skips).failed == []
    assert len(checkov_gate.evaluate("prod", report, paths, skips).failed) == 1


def test_checkov_sees_the_stack_without_what_its_parser_cannot_read(dev: Stacks) -> None:
    """checkov 3.3 drops a whole file over an `ephemeral` or `removed` block or terraform.required_version
    (platform has `removed` blocks; a stack that gets the others must still be checked)."""
    platform = {
        **dev["platform"],
        "ephemeral": {"random_password": {"k": {"length": 64}}},
        "terraform": {**dev["platform"]["terraform"], "required_version": ">= 1.11"},
    }
    view = checkov_gate.checkov_view(platform)
    assert "ephemeral" in platform and "ephemeral" not in view
    assert "removed" in platform and "removed" not in view
    assert "required_version" in platform["terraform"] and "required_version" not in view["terraform"]
    assert view["resource"] == platform["resource"] and view["terraform"]["backend"] == platform["terraform"]["backend"]


def test_a_stack_file_checkov_cannot_parse_fails_the_gate(tmp_path: Path) -> None:
    """Runs the real checkov: before this, an unparsable platform stack counted as 0 failures."""
    stack = tmp_path / "x" / "cdk.tf.json"
    stack.parent.mkdir()
    stack.write_text(json.dumps({"resource": {"aws_s3_bucket": {"b": {"bucket": "x"}}}, "locals": "not a block"}))
    with pytest.raises(RuntimeError, match="could not parse 1 stack file"):
        checkov_gate.run_checkov(tmp_path)
