"""Project policy rules checkov does not express (SPEC §10). Each is a pure predicate over the
synthesized stacks of one environment and returns its violations, one line each."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

from core import discovery
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


def _trust_problem(statement: Json) -> str | None:
    principal = statement.get("Principal", {})
    conditions = statement.get("Condition", {})
    equals = conditions.get("StringEquals", {})
    if "Service" in principal:
        return None if "aws:SourceAccount" in equals else "service trust without aws:SourceAccount"
    if "Federated" in principal and str(principal["Federated"]).endswith(f"oidc-provider/{GITHUB_OIDC_HOST}"):
        if equals.get(f"{GITHUB_OIDC_HOST}:aud") != GITHUB_OIDC_AUDIENCE:
            return "GitHub OIDC trust without aud = sts.amazonaws.com"
        subjects = _list(equals.get(f"{GITHUB_OIDC_HOST}:sub", []))
        if not subjects or any("*" in s for s in subjects) or "StringLike" in conditions:
            return "GitHub OIDC trust without an exact sub"
        return None
    return "trust is neither an AWS service nor GitHub OIDC"


def trust_is_pinned(stacks: Stacks, _env: str) -> list[str]:
    found = []
    for s, k, body in resources(stacks, "aws_iam_role"):
        for statement in json.loads(body["assume_role_policy"])["Statement"]:
            problem = _trust_problem(statement)
            if problem:
                found.append(f"{s}: aws_iam_role.{k}: {problem}")
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


def secrets_are_encrypted_parameters(stacks: Stacks, env: str) -> list[str]:
    """Every SSM parameter is a discovery value (plain String, listed in the contract) or a SecureString
    encrypted with the environment key."""
    found = []
    prefix = f"/viberglass/{env}/"
    plain = set(discovery.PARAMETERS) | {discovery.ALARM_TOPIC}
    for s, k, body in resources(stacks, "aws_ssm_parameter"):
        name = str(body.get("name", ""))
        if body.get("type") == "String" and name.removeprefix(prefix) in plain:
            continue
        if body.get("type") != "SecureString" or not body.get("key_id"):
            found.append(f"{s}: aws_ssm_parameter.{k} ({name}) must be a SecureString with the environment key")
    return found


RULES: dict[str, Rule] = {
    "log-groups-have-retention-and-key": log_groups_have_retention_and_key,
    "iam-has-no-wildcards": iam_has_no_wildcards,
    "trust-is-pinned": trust_is_pinned,
    "production-state-is-protected": production_state_is_protected,
    "only-the-alb-is-open-to-the-internet": only_the_alb_is_open_to_the_internet,
    "secrets-are-encrypted-parameters": secrets_are_encrypted_parameters,
}


def check(stacks: Stacks, env: str) -> list[str]:
    """Every violation of every rule, prefixed with the rule name."""
    return [f"[{name}] {line}" for name, rule in RULES.items() for line in rule(stacks, env)]
