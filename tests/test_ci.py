"""CI that tells the truth: one Terraform version, validate on every PR, neutral forks, no comment from a
cancelled run, drift detection, caches (the scripts themselves: tests/test_ci_scripts.py)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.toolchain import required_version, terraform_env
from tests.conftest import ROOT, Stacks
from tests.test_workflows import WORKFLOWS, _load

WF = ROOT / ".github" / "workflows"


def jobs(name: str) -> dict[str, Any]:
    result: dict[str, Any] = _load(WF / name)["jobs"]
    return result


def runs(job: dict[str, Any]) -> str:
    return "\n".join(s.get("run", "") for s in job.get("steps", []))


# -- one Terraform version -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_workflow_installs_the_version_of_terraform_env(path: Path) -> None:
    for name, job in _load(path)["jobs"].items():
        steps = job.get("steps", [])
        for i, step in enumerate(steps):
            if "hashicorp/setup-terraform" in step.get("uses", ""):
                assert step["with"]["terraform_version"] == "${{ steps.terraform.outputs.version }}", name
                assert steps[i - 1] == {"id": "terraform", "run": "scripts/ci/terraform-version.sh"}, name
    assert not re.search(r"terraform_version:\s*\"?\d", path.read_text())


def test_the_version_script_reads_terraform_env(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = {**os.environ, "GITHUB_OUTPUT": str(out)}
    subprocess.run([str(ROOT / "scripts/ci/terraform-version.sh")], env=env, check=True)
    assert out.read_text() == f"version={terraform_env()['TERRAFORM_VERSION']}\n"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def test_installed_terraform_meets_the_floor() -> None:
    values = terraform_env()
    assert _version(values["TERRAFORM_VERSION"]) >= _version(values["TERRAFORM_MIN_VERSION"])


def test_every_stack_requires_the_floor(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    floor = f">= {terraform_env()['TERRAFORM_MIN_VERSION']}"
    for name in ("base", "workers", "platform"):
        assert stacks[name]["terraform"]["required_version"] == floor, name


def test_the_floor_is_one_line_to_change(tmp_path: Path) -> None:
    env = tmp_path / "terraform.env"
    env.write_text("TERRAFORM_VERSION=1.11.4\nTERRAFORM_MIN_VERSION=1.11\n")
    assert required_version(env) == ">= 1.11"
    env.write_text("TERRAFORM_VERSION=latest\nTERRAFORM_MIN_VERSION=1.11\n")
    with pytest.raises(ValueError, match="TERRAFORM_VERSION"):
        required_version(env)


# -- the plan workflow ---------------------------------------------------------------------------------------


def test_validate_runs_on_every_pull_request_without_credentials() -> None:
    validate = jobs("terraform-plan.yml")["validate"]
    assert "needs" not in validate and "id-token" not in validate["permissions"]
    assert "scripts/ci/validate-stacks.sh .tools/synth/dev .tools/synth/prod" in runs(validate)


def _trust(tmp_path: Path, head_repo: str, actor: str) -> tuple[str, str]:
    (step,) = jobs("terraform-plan.yml")["trust"]["steps"]
    out, summary = tmp_path / "out", tmp_path / "summary"
    env = {**os.environ, "HEAD_REPO": head_repo, "REPO": "ilities/viberglass-infra", "ACTOR": actor,
           "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}  # fmt: skip
    result = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, check=True)
    return out.read_text(), result.stdout + (summary.read_text() if summary.exists() else "")


@pytest.mark.parametrize(
    ("head_repo", "actor"), [("someone/viberglass-infra", "someone"), ("ilities/viberglass-infra", "dependabot[bot]")]
)
def test_forks_and_dependabot_get_a_neutral_notice_not_a_plan(tmp_path: Path, head_repo: str, actor: str) -> None:
    output, said = _trust(tmp_path, head_repo, actor)
    assert output == "trusted=false\n"
    assert "::notice title=Terraform plan skipped (neutral)::" in said and "no OIDC token" in said


def test_own_branches_plan(tmp_path: Path) -> None:
    assert _trust(tmp_path, "ilities/viberglass-infra", "maintainer")[0] == "trusted=true\n"


def test_plan_jobs_wait_for_trust() -> None:
    workflow = jobs("terraform-plan.yml")
    assert workflow["plan"]["if"] == "needs.trust.outputs.trusted == 'true'"
    assert "needs.trust.outputs.trusted == 'true'" in workflow["comment"]["if"]


@pytest.mark.parametrize("name", ["terraform-plan.yml", "terraform-drift.yml"])
def test_a_cancelled_run_posts_nothing(name: str) -> None:
    text = (WF / name).read_text()
    assert "always()" not in text
    for job in jobs(name).values():
        for step in job.get("steps", []):
            if step.get("if") and "cancelled" in step["if"]:
                assert step["if"] == "${{ !cancelled() }}"
    if name == "terraform-plan.yml":
        assert jobs(name)["comment"]["if"].startswith("${{ !cancelled() &&")


def test_plan_job_hands_over_only_a_digest() -> None:
    plan = jobs("terraform-plan.yml")["plan"]
    uploads = [s for s in plan["steps"] if "upload-artifact" in s.get("uses", "")]
    assert [u["with"]["path"] for u in uploads] == ["digest/${{ matrix.env }}.json"]
    assert "--save-digest" in runs(plan) and "--job-summary job-summary.md" in runs(plan)
    assert "scripts/ci/plan-stacks.sh" in runs(plan)


def test_comment_names_the_commit_and_gates_prod_destroys() -> None:
    comment = runs(jobs("terraform-plan.yml")["comment"])
    assert '--commit "$HEAD_SHA"' in comment and "--summary summary.json" in comment
    assert "python scripts/ci/plan_gate.py summary.json labels.txt" in comment


def test_adding_destroy_ok_reruns_the_gate() -> None:
    workflow = _load(WF / "terraform-plan.yml")
    assert {"labeled", "unlabeled"} <= set(workflow["on"]["pull_request"]["types"])
    assert "github.event.label.name == 'destroy-ok'" in workflow["jobs"]["trust"]["if"]
    # ...and any other label neither plans nor cancels a running plan (a group of its own).
    assert "github.event.label.name != 'destroy-ok' && github.run_id" in workflow["concurrency"]["group"]


# -- drift ----------------------------------------------------------------------------------------------------


def test_drift_runs_on_a_schedule_for_every_environment() -> None:
    workflow = _load(WF / "terraform-drift.yml")
    assert workflow["on"]["schedule"][0]["cron"] and "workflow_dispatch" in workflow["on"]
    plan = workflow["jobs"]["plan"]
    assert plan["strategy"]["matrix"]["env"] == ["dev", "prod"]
    assert plan["environment"] == "${{ matrix.env }}-plan"  # the plan role trusts environment:<env>-plan
    issues = workflow["jobs"]["issues"]
    assert issues["permissions"] == {"contents": "read", "issues": "write"}
    assert "scripts/ci/drift_issues.py --digest-dir digests" in runs(issues)


# -- fast set-up -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "job"), [("terraform-plan.yml", "plan"), ("terraform-plan.yml", "validate"),
                                          ("terraform-drift.yml", "plan"), ("ci.yml", "quality-gate")])  # fmt: skip
def test_terraform_and_gate_jobs_cache_their_downloads(name: str, job: str) -> None:
    steps = jobs(name)[job]["steps"]
    paths = "\n".join(s["with"]["path"] for s in steps if "actions/cache" in s.get("uses", ""))
    assert "~/.cache/uv" in paths and "~/.npm" in paths
    if name != "ci.yml":
        assert ".tools/terraform-plugins" in paths


@pytest.mark.parametrize(("name", "job"), [("terraform-plan.yml", "plan"), ("terraform-drift.yml", "plan")])
def test_plan_jobs_install_only_what_synth_needs(name: str, job: str) -> None:
    assert "make synth EXTRAS=" in runs(jobs(name)[job])


@pytest.mark.parametrize(("name", "job"), [("terraform-plan.yml", "comment"), ("terraform-drift.yml", "issues")])
def test_reporting_jobs_install_nothing(name: str, job: str) -> None:
    script = runs(jobs(name)[job])
    assert "make" not in script.split() and "pip" not in script and "npm" not in script


def test_checkov_gets_the_stacks_without_required_version(dev: Stacks) -> None:
    """checkov 3.3 cannot parse a string in the `terraform` block and would silently skip the whole stack."""
    from policy.checkov_gate import checkov_view

    view = checkov_view(dev["platform"])
    assert "required_version" not in view["terraform"] and "required_version" in dev["platform"]["terraform"]
    assert view["resource"] == dev["platform"]["resource"] and view["terraform"]["backend"]


# -- the single plan comment -----------------------------------------------------------------------------------

# The hidden first line that makes the plan comment findable; written here, not imported from the renderer,
# so the workflow and ops/plan_comment.py are each held to it.
PLAN_COMMENT_MARKER = "<!-- viberglass-plan-comment -->"


def _comment_step() -> dict[str, Any]:
    (step,) = [s for s in jobs("terraform-plan.yml")["comment"]["steps"]
               if "scripts/ci/plan_comment_post.py" in s.get("run", "")]  # fmt: skip
    return dict(step)


def test_the_workflow_finds_the_comment_by_the_marker_the_renderer_writes() -> None:
    """The comment job posts through scripts/ci/plan_comment_post.py (its gh behaviour, with the gh stand-in:
    tests/test_plan_comment_post.py), which finds the comment by the renderer's first line."""
    from ops.plan_comment import parse_plan, render

    assert "--body comment.md" in _comment_step()["run"]
    script = (ROOT / "scripts" / "ci" / "plan_comment_post.py").read_text()
    (marker,) = re.findall(r'^MARKER = "([^"]*)"', script, re.M)
    assert marker == PLAN_COMMENT_MARKER
    rendered = render([parse_plan("dev/base", {"format_version": "1.2", "resource_changes": []})])
    assert rendered.splitlines()[0] == PLAN_COMMENT_MARKER


def test_a_newer_push_cancels_the_plan_of_the_same_pull_request() -> None:
    """One plan per pull request at a time: without the group two runs race to write the one comment."""
    concurrency = _load(WF / "terraform-plan.yml")["concurrency"]
    assert concurrency["group"].startswith("terraform-plan-${{ github.event.pull_request.number }}-")
    assert concurrency["cancel-in-progress"] is True
