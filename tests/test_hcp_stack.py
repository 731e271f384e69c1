"""The `hcp` stack of an environment on HCP Terraform (`state.backend: cloud`): workspaces as code, remote runs
with dynamic AWS credentials, and the roles those runs assume. Assertions on the synthesized JSON; the project
rules and checkov run on it as they run on the shipped environments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ConfigError, parse
from config.defaults import merge
from core import ci_iam, hcp
from core.toolchain import terraform_env
from policy import checkov_gate, rules
from tests.conftest import ROOT, Stacks, SynthFn, raw_config
from tests.tf import items, one, policy

CLOUD = {"state": {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-dev"}}}
AGENT = merge(CLOUD, {"state": {"cloud": {"execution_mode": "agent", "agent_pool": "viberglass-agents"}}})
PROD_CLOUD = {"state": {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-prod"}}}
WORKSPACES = {"base": "viberglass-dev-base", "workers": "viberglass-dev-workers", "platform": "viberglass-dev-platform"}


@pytest.fixture(scope="module")
def cloud(synth: SynthFn) -> Stacks:
    return synth("dev", CLOUD)


@pytest.fixture(scope="module")
def stack(cloud: Stacks) -> dict[str, Any]:
    return cloud["hcp"]


def _key(reference: str) -> tuple[str, str]:
    rtype, key = reference.removeprefix("${").removesuffix("}").split(".")[:2]
    return rtype, key


def _workspace_names(stack: dict[str, Any], references: list[str]) -> set[str]:
    return {stack["resource"]["tfe_workspace"][_key(r)[1]]["name"] for r in references}


def _settings(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """workspace name -> its tfe_workspace_settings."""
    return {
        _workspace_names(stack, [body["workspace_id"]]).pop(): body
        for _, body in items(stack, "tfe_workspace_settings")
    }


def test_only_an_environment_on_hcp_terraform_has_the_hcp_stack(dev: Stacks, prod: Stacks, cloud: Stacks) -> None:
    assert "hcp" not in dev and "hcp" not in prod
    assert set(cloud["manifest"]["stacks"]) == {"base", "workers", "platform", "hcp"}


def test_every_stack_has_a_workspace_in_the_environments_project(stack: dict[str, Any]) -> None:
    project = one(stack, "tfe_project", name="viberglass-dev", organization="ilities")
    workspaces = {body["name"]: body for _, body in items(stack, "tfe_workspace")}
    assert set(workspaces) == set(WORKSPACES.values())
    project_ref = f"${{tfe_project.{next(k for k, _ in items(stack, 'tfe_project'))}.id}}"
    for body in workspaces.values():
        assert (body["organization"], body["project_id"]) == (project["organization"], project_ref)
        assert body["terraform_version"] == terraform_env()["TERRAFORM_VERSION"]
        assert (body["queue_all_runs"], body["speculative_enabled"]) == (False, True)


def test_every_workspace_runs_remotely(stack: dict[str, Any]) -> None:
    settings = _settings(stack)
    assert set(settings) == set(WORKSPACES.values())
    assert {s["execution_mode"] for s in settings.values()} == {"remote"}
    assert all("agent_pool_id" not in s for s in settings.values())


def test_agent_execution_runs_on_the_named_pool(synth: SynthFn) -> None:
    stack = synth("dev", AGENT)["hcp"]
    (key, pool), = items(stack, "tfe_agent_pool", data=True)  # fmt: skip
    assert (pool["name"], pool["organization"]) == ("viberglass-agents", "ilities")
    settings = _settings(stack)
    assert {s["execution_mode"] for s in settings.values()} == {"agent"}
    assert {s["agent_pool_id"] for s in settings.values()} == {f"${{data.tfe_agent_pool.{key}.id}}"}


def test_state_is_shared_only_with_the_workspaces_that_read_it(cloud: Stacks, stack: dict[str, Any]) -> None:
    """Each workspace's consumers are exactly the workspaces whose stacks read it through cdktf's cross-stack
    references (the terraform_remote_state data sources in the synthesized stacks)."""
    reads: dict[str, set[str]] = {name: set() for name in WORKSPACES.values()}
    for reader in hcp.STACKS:
        for _, body in items(cloud[reader], "terraform_remote_state", data=True):
            assert body["backend"] == "remote" and body["config"]["organization"] == "ilities"
            reads[body["config"]["workspaces"]["name"]].add(WORKSPACES[reader])
    shared = {name: _workspace_names(stack, s["remote_state_consumer_ids"]) for name, s in _settings(stack).items()}
    assert shared == reads
    assert shared["viberglass-dev-base"] == {"viberglass-dev-workers", "viberglass-dev-platform"}
    assert all(s["global_remote_state"] is False for s in _settings(stack).values())


def test_the_variable_set_switches_on_dynamic_credentials_for_every_workspace(stack: dict[str, Any]) -> None:
    (set_key, _), = items(stack, "tfe_variable_set")  # fmt: skip
    variables = {body["key"]: body for _, body in items(stack, "tfe_variable")}
    assert set(variables) == {"TFC_AWS_PROVIDER_AUTH", "TFC_AWS_PLAN_ROLE_ARN", "TFC_AWS_APPLY_ROLE_ARN"}
    assert variables["TFC_AWS_PROVIDER_AUTH"]["value"] == "true"
    for phase in hcp.PHASES:
        role_key = next(k for k, r in items(stack, "aws_iam_role") if r["name"] == f"viberglass-dev-hcp-{phase}")
        assert variables[f"TFC_AWS_{phase.upper()}_ROLE_ARN"]["value"] == f"${{aws_iam_role.{role_key}.arn}}"
    for body in variables.values():
        assert (body["category"], body["sensitive"], body["variable_set_id"]) == (
            "env",
            False,
            f"${{tfe_variable_set.{set_key}.id}}",
        )
    attached = [body["workspace_id"] for _, body in items(stack, "tfe_workspace_variable_set")]
    assert _workspace_names(stack, attached) == set(WORKSPACES.values()) and len(attached) == 3


def test_the_oidc_provider_is_hcp_terraforms(stack: dict[str, Any]) -> None:
    provider = one(stack, "aws_iam_openid_connect_provider")
    assert (provider["url"], provider["client_id_list"]) == ("https://app.terraform.io", ["aws.workload.identity"])


@pytest.mark.parametrize("phase", hcp.PHASES)
def test_each_role_trusts_exactly_its_run_phase_of_the_three_workspaces(stack: dict[str, Any], phase: str) -> None:
    role = one(stack, "aws_iam_role", name=f"viberglass-dev-hcp-{phase}")
    (statement,) = policy(role["assume_role_policy"])["Statement"]
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Principal"]["Federated"].endswith(":oidc-provider/app.terraform.io")
    assert statement["Condition"] == {
        "StringEquals": {
            "app.terraform.io:aud": "aws.workload.identity",
            "app.terraform.io:sub": [
                f"organization:ilities:project:viberglass-dev:workspace:{name}:run_phase:{phase}"
                for name in WORKSPACES.values()
            ],
        }
    }


@pytest.mark.parametrize(("phase", "kind"), [("plan", ci_iam.HCP_PLAN), ("apply", ci_iam.HCP_APPLY)])
def test_run_roles_have_the_github_roles_documents_under_the_boundary(
    stack: dict[str, Any], phase: str, kind: str
) -> None:
    """The same builders as the GitHub plan and apply roles (core/ci_iam.py), which tests/test_ci_iam.py proves:
    the plan role read-only and blind to secret values, the apply role unable to escalate."""
    place = ci_iam.Place.of(parse(merge(raw_config("dev"), CLOUD), "dev"))
    key = next(k for k, r in items(stack, "aws_iam_role") if r["name"] == place.role_name(kind))
    role = stack["resource"]["aws_iam_role"][key]
    assert role["permissions_boundary"].endswith(":policy/viberglass-dev-boundary")
    inline = one(stack, "aws_iam_role_policy", role=f"${{aws_iam_role.{key}.id}}")
    document = ci_iam.plan_document(place) if phase == "plan" else ci_iam.apply_document(place)
    assert json.loads(inline["policy"]) == document
    attached = one(stack, "aws_iam_role_policy_attachment", role=f"${{aws_iam_role.{key}.name}}")
    assert attached["policy_arn"].endswith(
        f":iam::aws:policy/{'ReadOnlyAccess' if phase == 'plan' else 'PowerUserAccess'}"
    )
    assert place.role_arn(kind) in place.ci_role_arns  # the boundary's KeepCiRoles covers it


def _team_permissions(stack: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """team name -> workspace name -> its tfe_team_access body."""
    teams = {f"${{tfe_team.{k}.id}}": body["name"] for k, body in items(stack, "tfe_team")}
    assert set(teams.values()) == {"viberglass-dev-plan", "viberglass-dev-apply"}
    found: dict[str, dict[str, Any]] = {}
    for _, body in items(stack, "tfe_team_access"):
        found.setdefault(teams[body["team_id"]], {})[_workspace_names(stack, [body["workspace_id"]]).pop()] = body
    assert set(found["viberglass-dev-plan"]) == set(found["viberglass-dev-apply"]) == set(WORKSPACES.values())
    return found


NO_WRITES = {"variables": "read", "state_versions": "read", "sentinel_mocks": "none", "workspace_locking": False,
             "run_tasks": False}  # fmt: skip


def test_the_plan_team_can_plan_and_only_the_apply_team_can_apply(stack: dict[str, Any]) -> None:
    teams = _team_permissions(stack)
    for team, runs in (("viberglass-dev-plan", "plan"), ("viberglass-dev-apply", "apply")):
        for workspace, body in teams[team].items():
            assert body["permissions"] == [{"runs": runs, **NO_WRITES}], (team, workspace)


def test_no_team_can_write_state_or_variables_past_a_reviewed_plan(stack: dict[str, Any]) -> None:
    """Fixed `write` access lets a member upload a state version or edit a variable, changing the environment
    without any plan; custom permissions (never `access`) read both and write neither, and lock nothing."""
    for team, workspaces in _team_permissions(stack).items():
        for workspace, body in workspaces.items():
            assert "access" not in body, (team, workspace)
            (permissions,) = body["permissions"]
            assert permissions["state_versions"] in {"read", "read-outputs"}, (team, workspace)
            assert permissions["variables"] in {"none", "read"}, (team, workspace)
            assert permissions["workspace_locking"] is False and permissions["run_tasks"] is False


def test_no_token_is_in_the_hcp_stack(stack: dict[str, Any]) -> None:
    """Team, organization and agent tokens are created out of band and kept as GitHub secrets."""
    assert not [rtype for rtype in stack["resource"] if rtype.endswith("_token")]
    assert "token" not in stack["provider"]["tfe"][0]


def test_the_hcp_stack_keeps_its_state_in_a_workspace_it_does_not_create(cloud: Stacks, stack: dict[str, Any]) -> None:
    assert stack["terraform"]["cloud"] == {"organization": "ilities", "workspaces": {"name": "viberglass-dev-hcp"}}
    assert "viberglass-dev-hcp" not in {body["name"] for _, body in items(stack, "tfe_workspace")}
    assert cloud["base"]["terraform"]["cloud"]["workspaces"] == {
        "name": "viberglass-dev-base",
        "project": "viberglass-dev",
    }


def test_production_workspaces_survive_a_stray_destroy(synth: SynthFn) -> None:
    stack = synth("prod", PROD_CLOUD)["hcp"]
    for rtype in ("tfe_workspace", "tfe_project"):
        assert all(body["lifecycle"]["prevent_destroy"] for _, body in items(stack, rtype)), rtype
    assert {body["allow_destroy_plan"] for _, body in items(stack, "tfe_workspace")} == {False}


# -- the security gate on the cloud variant ------------------------------------------------------------------------


@pytest.fixture
def cloud_config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """config/ with dev on HCP Terraform: the rules read the environment's file (organization, project)."""
    for env in ("dev", "prod"):
        (tmp_path / f"{env}.yaml").write_text((ROOT / "config" / f"{env}.yaml").read_text())
    raw = yaml.safe_load((tmp_path / "dev.yaml").read_text())
    raw["state"] = CLOUD["state"]
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path))
    return tmp_path


