"""Comment what an apply did on the pull request whose merge it deployed (terraform-deploy-dev.yml).

    python scripts/ci/apply_comment.py --env dev --reports DIR --repo OWNER/NAME --sha SHA --result R --run-url URL

DIR holds the apply job's report/<stack>.md files (``ops apply-report``: value-free). The pull request is found
from the commit with GitHub's "list pull requests associated with a commit" API (GET
repos/{repo}/commits/{sha}/pulls), preferring the one whose merge commit is SHA; a commit no merged pull request
brought (a direct push) gets no comment. Uses the ``gh`` CLI with GH_TOKEN (the job's token, which needs
pull-requests: write); standard library otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

STACKS = ("base", "workers", "platform")
MARKER = "<!-- viberglass-apply:{env} -->"
LIMIT = 65_000


def gh(*args: str) -> str:
    # gh from PATH with fixed arguments (paths and bodies are ours): S603/S607 do not apply.
    return subprocess.run(["gh", *args], check=True, capture_output=True, text=True).stdout  # noqa: S603, S607


def merged_pull_request(repo: str, sha: str) -> dict[str, Any] | None:
    pulls = json.loads(gh("api", f"repos/{repo}/commits/{sha}/pulls") or "[]")
    merged = [p for p in pulls if isinstance(p, dict) and p.get("merged_at")]
    exact = [p for p in merged if p.get("merge_commit_sha") == sha]
    found = exact or merged
    return found[0] if found else None


def body(env: str, reports: Path, sha: str, result: str, run_url: str) -> str:
    head = {"success": f"Applied to `{env}`", "failure": f"**The `{env}` apply failed**",
            "skipped": f"`{env}` was not applied"}.get(result, f"`{env}` apply: {result}")  # fmt: skip
    parts = [MARKER.format(env=env), f"## {head} ({sha[:12]})", "", f"[The run]({run_url})", ""]
    found = [reports / f"{stack}.md" for stack in STACKS if (reports / f"{stack}.md").is_file()]
    if not found:
        parts.append("No stack was applied (see the run).")
    parts += [path.read_text(encoding="utf-8") for path in found]
    text = "\n".join(parts)
    return text if len(text) <= LIMIT else text[: LIMIT - 60].rsplit("\n", 1)[0] + "\n\n[... cut: see the run]\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True)
    parser.add_argument("--reports", required=True, type=Path)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--sha", required=True)
    parser.add_argument("--result", default="success")
    parser.add_argument("--run-url", required=True)
    args = parser.parse_args(argv)
    pull = merged_pull_request(args.repo, args.sha)
    if pull is None:
        print(f"{args.sha} was not merged by a pull request: no comment")
        return 0
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as file:
        file.write(body(args.env, args.reports, args.sha, args.result, args.run_url))
    try:
        gh("api", "--method", "POST", f"repos/{args.repo}/issues/{pull['number']}/comments", "-F", f"body=@{file.name}")
    finally:
        Path(file.name).unlink()
    print(f"commented on #{pull['number']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
