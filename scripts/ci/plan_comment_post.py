"""Create or update the one plan comment of a pull request (terraform-plan.yml, job `comment`).

    python scripts/ci/plan_comment_post.py --repo OWNER/NAME --pr NUMBER --body FILE

The comment to update is the oldest one that **the workflow's own bot wrote** (`github-actions[bot]`, a
`Bot`) and that starts with the plan comment's marker. Anyone may post a comment starting with the marker
on a pull request: matching on the marker alone would have the bot edit that comment (its author can
change it again afterwards, hiding the real plan) or leave the real one stale. Without such a comment a new
one is posted. Uses the ``gh`` CLI with GH_TOKEN (the job's token, pull-requests: write); standard library
otherwise.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

MARKER = "<!-- viberglass-plan-comment -->"  # ops/plan_comment.py MARKER (a test keeps them equal)
BOT = "github-actions[bot]"  # the login of GITHUB_TOKEN's comments


def gh(*args: str) -> str:
    # gh from PATH with fixed arguments (paths and numbers are ours): S603/S607 do not apply.
    return subprocess.run(["gh", *args], check=True, capture_output=True, text=True).stdout  # noqa: S603, S607


def pages(text: str) -> list[Any]:
    """`gh api --paginate` prints one JSON array per page, one after another: every element of all."""
    decoder, found, at = json.JSONDecoder(), [], 0
    while at < len(text):
        if text[at].isspace():
            at += 1
            continue
        page, at = decoder.raw_decode(text, at)
        found += page if isinstance(page, list) else [page]
    return found


def ours(comment: Any) -> bool:
    """The bot's own plan comment: the bot wrote it, and it starts with the marker."""
    if not isinstance(comment, dict):
        return False
    user = comment.get("user") or {}
    return user.get("login") == BOT and user.get("type") == "Bot" and str(comment.get("body", "")).startswith(MARKER)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--pr", required=True, type=int)
    parser.add_argument("--body", required=True, metavar="FILE")
    args = parser.parse_args(argv)
    comments = pages(gh("api", f"repos/{args.repo}/issues/{args.pr}/comments", "--paginate"))
    mine = [c for c in comments if ours(c)]
    if mine:
        gh("api", "--method", "PATCH", f"repos/{args.repo}/issues/comments/{mine[0]['id']}", "-F", f"body=@{args.body}")
    else:
        gh("api", "--method", "POST", f"repos/{args.repo}/issues/{args.pr}/comments", "-F", f"body=@{args.body}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
