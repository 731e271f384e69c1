"""The plan-comment path of HCP Terraform runs: from `terraform plan` output to the run, its plan's JSON, the
comment.

HCP Terraform cannot be reached from here. Every API answer below comes from a STAND-IN server on 127.0.0.1
(tests/hcp_standin.py) whose responses are MODELLED ON HCP Terraform's API documentation (and on the
redacted-plan endpoint Terraform's cloud backend reads); none was recorded from a live service. Likewise the
`terraform plan` outputs of the cloud backend are modelled on Terraform's source, not recorded.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ops import hcp_runs, plan_comment
from ops.__main__ import main
from ops.errors import InputError, OpsError
from tests.conftest import ROOT, standin_path
from tests.hcp_standin import FIXTURES, Behaviour, StandInHcpApi

RUNS = {"base": "run-CZcmD7eagjhyX0vN", "workers": "run-UQZwVH5ZSu1ptoxF", "platform": "run-iFXAhxKR7ketE85H"}
PLANS = {"base": "plan-8F5JFydVYAmtTjET", "workers": "plan-6oewwftJfffibjxZ", "platform": "plan-5K8JFcmiN9PaDiww"}


def _log(stack: str) -> str:
    recording = json.loads((ROOT / "tests" / "fixtures" / "terraform" / f"plan_cloud_{stack}.json").read_text())
    return str(recording["stdout"])


@pytest.fixture
def api() -> Iterator[StandInHcpApi]:
    with StandInHcpApi() as server:
        yield server


def test_the_run_is_found_in_the_cli_output() -> None:
    run = hcp_runs.run_from_log(_log("workers"))
    assert run == hcp_runs.RunRef("app.terraform.io", "ilities", "viberglass-dev-workers", RUNS["workers"])


def test_output_without_a_run_is_bad_input() -> None:
    with pytest.raises(InputError, match="no HCP Terraform run URL"):
        hcp_runs.run_from_log("Terraform used the selected providers to generate the following execution plan.")


def test_the_token_is_terraforms_own_variable_for_the_host() -> None:
    assert hcp_runs.token_for("app.terraform.io", {"TF_TOKEN_app_terraform_io": "t"}) == "t"
    with pytest.raises(InputError, match="TF_TOKEN_app_terraform_io is not set"):
        hcp_runs.token_for("app.terraform.io", {})


def test_output_without_a_run_says_what_to_check() -> None:
    with pytest.raises(InputError) as caught:
        hcp_runs.run_from_log("")
    assert str(caught.value) == (
        "no HCP Terraform run URL in the plan output (…/app/<org>/<workspace>/runs/run-…); the plan did not "
        "start in HCP Terraform: is the stack's backend `cloud` and its workspace's execution mode remote?"
    )


def test_the_token_variable_follows_terraforms_naming_for_any_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dots become underscores, dashes double underscores, a port is not part of the name; without an
    explicit environment the process's own is read."""
    environ = {"TF_TOKEN_tfe_my__company_example": "mine", "TF_TOKEN_app_terraform_io": "hcp"}
    assert hcp_runs.token_for("tfe.my-company.example:8443", environ) == "mine"
    assert hcp_runs.token_for("tfe.my-company.example", environ) == "mine"
    monkeypatch.setenv("TF_TOKEN_app_terraform_io", "from-the-process")
    assert hcp_runs.token_for("app.terraform.io") == "from-the-process"
    with pytest.raises(InputError) as caught:
        hcp_runs.token_for("tfe.other.example:443", environ)
    assert (
        str(caught.value) == "TF_TOKEN_tfe_other_example is not set: give the plan token of the workspace's plan team"
    )


def test_the_run_names_its_plan(api: StandInHcpApi) -> None:
    client = hcp_runs.HcpApi(api.address, "plan-team-token")
    assert client.plan_id(RUNS["base"]) == PLANS["base"]
    assert api.requests == [{"path": f"/api/v2/runs/{RUNS['base']}", "authorization": "Bearer plan-team-token"}]


