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
USES = re.compile(r"^Ilities/viberglass-infra/\.github/workflows/([\w.-]+\.yml)@([0-9a-f]{40})$")
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
    assert match, f"{caller}:{job_name}: call Ilities/viberglass-infra/.github/workflows/<name>.yml@<full commit SHA>"
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
    assert token["with"]["permission-contents"] == "read"
    assert token["if"] == "steps.infra.outputs.same != 'true' && steps.app.outputs.configured == 'true'"
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


# -- dispatched in this repository: the apply role, so from main only ------------------------------------------

MAIN_ONLY = "Dispatched in this repository? From main only"


@pytest.mark.parametrize("name", REUSABLE)
def test_a_dispatch_here_is_refused_off_main_before_any_aws_or_checkout_step(name: str) -> None:
    """Dispatched in this repository, the job enters this repository's Environment, whose AWS_ROLE_ARN is the
    apply role: the guard runs right after the commit is known (same=true only then) and before anything
    else of this repository is checked out or any role assumed."""
    (job,) = _load(WF / name)["jobs"].values()
    names = [s.get("name", s.get("uses", "")) for s in job["steps"]]
    guard = job["steps"][names.index(MAIN_ONLY)]
    assert guard["if"] == "steps.infra.outputs.same == 'true'" and guard["env"] == {"REF": "${{ github.ref }}"}
    assert names.index(MAIN_ONLY) == [s.get("id") for s in job["steps"]].index("infra") + 1
    for i, step in enumerate(job["steps"]):
        if str(step.get("uses", "")).startswith(("aws-actions/", "actions/checkout@", "actions/create-github-app")):
            assert i > names.index(MAIN_ONLY), (name, step)
    for ref, status in (("refs/heads/main", 0), ("refs/heads/my-feature", 1), ("refs/tags/v1", 1)):
        result = subprocess.run(["bash", "-e", "-c", guard["run"]], env={**os.environ, "REF": ref},
                                capture_output=True, text=True, check=False)  # fmt: skip
        assert result.returncode == status, (ref, result.stdout)
        assert ("::error::" in result.stdout) == bool(status)


# -- the GitHub App is optional: a public viberglass-infra is read with the job's own token ---------------------


def _step(name: str, step_id: str | None = None, step_name: str | None = None) -> dict[str, Any]:
    (job,) = _load(WF / name)["jobs"].values()
    (step,) = [
        s for s in job["steps"] if (step_id and s.get("id") == step_id) or (step_name and s.get("name") == step_name)
    ]
    return dict(step)


@pytest.mark.parametrize("name", REUSABLE)
def test_the_app_secrets_are_optional_and_only_their_presence_reaches_the_shell(name: str) -> None:
    secrets = _load(WF / name)["on"]["workflow_call"]["secrets"]
    assert secrets["INFRA_APP_ID"]["required"] is False and secrets["INFRA_APP_PRIVATE_KEY"]["required"] is False
    assert secrets["AWS_ROLE_ARN"]["required"] is True
    step = _step(name, step_id="app")
    assert step["if"] == "steps.infra.outputs.same != 'true'"
    assert step["env"] == {"APP_ID_SET": "${{ secrets.INFRA_APP_ID != '' }}",
                           "APP_KEY_SET": "${{ secrets.INFRA_APP_PRIVATE_KEY != '' }}"}  # fmt: skip


@pytest.mark.parametrize(
    ("app_id", "key", "status", "configured"),
    [
        ("true", "true", 0, "true"),
        ("false", "false", 0, "false"),
        ("true", "false", 1, None),
        ("false", "true", 1, None),
    ],
)
def test_the_app_token_is_made_only_when_both_secrets_are_given(
    tmp_path: Path, app_id: str, key: str, status: int, configured: str | None
) -> None:
    """Both: the App's token (a private viberglass-infra). Neither: the checkout falls back to the job's own
    token (`steps.app-token.outputs.token || github.token`), which reads a public repository. One of the two
    is a mistake, said in one line."""
    out = tmp_path / "output"
    out.touch()
    for name in REUSABLE:
        env = {**os.environ, "APP_ID_SET": app_id, "APP_KEY_SET": key, "GITHUB_OUTPUT": str(out)}
        result = subprocess.run(["bash", "-e", "-c", _step(name, step_id="app")["run"]], env=env,
                                capture_output=True, text=True, check=False)  # fmt: skip
        assert result.returncode == status, result.stdout
        assert ("::error::INFRA_APP_ID and INFRA_APP_PRIVATE_KEY go together" in result.stdout) == bool(status)
        assert out.read_text().splitlines()[-1:] == ([f"configured={configured}"] if configured else [])
        out.write_text("")


