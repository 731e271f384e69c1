"""Open, update or close one GitHub issue per environment from a scheduled plan (terraform-drift.yml).

    python scripts/ci/drift_issues.py --digest-dir DIR --run-url URL dev prod

Each environment's plan job leaves DIR/<env>.json (a value-free digest from ``ops plan-comment``). An
environment whose plan has changes, drift, a failed or a not-planned stack gets an open issue (found
again by a hidden marker, so there is exactly one per environment) whose body is the rendered summary;
when the environment plans clean again, that issue is closed with a comment. Uses the ``gh`` CLI with
GH_TOKEN; standard library otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ops import plan_comment


def marker(env: str) -> str:
    return f"<!-- viberglass-drift:{env} -->"


@dataclass(frozen=True)
class Action:
    kind: str  # create | update | close | none
    env: str
    number: int | None = None
    title: str = ""
    body: str = ""


def needs_attention(plans: list[plan_comment.StackPlan]) -> bool:
    return any(p.status != "planned" or p.has_changes or p.drift for p in plans)


# How `gh issue list --json author` names the workflow's own bot (GITHUB_TOKEN's issues).
BOT_LOGINS = {"app/github-actions", "github-actions", "github-actions[bot]"}


def by_the_bot(issue: dict[str, Any]) -> bool:
    """Opened by the workflow's own bot: anyone may open an issue carrying the marker, and the job would
    then edit or close theirs (whose author can change it again) instead of reporting the drift."""
    author = issue.get("author") or {}
    return bool(author.get("is_bot")) and author.get("login") in BOT_LOGINS


def decide(env: str, plans: list[plan_comment.StackPlan], issues: list[dict[str, Any]], run_url: str) -> Action:
    """What to do with ``env``'s issue, given its plan and the open issues (number, body, author): only an
    issue the bot opened counts."""
    existing = next((i for i in issues if by_the_bot(i) and marker(env) in str(i.get("body", ""))), None)
    number = int(existing["number"]) if existing else None
    if not needs_attention(plans):
        if number is None:
            return Action("none", env)
        return Action("close", env, number, body=f"The scheduled plan of `{env}` is clean again: {run_url}")
    failed = any(p.status == "failed" for p in plans)
    title = f"Terraform {'drift check failed' if failed else 'drift'} in {env}"
    comment = plan_comment.render(plans, full_plan=f"the job summary of {run_url}", limit=60_000)
    body = f"{marker(env)}\nThe scheduled plan of `{env}` differs from `main` ({run_url}).\n\n{comment}"
    return Action("update" if number else "create", env, number, title, body)


def gh(*args: str) -> str:
    # gh from PATH with fixed arguments (titles and bodies are ours): S603/S607 do not apply.
    return subprocess.run(["gh", *args], check=True, capture_output=True, text=True).stdout  # noqa: S603, S607


def apply(action: Action) -> None:
    if action.kind == "none":
        print(f"{action.env}: clean, no open drift issue")
        return
    if action.kind == "close":
        gh("issue", "close", str(action.number), "--comment", action.body)
        print(f"{action.env}: clean again, closed #{action.number}")
        return
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as body:
        body.write(action.body)
    if action.kind == "create":
        gh("issue", "create", "--title", action.title, "--body-file", body.name)
        print(f"{action.env}: opened a drift issue")
    else:
        gh("issue", "edit", str(action.number), "--title", action.title, "--body-file", body.name)
        print(f"{action.env}: updated #{action.number}")
    Path(body.name).unlink()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digest-dir", required=True)
    parser.add_argument("--run-url", required=True)
    parser.add_argument("envs", nargs="+")
    args = parser.parse_args(argv)
    issues = json.loads(gh("issue", "list", "--state", "open", "--limit", "200", "--json", "number,body,author"))
    for env in args.envs:
        plans = plan_comment.load_digest(Path(args.digest_dir) / f"{env}.json", fallback_name=env)
        apply(decide(env, plans, issues, args.run_url))
    return 0


if __name__ == "__main__":
    sys.exit(main())