def test_every_project_rule_passes(cloud: Stacks, cloud_config_dir: Path) -> None:
    stacks = {k: v for k, v in cloud.items() if k != "manifest"}
    assert rules.check(stacks, "dev") == []


@pytest.mark.slow
def test_checkov_finds_nothing_unlisted_in_the_hcp_stack(cloud: Stacks, tmp_path: Path) -> None:
    path = tmp_path / "stacks" / "hcp" / "cdk.tf.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(cloud["hcp"]))
    report = checkov_gate.run_checkov(tmp_path / "stacks")
    result = checkov_gate.evaluate(
        "dev", report, checkov_gate.construct_paths(tmp_path / "stacks"), checkov_gate.load_skips()
    )
    assert result.failed == [] and result.passed > 0


def _trust(stack: dict[str, Any], phase: str) -> dict[str, Any]:
    document: dict[str, Any] = policy(
        one(stack, "aws_iam_role", name=f"viberglass-dev-hcp-{phase}")["assume_role_policy"]
    )
    return document


def _with_trust(stack: dict[str, Any], phase: str, document: dict[str, Any]) -> Stacks:
    copy = json.loads(json.dumps(stack))
    for _, role in items(copy, "aws_iam_role"):
        if role["name"] == f"viberglass-dev-hcp-{phase}":
            role["assume_role_policy"] = json.dumps(document)
    return {"hcp": copy}


