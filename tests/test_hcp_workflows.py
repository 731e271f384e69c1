"""HCP Terraform tokens in the workflows: a pull request's plan job can plan, never apply.

The plan team's tokens (TF_PLAN_TOKEN_DEV/_PROD, "plan" access: queue speculative plans, read state) are
what the plan and drift jobs hand Terraform; the apply team's token (TF_APPLY_TOKEN, "write" access) is a
secret of the GitHub Environments dev and prod only, and only the jobs that enter them name it. The hcp
stack gives the teams exactly these accesses (tests/test_hcp_stack.py).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, load_yaml

WORKFLOWS = ROOT / ".github" / "workflows"
PLAN_TOKEN = re.compile(r"\bTF_PLAN_TOKEN_[A-Z]+\b")
APPLY_TOKEN = "TF_APPLY_TOKEN"
OLD_TOKEN = "TF_API_TOKEN"  # one team token for everything: what this replaced
PLANNING = ("terraform-plan.yml", "terraform-drift.yml")


def _jobs(name: str) -> dict[str, Any]:
    jobs: dict[str, Any] = load_yaml(WORKFLOWS / name)["jobs"]
    return jobs


def _token_expression(job: dict[str, Any]) -> str:
    return str(job.get("env", {}).get("TF_TOKEN_app_terraform_io", ""))


@pytest.mark.parametrize("name", PLANNING)
def test_the_plan_workflows_never_name_the_apply_token(name: str) -> None:
    text = (WORKFLOWS / name).read_text()
    assert APPLY_TOKEN not in text and OLD_TOKEN not in text
    plan = _jobs(name)["plan"]
    assert set(PLAN_TOKEN.findall(_token_expression(plan))) == {"TF_PLAN_TOKEN_DEV", "TF_PLAN_TOKEN_PROD"}


def test_the_dev_deploy_holds_only_the_apply_token_and_only_in_its_environment() -> None:
    text = (WORKFLOWS / "terraform-deploy-dev.yml").read_text()
    assert not PLAN_TOKEN.search(text) and OLD_TOKEN not in text
    deploy = _jobs("terraform-deploy-dev.yml")["deploy"]
    assert deploy["environment"] == "dev"
    assert _token_expression(deploy) == "${{ secrets.TF_APPLY_TOKEN }}"


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.yml")), ids=lambda p: p.name)
def test_a_job_naming_the_apply_token_enters_dev_or_prod_and_names_no_plan_token(path: Path) -> None:
    for name, job in _jobs(path.name).items():
        text = yaml.safe_dump(job)
        if APPLY_TOKEN in text:
            assert job.get("environment") in ("dev", "prod"), f"{path.name}: {name} names {APPLY_TOKEN}"
            assert not PLAN_TOKEN.search(text), f"{path.name}: {name} names both tokens"


def test_the_prod_deploy_plans_with_the_plan_token_and_applies_with_the_apply_token() -> None:
    """Plan jobs (Environment prod-plan, no reviewers) hold the prod plan team's token, which cannot apply;
    only the apply jobs, in the Environment prod behind its reviewers, hold the apply token."""
    text = (WORKFLOWS / "terraform-deploy-prod.yml").read_text()
    assert OLD_TOKEN not in text
    jobs = _jobs("terraform-deploy-prod.yml")
    plans = {n: j for n, j in jobs.items() if n.startswith("plan-")}
    applies = {n: j for n, j in jobs.items() if n.startswith("apply-")}
    assert len(plans) == len(applies) == 3
    for job in plans.values():
        assert job["environment"] == "prod-plan"
        assert _token_expression(job) == "${{ secrets.TF_PLAN_TOKEN_PROD }}"
    for job in applies.values():
        assert job["environment"] == "prod"
        assert _token_expression(job) == "${{ secrets.TF_APPLY_TOKEN }}"


def test_no_doc_names_the_old_single_token() -> None:
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert [p.name for p in docs if OLD_TOKEN in p.read_text()] == []


TERRAFORM = re.compile(r"\b(terraform|cdktf|stack\.sh)\b")


@pytest.mark.parametrize("name", [*PLANNING, "terraform-deploy-dev.yml", "terraform-deploy-prod.yml"])
def test_with_hcp_terraform_no_aws_role_is_assumed_for_terraform_in_github(name: str) -> None:
    """Runs execute in HCP Terraform with its dynamic credentials; in every job, the AWS steps before any
    Terraform step are for the S3 backend only. The one exception is after the applies of dev and of prod's
    platform: bringing the backend onto Terraform's task definition is an AWS call of its own (`ops deploy
    backend --running-image`), not a Terraform run."""
    checked = 0
    for job_name, job in _jobs(name).items():
        steps = job.get("steps", [])
        aws = [i for i, s in enumerate(steps)
               if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials")]  # fmt: skip
        if not aws:
            continue
        # `ops region --backend` prints the region and the state backend (kind=s3|cloud) in one Python start.
        backend = [i for i, s in enumerate(steps) if s.get("id") == "region"]
        assert backend and re.search(r"-m ops region --env \S+ --backend ", steps[backend[0]]["run"]), (
            f"{name}: {job_name}"
        )
        for i in aws:
            checked += 1
            assert backend[0] < i, f"{name}: {job_name}: the backend is known before any role"
            guard = str(steps[i].get("if"))
            if "steps.region.outputs.kind == 'cloud'" in guard:
                later = [str(s.get("run", "")) for s in steps[i + 1 :]]
                assert name.startswith("terraform-deploy-") and "--running-image" in later[0], f"{name}: {job_name}"
                assert not [run for run in later if TERRAFORM.search(run)], (
                    "with HCP Terraform an AWS role only for the backend redeploy, after every Terraform run"
                )
            else:
                assert "steps.region.outputs.kind != 'cloud'" in guard, f"{name}: {job_name}: step {i}"
    assert checked