def test_the_redacted_plan_is_downloaded_through_the_redirect_without_the_token(api: StandInHcpApi) -> None:
    body = hcp_runs.HcpApi(api.address, "plan-team-token").plan_json(PLANS["base"])
    assert json.loads(body) == json.loads((FIXTURES / f"{PLANS['base']}.json").read_text())
    first, download = api.requests
    assert first == {"path": f"/api/v2/plans/{PLANS['base']}/json-output-redacted",
                     "authorization": "Bearer plan-team-token"}  # fmt: skip
    assert download["path"].startswith(f"/_archivist/{PLANS['base']}") and download["authorization"] is None


def test_the_full_plan_needs_an_admin_token(api: StandInHcpApi) -> None:
    """HCP Terraform documents /plans/:id/json-output as admin-only: the plan team's token gets nothing."""
    with pytest.raises(OpsError, match=r"404.*admin access to the workspace"):
        hcp_runs.HcpApi(api.address, "plan-team-token").plan_json(PLANS["base"], full=True)
    body = hcp_runs.HcpApi(api.address, "admin-token").plan_json(PLANS["base"], full=True)
    assert json.loads(body)["plan_format_version"] == "1.2"
    assert api.requests[-2]["path"] == f"/api/v2/plans/{PLANS['base']}/json-output"


@pytest.mark.parametrize(
    ("behaviour", "token", "message"),
    [
        (Behaviour(pending={PLANS["base"]}), "plan-team-token", "204: the plan has not finished"),
        (Behaviour(no_location=True), "plan-team-token", "redirected \\(307\\) without a Location"),
        (Behaviour(download_status=403), "plan-team-token", "download URL\\): HCP Terraform answered 403"),
        (Behaviour(), "not-a-valid-token", "401 \\(unauthorized\\): the token is not valid"),
    ],
    ids=["not-finished", "no-location", "download-expired", "bad-token"],
)
def test_every_api_failure_is_one_line(behaviour: Behaviour, token: str, message: str) -> None:
    with StandInHcpApi(behaviour) as server, pytest.raises(OpsError, match=message) as error:
        hcp_runs.HcpApi(server.address, token).plan_json(PLANS["base"])
    assert "\n" not in str(error.value) and token not in str(error.value)


def test_an_unknown_run_says_the_team_may_lack_access(api: StandInHcpApi) -> None:
    with pytest.raises(OpsError, match="404 \\(not found\\): not found, or the token's team cannot read"):
        hcp_runs.HcpApi(api.address, "plan-team-token").plan_id("run-doesnotexist00")


def test_an_unreachable_api_is_a_failure_not_a_traceback() -> None:
    with pytest.raises(OpsError, match="unreachable"):
        hcp_runs.HcpApi("http://127.0.0.1:9", "t").plan_id(RUNS["base"])


def test_the_command_writes_the_plan_and_the_renderer_reads_it(
    api: StandInHcpApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "base.txt").write_text(_log("base"))
    monkeypatch.setenv("TF_TOKEN_app_terraform_io", "plan-team-token")
    monkeypatch.setenv(hcp_runs.ADDRESS_VAR, api.address)
    out = tmp_path / "stacks" / "base" / "plan.json"
    assert main(["hcp-plan-json", "--log", str(tmp_path / "base.txt"), "--out", str(out)]) == 0
    assert "plan-team-token" not in capsys.readouterr().out
    plan = plan_comment.load_plan("dev/base", out)
    assert not plan.error and plan.count("delete") == 2


def test_the_command_without_a_token_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "base.txt").write_text(_log("base"))
    monkeypatch.delenv("TF_TOKEN_app_terraform_io", raising=False)
    assert main(["hcp-plan-json", "--log", str(tmp_path / "base.txt"), "--out", str(tmp_path / "p.json")]) == 2
    assert not (tmp_path / "p.json").exists()


