"""The JSON plan of an HCP Terraform run, read from its API (standard library only: the plan job needs
nothing more than it already has).

A pull request's plan of a workspace with remote execution is a speculative run in HCP Terraform; the
Terraform CLI streams its log and prints where to find it (``https://<host>/app/<org>/<workspace>/runs/
<run id>``). This module finds that run id in the captured output, reads the run
(``GET /api/v2/runs/:id``) for its plan, and downloads the plan's JSON:

* ``/api/v2/plans/:id/json-output-redacted`` (the default): the redacted JSON plan HCP Terraform serves to
  anyone who may read the workspace's runs, the document Terraform itself renders a remote plan from. The
  plan token of the workflows (a team with "plan" access) can read it.
* ``/api/v2/plans/:id/json-output``: the full ``terraform show -json`` document, which HCP Terraform serves
  only to a token with admin access to the workspace (its API documentation says so). The workflows never
  hold such a token; ``full=True`` exists for an operator who does.

Both answer ``307 Temporary Redirect`` to a short-lived download URL (``204`` while the plan is not done).
The redirect is followed here, by hand and without the ``Authorization`` header: the token is for the API,
never for the storage the download URL points to. The plan is written to a file beside the stack and never
printed: it holds whatever values Terraform read.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ops.errors import InputError, OpsError

# What the cloud backend prints after it created a run (internal/cloud/backend_plan.go, runHeader).
RUN_URL = re.compile(r"(https?)://([A-Za-z0-9.-]+(?::[0-9]+)?)/app/([^/\s]+)/([^/\s]+)/runs/(run-[A-Za-z0-9]+)")
ADDRESS_VAR = "VIBERGLASS_HCP_ADDRESS"  # scheme://host[:port] of the API instead of the run URL's host
JSONAPI = "application/vnd.api+json"
TIMEOUT = 60


@dataclass(frozen=True)
class RunRef:
    """A run as the Terraform CLI named it."""

    host: str
    organization: str
    workspace: str
    run_id: str


def run_from_log(text: str) -> RunRef:
    """The (last) run the CLI output names. Exit 2 when there is none: the plan did not reach HCP Terraform."""
    found = RUN_URL.findall(text)
    if not found:
        raise InputError(
            "no HCP Terraform run URL in the plan output (…/app/<org>/<workspace>/runs/run-…); the plan did not "
            "start in HCP Terraform: is the stack's backend `cloud` and its workspace's execution mode remote?"
        )
    _, host, organization, workspace, run_id = found[-1]
    return RunRef(host, organization, workspace, run_id)


def token_for(host: str, environ: dict[str, str] | None = None) -> str:
    """The API token Terraform itself would use for ``host``: ``TF_TOKEN_<host, dots as underscores>``."""
    env = os.environ if environ is None else environ
    name = "TF_TOKEN_" + host.split(":", 1)[0].replace(".", "_").replace("-", "__")
    token = env.get(name, "")
    if not token:
        raise InputError(f"{name} is not set: give the plan token of the workspace's plan team")
    return token


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """urllib would follow a redirect with every header, the token included: hand the 3xx back instead."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class HcpApi:
    """The few HCP Terraform API calls a plan comment needs.

    :param address: ``https://app.terraform.io`` (or another host; tests use a local stand-in).
    :param token: an API token (team token of the workspace's plan team).
    """

    def __init__(self, address: str, token: str) -> None:
        self.address = address.rstrip("/")
        self.token = token
        self._opener = urllib.request.build_opener(_NoRedirects)

    def _get(self, path: str, *, auth: bool = True) -> tuple[int, dict[str, str], bytes]:
        url = path if "://" in path else f"{self.address}{path}"
        headers = {"Accept": f"{JSONAPI}, application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 (https, or the stand-in in tests)
        try:
            with self._opener.open(request, timeout=TIMEOUT) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers or {}), error.read()
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise OpsError(f"HCP Terraform API {urllib.parse.urlsplit(url).netloc} unreachable: {error}") from None

    def _json(self, path: str, what: str) -> dict[str, Any]:
        status, _, body = self._get(path)
        if status != 200:
            raise OpsError(f"{what}: HCP Terraform answered {status}{_api_errors(body)}{_hint(status)}")
        try:
            document: dict[str, Any] = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise OpsError(f"{what}: HCP Terraform answered 200 with something that is not JSON") from None
        return document

    def plan_id(self, run_id: str) -> str:
        """The plan of ``run_id`` (``GET /api/v2/runs/:id``, ``relationships.plan.data.id``)."""
        run = self._json(f"/api/v2/runs/{urllib.parse.quote(run_id)}", f"reading run {run_id}")
        try:
            plan_id = run["data"]["relationships"]["plan"]["data"]["id"]
        except (KeyError, TypeError):
            raise OpsError(f"reading run {run_id}: the run names no plan") from None
        if not isinstance(plan_id, str) or not re.fullmatch(r"plan-[A-Za-z0-9]+", plan_id):
            raise OpsError(f"reading run {run_id}: {plan_id!r} is not a plan id")
        return plan_id

    def plan_json(self, plan_id: str, *, full: bool = False) -> bytes:
        """The plan's JSON (redacted unless ``full``), following the API's redirect without the token."""
        endpoint = "json-output" if full else "json-output-redacted"
        what = f"reading the JSON of {plan_id}"
        status, headers, body = self._get(f"/api/v2/plans/{urllib.parse.quote(plan_id)}/{endpoint}")
        if status == 204:
            raise OpsError(f"{what}: HCP Terraform has no JSON yet (204: the plan has not finished)")
        if status in (301, 302, 303, 307, 308):
            location = {k.lower(): v for k, v in headers.items()}.get("location", "")
            if not location:
                raise OpsError(f"{what}: HCP Terraform redirected ({status}) without a Location")
            target = urllib.parse.urljoin(f"{self.address}/", location)
            if urllib.parse.urlsplit(target).scheme not in ("https", urllib.parse.urlsplit(self.address).scheme):
                raise OpsError(f"{what}: HCP Terraform redirected to a {urllib.parse.urlsplit(target).scheme} URL")
            status, _, body = self._get(target, auth=False)
            what += " (download URL)"
        if status != 200:
            hint = " (the full JSON plan needs a token with admin access to the workspace)" if full else ""
            raise OpsError(f"{what}: HCP Terraform answered {status}{_api_errors(body)}{hint or _hint(status)}")
        try:
            document = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise OpsError(f"{what}: the download is not JSON") from None
        if not isinstance(document, dict) or not ({"format_version", "plan_format_version"} & document.keys()):
            raise OpsError(f"{what}: the download is not a Terraform JSON plan")
        return body


def _api_errors(body: bytes) -> str:
    """The JSON:API error titles of an answer, as ``: title; title`` (nothing when there are none)."""
    try:
        errors = json.loads(body).get("errors", [])
        titles = [str(e.get("title") or e.get("status")) for e in errors if isinstance(e, dict)]
    except (ValueError, UnicodeDecodeError, AttributeError):
        titles = []
    return f" ({'; '.join(titles)[:200]})" if titles else ""


def _hint(status: int) -> str:
    if status == 401:
        return ": the token is not valid (expired, revoked, or for another host)"
    if status == 404:
        return ": not found, or the token's team cannot read this workspace's runs"
    return ""


def save_plan_json(log: Path, out: Path, *, full: bool = False, environ: dict[str, str] | None = None) -> RunRef:
    """Find the run in ``log`` (the captured ``terraform plan`` output), download its plan's JSON to ``out``."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise InputError(f"--log {log}: {error.strerror or error}") from None
    run = run_from_log(text)
    env = os.environ if environ is None else environ
    address = env.get(ADDRESS_VAR) or f"https://{run.host}"
    api = HcpApi(address, token_for(run.host, dict(env)))
    body = api.plan_json(api.plan_id(run.run_id), full=full)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    return run