def _condition(stack: dict[str, Any], change: Any) -> Stacks:
    document = _trust(stack, "apply")
    change(document["Statement"][0]["Condition"])
    return _with_trust(stack, "apply", document)


SUB = "app.terraform.io:sub"
PREFIX = "organization:ilities:project:viberglass-dev:workspace:"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda c: c.update({"StringLike": c.pop("StringEquals")}), "other than StringEquals"),
        (
            lambda c: c["StringEquals"].update({"app.terraform.io:aud": "sts.amazonaws.com"}),
            "aud = aws.workload.identity",
        ),
        (
            lambda c: c["StringEquals"].update({SUB: [f"{PREFIX}viberglass-dev-*:run_phase:apply"]}),
            "exact run_phase subjects",
        ),
        (
            lambda c: c["StringEquals"].update(
                {SUB: [f"{PREFIX}viberglass-dev-base:run_phase:plan", f"{PREFIX}viberglass-dev-base:run_phase:apply"]}
            ),
            "more than one run phase",
        ),
        (
            lambda c: c["StringEquals"].update({SUB: [f"{PREFIX}viberglass-prod-base:run_phase:apply"]}),
            "not a workspace of this environment",
        ),
        (
            lambda c: c["StringEquals"].update(
                {SUB: ["organization:other:project:viberglass-dev:workspace:viberglass-dev-base:run_phase:apply"]}
            ),
            "not a workspace of this environment",
        ),
        (lambda c: c["StringEquals"].pop(SUB), "exact run_phase subjects"),
    ],
    ids=["pattern", "audience", "wildcard", "both-phases", "other-environment", "other-organization", "no-subject"],
)
def test_trust_is_pinned_refuses_a_loose_hcp_trust(
    stack: dict[str, Any], cloud_config_dir: Path, change: Any, problem: str
) -> None:
    found = rules.trust_is_pinned(_condition(stack, change), "dev")
    assert len(found) == 1 and problem in found[0], found