def test_the_redacted_plan_renders_like_the_shown_plan() -> None:
    """HCP's redacted plan (plan_format_version) carries the same changes as `terraform show -json`."""
    for stack, plan_id in PLANS.items():
        redacted = plan_comment.load_plan(stack, FIXTURES / f"{plan_id}.json")
        shown = plan_comment.load_plan(stack, ROOT / "tests" / "fixtures" / "plans" / f"mixed_{stack}.json")
        assert (redacted.error, redacted.counts(), redacted.changes) == ("", shown.counts(), shown.changes)


def test_a_redacted_plan_without_changes_is_no_changes() -> None:
    plan = plan_comment.parse_plan("dev/base", {"plan_format_version": "1.2", "provider_format_version": "1.0"})
    assert not plan.error and not plan.has_changes


# -- scripts/ci/plan-stacks.sh on a stack with a cloud block, with STAND-INs for Terraform and the API --------------

CLOUD = {"terraform": {"cloud": {"organization": "ilities", "workspaces": {"name": "x"}}}}


def _workspace(tmp_path: Path, scenario: dict[str, dict[str, str]]) -> None:
    for stack in RUNS:
        path = tmp_path / "cdktf.out" / "stacks" / stack
        path.mkdir(parents=True)
        (path / "cdk.tf.json").write_text(json.dumps(CLOUD))
    (tmp_path / "scenario.json").write_text(json.dumps(scenario))


