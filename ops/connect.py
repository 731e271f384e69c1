"""``ops connect frontend``: connect the environment's Amplify app to the application repository, once.

Terraform creates the app without its repository, because connecting one takes a GitHub token
(``CreateApp``/``UpdateApp`` require ``accessToken``) that Terraform would keep in plan and state. This
command reads the token from stdin and hands it to ``UpdateApp`` with the repository; Amplify uses it to
install its GitHub App on the repository and does not keep it. Nothing stores or prints the token.

Amplify refuses that ``UpdateApp`` while the app has a manual-deploy branch ("Cannot connect your app to
repository while manually deployed branch still exists"), and any branch created on an unconnected app is
one. So the platform stack creates no branch (and no domain association) until the app is connected: this
command then writes the plain String parameter ``/viberglass/<env>/amplify/connection/repository`` (the
repository URL, core/discovery.py ``CONNECTED``), and the next apply of the platform stack creates the
branch and the domain on the connected app. The marker is written whenever the app is found connected, so
running the command on an app connected earlier (or by hand) records it without a token.
"""

from __future__ import annotations

import sys
from functools import partial
from typing import Any, TextIO

from core import discovery as contract
from ops import discovery
from ops.common import OpsError, Report, aws_call, client, load_config
from ops.secrets import read_value


def repository_url(repository: str) -> str:
    return f"https://github.com/{repository}"


def marker_name(env: str) -> str:
    return f"/viberglass/{env}/{contract.CONNECTED}"


def frontend(env: str, *, reconnect: bool = False, stdin: TextIO | None = None, report: Report | None = None) -> bool:
    """Connect the app (True) or find it connected already (False; stdin is not read). Either way the
    connection marker names the connected repository afterwards."""
    report = report or Report()
    cfg = load_config(env)
    targets = discovery.read(env, "amplify/appId", "amplify/branchName", "amplify/region")
    app_id, branch = targets["amplify/appId"], targets["amplify/branchName"]
    amplify = client("amplify", targets["amplify/region"])
    ssm = client("ssm", cfg.aws.region)
    wanted = repository_url(cfg.github.app_repository)
    app = aws_call("amplify GetApp", lambda: amplify.get_app(appId=app_id))["app"]
    current = str(app.get("repository") or "")
    report.section(f"Amplify app {app_id} of {env}")
    connected = current.lower() == wanted.lower()
    if connected and not reconnect:
        report.ok(f"connected to {current}; nothing to do (--reconnect hands Amplify a new token)")
        _mark(ssm, env, current, report)
        return False
    if not current:
        branches = aws_call("amplify ListBranches", partial(amplify.list_branches, appId=app_id, maxResults=50))
        manual = sorted(str(b.get("branchName")) for b in branches.get("branches", []))
        if manual:
            raise OpsError(
                f"the unconnected app {app_id} has the manual-deploy branch(es) {', '.join(manual)}, and Amplify "
                "connects no app that has one: apply the platform stack of this version first (it removes "
                f"them while the app is unconnected: `VIBERGLASS_ENV={env} cdktf deploy platform`), then run "
                "this command again"
            )
    token = read_value(stdin or sys.stdin)
    aws_call("amplify UpdateApp", lambda: amplify.update_app(appId=app_id, repository=wanted, accessToken=token))
    report.section(f"Connected to {wanted}; the token was neither stored nor printed.")
    _mark(ssm, env, wanted, report)
    report.info(
        f"Apply the platform stack again now (`VIBERGLASS_ENV={env} cdktf deploy platform`, or the deploy "
        f"workflow): it creates branch {branch} (and the custom domain) on the connected app. Then release it "
        f"with `viberglass-ops deploy frontend --env {env}`."
    )
    return True


def _mark(ssm: Any, env: str, repository: str, report: Report) -> None:
    """Write the connection marker the platform stack counts its branch and domain by (a plain String)."""
    name = marker_name(env)
    found = aws_call("ssm GetParameter", partial(ssm.get_parameter, Name=name), missing=("ParameterNotFound",))
    if found is not None and found["Parameter"]["Value"] == repository:
        report.ok(f"{name} = {repository}")
        return
    report.change(
        f"{name} = {repository} (the next platform apply creates the branch)",
        partial(
            aws_call,
            "ssm PutParameter",
            partial(
                ssm.put_parameter,
                Name=name,
                Value=repository,
                Type="String",
                Overwrite=True,
                Description="Amplify app connected by ops connect frontend: the platform stack creates its branch",
            ),
        ),
    )
