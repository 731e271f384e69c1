"""The infrastructure deploy workflows, run job by job with STAND-INS: Terraform, GitHub and GitHub Actions
cannot be reached from here.

`tests/actions_runner.py` stands in for the GitHub Actions runner: it runs terraform-deploy-prod.yml and
terraform-deploy-dev.yml in the order and under the `if:` conditions GitHub would, executing their own `run:`
steps in bash. `tests/standin/terraform` stands in for Terraform (recorded outputs; an apply changes what
later plans answer, as state would), `tests/standin/gh` for the GitHub CLI and `tests/standin/make` for
`make synth` (the stacks are written here beforehand). No real plan or apply happens; the workflows run the
real Terraform.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.actions_runner import Job, Runner
from tests.conftest import ALL_STANDINS, ROOT, standin_path

WORKFLOWS = ROOT / ".github" / "workflows"
SHA = "5d41402abc4b2a76b9719d911017c592ae1b2c3d"
OK = {"init": "init_ok", "plan": "plan_changes", "show": "show_text_changes", "apply": "apply_ok",
      "validate": "validate_ok"}  # fmt: skip
PROD_JOBS = ["main-only", "plan-base", "apply-base", "plan-workers", "apply-workers", "plan-platform",
             "apply-platform"]  # fmt: skip


class Dispatch:
    """A workspace after `make synth` (three stacks), the stand-ins on PATH, and a scenario for Terraform."""

    def __init__(self, root: Path, env: str = "prod") -> None:
        self.root = root
        self.env = env
        self.ws = root / "ws"
        for stack in ("base", "workers", "platform"):
            (self.ws / "cdktf.out" / "stacks" / stack).mkdir(parents=True)
            (self.ws / "cdktf.out" / "stacks" / stack / "cdk.tf.json").write_text(json.dumps({"stack": stack}))
        for name in ("scripts", "terraform.env", ".venv"):
            (self.ws / name).symlink_to(ROOT / name)
        self.bin = root / "bin"
        self.bin.mkdir()
        (self.bin / "python").symlink_to(sys.executable)
        self.scenario: dict[str, dict[str, str]] = {"*": dict(OK)}
        for stack in ("base", "workers", "platform"):
            self.scenario[stack] = {"output -json": f"file:outputs/{stack}.json"}
        self.before: dict[str, Any] = {}

    def given(self, stack: str, command: str, recording: str) -> Dispatch:
        self.scenario.setdefault(stack, {})[command] = recording
        return self

    def environ(self, pulls: list[dict[str, Any]] | None = None) -> dict[str, str]:
        (self.root / "scenario.json").write_text(json.dumps(self.scenario))
        return {
            "PATH": standin_path(
                self.root / "standin-bin", ALL_STANDINS, f"{self.bin}{os.pathsep}{os.environ['PATH']}"
            ),
            "PYTHONPATH": str(ROOT),
            "STANDIN_TERRAFORM_SCENARIO": str(self.root / "scenario.json"),
            "STANDIN_TERRAFORM_LOG": str(self.root / "terraform.jsonl"),
            "STANDIN_TERRAFORM_STATE": str(self.root / "applied.json"),
            "STANDIN_GH_LOG": str(self.root / "gh.jsonl"),
            "STANDIN_GH_PULLS": json.dumps(pulls or []),
        }

    def run(self, *, ref: str = "refs/heads/main", event: str = "workflow_dispatch",
            pulls: list[dict[str, Any]] | None = None, reason: str = "a reviewed change",
            until: str | None = None) -> dict[str, Job]:  # fmt: skip
        """Dispatch the workflow: every job in order, or the jobs up to and including ``until``."""
        self.dispatched: dict[str, Any] = {"ref": ref, "event": event, "pulls": pulls, "reason": reason}
        return self._run_from({}, until)

    def _run_from(self, done: dict[str, Job], until: str | None) -> dict[str, Job]:
        args = self.dispatched
        env = self.environ(args["pulls"])
        name = "terraform-deploy-prod.yml" if self.env == "prod" else "terraform-deploy-dev.yml"
        runner = Runner(WORKFLOWS / name, self.ws, inputs={"reason": args["reason"]}, env=env,
                        github={"sha": SHA, "ref": args["ref"], "repository": "ilities/viberglass-infra",
                                "event_name": args["event"]},
                        secrets={"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/viberglass-apply"})  # fmt: skip
        self.runner = runner
        jobs = dict(done)
        runner.jobs.update(done)
        for job in runner.order():
            if job in jobs:
                continue
            if job in self.before:
                self.before[job](self)
            jobs[job] = runner.jobs[job] = runner._job(job)
            if job == until:
                break
        self.jobs = jobs
        return jobs

    def fork(self, root: Path, **dispatched: Any) -> Dispatch:
        """A copy, in ``root``, of this dispatch stopped part-way (``run(until=...)``): workspace, artifacts,
        the stand-ins' state and logs, the finished jobs and their results. ``resume()`` runs the rest as the
        same dispatch would have (``dispatched`` may change what only the remaining jobs read, e.g. ``pulls``),
        so the tests of one scenario share its first jobs instead of running them again."""
        shutil.copytree(self.root, root, symlinks=True, dirs_exist_ok=True)
        other = copy.copy(self)
        other.root, other.ws, other.bin = root, root / "ws", root / "bin"
        other.scenario = copy.deepcopy(self.scenario)
        other.before = {}
        other.dispatched = {**self.dispatched, **dispatched}
        other.jobs = copy.deepcopy(self.jobs)
        return other

    def resume(self, until: str | None = None) -> dict[str, Job]:
        return self._run_from(self.jobs, until)

    def terraform(self) -> list[tuple[str, str]]:
        """(stack, command) of every Terraform call, in order."""
        path = self.root / "terraform.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [(c["stack"], c["args"][0]) for c in map(json.loads, lines)]

    def applied(self) -> list[str]:
        path = self.root / "applied.json"
        return list(json.loads(path.read_text())) if path.exists() else []

    def record(self, stack: str) -> Path:
        return self.runner.artifacts / f"reviewed-{stack}" / f"{stack}.json"


@pytest.fixture
def dispatch(tmp_path: Path) -> Dispatch:
    return Dispatch(tmp_path)


def results(jobs: dict[str, Job]) -> dict[str, str]:
    return {name: job.result for name, job in jobs.items()}


# -- prod: one plan -> approve -> apply round per stack ------------------------------------------------------------


def test_a_new_cross_stack_output_applies_in_one_prod_dispatch(base_unchanged: Dispatch, tmp_path: Path) -> None:
    """workers adds an output platform reads: platform cannot even be planned until workers is applied, and
    the dispatch plans it after that apply, so platform's reviewed plan holds the real upstream value. (Base,
    without changes, is the shared first jobs of ``base_unchanged``.)"""
    dispatch = base_unchanged.fork(tmp_path / "dispatch")
    dispatch.given("workers", "show -json", "file:plans/prod_workers_new_output.json")
    dispatch.given("workers", "show -json after workers", "file:plans/noop.json")
    dispatch.given("platform", "plan", "plan_missing_new_workers_output")
    dispatch.given("platform", "plan after workers", "plan_changes")
    dispatch.given("platform", "show -json", "file:plans/prod_platform_new_parameter.json")
    jobs = dispatch.resume()
    assert results(jobs) == {"main-only": "success", "plan-base": "success", "apply-base": "skipped",
                             "plan-workers": "success", "apply-workers": "success", "plan-platform": "success",
                             "apply-platform": "success"}, {n: j.log[-2000:] for n, j in jobs.items()}  # fmt: skip
    assert dispatch.applied() == ["workers", "platform"]
    calls = dispatch.terraform()
    assert calls.index(("workers", "apply")) < calls.index(("platform", "plan"))
    assert [j.environment for j in jobs.values() if j.result == "success"] == [
        "", "prod-plan", "prod-plan", "prod", "prod-plan", "prod"]  # fmt: skip


def test_planning_every_stack_first_cannot_work_for_a_new_output(dispatch: Dispatch) -> None:
    """What the old workflow did (every plan before any apply): the same change fails at platform's plan."""
    dispatch.given("platform", "plan", "plan_missing_new_workers_output")
    dispatch.given("platform", "plan after workers", "plan_changes")
    result = subprocess.run(["scripts/ci/stack.sh", "plan", "prod", "platform"], cwd=dispatch.ws,
                            env={**os.environ, **dispatch.environ(), "GITHUB_SHA": SHA},
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert result.returncode == 1
    assert "::error::prod/platform: plan failed: Error: Unsupported attribute" in result.stdout


def test_a_fresh_environment_deploys_in_one_dispatch(dispatch: Dispatch) -> None:
    """No state at all: each stack is planned once its upstream exists, and everything is applied."""
    dispatch.given("base", "show -json", "file:plans/create.json")
    dispatch.given("workers", "plan", "plan_missing_base_output")
    dispatch.given("workers", "plan after base", "plan_changes")
    dispatch.given("workers", "show -json", "file:plans/fresh_workers.json")
    dispatch.given("platform", "plan", "plan_missing_new_workers_output")
    dispatch.given("platform", "plan after workers", "plan_changes")
    dispatch.given("platform", "show -json", "file:plans/fresh_platform.json")
    jobs = dispatch.run()
    assert set(results(jobs).values()) == {"success"}, {n: j.log[-2000:] for n, j in jobs.items()}
    assert dispatch.applied() == ["base", "workers", "platform"]
    assert "aws_ecs_service.service_service_99887766" in jobs["apply-platform"].summary
    # A new task definition comes with a new service that runs it: nothing to redeploy.
    assert "run: Redeploy the running backend image on Terraform's new task definition" not in (
        jobs["apply-platform"].steps)  # fmt: skip


def test_a_stack_without_changes_needs_no_approval(platform_upstream: Dispatch, tmp_path: Path) -> None:
    """No stack changes (base and workers: the shared first jobs of ``platform_upstream``, whose plans show
    no changes; platform planned here with none either)."""
    dispatch = platform_upstream.fork(tmp_path / "dispatch").given("platform", "show -json", "file:plans/noop.json")
    jobs = dispatch.resume()
    assert [n for n, r in results(jobs).items() if r == "skipped"] == ["apply-base", "apply-workers", "apply-platform"]
    assert dispatch.applied() == [] and "apply" not in {c for _, c in dispatch.terraform()}


def _platform_changes(dispatch: Dispatch) -> Dispatch:
    for stack in ("base", "workers"):
        dispatch.given(stack, "show -json", "file:plans/noop.json")
    return dispatch.given("platform", "show -json", "file:plans/prod_platform_new_parameter.json")


@pytest.fixture(scope="module")
def base_unchanged(tmp_path_factory: pytest.TempPathFactory) -> Dispatch:
    """A prod dispatch from main whose base plan shows no changes, run up to base's (skipped) apply: the
    scenarios that change only later stacks fork it (``Dispatch.fork``) and give those stacks' answers."""
    dispatch = Dispatch(tmp_path_factory.mktemp("base-unchanged")).given("base", "show -json", "file:plans/noop.json")
    dispatch.run(until="apply-base")
    return dispatch


@pytest.fixture(scope="module")
def platform_upstream(base_unchanged: Dispatch, tmp_path_factory: pytest.TempPathFactory) -> Dispatch:
    """A dispatch that changes platform only, run up to platform's plan: base and workers planned, nothing to
    apply. The tests of platform's plan and apply fork it (``Dispatch.fork``) instead of running these jobs
    again."""
    dispatch = _platform_changes(base_unchanged.fork(tmp_path_factory.mktemp("platform-upstream")))
    dispatch.resume(until="apply-workers")
    return dispatch


@pytest.fixture(scope="module")
def platform_planned(platform_upstream: Dispatch, tmp_path_factory: pytest.TempPathFactory) -> Dispatch:
    """The same dispatch after platform's plan for review: every test of the apply job forks it."""
    dispatch = platform_upstream.fork(tmp_path_factory.mktemp("platform-planned"))
    dispatch.resume(until="plan-platform")
    return dispatch


def _refused(jobs: dict[str, Job], dispatch: Dispatch, said: str) -> None:
    assert jobs["apply-platform"].result == "failure"
    assert said in jobs["apply-platform"].log, jobs["apply-platform"].log[-3000:]
    assert "refusing to apply a plan that differs from the reviewed one" in jobs["apply-platform"].log
    assert "::error::prod/platform: not the reviewed plan" in jobs["apply-platform"].log
    assert (
        "### `prod/platform` not applied" in jobs["apply-platform"].summary and said in jobs["apply-platform"].summary
    )
    assert dispatch.applied() == []


def test_a_plan_that_changed_since_review_is_refused(platform_planned: Dispatch, tmp_path: Path) -> None:
    """Stale: the state changed between review and approval, so the apply job's plan has another change."""

    def drift(d: Dispatch) -> None:
        d.given("platform", "show -json", "file:plans/prod_platform_drifted.json")
        (d.root / "scenario.json").write_text(json.dumps(d.scenario))

    dispatch = platform_planned.fork(tmp_path / "dispatch")
    dispatch.before["apply-platform"] = drift
    jobs = dispatch.resume()
    _refused(jobs, dispatch, "aws_ecs_service.service_service_99887766: planned now (update), not in the reviewed plan")


def test_same_changes_with_other_values_are_refused(platform_planned: Dispatch, tmp_path: Path) -> None:
    """Same addresses and actions, another value: the value fingerprints of the review record catch it."""

    def other(d: Dispatch) -> None:
        d.given("platform", "show -json", "file:plans/prod_platform_other_value.json")
        (d.root / "scenario.json").write_text(json.dumps(d.scenario))

    dispatch = platform_planned.fork(tmp_path / "dispatch")
    dispatch.before["apply-platform"] = other
    jobs = dispatch.resume()
    _refused(jobs, dispatch, "planned values differ from the reviewed plan")


def test_a_tampered_review_record_is_refused(platform_planned: Dispatch, tmp_path: Path) -> None:
    def tamper(d: Dispatch) -> None:
        record = json.loads(d.record("platform").read_text())
        record["plan"]["changes"] = []  # "nothing to see here"
        d.record("platform").write_text(json.dumps(record))

    dispatch = platform_planned.fork(tmp_path / "dispatch")
    dispatch.before["apply-platform"] = tamper
    jobs = dispatch.resume()
    _refused(jobs, dispatch, "not in the reviewed plan")


def test_other_code_than_the_reviewed_is_refused(platform_planned: Dispatch, tmp_path: Path) -> None:
    def recode(d: Dispatch) -> None:
        (d.ws / "cdktf.out/stacks/platform/cdk.tf.json").write_text(json.dumps({"stack": "platform", "new": 1}))

    dispatch = platform_planned.fork(tmp_path / "dispatch")
    dispatch.before["apply-platform"] = recode
    jobs = dispatch.resume()
    _refused(jobs, dispatch, "the synthesized stack differs from the one planned for review")


def test_terraform_refusing_a_stale_saved_plan_fails_the_apply_and_says_so(
    platform_planned: Dispatch, tmp_path: Path
) -> None:
    dispatch = platform_planned.fork(tmp_path / "dispatch").given("platform", "apply", "apply_stale_plan")
    jobs = dispatch.resume()
    assert jobs["apply-platform"].result == "failure"
    assert "apply failed" in jobs["apply-platform"].summary and "Saved plan is stale" in jobs["apply-platform"].summary


def test_prod_is_dispatched_from_main_only(dispatch: Dispatch) -> None:
    jobs = dispatch.run(ref="refs/heads/my-feature")
    assert results(jobs) == {"main-only": "failure", **dict.fromkeys(PROD_JOBS[1:], "skipped")}
    assert "prod is deployed from main only; this run is on refs/heads/my-feature" in jobs["main-only"].log
    assert dispatch.terraform() == []


def test_a_failed_plan_stops_the_stacks_after_it(dispatch: Dispatch) -> None:
    dispatch.given("base", "plan", "plan_auth_failure")
    jobs = dispatch.run()
    assert results(jobs) == {"main-only": "success", "plan-base": "failure", **dict.fromkeys(PROD_JOBS[2:], "skipped")}
    assert "::error::prod/base: plan failed: Error: Retrieving AWS account details" in jobs["plan-base"].log


@pytest.fixture(scope="module")
def platform_change(
    platform_planned: Dispatch, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Dispatch, dict[str, Job]]:
    """One dispatch that changes platform only, run to the end, shared by the tests that read what it left."""
    dispatch = platform_planned.fork(tmp_path_factory.mktemp("platform-change"))
    return dispatch, dispatch.resume()


def test_the_plan_summary_shows_the_reason_and_the_redacted_plan(
    platform_change: tuple[Dispatch, dict[str, Job]],
) -> None:
    _, jobs = platform_change
    summary = jobs["plan-platform"].summary
    assert "**Reason** (as dispatched):\n\n```\na reviewed change\n```\n" in summary
    assert "discovery-deployment-workersRoleArn_parameter_0A1B2C3D" in summary and "## Terraform plans" in summary


HOSTILE_REASON = (
    "fix ```\n</code><img src=x onerror=alert(1)> [approve](https://evil.example)\n"
    "````\n# Looks reviewed ${{ secrets.AWS_ROLE_ARN }} `$(id)`\n<details open>"
)


def test_a_hostile_reason_is_shown_verbatim_and_renders_nothing(platform_upstream: Dispatch, tmp_path: Path) -> None:
    """Whoever dispatches writes the reason, and reviewers approve from the job summary: backticks, HTML,
    links, headings, newlines and `${{` stay text in one code block (CommonMark, as GitHub renders it).
    Only platform's plan job is run with the hostile reason (the jobs before it, forked, do not show it)."""
    from markdown_it import MarkdownIt

    dispatch = platform_upstream.fork(tmp_path / "dispatch", reason=HOSTILE_REASON)
    jobs = dispatch.resume(until="plan-platform")
    summary = jobs["plan-platform"].summary
    tokens = MarkdownIt("commonmark").parse(summary)
    (block,) = [t for t in tokens if t.type == "fence" and "onerror" in t.content]
    assert block.content == HOSTILE_REASON + "\n"
    html_tokens = [t.content for t in tokens if t.type in ("html_block", "html_inline")]
    assert not [t for t in html_tokens if "onerror" in t or "<details open>" in t]
    html = MarkdownIt("commonmark").render(summary)
    assert "<img" not in html and 'href="https://evil.example"' not in html and "<h1>Looks" not in html
    assert "$(id)" in html and "uid=" not in summary  # nothing of it ran


def test_only_the_value_free_review_record_travels(platform_change: tuple[Dispatch, dict[str, Job]]) -> None:
    dispatch, _ = platform_change
    stored = sorted(str(p.relative_to(dispatch.runner.artifacts)) for p in dispatch.runner.artifacts.rglob("*")
                    if p.is_file())  # fmt: skip
    assert stored == ["reviewed-base/base.json", "reviewed-platform/platform.json", "reviewed-workers/workers.json"]
    record = dispatch.record("platform").read_text()
    assert "arn:aws:iam::123456789012:role/viberglass-prod-workers-deploy" not in record  # values only as hashes


# -- after every apply: the job summary, and the merged pull request for dev ------------------------------------


def test_every_apply_reports_changes_outputs_and_links(platform_change: tuple[Dispatch, dict[str, Job]]) -> None:
    _, jobs = platform_change
    summary = jobs["apply-platform"].summary
    assert "### `prod/platform` applied" in summary
    assert "| create | `aws_ssm_parameter.discovery-deployment-workersRoleArn_parameter_0A1B2C3D` |" in summary
    assert "| `api_url` | [https://api.viberglass.example](https://api.viberglass.example) |" in summary
    assert "[Run](https://github.com/ilities/viberglass-infra/actions/runs/4242)" in summary
    assert f"(https://github.com/ilities/viberglass-infra/commit/{SHA})" in summary


def _dev(tmp_path: Path) -> Dispatch:
    dev = Dispatch(tmp_path, env="dev")
    dev.given("base", "show -json", "file:plans/mixed_base.json")
    dev.given("workers", "show -json", "file:plans/prod_workers_new_output.json")
    dev.given("platform", "show -json", "file:plans/prod_platform_new_parameter.json")
    return dev


MERGED: list[dict[str, Any]] = [{"number": 41, "merged_at": None, "merge_commit_sha": "0" * 40},
          {"number": 42, "merged_at": "2026-11-27T10:00:00Z", "merge_commit_sha": SHA}]  # fmt: skip


def _comments(dev: Dispatch) -> list[dict[str, Any]]:
    lines = (dev.root / "gh.jsonl").read_text().splitlines() if (dev.root / "gh.jsonl").exists() else []
    return [c for c in map(json.loads, lines) if "--method" in c["args"]]


@pytest.fixture(scope="module")
def dev_pushed(tmp_path_factory: pytest.TempPathFactory) -> Dispatch:
    """A push to main that changes every dev stack, run up to the end of its deploy job: the tests of the
    comment job fork it (``Dispatch.fork``), each with the pull requests GitHub lists for the commit."""
    dev = _dev(tmp_path_factory.mktemp("dev-pushed"))
    dev.run(event="push", pulls=MERGED, until="deploy")
    return dev


def test_a_dev_apply_comments_on_the_merged_pull_request(dev_pushed: Dispatch, tmp_path: Path) -> None:
    dev = dev_pushed.fork(tmp_path / "dev")
    jobs = dev.resume()
    assert results(jobs) == {"deploy": "success", "comment": "success"}, jobs["deploy"].log[-3000:]
    assert dev.applied() == ["base", "workers", "platform"]
    (comment,) = _comments(dev)
    assert comment["args"][:4] == ["api", "--method", "POST", "repos/ilities/viberglass-infra/issues/42/comments"]
    body = comment["body"]
    assert body.startswith("<!-- viberglass-apply:dev -->\n## Applied to `dev`")
    for stack in ("base", "workers", "platform"):
        assert f"### `dev/{stack}` applied" in body
    assert "| delete | `aws_nat_gateway.network_nat-b_1A2B3C4D` |" in body


def test_an_open_pull_request_with_the_commit_is_not_the_merged_one(dev_pushed: Dispatch, tmp_path: Path) -> None:
    """A rebase merge: the pushed commit is no pull request's merge commit, and an open branch built on it
    lists it too; the comment goes to the merged pull request."""
    pulls: list[dict[str, Any]] = [
        {"number": 43, "merged_at": None, "merge_commit_sha": "1" * 40},
        {"number": 42, "merged_at": "2026-11-27T10:00:00Z", "merge_commit_sha": "2" * 40},
    ]
    dev = dev_pushed.fork(tmp_path / "dev", pulls=pulls)
    assert dev.resume()["comment"].result == "success"
    (comment,) = _comments(dev)
    assert comment["args"][3] == "repos/ilities/viberglass-infra/issues/42/comments"


def test_a_failed_dev_apply_says_so_on_the_pull_request(tmp_path: Path) -> None:
    dev = _dev(tmp_path).given("platform", "apply", "apply_stale_plan")
    jobs = dev.run(event="push", pulls=MERGED)
    assert (jobs["deploy"].result, jobs["comment"].result) == ("failure", "success")
    (comment,) = _comments(dev)
    assert "**The `dev` apply failed**" in comment["body"] and "`dev/platform` apply failed" in comment["body"]


def test_dev_is_dispatched_from_main_only(tmp_path: Path) -> None:
    """A dispatch runs the dispatched branch's code with the dev apply role and no review."""
    dev = _dev(tmp_path)
    jobs = dev.run(ref="refs/heads/my-feature")
    assert jobs["deploy"].result == "failure"
    assert "dev is applied from main only; this run is on refs/heads/my-feature" in jobs["deploy"].log
    assert dev.terraform() == [] and dev.applied() == []


def test_a_direct_push_or_a_dispatch_gets_no_comment(dev_pushed: Dispatch, tmp_path: Path) -> None:
    dev = dev_pushed.fork(tmp_path / "dev", pulls=[])
    assert dev.resume()["comment"].result == "success"
    assert _comments(dev) == []
    # A dispatch: the comment job is decided on the event (the deploy job before it is forked, not re-run).
    dispatched = dev_pushed.fork(tmp_path / "again", event="workflow_dispatch")
    assert dispatched.resume()["comment"].result == "skipped"
    assert _comments(dispatched) == []