def _run_script(tmp_path: Path, api: StandInHcpApi, token: str = "plan-team-token") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": standin_path(tmp_path / "standin-bin"),
           "STANDIN_TERRAFORM_SCENARIO": str(tmp_path / "scenario.json"),
           "STANDIN_TERRAFORM_LOG": str(tmp_path / "calls.jsonl"), "PYTHON": sys.executable,
           "PYTHONPATH": str(ROOT), "TF_TOKEN_app_terraform_io": token, hcp_runs.ADDRESS_VAR: api.address}  # fmt: skip
    return subprocess.run([str(ROOT / "scripts" / "ci" / "plan-stacks.sh"), "dev"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip


def _scenario(**plans: str) -> dict[str, dict[str, str]]:
    scenario: dict[str, dict[str, str]] = {"*": {"init": "init_cloud_ok", "state list": "state_list_resources"}}
    for stack in RUNS:
        scenario[stack] = {"plan": plans.get(stack, f"plan_cloud_{stack}")}
    return scenario


def test_cloud_stacks_get_speculative_plans_and_one_comment(api: StandInHcpApi, tmp_path: Path) -> None:
    _workspace(tmp_path, _scenario())
    result = _run_script(tmp_path, api)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = [json.loads(line)["args"] for line in (tmp_path / "calls.jsonl").read_text().splitlines()]
    plans = [args for args in calls if args[0] == "plan"]
    assert plans and all(not any(a.startswith(("-out", "-lock")) for a in args) for args in plans)  # speculative
    assert not any(args[0] in {"show", "apply"} for args in calls)
    args = (tmp_path / "plans" / "dev" / "args").read_text().split("\n")
    assert args[:2] == ["--plan", "dev/base=cdktf.out/stacks/base/plan.json"]
    assert not list((tmp_path / "plans").rglob("*.json"))  # the plan JSON stays beside the stack
    summary = tmp_path / "summary.json"
    # The plan job's `python -m ops plan-comment @plans/dev/args`, through the same `main` in the checkout.
    with contextlib.chdir(tmp_path):
        assert main(["plan-comment", "@plans/dev/args", "--out", "comment.md", "--summary", str(summary)]) == 0
    stacks = {s["name"]: s for s in json.loads(summary.read_text())["stacks"]}
    assert {n: s["status"] for n, s in stacks.items()} == dict.fromkeys(
        ("dev/base", "dev/workers", "dev/platform"), "planned"
    )
    assert stacks["dev/base"]["counts"]["delete"] == 2 and stacks["dev/platform"]["counts"]["replace"] == 1


def test_a_token_that_cannot_plan_fails_the_stack_red(api: StandInHcpApi, tmp_path: Path) -> None:
    _workspace(tmp_path, _scenario(workers="plan_cloud_insufficient_rights"))
    result = _run_script(tmp_path, api)
    assert result.returncode == 1
    assert "::error::dev/workers: │ Error: Insufficient rights to generate a plan" in result.stdout
    assert "--failed\ndev/workers=plans/dev/workers.log" in (tmp_path / "plans" / "dev" / "args").read_text()


def test_an_api_token_that_cannot_read_the_run_fails_the_stack(api: StandInHcpApi, tmp_path: Path) -> None:
    _workspace(tmp_path, _scenario())
    result = _run_script(tmp_path, api, token="revoked")
    assert result.returncode == 1
    log = (tmp_path / "plans" / "dev" / "base.log").read_text()
    assert "error: reading run run-CZcmD7eagjhyX0vN: HCP Terraform answered 401" in log
    assert not (tmp_path / "cdktf.out" / "stacks" / "base" / "plan.json").exists()


def test_api_error_titles_are_quoted_joined_and_cut_at_200_characters() -> None:
    """HCP Terraform answers errors as JSON:API (`{"errors": [{"status": "404", "title": "not found"}]}`)."""
    errors = hcp_runs._api_errors
    assert errors(b'{"errors": [{"status": "404", "title": "not found"}, {"status": "403"}, "x"]}') == (
        " (not found; 403)"
    )
    assert errors(json.dumps({"errors": [{"title": "t" * 150}, {"title": "u" * 150}]}).encode()) == (
        f" ({'t' * 150}; {'u' * 48})"
    )
    for body in (b'{"data": {}}', b'{"errors": []}', b"<html>bad gateway</html>", b"\xff", b"[1]"):
        assert errors(body) == "", body


def test_only_401_and_404_get_a_hint() -> None:
    assert hcp_runs._hint(401) == ": the token is not valid (expired, revoked, or for another host)"
    assert hcp_runs._hint(404) == ": not found, or the token's team cannot read this workspace's runs"
    assert [hcp_runs._hint(status) for status in (400, 403, 500)] == ["", "", ""]


# -- plan_json and save_plan_json against the stand-in's other answers --------------------------------------


def _plan_json_failure(behaviour: Behaviour, *, token: str = "plan-team-token", full: bool = False) -> str:
    with StandInHcpApi(behaviour) as server, pytest.raises(OpsError) as error:
        hcp_runs.HcpApi(server.address, token).plan_json(PLANS["base"], full=full)
    return str(error.value)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_every_redirect_status_is_followed_to_the_download_stand_in(status: int) -> None:
    """Stand-in: HCP answers 307; the other redirect codes a server may send are followed the same way."""
    with StandInHcpApi(Behaviour(redirect_status=status)) as server:
        body = hcp_runs.HcpApi(server.address, "plan-team-token").plan_json(PLANS["base"])
    assert body == (FIXTURES / f"{PLANS['base']}.json").read_bytes()


def test_a_relative_download_location_is_resolved_against_the_api_address_stand_in() -> None:
    with StandInHcpApi(Behaviour(location=f"/_archivist/{PLANS['base']}?expires=60")) as server:
        body = hcp_runs.HcpApi(server.address + "/", "plan-team-token").plan_json(PLANS["base"])
        assert server.requests[-1] == {"path": f"/_archivist/{PLANS['base']}?expires=60", "authorization": None}
    assert body == (FIXTURES / f"{PLANS['base']}.json").read_bytes()


def test_a_plan_served_without_a_redirect_is_returned_as_it_is_stand_in() -> None:
    with StandInHcpApi(Behaviour(direct=True)) as server:
        body = hcp_runs.HcpApi(server.address, "plan-team-token").plan_json(PLANS["base"])
        assert len(server.requests) == 1
    assert body == (FIXTURES / f"{PLANS['base']}.json").read_bytes()


def test_a_redirect_to_another_scheme_is_refused_stand_in() -> None:
    message = _plan_json_failure(Behaviour(location="ftp://files.example/plan.json"))
    assert message == f"reading the JSON of {PLANS['base']}: HCP Terraform redirected to a ftp URL"


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (Behaviour(pending={PLANS["base"]}), ": HCP Terraform has no JSON yet (204: the plan has not finished)"),
        (Behaviour(no_location=True), ": HCP Terraform redirected (307) without a Location"),
        (Behaviour(no_location=True, redirect_status=302), ": HCP Terraform redirected (302) without a Location"),
        (Behaviour(download_status=403), " (download URL): HCP Terraform answered 403"),
        (Behaviour(download_body=b"<html>gateway</html>"), " (download URL): the download is not JSON"),
        (Behaviour(download_body=b"[1]"), " (download URL): the download is not a Terraform JSON plan"),
        (Behaviour(download_body=b'{"errors": []}'), " (download URL): the download is not a Terraform JSON plan"),
        (
            Behaviour(token="other"),
            ": HCP Terraform answered 401 (unauthorized): the token is not valid "
            "(expired, revoked, or for another host)",
        ),
    ],
    ids=["pending", "no-location", "no-location-302", "expired", "not-json", "a-list", "an-object", "bad-token"],
)
def test_each_plan_json_failure_is_its_whole_line_stand_in(behaviour: Behaviour, message: str) -> None:
    """Stand-in answers; the whole message is asserted, run-specific part first."""
    assert _plan_json_failure(behaviour) == f"reading the JSON of {PLANS['base']}{message}"


