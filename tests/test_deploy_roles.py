"""The application repository's deploy roles (core/deploy_roles.py): trusted for one subject of that
repository, allowed exactly the AWS calls of the ops commands its reusable workflows run (iamprover: each
call proven allowed, a Z3 search for anything more), nothing like PowerUser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from core import app_contract as app
from core import deploy_roles, discovery
from tests import iam_eval
from tests.conftest import ROOT, Stacks, SynthFn, per_test_under_mutation
from tests.iam_eval import ACCOUNT, PARTITION, REGION, Resolver
from tests.tf import items, one, outputs

CALLER_PIN = "3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"  # docs/app-workflows/*.yml
ROLES = {"backend-deploy": "platform", "frontend-deploy": "platform", "workers-deploy": "workers"}


def _role(stacks: Stacks, env: str, role: str) -> dict[str, Any]:
    return one(stacks[ROLES[role]], "aws_iam_role", name=f"viberglass-{env}-{role}")


@pytest.mark.parametrize("role", ROLES)
def test_each_deploy_role_trusts_one_subject_of_the_application_repository(each_env: Any, role: str) -> None:
    """The shipped environments pin the reusable workflow (the commit the callers in docs/app-workflows/
    name), so the subject is the application repository's Environment and this repository's workflow."""
    env, stacks = each_env
    trust = _role(stacks, env, role)["assume_role_policy"]
    assert iam_eval.policy_subject(trust) == (
        f"repo:Ilities/viberglass:environment:{env}:job_workflow_ref:Ilities/viberglass-infra/.github/workflows/"
        f"{deploy_roles.WORKFLOWS[role]}@{CALLER_PIN}"
    )
    assert '"StringLike"' not in trust and '"sts.amazonaws.com"' in trust


def test_no_prod_deploy_role_can_stand_in_for_another(prod: Stacks) -> None:
    """Each prod deploy role trusts its own reusable workflow only: a job running deploy-frontend.yml (or any
    other job of the application repository's `prod` Environment) gets a subject no other role trusts, so it
    cannot take the backend role, which passes the task role that reads every backend secret."""
    subjects = {role: iam_eval.policy_subject(_role(prod, "prod", role)["assume_role_policy"]) for role in ROLES}
    assert len(set(subjects.values())) == len(ROLES)
    for role, subject in subjects.items():
        assert subject.endswith(f"/.github/workflows/{deploy_roles.WORKFLOWS[role]}@{CALLER_PIN}")
        assert subject != "repo:Ilities/viberglass:environment:prod"


def test_the_shipped_pin_is_the_commit_the_callers_name() -> None:
    """GitHub writes job_workflow_ref with the ref the caller's `uses:` names, and the subject template is the
    application repository's (one for dev and prod): every shipped file pins exactly what the callers pin."""
    from tests.conftest import raw_config
    from tests.test_app_workflows import USES, calls

    pins = {USES.match(job["uses"]).group(2) for _, _, job in calls()}  # type: ignore[union-attr]
    assert pins == {CALLER_PIN}
    for env in ("dev", "prod"):
        assert raw_config(env)["github"]["app_deploy_workflow_ref"] == CALLER_PIN


@pytest.mark.parametrize("role", ROLES)
def test_a_pinned_workflow_ref_makes_each_role_trust_only_its_reusable_workflow(synth: SynthFn, role: str) -> None:
    """With the application repository's OIDC subject template ["repo", "context", "job_workflow_ref"]
    (GitHub's subject customization; AWS cannot check job_workflow_ref otherwise), each role names the one
    reusable workflow of this repository that may assume it, at the configured ref."""
    stacks = synth("dev", {"github": {"app_deploy_workflow_ref": "refs/heads/main"}})
    workflow = deploy_roles.WORKFLOWS[role]
    assert (ROOT / ".github" / "workflows" / workflow).is_file()
    assert iam_eval.policy_subject(_role(stacks, "dev", role)["assume_role_policy"]) == (
        "repo:Ilities/viberglass:environment:dev"
        f":job_workflow_ref:Ilities/viberglass-infra/.github/workflows/{workflow}@refs/heads/main"
    )


PINNED_SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("ref", [PINNED_SHA, "refs/heads/main", "refs/tags/v1.2.0"])
def test_the_workflow_ref_may_be_a_full_commit_sha_or_a_full_ref(ref: str) -> None:
    """A caller pinned to a commit (`uses: <infra>/.github/workflows/deploy-backend.yml@<sha>`, the strictest
    pin) gets `job_workflow_ref` ending in `@<sha>`: the configuration accepts it and the roles trust exactly
    that (a bad value is refused in tests/test_config_errors.py)."""
    from config import parse
    from config.defaults import merge
    from tests.conftest import raw_config

    cfg = parse(merge(raw_config("dev"), {"github": {"app_deploy_workflow_ref": ref}}), "dev")
    assert cfg.github.app_deploy_workflow_ref == ref
    for role, workflow in deploy_roles.WORKFLOWS.items():
        assert deploy_roles.subject(cfg, role) == (
            f"repo:Ilities/viberglass:environment:dev:job_workflow_ref:Ilities/viberglass-infra/.github/workflows/"
            f"{workflow}@{ref}"
        )


@pytest.fixture(scope=per_test_under_mutation("module"), params=["dev", "prod"])
def resolved(request: pytest.FixtureRequest, synth: SynthFn) -> tuple[str, Resolver, dict[str, Any]]:
    env: str = request.param
    stacks = {k: v for k, v in synth(env).items() if k != "manifest"}
    resolver = Resolver(stacks)
    platform = stacks["platform"]

    def arn(stack: str, rtype: str, attr: str = "arn", **props: Any) -> str:
        keys = [k for k, b in items(stacks[stack], rtype) if all(b.get(p) == v for p, v in props.items())]
        assert len(keys) == 1, (rtype, props, keys)
        return iam_eval.attribute(rtype, keys[0], stacks[stack]["resource"][rtype][keys[0]], attr)

    names = [*discovery.PARAMETERS, discovery.ALARM_TOPIC]
    values = {
        "partition": PARTITION,
        "region": REGION,
        "account": ACCOUNT,
        "discovery_arns": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/viberglass/{env}/{n}" for n in names],
        "backend_repository_arn": arn("platform", "aws_ecr_repository", name=f"{env}-viberglass-backend"),
        "backend_service_arn": (
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/viberglass-{env}-backend/viberglass-{env}-backend"
        ),
        "backend_execution_role_arn": arn("platform", "aws_iam_role", name=f"viberglass-{env}-backend-execution"),
        "backend_task_role_arn": arn("platform", "aws_iam_role", name=f"viberglass-{env}-backend-task"),
        "amplify_app_arn": arn("platform", "aws_amplify_app"),
        "worker_repository_arns": sorted(
            f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{env}/{i.repository}" for i in app.WORKER_IMAGES
        ),
    }
    assert one(platform, "aws_ecs_service")["name"] == f"viberglass-{env}-backend"
    return env, resolver, values


@pytest.mark.parametrize("role", ROLES)
def test_deploy_role_allows_every_call_of_its_deploy(resolved: tuple[str, Resolver, dict[str, Any]], role: str) -> None:
    env, resolver, values = resolved
    document = iam_eval.role_document(resolver, ROLES[role], f"viberglass-{env}-{role}")
    assert iam_eval.denied_calls(document, deploy_roles.ROLE_PERMISSIONS[role], values) == []


@pytest.mark.parametrize("role", ROLES)
def test_deploy_role_allows_nothing_more(resolved: tuple[str, Resolver, dict[str, Any]], role: str) -> None:
    env, resolver, values = resolved
    document = iam_eval.role_document(resolver, ROLES[role], f"viberglass-{env}-{role}")
    contract = iam_eval.contract_document(deploy_roles.ROLE_PERMISSIONS[role], values)
    assert iam_eval.wider_than(document, contract) is None
    assert iam_eval.parliament_findings(document) == []


@pytest.mark.parametrize("role", ROLES)
def test_deploy_roles_are_nothing_like_power_user(each_env: Any, role: str) -> None:
    env, stacks = each_env
    stack = stacks[ROLES[role]]
    key = next(k for k, b in items(stack, "aws_iam_role") if b["name"] == f"viberglass-{env}-{role}")
    attached = [b for _, b in items(stack, "aws_iam_role_policy_attachment") if key in b["role"]]
    assert attached == []
    actions = {a for p in deploy_roles.ROLE_PERMISSIONS[role] for a in p.actions}
    assert len(actions) <= 16 and not any(a.endswith("*") for a in actions)
    assert not {a for a in actions if a.startswith("iam:")} - {"iam:PassRole"}


# -- the roles cover exactly what the ops commands call --------------------------------------------------------------

# The ops code each deploy role runs (and the boto3 clients it uses there).
OPS_CODE = {
    "backend-deploy": ["ops/backend.py", "ops/images.py", "ops/discovery.py", "ops/workers.py"],
    "frontend-deploy": ["ops/frontend.py", "ops/discovery.py"],
    "workers-deploy": ["ops/workers.py", "ops/images.py"],
}
_CALL = re.compile(r"\b(ecs|ecr|amplify|ssm)\.([a-z_]+)\b")
_PAGINATED = re.compile(r"\b(ecs|ecr|amplify|ssm)\.get_paginator\(\s*\"([a-z_]+)\"")
# Calls of those files the deploys do not make: rollback/restart (operators) and their listing.
NOT_IN_A_DEPLOY = {"ecs:ListTaskDefinitions"}


def _calls(path: str) -> set[str]:
    found = set()
    for service, method in _CALL.findall((ROOT / path).read_text()):
        if method in {"get_paginator", "exceptions"}:
            continue
        found.add(f"{service}:{''.join(part.capitalize() for part in method.split('_'))}")
    for service, method in _PAGINATED.findall((ROOT / path).read_text()):
        found.add(f"{service}:{''.join(part.capitalize() for part in method.split('_'))}")
    return found


@pytest.mark.parametrize("role", ROLES)
def test_every_aws_call_of_the_deploy_commands_is_granted(role: str) -> None:
    """A new boto3 call in ops/backend.py, ops/frontend.py, ops/discovery.py or the registry login fails
    here until its role allows it (or it is listed as no part of a deploy)."""
    calls = set().union(*(_calls(p) for p in OPS_CODE[role])) - NOT_IN_A_DEPLOY
    if role == "workers-deploy":
        calls = {c for c in calls if c.startswith("ecr:")}
    if role == "frontend-deploy":
        calls = {c for c in calls if c.startswith(("amplify:", "ssm:"))}
    granted = {a for p in deploy_roles.ROLE_PERMISSIONS[role] for a in p.actions}
    assert calls and calls <= granted, calls - granted


# Actions a deploy needs that no boto3 call names: docker push and pull against ECR, and the roles a
# registered task definition names.
DOCKER_AND_PASS = {*deploy_roles._PUSH, "iam:PassRole"}


@pytest.mark.parametrize("role", ROLES)
def test_every_granted_action_is_called_by_the_deploy(role: str) -> None:
    """The reverse: a right the deploy commands never use (say ecs:DeleteService) fails here."""
    calls = set().union(*(_calls(p) for p in OPS_CODE[role]))
    granted = {a for p in deploy_roles.ROLE_PERMISSIONS[role] for a in p.actions}
    assert granted - calls - DOCKER_AND_PASS == set()


def test_the_call_finder_finds_calls(tmp_path: Path) -> None:
    assert _calls("ops/backend.py") >= {"ecs:DescribeServices", "ecs:RegisterTaskDefinition"}
    assert _calls("ops/images.py") >= {"ecr:BatchGetImage", "ecr:PutImage", "ecr:ListImages"}
    assert _calls("ops/workers.py") == {"ecr:GetAuthorizationToken"}


# -- where the workflows find them -----------------------------------------------------------------------------------


def test_the_role_arns_are_published(dev: Stacks) -> None:
    """Outputs for whoever applies, discovery parameters for ops; the workflows get them as variables of the
    application repository's Environments (ops bootstrap-github-oidc prints which)."""
    platform_outputs = outputs(dev["platform"])
    assert {"backend_deploy_role_arn", "frontend_deploy_role_arn"} <= set(platform_outputs)
    assert "workers_deploy_role_arn" in outputs(dev["workers"])
    parameters = {p["name"]: p for _, p in items(dev["platform"], "aws_ssm_parameter")}
    resolver = Resolver({k: v for k, v in dev.items() if k != "manifest"})
    for role in ROLES:
        name = f"/viberglass/dev/deployment/{role.split('-')[0]}DeployRoleArn"
        assert parameters[name]["type"] == "String"
        assert (
            resolver.text("platform", parameters[name]["value"]) == f"arn:aws:iam::{ACCOUNT}:role/viberglass-dev-{role}"
        )
