"""Project policy rules checkov does not express (docs/security.md). Each is a pure predicate over the
synthesized stacks of one environment and returns its violations, one line each."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from core import discovery, hcp
from core.ci_iam import ATTACHABLE_POLICIES, BOUNDARY, HCP_APPLY, HCP_PLAN, MANAGED
from core.iam import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST

Json = dict[str, Any]
Stacks = dict[str, Json]
Rule = Callable[[Stacks, str], list[str]]

# Actions AWS only authorizes on Resource "*" (no resource-level permissions).
WILDCARD_RESOURCE_ACTIONS = frozenset(
    {
        "ecr:GetAuthorizationToken",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DescribeSubnets",
        "ecs:RegisterTaskDefinition",
        "ecs:DeregisterTaskDefinition",
        "ecs:DescribeTaskDefinition",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    }
)
PUBLIC_PORTS = {80, 443}


def resources(stacks: Stacks, rtype: str) -> Iterator[tuple[str, str, Json]]:
    """(stack, key, body) of every resource of ``rtype``."""
    for stack_name, stack in sorted(stacks.items()):
        for key, body in sorted(stack.get("resource", {}).get(rtype, {}).items()):
            yield stack_name, key, body


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def log_groups_have_retention_and_key(stacks: Stacks, _env: str) -> list[str]:
    return [
        f"{s}: aws_cloudwatch_log_group.{k} needs retention_in_days and kms_key_id"
        for s, k, body in resources(stacks, "aws_cloudwatch_log_group")
        if not body.get("retention_in_days") or not body.get("kms_key_id")
    ]


def _identity_policies(stacks: Stacks) -> Iterator[tuple[str, Json]]:
    for s, k, body in resources(stacks, "aws_iam_role_policy"):
        yield f"{s}: aws_iam_role_policy.{k}", json.loads(body["policy"])
    for s, k, body in resources(stacks, "aws_iam_policy"):
        yield f"{s}: aws_iam_policy.{k}", json.loads(body["policy"])


def iam_has_no_wildcards(stacks: Stacks, _env: str) -> list[str]:
    """No ``*`` or ``service:*`` action in an Allow; ``*`` resources only for actions AWS requires it for."""
    found = []
    for where, doc in _identity_policies(stacks):
        for statement in doc["Statement"]:
            if statement.get("Effect") != "Allow":
                continue
            sid = statement.get("Sid", "?")
            actions = _list(statement.get("Action", []))
            bad = [a for a in actions if a == "*" or a.endswith(":*")]
            if bad:
                found.append(f"{where} {sid}: wildcard action {bad[0]}")
            if "*" in _list(statement.get("Resource", [])):
                unexplained = sorted(set(actions) - WILDCARD_RESOURCE_ACTIONS)
                if unexplained:
                    found.append(f"{where} {sid}: resource * for {unexplained[0]}, which supports narrower ARNs")
    return found


def _hcp_subject_list(equals: Json) -> list[str] | None:
    """The exact, distinct subjects of an HCP Terraform trust (None when any is missing or a pattern)."""
    raw = equals.get(f"{hcp.HCP_OIDC_HOST}:sub")
    subjects = [raw] if isinstance(raw, str) else raw
    if not isinstance(subjects, list) or not subjects or not all(isinstance(s, str) for s in subjects):
        return None
    if any("*" in s or "?" in s for s in subjects) or len(set(subjects)) != len(subjects):
        return None
    return subjects


def _hcp_problem(conditions: Json, expected: dict[str, set[str]] | None) -> str | None:
    """HCP Terraform: exactly HCP's AWS audience, and exact `run_phase` subjects of one phase, each naming one
    of this environment's workspaces in its organization and project."""
    equals = conditions.get("StringEquals", {})
    subjects = _hcp_subject_list(equals)
    phases = {s.rsplit(":run_phase:", 1)[-1] for s in subjects or []}
    problem = None
    if set(conditions) != {"StringEquals"}:
        problem = "HCP Terraform trust with a condition other than StringEquals (patterns match other workspaces)"
    elif equals.get(f"{hcp.HCP_OIDC_HOST}:aud") != hcp.HCP_AUDIENCE:
        problem = f"HCP Terraform trust without aud = {hcp.HCP_AUDIENCE}"
    elif subjects is None:
        problem = "HCP Terraform trust without exact run_phase subjects"
    elif len(phases) != 1 or not phases <= set(hcp.PHASES):
        problem = "HCP Terraform trust for more than one run phase (a plan may never take the apply role)"
    elif expected is None:
        problem = "HCP Terraform trust in an environment that does not use HCP Terraform (state.backend)"
    elif foreign := sorted(set(subjects) - expected[phases.pop()]):
        problem = f"HCP Terraform trust for {foreign[0]}, not a workspace of this environment"
    return problem