def test_the_full_plan_refused_to_a_plan_token_says_it_needs_admin_access_stand_in() -> None:
    assert _plan_json_failure(Behaviour(), full=True) == (
        f"reading the JSON of {PLANS['base']}: HCP Terraform answered 404 (not found) "
        "(the full JSON plan needs a token with admin access to the workspace)"
    )


def test_a_redacted_plan_of_an_unknown_plan_is_404_with_the_access_hint_stand_in() -> None:
    with StandInHcpApi() as server, pytest.raises(OpsError) as error:
        hcp_runs.HcpApi(server.address, "plan-team-token").plan_json("plan-unknown0000")
    assert str(error.value) == (
        "reading the JSON of plan-unknown0000: HCP Terraform answered 404 (not found): not found, or the "
        "token's team cannot read this workspace's runs"
    )


def test_a_plan_with_only_format_version_is_a_plan_stand_in() -> None:
    with StandInHcpApi(Behaviour(download_body=b'{"format_version": "1.2"}')) as server:
        assert hcp_runs.HcpApi(server.address, "plan-team-token").plan_json(PLANS["base"]) == (
            b'{"format_version": "1.2"}'
        )


def test_save_plan_json_writes_the_plan_into_new_folders_and_returns_the_run_stand_in(
    api: StandInHcpApi, tmp_path: Path
) -> None:
    (tmp_path / "base.txt").write_text(_log("base"))
    out = tmp_path / "a" / "b" / "plan.json"
    environ = {"TF_TOKEN_app_terraform_io": "admin-token", hcp_runs.ADDRESS_VAR: api.address}
    run = hcp_runs.save_plan_json(tmp_path / "base.txt", out, full=True, environ=environ)
    assert run == hcp_runs.RunRef("app.terraform.io", "ilities", "viberglass-dev-base", RUNS["base"])
    assert out.read_bytes() == (FIXTURES / f"{PLANS['base']}.json").read_bytes()
    assert [r["path"].split("?")[0] for r in api.requests] == [
        f"/api/v2/runs/{RUNS['base']}",
        f"/api/v2/plans/{PLANS['base']}/json-output",
        f"/_archivist/{PLANS['base']}",
    ]
    assert api.requests[0]["authorization"] == "Bearer admin-token"


def test_save_plan_json_without_an_address_calls_the_run_urls_host_over_https_stand_in(
    api: StandInHcpApi, tmp_path: Path
) -> None:
    """The run URL names the stand-in's host; without VIBERGLASS_HCP_ADDRESS the API is that host over
    https, which the plain-HTTP stand-in cannot speak: the failure names the host, and nothing is written."""
    host = api.address.split("://", 1)[1]
    (tmp_path / "log.txt").write_text(f"To view this run: http://{host}/app/org/ws/runs/run-abc123\n")
    out = tmp_path / "plan.json"
    with pytest.raises(OpsError) as error:
        hcp_runs.save_plan_json(tmp_path / "log.txt", out, environ={"TF_TOKEN_127_0_0_1": "plan-team-token"})
    assert str(error.value).startswith(f"HCP Terraform API {host} unreachable: ")
    assert not out.exists()


