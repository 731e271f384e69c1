"""The workflow scripts (scripts/ci/*.sh) against a STAND-IN for Terraform.

Terraform cannot plan here (no providers, no AWS), so `tests/standin/terraform`, put first on PATH through a
launcher (`conftest.standin_path`: a real `terraform` on PATH never answers), stands in for it: it replays
recorded Terraform 1.10/1.11 outputs and exit codes (tests/fixtures/terraform/) per stack and command.
Nothing here runs a real plan; the workflows run the real Terraform.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, standin_path

OK = {"init": "init_ok", "plan": "plan_changes", "show": "show_text_changes", "state list": "state_list_resources",
      "validate": "validate_ok", "providers lock": "providers_lock_ok"}  # fmt: skip
PLAN_JSON = {"base": "file:plans/mixed_base.json", "workers": "file:plans/mixed_workers.json",
             "platform": "file:plans/mixed_platform.json"}  # fmt: skip


class Workspace:
    """A checkout with synthesized stacks, run with the stand-in Terraform first on PATH."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for env in ("", ".tools/synth/dev/", ".tools/synth/prod/"):
            for stack in ("base", "workers", "platform"):
                path = root / f"{env or 'cdktf.out/'}stacks/{stack}"
                path.mkdir(parents=True)
                (path / "cdk.tf.json").write_text("{}")
        self.scenario: dict[str, dict[str, str]] = {"*": dict(OK)}
        for stack, plan in PLAN_JSON.items():
            self.scenario[stack] = {"show -json": plan}

    def given(self, stack: str, command: str, recording: str) -> Workspace:
        self.scenario.setdefault(stack, {})[command] = recording
        return self

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        (self.root / "scenario.json").write_text(json.dumps(self.scenario))
        # `python3` is this interpreter, as setup-python's is a plain one on the runner: the machine's own
        # python3 may be a version manager's shim (pyenv: ~0.1 s of CPU a call, three calls a plan run).
        python = self.root / ".python-bin"
        if not python.exists():
            python.mkdir()
            (python / "python3").symlink_to(sys.executable)
        path = f"{python}{os.pathsep}{os.environ['PATH']}"
        env = {**os.environ, "PATH": standin_path(self.root / ".standin-bin", path=path),
               "STANDIN_TERRAFORM_SCENARIO": str(self.root / "scenario.json"),
               "STANDIN_TERRAFORM_LOG": str(self.root / "calls.jsonl")}  # fmt: skip
        command = [str(ROOT / "scripts" / "ci" / script), *args]
        return subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True, check=False)

    def calls(self) -> list[dict[str, Any]]:
        path = self.root / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def comment(self, env: str = "dev") -> tuple[str, dict[str, Any]]:
        """Render the comment from the script's args, as the plan job does (`python -m ops plan-comment
        @plans/<env>/args` from the checkout; here through the same `main`, without starting Python again)."""
        from ops.__main__ import main

        with contextlib.chdir(self.root):  # the args file names the plans relative to the checkout
            status = main(["plan-comment", f"@plans/{env}/args", "--out", "comment.md", "--summary", "summary.json"])
        assert status == 0
        summary = json.loads((self.root / "summary.json").read_text())
        return (self.root / "comment.md").read_text(), {s["name"]: s for s in summary["stacks"]}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path)


def test_standin_terraform_replays_a_recording(ws: Workspace) -> None:
    """The stand-in itself: exit code and stderr as recorded, the saved plan written only on success."""
    ws.given("base", "plan", "plan_auth_failure")
    result = ws.run("plan-stacks.sh", "dev")
    assert not (ws.root / "cdktf.out/stacks/base/tfplan").exists()
    assert (ws.root / "cdktf.out/stacks/workers/tfplan").exists()
    assert result.returncode == 1


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, subprocess.CompletedProcess[str]]:
    """One `plan-stacks.sh dev` where every stack plans, shared by the tests that read what it left."""
    ws = Workspace(tmp_path_factory.mktemp("planned"))
    return ws, ws.run("plan-stacks.sh", "dev")


def test_every_stack_planned_exits_0(planned: tuple[Workspace, subprocess.CompletedProcess[str]]) -> None:
    ws, result = planned
    assert result.returncode == 0, result.stdout + result.stderr
    _, stacks = ws.comment()
    assert {n: s["status"] for n, s in stacks.items()} == dict.fromkeys(("dev/base", "dev/workers", "dev/platform"),
                                                                         "planned")  # fmt: skip