def _github_problem(conditions: Json, repository: str | None) -> str | None:
    equals = conditions.get("StringEquals", {})
    if equals.get(f"{GITHUB_OIDC_HOST}:aud") != GITHUB_OIDC_AUDIENCE:
        return "GitHub OIDC trust without aud = sts.amazonaws.com"
    subject = equals.get(f"{GITHUB_OIDC_HOST}:sub")
    if not isinstance(subject, str) or "*" in subject or "?" in subject or "StringLike" in conditions:
        return "GitHub OIDC trust without exactly one exact sub"
    if repository is not None and not subject.startswith(f"repo:{repository}:"):
        return f"GitHub OIDC trust for {subject.split(':')[1] if ':' in subject else subject}, not {repository}"
    return None


def _trust_problem(
    statement: Json, repository: str | None, hcp_subjects: dict[str, set[str]] | None = None
) -> str | None:
    principal = statement.get("Principal", {})
    conditions = statement.get("Condition", {})
    federated = str(principal.get("Federated", "")) if isinstance(principal, dict) else ""
    if "Service" in principal:
        ok = "aws:SourceAccount" in conditions.get("StringEquals", {})
        return None if ok else "service trust without aws:SourceAccount"
    if federated.endswith(f"oidc-provider/{hcp.HCP_OIDC_HOST}"):
        return _hcp_problem(conditions, hcp_subjects)
    if federated.endswith(f"oidc-provider/{GITHUB_OIDC_HOST}"):
        return _github_problem(conditions, repository)
    return "trust is neither an AWS service, GitHub OIDC nor HCP Terraform OIDC"


def _app_repository(env: str) -> str | None:
    """``github.app_repository`` of ``config/<env>.yaml`` (None when the file cannot be read)."""
    from config import ConfigError, load  # noqa: PLC0415 (pydantic only for the rules that need it)

    try:
        return load(env).github.app_repository
    except ConfigError:
        return None


def _hcp_subjects(env: str) -> dict[str, set[str]] | None:
    """run phase -> the exact subjects of ``env``'s workspaces; None when it does not use HCP Terraform."""
    from config import ConfigError, load  # noqa: PLC0415 (pydantic only for the rules that need it)

    try:
        cfg = load(env)
    except ConfigError:
        return None
    return {phase: set(hcp.subjects(cfg, phase)) for phase in hcp.PHASES} if hcp.uses_hcp(cfg) else None


def trust_is_pinned(stacks: Stacks, env: str) -> list[str]:
    """Services only on behalf of this account; GitHub only for exactly one subject of the application
    repository (the stacks create no other GitHub role: this repository's roles are the bootstrap's); HCP
    Terraform only for HCP's AWS audience and the exact `run_phase` subjects of one phase of this environment's
    workspaces (`organization:<org>:project:<project>:workspace:<workspace>:run_phase:<plan|apply>`)."""
    repository = _app_repository(env)
    hcp_subjects = _hcp_subjects(env)
    found = []
    for s, k, body in resources(stacks, "aws_iam_role"):
        for statement in json.loads(body["assume_role_policy"])["Statement"]:
            problem = _trust_problem(statement, repository, hcp_subjects)
            if problem:
                found.append(f"{s}: aws_iam_role.{k}: {problem}")
    return found


def roles_carry_the_boundary(stacks: Stacks, _env: str) -> list[str]:
    """Every role has the environment's permissions boundary (``policy/viberglass-<env>-boundary``, which
    ``ops bootstrap-github-oidc`` installs); only the listed AWS service-role policies are attached."""
    found = []
    for s, k, body in resources(stacks, "aws_iam_role"):
        boundary = str(body.get("permissions_boundary", ""))
        if not re.search(rf":policy/viberglass-{re.escape(_env)}-{BOUNDARY}$", boundary):
            found.append(f"{s}: aws_iam_role.{k} ({body.get('name')}) has no permissions boundary")
    allowed = {p.split("}", 1)[1] for p in ATTACHABLE_POLICIES}
    # HCP Terraform's run roles (the hcp stack, applied by an operator) have the GitHub roles' managed policy.
    ci_managed = {f"viberglass-{_env}-{kind}": f":iam::aws:policy/{MANAGED[kind]}" for kind in (HCP_PLAN, HCP_APPLY)}
    names = {f"${{aws_iam_role.{k}.name}}": body.get("name") for _, k, body in resources(stacks, "aws_iam_role")}
    for s, k, body in resources(stacks, "aws_iam_role_policy_attachment"):
        arn = str(body.get("policy_arn", ""))
        managed = ci_managed.get(str(names.get(str(body.get("role")), body.get("role"))))
        if not any(arn.endswith(a) for a in allowed) and not (managed is not None and arn.endswith(managed)):
            found.append(f"{s}: aws_iam_role_policy_attachment.{k} attaches {arn}, not a listed service-role policy")
    return found