def test_save_plan_json_reads_the_token_from_the_given_environment_only(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text(_log("base"))
    with pytest.raises(InputError) as error:
        hcp_runs.save_plan_json(tmp_path / "base.txt", tmp_path / "p.json", environ={})
    assert str(error.value) == "TF_TOKEN_app_terraform_io is not set: give the plan token of the workspace's plan team"


def test_save_plan_json_with_an_unreadable_log_is_bad_input_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError) as error:
        hcp_runs.save_plan_json(tmp_path / "missing.txt", tmp_path / "p.json", environ={})
    assert str(error.value) == f"--log {tmp_path / 'missing.txt'}: No such file or directory"


@pytest.mark.parametrize(
    ("run_body", "message"),
    [
        (b"<html>maintenance</html>", "HCP Terraform answered 200 with something that is not JSON"),
        (b'{"data": {"relationships": {}}}', "the run names no plan"),
        (b'{"data": {"relationships": {"plan": {"data": {"id": 5}}}}}', "5 is not a plan id"),
        (b'{"data": {"relationships": {"plan": {"data": {"id": "run-abc"}}}}}', "'run-abc' is not a plan id"),
    ],
    ids=["not-json", "no-plan", "a-number", "not-a-plan-id"],
)
def test_a_run_answer_without_a_plan_id_is_one_whole_line_stand_in(run_body: bytes, message: str) -> None:
    with StandInHcpApi(Behaviour(run_body=run_body)) as server, pytest.raises(OpsError) as error:
        hcp_runs.HcpApi(server.address, "plan-team-token").plan_id(RUNS["base"])
    assert str(error.value) == f"reading run {RUNS['base']}: {message}"


def test_api_calls_ask_for_json_api_from_an_address_with_a_trailing_slash_stand_in(api: StandInHcpApi) -> None:
    client = hcp_runs.HcpApi(api.address + "/", "plan-team-token")
    client.plan_json(client.plan_id(RUNS["base"]))
    assert [r["path"].split("?")[0] for r in api.requests] == [
        f"/api/v2/runs/{RUNS['base']}",
        f"/api/v2/plans/{PLANS['base']}/json-output-redacted",
        f"/_archivist/{PLANS['base']}",
    ]
    assert api.accepts == ["application/vnd.api+json, application/json"] * 3


def test_a_redirect_from_http_to_https_is_followed_stand_in() -> None:
    """An API on http (the stand-in) may hand out an https download URL: it is followed (the plain-HTTP
    stand-in then cannot answer TLS, so the failure is the download host's, not a refused redirect)."""
    with StandInHcpApi() as probe:
        host = probe.address.split("://", 1)[1]
    message = _plan_json_failure(Behaviour(location=f"https://{host}/_archivist/{PLANS['base']}"))
    assert message.startswith(f"HCP Terraform API {host} unreachable: ")


def test_save_plan_json_by_default_writes_the_redacted_plan_into_an_existing_folder_stand_in(
    api: StandInHcpApi, tmp_path: Path
) -> None:
    """The log is read leniently: a byte that is not UTF-8 in the CLI output does not stop the download."""
    (tmp_path / "base.txt").write_bytes(b"\xff\xfe progress\n" + _log("base").encode())
    environ = {"TF_TOKEN_app_terraform_io": "plan-team-token", hcp_runs.ADDRESS_VAR: api.address}
    hcp_runs.save_plan_json(tmp_path / "base.txt", tmp_path / "plan.json", environ=environ)
    assert api.requests[1]["path"] == f"/api/v2/plans/{PLANS['base']}/json-output-redacted"
    assert (tmp_path / "plan.json").read_bytes() == (FIXTURES / f"{PLANS['base']}.json").read_bytes()
