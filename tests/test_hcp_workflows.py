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

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
PLAN_TOKEN = re.compile(r"\bTF_PLAN_TOKEN_[A-Z]+\b")
APPLY_TOKEN = "TF_APPLY_TOKEN"
OLD_TOKEN = "TF_API_TOKEN"  # one team token for everything: what this replaced
PLANNING = ("terraform-plan.yml", "terraform-drift.yml")


def _jobs(name: str) -> dict[str, Any]:
    jobs: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())["jobs"]
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


@pytest.mark.parametrize("name", [*PLANNING, "terraform-deploy-dev.yml"])
def test_with_hcp_terraform_no_aws_role_is_assumed_for_terraform_in_github(name: str) -> None:
    """Runs execute in HCP Terraform with its dynamic credentials; the AWS steps before any Terraform step are
    for the S3 backend only. The one exception is after dev's applies: bringing the backend onto Terraform's
    task definition is an AWS call of its own (`ops deploy backend --running-image`), not a Terraform run."""
    steps = [s for job in _jobs(name).values() for s in job.get("steps", [])]
    backend = [s for s in steps if s.get("id") == "backend"]
    assert backend and "load().state.backend" in backend[0]["run"]
    aws = [i for i, s in enumerate(steps) if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials")]
    assert aws
    for i in aws:
        guard = str(steps[i].get("if"))
        if "steps.backend.outputs.kind == 'cloud'" in guard:
            later = [str(s.get("run", "")) for s in steps[i + 1 :]]
            assert name == "terraform-deploy-dev.yml" and "--running-image" in later[0]
            assert not [run for run in later if re.search(r"\b(terraform|cdktf|stack\.sh)\b", run)], (
                "with HCP Terraform an AWS role only for the backend redeploy, after every Terraform run"
            )
        else:
            assert "steps.backend.outputs.kind != 'cloud'" in guard