def _protected(body: Json) -> bool:
    return bool(body.get("lifecycle", {}).get("prevent_destroy"))


def is_production(env: str) -> bool:
    """The tier ``config/<env>.yaml`` names (never the environment's name). An environment whose
    configuration cannot be read is held to the production rules."""
    from config import ConfigError, load  # noqa: PLC0415 (pydantic only for the rule that needs it)

    try:
        return load(env).production
    except ConfigError:
        return True


def production_state_is_protected(stacks: Stacks, env: str) -> list[str]:
    """In production: databases, buckets and keys survive a stray ``terraform destroy``; logs are kept."""
    if not is_production(env):
        return []
    found = []
    for s, k, body in resources(stacks, "aws_db_instance"):
        if not (body.get("deletion_protection") and _protected(body) and body.get("skip_final_snapshot") is False):
            found.append(f"{s}: aws_db_instance.{k} needs deletion_protection, a final snapshot and prevent_destroy")
    for rtype in ("aws_s3_bucket", "aws_kms_key"):
        for s, k, body in resources(stacks, rtype):
            if not _protected(body):
                found.append(f"{s}: {rtype}.{k} needs prevent_destroy in production")
    for s, k, body in resources(stacks, "aws_cloudwatch_log_group"):
        if not body.get("skip_destroy"):
            found.append(f"{s}: aws_cloudwatch_log_group.{k} needs skip_destroy in production")
    return found


def only_the_alb_is_open_to_the_internet(stacks: Stacks, _env: str) -> list[str]:
    found = []
    groups = {
        f"${{aws_security_group.{k}.id}}": body.get("name", "")
        for _, k, body in resources(stacks, "aws_security_group")
    }
    for s, k, body in resources(stacks, "aws_vpc_security_group_ingress_rule"):
        if body.get("cidr_ipv4") != "0.0.0.0/0" and body.get("cidr_ipv6") != "::/0":
            continue
        group = groups.get(body.get("security_group_id", ""), "")
        ports = {body.get("from_port"), body.get("to_port")}
        # One public port per rule: a range 80-443 has public ends but opens every port between them.
        if not group.endswith("-alb-sg") or len(ports) != 1 or not ports <= PUBLIC_PORTS:
            found.append(
                f"{s}: aws_vpc_security_group_ingress_rule.{k} opens {sorted(map(str, ports))} to the internet"
            )
    for s, k, body in resources(stacks, "aws_security_group"):
        for rule in body.get("ingress", []) or []:
            if "0.0.0.0/0" in rule.get("cidr_blocks", []):
                found.append(f"{s}: aws_security_group.{k} has an inline internet ingress rule")
    return found


# Managed resources that keep a secret in state by design, and data sources that read one into state and
# plan. (`random_*` results, private keys, access keys, secret versions, decrypted parameters, tokens.)
SECRET_RESOURCES = frozenset(
    {
        # HCP Terraform tokens: created out of band and kept as GitHub secrets, never in the hcp stack's state.
        "tfe_agent_token",
        "tfe_audit_trail_token",
        "tfe_organization_token",
        "tfe_team_token",
        "aws_iam_access_key",
        "aws_iam_user_login_profile",
        "aws_secretsmanager_secret_version",
        "random_bytes",
        "random_password",
        "random_string",
        "tls_private_key",
    }
)
SECRET_DATA_SOURCES = frozenset(
    {
        "aws_ecr_authorization_token",
        "aws_eks_cluster_auth",
        "aws_kms_secret",
        "aws_kms_secrets",
        "aws_secretsmanager_random_password",
        "aws_secretsmanager_secret_version",
        "aws_secretsmanager_secret_versions",
        "aws_ssm_parameter",
        "aws_ssm_parameters_by_path",
    }
)
# Arguments that hold a secret (Terraform keeps them in plan and state as given; `Sensitive` only hides
# them in the CLI): password, master_password, access_token, oauth_token, basic_auth_credentials,
# auth_token, secret_string, private_key, ... Their write-only twins (`*_wo`) are the way around it.
_SECRET_ARGUMENT = re.compile(r"(^|_)(password|passwd|token|secret|credentials|private_key|api_key)(_|$)")
_NOT_A_SECRET = re.compile(r"(_wo|_wo_version|_arn|_id|_kms_key_id|_name|_enabled|_length)$")
_MANAGED_SECRET_SWITCHES = frozenset({"manage_master_user_password"})
# A resource that says its value is sensitive keeps that value in state all the same (a tfe_variable).
_SENSITIVE_FLAG = "sensitive"
_GENERATED = re.compile(r"\$\{(ephemeral\.|random_(password|string|bytes)\.)")