CHECKED = "The checkout is the commit the OIDC token names"


@pytest.mark.parametrize("name", REUSABLE)
def test_the_checked_out_commit_is_checked_against_job_workflow_sha(name: str, tmp_path: Path) -> None:
    """With either token the checkout is verified, right after it and before anything of it runs."""
    (job,) = _load(WF / name)["jobs"].values()
    names = [s.get("name") for s in job["steps"]]
    checkout = names.index("Check out viberglass-infra (the ops tools) at that commit")
    assert names.index(CHECKED) == checkout + 1
    step = job["steps"][checkout + 1]
    assert step["env"] == {"WANTED": "${{ steps.infra.outputs.sha }}"}
    repo = tmp_path / "infra"
    git = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    subprocess.run(["git", "init", "-q", str(repo)], check=True, env=git)
    subprocess.run(["git", "-C", str(repo), "commit", "-q", "--allow-empty", "-m", "x"], check=True, env=git)
    head = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip
    for wanted, status in ((head, 0), ("9d3f1e2a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e", 1)):
        result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, env={**git, "WANTED": wanted},
                                capture_output=True, text=True, check=False)  # fmt: skip
        assert result.returncode == status, result.stdout + result.stderr


# -- the owner as GitHub spells it -------------------------------------------------------------------------------


def test_the_github_owner_is_spelled_as_github_spells_it_everywhere() -> None:
    """IAM compares the OIDC `sub` claim (`repo:Ilities/viberglass:environment:<env>`) case-sensitively
    (aws-actions/configure-aws-credentials#1100): the configuration, the callers, the workflows and the docs
    name the repositories `Ilities/...`, never a lower-case spelling an operator could copy into a trust."""
    from config import load

    for env in ("dev", "prod"):
        github = load(env).github
        assert (github.infra_repository, github.app_repository) == ("Ilities/viberglass-infra", "Ilities/viberglass")
    texts = [
        *WF.glob("*.yml"),
        *CALLERS,
        *(ROOT / "docs").glob("*.md"),
        ROOT / "README.md",
        *(ROOT / "config").glob("*"),
    ]
    lower = re.compile(r"(?<![\w-])ilities/viberglass")
    found = [f"{p.relative_to(ROOT)}:{m.start()}" for p in texts if p.is_file() for m in lower.finditer(p.read_text())]
    assert found == []


def test_worker_images_are_rebuilt_when_the_shared_packages_change() -> None:
    """The worker images copy packages/types, packages/agent-core and packages/agents
    (infra/workers/docker/base/base-worker.Dockerfile in Ilities/viberglass): a change there must rebuild them."""
    (caller,) = [c for c in CALLERS if c.name == "deploy-viberators.yml"]
    paths = _load(caller)["on"]["push"]["paths"]
    assert "packages/**" in paths and "apps/viberator/**" in paths and "infra/workers/docker/**" in paths


def test_the_runbook_names_every_legacy_deploy_workflow_of_the_application() -> None:
    """The application repository's own deploy workflows (at the commit the contract was read,
    .github/workflows of Ilities/viberglass) deploy through Pulumi and would fail or deploy twice."""
    legacy = ["deploy-backend-dev.yml", "deploy-backend-prod.yml", "deploy-frontend-dev.yml",
              "deploy-frontend-prod.yml", "pulumi-deploy-dev.yml", "pulumi-deploy-prod.yml",
              "pulumi-preview.yml"]  # fmt: skip
    runbook = (ROOT / "docs" / "operations.md").read_text()
    section = runbook.split("## Deploying from the application repository", 1)[1].split("\n## ", 1)[0]
    removal = section.split("**Remove the application repository's own deploy workflows**", 1)[1].split("\n- **", 1)[0]
    assert all(f"`{name}`" in removal for name in legacy[1:]) and legacy[0] in removal
    # What replaces them does not collide with what is removed.
    assert not {c.name for c in CALLERS} & set(legacy)
