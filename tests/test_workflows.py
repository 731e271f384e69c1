"""The GitHub workflows keep the promises of docs/design.md "Workflows" (zizmor and actionlint run in the
gate as well)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _load(path: Path) -> dict[str, Any]:
    raw: dict[Any, Any] = yaml.safe_load(path.read_text())
    # PyYAML reads the bare key `on` as True.
    data: dict[str, Any] = {str(k): v for k, v in raw.items() if k is not True}
    data["on"] = raw.get(True, raw.get("on"))
    return data


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, step) for name, job in workflow["jobs"].items() for step in job.get("steps", [])]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_action_is_pinned_by_sha_with_its_version(path: Path) -> None:
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip().startswith(("- uses:", "uses:"))]
    assert lines
    for line in lines:
        ref, _, comment = line.split("uses:", 1)[1].strip().partition(" # ")
        assert PINNED.match(ref), line
        assert re.match(r"v\d+\.\d+\.\d+", comment), f"no version comment: {line}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_default_permissions(path: Path) -> None:
    workflow = _load(path)
    assert workflow["permissions"] == {}
    assert all("permissions" in job for job in workflow["jobs"].values())


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_id_token_only_where_oidc_is_used(path: Path) -> None:
    for name, job in _load(path)["jobs"].items():
        uses_oidc = any("configure-aws-credentials" in s.get("uses", "") for s in job.get("steps", []))
        assert (job["permissions"].get("id-token") == "write") == uses_oidc, name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_no_expression_inside_run(path: Path) -> None:
    for job, step in _steps(_load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name}:{job}: pass it through env instead"


def test_only_the_comment_job_writes_to_pull_requests() -> None:
    writers = [(p.name, name) for p in WORKFLOWS for name, job in _load(p)["jobs"].items()
               if job["permissions"].get("pull-requests") == "write"]  # fmt: skip
    assert writers == [("terraform-deploy-dev.yml", "comment"), ("terraform-plan.yml", "comment")]


def test_deploys_are_never_cancelled_mid_apply() -> None:
    for name in ("terraform-deploy-dev.yml", "terraform-deploy-prod.yml"):
        concurrency = _load(ROOT / ".github" / "workflows" / name)["concurrency"]
        assert concurrency["cancel-in-progress"] is False


STACKS = ("base", "workers", "platform")


def test_prod_deploy_is_manual_with_a_reason() -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "terraform-deploy-prod.yml")
    assert list(workflow["on"]) == ["workflow_dispatch"]
    assert workflow["on"]["workflow_dispatch"]["inputs"]["reason"]["required"] is True


def test_prod_is_one_plan_then_apply_round_per_stack_in_dependency_order() -> None:
    jobs = _load(ROOT / ".github" / "workflows" / "terraform-deploy-prod.yml")["jobs"]
    assert list(jobs) == ["main-only", *[f"{kind}-{s}" for s in STACKS for kind in ("plan", "apply")]]
    for previous, stack in zip((None, *STACKS), STACKS, strict=False):
        plan, apply = jobs[f"plan-{stack}"], jobs[f"apply-{stack}"]
        assert plan["environment"] == "prod-plan" and apply["environment"] == "prod"
        assert apply["needs"] == f"plan-{stack}"
        assert f"needs.plan-{stack}.outputs.changes == 'true'" in apply["if"]
        assert plan["needs"] == ("main-only" if previous is None else [f"plan-{previous}", f"apply-{previous}"])
        assert f"scripts/ci/stack.sh plan prod {stack}" in _runs(plan)
        assert f"scripts/ci/stack.sh apply prod {stack} reviewed/{stack}.json" in _runs(apply)
        assert plan["permissions"]["id-token"] == apply["permissions"]["id-token"] == "write"


def _runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in job.get("steps", []))


def test_dev_deploy_applies_every_stack_in_the_dev_environment() -> None:
    workflow = _load(ROOT / ".github" / "workflows" / "terraform-deploy-dev.yml")
    job = workflow["jobs"]["deploy"]
    assert job["environment"] == "dev"
    assert 'for stack in base workers platform; do\n  scripts/ci/stack.sh apply dev "$stack"' in _runs(job)
    assert set(workflow["on"]) == {"push", "workflow_dispatch"}


def test_plan_workflow_renders_with_ops_and_updates_one_comment_from_a_file() -> None:
    steps = _load(ROOT / ".github" / "workflows" / "terraform-plan.yml")["jobs"]["comment"]["steps"]
    script = "\n".join(s.get("run", "") for s in steps)
    assert "python -m ops plan-comment" in script
    assert '-F "body=@comment.md"' in script and "--method PATCH" in script


def test_plan_comment_needs_only_the_standard_library() -> None:
    """The comment job installs nothing: `ops plan-comment` must not import boto3, pydantic or yaml."""
    import subprocess
    import sys

    heavy = "{'boto3', 'botocore', 'pydantic', 'yaml'}"
    code = f"import sys, ops.__main__; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


DEPLOYS = ["deploy-backend.yml", "deploy-frontend.yml", "deploy-viberators.yml"]


@pytest.mark.parametrize("name", DEPLOYS)
def test_deploy_workflows_are_reusable_and_dispatchable(name: str) -> None:
    assert set(_load(ROOT / ".github" / "workflows" / name)["on"]) == {"workflow_call", "workflow_dispatch"}


@pytest.mark.parametrize("name", DEPLOYS)
def test_deploy_workflows_do_aws_work_only_through_ops(name: str) -> None:
    runs = [s.get("run", "") for _, s in _steps(_load(ROOT / ".github" / "workflows" / name))]
    script = "\n".join(runs)
    assert "python -m ops " in script
    assert not re.search(r"(^|[\s;(|&])aws\s", script), "use an ops command instead of the AWS CLI"


@pytest.mark.parametrize("name", DEPLOYS)
def test_deploy_jobs_run_in_the_target_environment(name: str) -> None:
    for job in _load(ROOT / ".github" / "workflows" / name)["jobs"].values():
        assert job["environment"] == "${{ inputs.environment }}"
        assert job["concurrency"]["cancel-in-progress"] is False
