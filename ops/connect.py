"""``ops connect frontend``: connect the environment's Amplify app to the application repository, once.

Terraform creates the app without its repository, because connecting one takes a GitHub token
(``CreateApp``/``UpdateApp`` require ``accessToken``) that Terraform would keep in plan and state. This
command reads the token from stdin and hands it to ``UpdateApp`` with the repository; Amplify uses it to
install its GitHub App on the repository and does not keep it. Nothing stores or prints the token.
"""

from __future__ import annotations

import sys
from typing import TextIO

from ops import discovery
from ops.common import Report, aws_call, client, load_config
from ops.secrets import read_value


def repository_url(repository: str) -> str:
    return f"https://github.com/{repository}"


def frontend(env: str, *, reconnect: bool = False, stdin: TextIO | None = None, report: Report | None = None) -> bool:
    """Connect the app (True) or find it connected already (False; stdin is not read)."""
    report = report or Report()
    cfg = load_config(env)
    targets = discovery.read(env, "amplify/appId", "amplify/branchName", "amplify/region")
    app_id, branch = targets["amplify/appId"], targets["amplify/branchName"]
    amplify = client("amplify", targets["amplify/region"])
    wanted = repository_url(cfg.github.app_repository)
    app = aws_call("amplify GetApp", lambda: amplify.get_app(appId=app_id))["app"]
    current = str(app.get("repository") or "")
    report.section(f"Amplify app {app_id} of {env}")
    if current.lower() == wanted.lower() and not reconnect:
        report.ok(f"connected to {current}; nothing to do (--reconnect hands Amplify a new token)")
        return False
    token = read_value(stdin or sys.stdin)
    aws_call("amplify UpdateApp", lambda: amplify.update_app(appId=app_id, repository=wanted, accessToken=token))
    report.section(f"Connected to {wanted}; the token was neither stored nor printed.")
    report.info(
        f"Amplify builds branch {branch} on its next push; release it now with "
        f"`viberglass-ops deploy frontend --env {env}`."
    )
    return True
