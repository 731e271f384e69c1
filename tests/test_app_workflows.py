"""The reusable deploy workflows work when the application repository calls them, and docs/app-workflows/
holds callers that fit them.

GitHub checks a caller against the called workflow's `on.workflow_call` only when it runs; here every
caller in docs/app-workflows/ is checked the same way (inputs and secrets known, required ones given, the
caller job grants the permissions the called jobs ask for: a called job can never have more), and the
reusable workflows are checked for what makes them work from another repository: no checkout of this
repository without credentials that can read it, and the commit that runs is the one the caller pinned.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT
from tests.test_workflows import _load

WF = ROOT / ".github" / "workflows"
CALLERS = sorted((ROOT / "docs" / "app-workflows").glob("*.yml"))
REUSABLE = ["deploy-backend.yml", "deploy-frontend.yml", "deploy-viberators.yml"]
USES = re.compile(r"^ilities/viberglass-infra/\.github/workflows/([\w.-]+\.yml)@([0-9a-f]{40})$")
LEVEL = {"none": 0, "read": 1, "write": 2}
APP_TOKEN = "actions/create-github-app-token@fee1f7d63c2ff003460e3d139729b119787bc349"


def calls() -> list[tuple[str, str, dict[str, Any]]]:
    """(caller file, job, job) of every job in docs/app-workflows/ that calls a workflow of this repository."""
    found = []
    for path in CALLERS:
        for name, job in _load(path)["jobs"].items():
            if "uses" in job:
                found.append((path.name, name, job))
    return found


def test_the_docs_show_a_caller_for_every_reusable_workflow() -> None:
    called = {USES.match(job["uses"]).group(1) for _, _, job in calls()}  # type: ignore[union-attr]
    assert called == set(REUSABLE)
    assert {p.name for p in CALLERS} == set(REUSABLE)


@pytest.mark.parametrize(("caller", "job_name", "job"), calls(), ids=lambda v: v if isinstance(v, str) else "")
def test_a_caller_fits_the_called_workflow(caller: str, job_name: str, job: dict[str, Any]) -> None:
    match = USES.match(job["uses"])
    assert match, f"{caller}:{job_name}: call ilities/viberglass-infra/.github/workflows/<name>.yml@<full commit SHA>"
    called = _load(WF / match.group(1))
    contract = called["on"]["workflow_call"]
    inputs, secrets = contract.get("inputs", {}), contract.get("secrets", {})
    given_inputs, given_secrets = job.get("with", {}), job.get("secrets", {})
    assert given_secrets != "inherit", "pass each secret by name"
    assert set(given_inputs) <= set(inputs), f"unknown inputs: {set(given_inputs) - set(inputs)}"
    assert set(given_secrets) <= set(secrets), f"unknown secrets: {set(given_secrets) - set(secrets)}"
    assert {k for k, v in inputs.items() if v.get("required")} <= set(given_inputs)
    assert {k for k, v in secrets.items() if v.get("required")} <= set(given_secrets)
    for name, value in given_inputs.items():
        kind = inputs[name]["type"]
        assert kind != "boolean" or isinstance(value, bool) or "${{" in str(value), name
    assert given_inputs["environment"] in {"dev", "prod"}
    for called_name, called_job in called["jobs"].items():
        for scope, level in called_job["permissions"].items():
            granted = job["permissions"].get(scope, "none")
            assert LEVEL[granted] >= LEVEL[level], f"{called_name} needs {scope}: {level}, the caller grants {granted}"


@pytest.mark.parametrize(("caller", "job_name", "job"), calls(), ids=lambda v: v if isinstance(v, str) else "")
def test_prod_callers_run_from_main_and_dev_on_pushes(caller: str, job_name: str, job: dict[str, Any]) -> None:
    environment = job["with"]["environment"]
    assert job_name == environment
    if environment == "prod":
        assert "github.ref == 'refs/heads/main'" in job["if"]
    assert str(job["secrets"]["AWS_ROLE_ARN"]).endswith(f"_{environment.upper()} }}}}")


@pytest.mark.parametrize("name", REUSABLE)
def test_no_cross_repository_checkout_without_credentials(name: str) -> None:
    """The caller's GITHUB_TOKEN cannot read another private repository: checking this repository out takes
    the GitHub App token (or this run's own token when the workflow runs in this repository), at the commit
    of the running workflow, never a branch."""
    steps = _load(WF / name)["jobs"]
    (job,) = steps.values()
    checkouts = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    own = [s for s in checkouts if "repository" in s.get("with", {})]
    assert len(own) == 1
    settings = own[0]["with"]
    assert settings["repository"] == "${{ steps.infra.outputs.repository }}"
    assert settings["ref"] == "${{ steps.infra.outputs.sha }}"
    assert settings["token"] == "${{ steps.app-token.outputs.token || github.token }}"
    assert settings["persist-credentials"] is False
    token = next(s for s in job["steps"] if s.get("id") == "app-token")
    assert token["uses"].split(" ")[0] == APP_TOKEN
    assert token["with"]["permission-contents"] == "read" and token["if"] == "steps.infra.outputs.same != 'true'"
    assert token["with"]["repositories"] == "${{ steps.infra.outputs.name }}"
    assert set(_load(WF / name)["on"]["workflow_call"].get("inputs", {})) & {"infra-ref", "ref"} == set()
    # The caller's own code (build contexts) is checked out with its own token, and only that.
    for step in checkouts:
        if step is not own[0]:
            assert set(step["with"]) == {"persist-credentials", "path"}


def test_the_three_workflows_find_their_commit_the_same_way() -> None:
    runs = set()
    for name in REUSABLE:
        (job,) = _load(WF / name)["jobs"].values()
        runs.add(next(s["run"] for s in job["steps"] if s.get("id") == "infra"))
    assert len(runs) == 1


# -- the step that reads the running workflow's commit from the OIDC token --------------------------------------


class TokenService:
    """A STAND-IN for GitHub's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL): answers {"value": <JWT>} with
    the claims given, as GitHub does (an unsigned token here: the step only reads claims)."""

    def __init__(self, claims: dict[str, Any]) -> None:
        service = self
        self.requests: list[str] = []

        def part(data: dict[str, Any]) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

        token = f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                service.requests.append(f"{self.path} {self.headers.get('Authorization')}")
                body = json.dumps({"count": 1, "value": token}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/token?api-version=2.0"


@pytest.fixture
def oidc() -> Iterator[TokenService]:
    service = TokenService({
        "sub": "repo:Ilities/viberglass:environment:dev", "repository": "Ilities/viberglass",
        "job_workflow_ref": "Ilities/viberglass-infra/.github/workflows/deploy-backend.yml@refs/tags/v3",
        "job_workflow_sha": "9d3f1e2a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e",
        "workflow_ref": "Ilities/viberglass/.github/workflows/deploy-backend.yml@refs/heads/main",
    })  # fmt: skip
    yield service
    service.server.shutdown()


def _infra_step(oidc: TokenService, tmp_path: Path, repository: str) -> dict[str, str]:
    step = next(
        s for s in next(iter(_load(WF / "deploy-backend.yml")["jobs"].values()))["steps"] if s.get("id") == "infra"
    )
    out = tmp_path / "output"
    env = {**os.environ, "ACTIONS_ID_TOKEN_REQUEST_URL": oidc.url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
           "GITHUB_REPOSITORY": repository, "GITHUB_OUTPUT": str(out)}  # fmt: skip
    result = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "c2lnbmF0dXJl" not in result.stdout + result.stderr  # the token is never printed
    return dict(line.split("=", 1) for line in out.read_text().splitlines())


def test_the_commit_that_runs_is_the_one_the_caller_pinned(oidc: TokenService, tmp_path: Path) -> None:
    """In a called workflow `github.sha` is the caller's commit; the running workflow's own commit is the
    token's job_workflow_sha."""
    outputs = _infra_step(oidc, tmp_path, "Ilities/viberglass")
    assert outputs == {"repository": "Ilities/viberglass-infra", "owner": "Ilities", "name": "viberglass-infra",
                       "sha": "9d3f1e2a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e", "same": "false"}  # fmt: skip
    (request,) = oidc.requests
    assert "audience=viberglass-infra-checkout" in request and request.endswith("bearer request-token")


def test_run_in_this_repository_it_needs_no_app_token(oidc: TokenService, tmp_path: Path) -> None:
    assert _infra_step(oidc, tmp_path, "ilities/viberglass-infra")["same"] == "true"
