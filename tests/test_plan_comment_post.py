"""The plan workflow's "Create or update the single plan comment" step, run as written with a STAND-IN for
the GitHub CLI (`tests/standin/gh`, first on PATH; GitHub cannot be reached from here). The stand-in
answers "list issue comments" with the pages given here, in GitHub's shape, and records every call.

Anyone who can comment on a pull request can post a comment that starts with the plan comment's marker:
the step must update only the comment the workflow's own bot wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ops.plan_comment import MARKER
from tests.conftest import ROOT, load_yaml

STANDIN = ROOT / "tests" / "standin"
BOT = {"login": "github-actions[bot]", "type": "Bot"}
STEP = "Create or update the single plan comment"


def comment(id_: int, user: dict[str, str], body: str) -> dict[str, Any]:
    return {"id": id_, "user": user, "body": body}


def _step() -> dict[str, Any]:
    workflow = load_yaml(ROOT / ".github" / "workflows" / "terraform-plan.yml")
    (step,) = [s for s in workflow["jobs"]["comment"]["steps"] if s.get("name") == STEP]
    return dict(step)


def post(tmp_path: Path, *pages: list[dict[str, Any]]) -> list[list[str]]:
    """Run the step with these comment pages; the gh calls it made that write (PATCH or POST)."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").symlink_to(sys.executable)
    (tmp_path / "comment.md").write_text(f"{MARKER}\n## Terraform plan: no changes\n")
    (tmp_path / "scripts").symlink_to(ROOT / "scripts")
    env = {
        **os.environ,
        "PATH": f"{tmp_path / 'bin'}{os.pathsep}{STANDIN}{os.pathsep}{os.environ['PATH']}",
        "STANDIN_GH_LOG": str(tmp_path / "gh.jsonl"),
        "STANDIN_GH_COMMENTS": "".join(json.dumps(page) for page in pages),
        "GH_TOKEN": "test",
        "REPO": "ilities/viberglass-infra",
        "PR": "7",
    }
    subprocess.run(["bash", "-e", "-c", _step()["run"]], cwd=tmp_path, env=env, check=True)
    calls = [json.loads(line) for line in (tmp_path / "gh.jsonl").read_text().splitlines()]
    return [c["args"] for c in calls if "--method" in c["args"]]


def test_the_bots_own_comment_is_updated(tmp_path: Path) -> None:
    writes = post(tmp_path, [comment(11, {"login": "alice", "type": "User"}, "looks good"),
                             comment(12, BOT, f"{MARKER}\nold plan")])  # fmt: skip
    assert writes == [["api", "--method", "PATCH", "repos/ilities/viberglass-infra/issues/comments/12", "-F",
                       "body=@comment.md"]]  # fmt: skip


@pytest.mark.parametrize(
    "forged",
    [
        {"login": "mallory", "type": "User"},  # the pull request's author, pasting the marker
        {"login": "github-actions", "type": "User"},  # a user named like the bot
        {"login": "github-actions[bot]", "type": "User"},  # the login without the bot type
        {"login": "some-app[bot]", "type": "Bot"},  # another App's bot
    ],
)
def test_a_marked_comment_of_anyone_else_is_never_edited(tmp_path: Path, forged: dict[str, str]) -> None:
    """Posted before the bot's (so a marker-only search finds it first), on page one of two."""
    writes = post(tmp_path, [comment(21, forged, f"{MARKER}\n## Terraform plan: no changes")],
                  [comment(22, BOT, f"{MARKER}\nthe real plan")])  # fmt: skip
    assert writes == [["api", "--method", "PATCH", "repos/ilities/viberglass-infra/issues/comments/22", "-F",
                       "body=@comment.md"]]  # fmt: skip


def test_only_a_forged_comment_means_a_new_one(tmp_path: Path) -> None:
    writes = post(tmp_path, [comment(31, {"login": "mallory", "type": "User"}, f"{MARKER}\nfake")])
    assert writes == [["api", "--method", "POST", "repos/ilities/viberglass-infra/issues/7/comments", "-F",
                       "body=@comment.md"]]  # fmt: skip


def test_a_bot_comment_without_the_marker_is_not_the_plan(tmp_path: Path) -> None:
    writes = post(tmp_path, [comment(41, BOT, f"Applied.\n{MARKER}")])
    assert writes[0][2] == "POST"


def test_the_script_and_ops_agree_on_the_marker() -> None:
    text = (ROOT / "scripts" / "ci" / "plan_comment_post.py").read_text()
    assert f'MARKER = "{MARKER}"' in text