def test_an_hcp_trust_in_an_environment_on_s3_is_refused(stack: dict[str, Any]) -> None:
    found = rules.trust_is_pinned({"hcp": stack}, "dev")  # the shipped dev.yaml keeps its state in S3
    assert found and all("does not use HCP Terraform" in line for line in found)


def test_the_plan_role_may_not_get_power_user(stack: dict[str, Any]) -> None:
    copy = json.loads(json.dumps(stack))
    for _, body in items(copy, "aws_iam_role_policy_attachment"):
        body["policy_arn"] = body["policy_arn"].replace("ReadOnlyAccess", "PowerUserAccess")
    found = rules.roles_carry_the_boundary({"hcp": copy}, "dev")
    assert len(found) == 1 and "PowerUserAccess, not a listed service-role policy" in found[0]


@pytest.mark.parametrize(
    ("rtype", "body"),
    [
        ("tfe_team_token", {"team_id": "${tfe_team.x.id}"}),
        ("tfe_organization_token", {"organization": "ilities"}),
        ("tfe_variable", {"key": "AWS_SECRET_ACCESS_KEY", "value": "x", "category": "env", "sensitive": True}),
    ],
)
def test_a_token_or_a_sensitive_variable_in_the_hcp_stack_is_refused(
    stack: dict[str, Any], rtype: str, body: dict[str, Any]
) -> None:
    copy = json.loads(json.dumps(stack))
    copy["resource"].setdefault(rtype, {})["added"] = body
    found = rules.no_secret_in_state({"hcp": copy}, "dev")
    assert len(found) == 1 and f"{rtype}.added" in found[0]


# -- configuration ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cloud", "message"),
    [
        ({"organization": "ilities"}, r"^state\.cloud\.project: is missing"),
        (
            {"organization": "ilities", "project": "p", "execution_mode": "agent"},
            r"^state\.cloud\.agent_pool: is missing",
        ),
        (
            {"organization": "ilities", "project": "p", "agent_pool": "pool"},
            r"^state\.cloud\.agent_pool: pool is set but execution_mode is remote",
        ),
        ({"organization": "ilities", "project": "p", "execution_mode": "local"}, r"^state\.cloud\.execution_mode"),
    ],
    ids=["no-project", "agent-without-pool", "pool-without-agent", "local-execution"],
)
def test_bad_cloud_settings_are_one_line(cloud: dict[str, Any], message: str) -> None:
    raw = raw_config("dev") | {"state": {"backend": "cloud", "cloud": cloud}}
    with pytest.raises(ConfigError, match=message) as error:
        parse(raw, "dev")
    assert "\n" not in str(error.value)
