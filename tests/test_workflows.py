"""The GitHub workflows keep the promises of docs/design.md "Workflows" (zizmor and actionlint run in the
gate as well)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, load_yaml

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")


def _load(path: Path) -> dict[str, Any]:
    raw: dict[Any, Any] = load_yaml(path)
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
    # scripts/ci/plan_comment_post.py PATCHes the bot's own marked comment (tests/test_plan_comment_post.py).
    assert "python scripts/ci/plan_comment_post.py" in script and "--body comment.md" in script


def test_plan_comment_needs_only_the_standard_library() -> None:
    """The comment job installs nothing: `ops plan-comment` must not import boto3, pydantic or yaml."""
    import subprocess
    import sys

    heavy = "{'boto3', 'botocore', 'pydantic', 'yaml'}"
    code = f"import sys, ops.__main__; print(sorted(m for m in sys.modules if m.split('.')[0] in {heavy}))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_region_of_every_deploy_job_is_read_without_boto3() -> None:
    """`ops region` runs in every deploy job (six times in a prod dispatch): reading the configuration must
    not import boto3/botocore (~0.1 s of CPU a call)."""
    import subprocess
    import sys

    code = ("import runpy, sys; sys.argv = ['ops', 'region', '--env', 'prod']\n"
            "try: runpy.run_module('ops', run_name='__main__')\n"
            "except SystemExit: pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in {'boto3', 'botocore'}))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["region=eu-west-1", "[]"]


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


# -- the AWS region comes from the environment's configuration --------------------------------------------------

APP_CALLERS = sorted((ROOT / "docs" / "app-workflows").glob("*.yml"))


@pytest.mark.parametrize("path", [*WORKFLOWS, *APP_CALLERS], ids=lambda p: p.name)
def test_no_workflow_names_a_region(path: Path) -> None:
    """An environment in another region (`aws.region`) must not get credentials for eu-west-1: every
    `configure-aws-credentials` takes `steps.region.outputs.region`, printed by `ops region` from config."""
    text = path.read_text()
    assert not re.search(r"\b[a-z]{2}(-gov)?-[a-z]+-\d\b", text), "a literal AWS region"
    for job_name, job in _load(path).get("jobs", {}).items():
        steps = job.get("steps", [])
        region_steps = [i for i, s in enumerate(steps) if s.get("id") == "region"]
        for index, step in enumerate(steps):
            if "aws-actions/configure-aws-credentials" not in str(step.get("uses", "")):
                continue
            assert step["with"]["aws-region"] == "${{ steps.region.outputs.region }}", (job_name, index)
            assert region_steps and region_steps[0] < index, f"{job_name}: no region step before step {index}"
            region = r"-m ops region --env \"\$(VIBERGLASS_ENV|ENVIRONMENT)\"( --backend)? >> \"\$GITHUB_OUTPUT\"$"
            assert re.search(region, steps[region_steps[0]]["run"]), job_name


def test_ops_region_prints_the_configured_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The value the workflows hand to configure-aws-credentials, read from a configuration whose region is
    not eu-west-1 (a copy of config/ with prod moved to eu-central-1)."""
    import shutil

    from ops.__main__ import main

    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config)
    prod = config / "prod.yaml"
    text = prod.read_text()
    assert "region: eu-west-1" in text
    prod.write_text(text.replace("region: eu-west-1", "region: eu-central-1"))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(config))
    assert main(["region", "--env", "prod"]) == 0
    assert capsys.readouterr().out == "region=eu-central-1\n"
    # --backend: the state backend too, for the deploy and plan jobs (one configuration read a job).
    assert main(["region", "--env", "prod", "--backend"]) == 0
    assert capsys.readouterr().out == "region=eu-central-1\nkind=s3\n"
    raw = yaml.safe_load(prod.read_text())
    raw["state"] = {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-prod"}}
    prod.write_text(yaml.safe_dump(raw))
    assert main(["region", "--env", "prod", "--backend"]) == 0
    assert capsys.readouterr().out == "region=eu-central-1\nkind=cloud\n"
    assert main(["region", "--env", "staging"]) == 2
    assert capsys.readouterr().err.count("error:") == 1