def test_one_failing_stack_fails_the_script_and_only_that_stack(ws: Workspace) -> None:
    result = ws.given("workers", "plan", "plan_auth_failure").run("plan-stacks.sh", "dev")
    assert result.returncode == 1
    assert "::error::dev/workers: Error: Retrieving AWS account details" in result.stdout
    comment, stacks = ws.comment()
    assert stacks["dev/workers"]["status"] == "failed"
    assert stacks["dev/base"]["counts"]["delete"] == 2 and stacks["dev/platform"]["counts"]["replace"] == 1
    assert "| `dev/workers` | **failed** |" in comment
    assert "**`dev/workers` failed**: `Error: Retrieving AWS account details" in comment
    assert "| `dev/base` | changes |" in comment and "| `dev/platform` | changes |" in comment


@pytest.mark.parametrize(
    ("stack", "command", "recording"),
    [("base", "init", "init_no_credentials"), ("base", "init", "init_backend_access_denied"),
     ("platform", "plan", "plan_missing_upstream_output"), ("workers", "show", "show_no_plan_file")],
)  # fmt: skip
def test_any_init_or_plan_failure_is_red(ws: Workspace, stack: str, command: str, recording: str) -> None:
    assert ws.given(stack, command, recording).run("plan-stacks.sh", "dev").returncode == 1
    _, stacks = ws.comment()
    assert stacks[f"dev/{stack}"]["status"] == "failed"


def test_an_authentication_error_reading_state_is_a_failure_not_unapplied(ws: Workspace) -> None:
    result = ws.given("base", "state list", "state_list_expired_token").run("plan-stacks.sh", "dev")
    assert result.returncode == 1
    _, stacks = ws.comment()
    assert stacks["dev/base"]["status"] == "failed"
    assert stacks["dev/workers"]["status"] == "planned"  # not "pending: base is not applied yet"


def test_an_upstream_without_state_makes_dependents_pending_not_red(ws: Workspace) -> None:
    result = ws.given("base", "state list", "state_list_empty").run("plan-stacks.sh", "dev")
    assert result.returncode == 0
    comment, stacks = ws.comment()
    assert [stacks[f"dev/{s}"]["status"] for s in ("base", "workers", "platform")] == ["planned", "pending", "pending"]
    assert "not planned: `base is not applied yet`" in comment
    assert not any(c["stack"] in {"workers", "platform"} for c in ws.calls())


def test_missing_synth_output_is_a_failure(ws: Workspace) -> None:
    (ws.root / "cdktf.out/stacks/platform/cdk.tf.json").unlink()
    assert ws.run("plan-stacks.sh", "dev").returncode == 1


def test_plan_json_never_lands_in_the_plans_folder(planned: tuple[Workspace, subprocess.CompletedProcess[str]]) -> None:
    ws, _ = planned
    assert sorted(p.name for p in (ws.root / "plans/dev").iterdir()) == ["args", "base.txt", "platform.txt",
                                                                         "workers.txt"]  # fmt: skip
    assert (ws.root / "cdktf.out/stacks/base/plan.json").exists()


def test_a_committed_lock_file_is_used_read_only(ws: Workspace) -> None:
    (ws.root / "locks").mkdir()
    (ws.root / "locks/base.terraform.lock.hcl").write_text('provider "registry.terraform.io/hashicorp/aws" {}\n')
    assert ws.run("provider-locks.sh", "use", "cdktf.out").returncode == 0
    ws.run("plan-stacks.sh", "dev")
    inits = {c["stack"]: c["args"] for c in ws.calls() if c["args"][0] == "init"}
    assert "-lockfile=readonly" in inits["base"] and "-lockfile=readonly" not in inits["workers"]


def test_provider_locks_are_generated_per_stack(ws: Workspace) -> None:
    result = ws.run("provider-locks.sh", "generate", ".tools/synth/dev")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (ws.root / "locks").iterdir()) == [
        "base.terraform.lock.hcl", "platform.terraform.lock.hcl", "workers.terraform.lock.hcl"]  # fmt: skip
    lock_calls = [c["args"] for c in ws.calls() if c["args"][:2] == ["providers", "lock"]]
    assert all("-platform=linux_amd64" in a and "-platform=darwin_arm64" in a for a in lock_calls)


def test_validate_checks_every_stack_of_every_environment(ws: Workspace) -> None:
    ws.scenario["*"]["init"] = "init_backend_false_ok"
    result = ws.run("validate-stacks.sh", ".tools/synth/dev", ".tools/synth/prod")
    assert result.returncode == 0, result.stdout
    validated = [c["stack"] for c in ws.calls() if c["args"][0] == "validate"]
    assert sorted(validated) == sorted(["base", "workers", "platform"] * 2)
    assert all("-backend=false" in c["args"] for c in ws.calls() if c["args"][0] == "init")


def test_an_invalid_stack_fails_validation(ws: Workspace) -> None:
    result = ws.given("platform", "validate", "validate_error").run("validate-stacks.sh", ".tools/synth/dev")
    assert result.returncode == 1
    assert 'An argument named "storage_encryptedd" is not expected here' in result.stdout