def _leaves(value: Any, path: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            if key == "//":  # cdktf metadata
                continue
            yield from _leaves(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _leaves(child, f"{path}[{i}]")
    else:
        yield path, value


def _argument(path: str) -> str:
    return re.sub(r"\[\d+\]", "", path).rsplit(".", 1)[-1]


def _secret_arguments(where: str, body: Json) -> list[str]:
    found = []
    if body.get(_SENSITIVE_FLAG) is True and "value" in body:
        found.append(f"{where}: a sensitive value; Terraform stores it in plan and state")
    for path, value in _leaves({k: v for k, v in body.items() if k != "lifecycle"}, ""):
        name = _argument(path)
        if value in (None, "", False) or name in _MANAGED_SECRET_SWITCHES:
            continue
        if _SECRET_ARGUMENT.search(name) and not _NOT_A_SECRET.search(name):
            found.append(f"{where}: {path} is a secret argument; Terraform stores it in plan and state")
        elif isinstance(value, str) and _GENERATED.search(value) and not name.endswith("_wo"):
            found.append(f"{where}: {path} holds a generated value outside a write-only argument")
    return found


# SSM data sources that decrypt only when asked: with `with_decryption = false` a SecureString stays ciphertext
# (the connection marker of the Amplify app is read this way; provider default: decrypt).
_DECRYPT_ON_REQUEST = frozenset({"aws_ssm_parameter", "aws_ssm_parameters_by_path"})


def _secret_reads(stack_name: str, stack: Json) -> list[str]:
    found = [
        f"{stack_name}: data.{rtype}.{key} reads a secret into plan and state"
        for rtype in sorted(set(stack.get("data", {})) & SECRET_DATA_SOURCES)
        for key, body in sorted(stack["data"][rtype].items())
        if not (rtype in _DECRYPT_ON_REQUEST and body.get("with_decryption") is False)
    ]
    # cdktf marks every cross-stack output sensitive; what they carry is checked at its source.
    found += [
        f"{stack_name}: output.{key} is sensitive: its value is in state"
        for key, output in sorted(stack.get("output", {}).items())
        if isinstance(output, dict) and output.get("sensitive") and not key.startswith("cross-stack-output-")
    ]
    return found


def no_secret_in_state(stacks: Stacks, env: str) -> list[str]:
    """Nothing a plan or state file would hold in clear: no secret-keeping resource or data source, no
    secret argument with a value, no generated value outside a write-only argument, no sensitive output,
    and no SSM parameter but the plain discovery values (a SecureString resource is decrypted into state
    on every refresh, by whoever plans: the backend's secrets are created by `ops secrets init`)."""
    found = []
    for stack_name, stack in sorted(stacks.items()):
        for rtype, bodies in sorted(stack.get("resource", {}).items()):
            for key, body in sorted(bodies.items()):
                where = f"{stack_name}: {rtype}.{key}"
                if rtype in SECRET_RESOURCES:
                    found.append(f"{where} keeps its secret in state")
                else:
                    found += _secret_arguments(where, body)
        found += _secret_reads(stack_name, stack)
    prefix = f"/viberglass/{env}/"
    plain = set(discovery.PARAMETERS) | {discovery.ALARM_TOPIC}
    for s, k, body in resources(stacks, "aws_ssm_parameter"):
        name = str(body.get("name", ""))
        if body.get("type") != "String" or name.removeprefix(prefix) not in plain:
            found.append(
                f"{s}: aws_ssm_parameter.{k} ({name}) is not a discovery value: a secret parameter must not be a "
                "Terraform resource (ops secrets init creates them)"
            )
    return found


RULES: dict[str, Rule] = {
    "log-groups-have-retention-and-key": log_groups_have_retention_and_key,
    "iam-has-no-wildcards": iam_has_no_wildcards,
    "trust-is-pinned": trust_is_pinned,
    "production-state-is-protected": production_state_is_protected,
    "only-the-alb-is-open-to-the-internet": only_the_alb_is_open_to_the_internet,
    "no-secret-in-state": no_secret_in_state,
    "roles-carry-the-boundary": roles_carry_the_boundary,
}


def check(stacks: Stacks, env: str) -> list[str]:
    """Every violation of every rule, prefixed with the rule name."""
    return [f"[{name}] {line}" for name, rule in RULES.items() for line in rule(stacks, env)]
