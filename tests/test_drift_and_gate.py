"""The drift issue logic (scripts/ci/drift_issues.py) and the prod destroy gate (scripts/ci/plan_gate.py).

GitHub cannot be reached from here: `tests/standin/gh`, first on PATH, is a STAND-IN for the GitHub CLI that
records its calls and answers `gh issue list` with the issues a test gives it.
"""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ops import plan_comment
from tests.conftest import ROOT, standin_path

PLANS = ROOT / "tests" / "fixtures" / "plans"
drift = runpy.run_path(str(ROOT / "scripts" / "ci" / "drift_issues.py"))
gate = runpy.run_path(str(ROOT / "scripts" / "ci" / "plan_gate.py"))
RUN = "https://github.com/o/r/actions/runs/1"
# How `gh issue list --json author` shows an issue GITHUB_TOKEN opened.
BOT = {"id": "BOT_kgDOAAAAAA", "is_bot": True, "login": "app/github-actions", "name": ""}


def stacks(*names: str, env: str = "prod") -> list[plan_comment.StackPlan]:
    return [plan_comment.load_plan(f"{env}/{n}", PLANS / f"{n}.json") for n in names]


# -- decisions -----------------------------------------------------------------------------------------------


def test_drift_opens_an_issue_with_the_rendered_summary() -> None:
    action = drift["decide"]("prod", stacks("drift", "noop"), [], RUN)
    assert (action.kind, action.number, action.title) == ("create", None, "Terraform drift in prod")
    assert action.body.startswith("<!-- viberglass-drift:prod -->")
    assert "1 resource changed outside Terraform" in action.body and RUN in action.body


def test_drift_updates_the_one_issue_of_its_environment() -> None:
    issues = [{"number": 7, "body": "<!-- viberglass-drift:dev -->\nold", "author": BOT},
              {"number": 9, "body": "<!-- viberglass-drift:prod -->\nold", "author": BOT}]  # fmt: skip
    action = drift["decide"]("prod", stacks("delete"), issues, RUN)
    assert (action.kind, action.number) == ("update", 9)


def test_a_clean_plan_closes_the_issue() -> None:
    issues = [{"number": 9, "body": "<!-- viberglass-drift:prod -->\nold", "author": BOT}]
    action = drift["decide"]("prod", stacks("noop", "read"), issues, RUN)
    assert (action.kind, action.number) == ("close", 9)
    assert RUN in action.body


@pytest.mark.parametrize(
    "author",
    [
        {"login": "mallory", "is_bot": False},  # anyone who can open an issue, pasting the marker
        {"login": "app/github-actions", "is_bot": False},
        {"login": "app/some-other-app", "is_bot": True},
        None,
    ],
)
def test_an_issue_with_the_marker_by_anyone_else_is_never_taken(author: dict[str, Any] | None) -> None:
    """Their issue is neither updated nor closed: drift opens the bot's own issue, a clean plan does nothing."""
    forged = [{"number": 5, "body": "<!-- viberglass-drift:prod -->\nall clean", "author": author}]
    assert drift["decide"]("prod", stacks("delete"), forged, RUN).kind == "create"
    assert drift["decide"]("prod", stacks("noop"), forged, RUN).kind == "none"
    both = [*forged, {"number": 9, "body": "<!-- viberglass-drift:prod -->\nold", "author": BOT}]
    assert (drift["decide"]("prod", stacks("delete"), both, RUN).number) == 9


def test_a_clean_plan_without_an_issue_does_nothing() -> None:
    assert drift["decide"]("dev", stacks("noop", env="dev"), [], RUN).kind == "none"


def test_a_failed_plan_is_reported_not_taken_for_clean() -> None:
    issues = [{"number": 9, "body": "<!-- viberglass-drift:prod -->\nold", "author": BOT}]
    plans = [plan_comment.failed("prod/base", "Error: No valid credential sources found")]
    action = drift["decide"]("prod", plans, issues, RUN)
    assert (action.kind, action.title) == ("update", "Terraform drift check failed in prod")


# -- the command against the stand-in gh ---------------------------------------------------------------------


def run_drift(tmp_path: Path, issues: list[dict[str, Any]], digests: dict[str, list[str]]) -> list[dict[str, Any]]:
    for env, fixtures in digests.items():
        plans = [plan_comment.load_plan(f"{env}/{f}", PLANS / f"{f}.json") for f in fixtures]
        (tmp_path / f"{env}.json").write_text(json.dumps(plan_comment.to_digest(plans)))
    environ = {**os.environ, "PATH": standin_path(tmp_path / "standin-bin"),
               "STANDIN_GH_LOG": str(tmp_path / "gh.jsonl"), "STANDIN_GH_ISSUES": json.dumps(issues)}  # fmt: skip
    subprocess.run([sys.executable, str(ROOT / "scripts/ci/drift_issues.py"), "--digest-dir", str(tmp_path),
                    "--run-url", RUN, "dev", "prod"], env=environ, check=True, capture_output=True)  # fmt: skip
    return [json.loads(line) for line in (tmp_path / "gh.jsonl").read_text().splitlines()]


def test_command_opens_for_the_drifted_environment_and_closes_the_clean_one(tmp_path: Path) -> None:
    calls = run_drift(tmp_path, [{"number": 3, "body": "<!-- viberglass-drift:dev -->", "author": BOT}],
                      {"dev": ["noop"], "prod": ["drift"]})  # fmt: skip
    assert calls[0]["args"][:2] == ["issue", "list"] and calls[0]["args"][-1] == "number,body,author"
    assert calls[1]["args"][:3] == ["issue", "close", "3"]
    assert calls[2]["args"][:4] == ["issue", "create", "--title", "Terraform drift in prod"]
    assert "<!-- viberglass-drift:prod -->" in calls[2]["body"]


def test_command_reports_a_missing_digest_as_a_failed_check(tmp_path: Path) -> None:
    calls = run_drift(tmp_path, [], {"dev": ["noop"]})
    (create,) = [c for c in calls if c["args"][:2] == ["issue", "create"]]
    assert create["args"][3] == "Terraform drift check failed in prod"


# -- the prod destroy gate ----------------------------------------------------------------------------------


def summary_of(*plans: plan_comment.StackPlan) -> dict[str, Any]:
    result: dict[str, Any] = plan_comment.summary(plans)
    return result


@pytest.mark.parametrize("fixture", ["delete", "replace_delete_first", "create_forget"])
def test_prod_destroy_without_the_label_fails(fixture: str) -> None:
    found = gate["problems"](summary_of(*stacks(fixture)), set())
    assert len(found) == 1 and "destroy-ok" in found[0]


def test_prod_destroy_with_the_label_passes() -> None:
    assert gate["problems"](summary_of(*stacks("delete")), {"destroy-ok"}) == []


def test_dev_destroys_and_prod_creates_pass() -> None:
    assert gate["problems"](summary_of(*stacks("delete", env="dev"), *stacks("create")), set()) == []


def test_gate_command_exit_status(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps(summary_of(*stacks("delete"))))
    (tmp_path / "labels").write_text("documentation\n")
    assert gate["main"]([str(tmp_path / "s.json"), str(tmp_path / "labels")]) == 1
    (tmp_path / "labels").write_text("documentation\ndestroy-ok\n")
    assert gate["main"]([str(tmp_path / "s.json"), str(tmp_path / "labels")]) == 0
