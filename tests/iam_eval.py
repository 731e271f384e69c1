"""IAM evaluation of synthesized policies with maintained libraries (no home-made matcher).

* **parliament** (duo-labs) knows every AWS action and the resource types each one accepts: unknown
  actions and action/resource mismatches are its findings.
* **iamprover** encodes IAM's evaluation (explicit deny, wildcards, supported conditions) in Z3: "is this
  call allowed" is an unsatisfiability proof of "not allowed", and "does the role allow anything the
  contract does not" is a satisfiability query whose model is the counterexample.

Synthesized policies hold Terraform references (``${aws_iam_role.x.arn}``, cross-stack outputs, the
partition and account data sources). :class:`Resolver` turns them into the concrete values AWS would
see, from the referenced resource's own configuration (its name), in a fixed test account.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import z3
from iamprover.engine.context import Context
from iamprover.engine.encoder import allowed
from iamprover.engine.patterns import matches_any
from iamprover.model import Principal
from iamprover.parsers.iam import parse_policy_document
from parliament import analyze_policy_string

from core import app_contract as app
from core.iam import Statement, from_permissions, policy_document, resolve
from tests.tf import Json, items, one, outputs

ACCOUNT, REGION, PARTITION = "123456789012", "eu-west-1", "aws"
_EXPRESSION = re.compile(r"\$\{([^{}]+)\}")
_REMOTE = re.compile(r"^data\.terraform_remote_state\.cross-stack-reference-input-([a-z]+)\.outputs\.(.+)$")
_ATTRIBUTE = re.compile(r"^(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.(.+)$")
# Structural findings: the policy names something AWS does not have, or grants an action on resources
# of a type the action never takes.
PARLIAMENT_ERRORS = {"UNKNOWN_ACTION", "UNKNOWN_PREFIX", "RESOURCE_MISMATCH", "MALFORMED", "INVALID_ARN"}


def _arn(service: str, resource: str, *, region: str = REGION) -> str:
    return f"arn:{PARTITION}:{service}:{region}:{ACCOUNT}:{resource}"


def attribute(rtype: str, key: str, body: Json, attr: str) -> str:
    """The value AWS would give ``attr`` of a resource configured as ``body``."""
    name = str(body.get("name") or body.get("bucket") or body.get("identifier") or key)
    value = {
        ("aws_iam_role", "arn"): f"arn:{PARTITION}:iam::{ACCOUNT}:role/{name}",
        ("aws_ecs_cluster", "arn"): _arn("ecs", f"cluster/{name}"),
        ("aws_cloudwatch_log_group", "arn"): _arn("logs", f"log-group:{name}"),
        ("aws_kms_key", "arn"): _arn("kms", "key/0b1e7c3a-0000-4000-8000-00000000e0e0"),
        ("aws_kms_key", "key_id"): "0b1e7c3a-0000-4000-8000-00000000e0e0",
        ("aws_ecr_repository", "arn"): _arn("ecr", f"repository/{name}"),
        ("aws_ecr_repository", "repository_url"): f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{name}",
        ("aws_s3_bucket", "arn"): f"arn:{PARTITION}:s3:::{name}",
        ("aws_ssm_parameter", "arn"): _arn("ssm", f"parameter{name}"),
        ("aws_db_instance", "master_user_secret[0].secret_arn"): _arn("secretsmanager", f"secret:rds!db-{key}-Ab1Cd2"),
        ("aws_db_instance", "address"): f"{name}.c0ffee.{REGION}.rds.amazonaws.com",
        ("aws_sfn_state_machine", "arn"): _arn("states", f"stateMachine:{name}"),
        ("aws_subnet", "id"): f"subnet-{abs(hash(key)) % 10**8:08d}",
        ("aws_security_group", "id"): f"sg-{abs(hash(key)) % 10**8:08d}",
        ("aws_cloudfront_distribution", "domain_name"): "d111111abcdef8.cloudfront.net",
        ("aws_amplify_app", "default_domain"): "d1app.amplifyapp.com",
        ("aws_amplify_app", "arn"): _arn("amplify", "apps/d1app"),
        ("aws_amplify_app", "id"): "d1app",
        ("aws_alb", "dns_name"): f"{name}-1234567890.{REGION}.elb.amazonaws.com",
    }.get((rtype, attr))
    if value is None and attr in {"name", "id", "bucket", "branch_name", "family"}:
        value = str(body.get(attr) or name)
    if value is None:
        raise KeyError(f"no test value for {rtype}.{attr}")
    return value


@dataclass
class Resolver:
    """Concrete values for the references in one environment's synthesized stacks."""

    stacks: dict[str, Json]

    def expression(self, stack: str, expr: str) -> str:
        if expr.startswith("data.aws_partition."):
            return PARTITION
        if expr.startswith("data.aws_caller_identity."):
            return ACCOUNT
        if expr.startswith("data.aws_elb_service_account."):
            return f"arn:{PARTITION}:iam::156460612806:root"  # eu-west-1's Elastic Load Balancing account
        remote = _REMOTE.match(expr)
        if remote:
            source, output = remote.groups()
            return self.text(source, outputs(self.stacks[source])[output]["value"])
        match = _ATTRIBUTE.match(expr)
        if not match:
            raise KeyError(f"{stack}: cannot resolve ${{{expr}}}")
        rtype, key, attr = match.groups()
        body = self.stacks[stack]["resource"][rtype][key]
        return self.text(stack, attribute(rtype, key, body, attr))

    def text(self, stack: str, value: str) -> str:
        return _EXPRESSION.sub(lambda m: self.expression(stack, m.group(1)), value)

    def document(self, stack: str, policy: str) -> Json:
        """A policy JSON string with every reference resolved."""
        resolved: Json = json.loads(self.text(stack, policy))
        return resolved


def role_document(resolver: Resolver, stack: str, role_name: str) -> Json:
    """The resolved inline policy of the role named ``role_name``."""
    keys = [key for key, role in items(resolver.stacks[stack], "aws_iam_role") if role["name"] == role_name]
    assert len(keys) == 1, f"no single role {role_name!r} in {stack}"
    body = one(resolver.stacks[stack], "aws_iam_role_policy", role=f"${{aws_iam_role.{keys[0]}.id}}")
    return resolver.document(stack, body["policy"])


def parliament_findings(document: Json, *, issues: set[str] = PARLIAMENT_ERRORS) -> list[str]:
    """parliament's structural findings on one policy document, one line each."""
    policy = analyze_policy_string(json.dumps(document))
    return [f"{f.issue}: {f.detail}" for f in policy.findings if f.issue in issues]


def contract_values(resolver: Resolver, env: str) -> dict[str, str | list[str]]:
    """The contract's placeholders, found in the stacks by type and name (not through the stack code)."""
    stacks = resolver.stacks

    def named(stack: str, rtype: str, attr: str = "arn", **props: Any) -> str:
        keys = [k for k, b in items(stacks[stack], rtype) if all(b.get(p) == v for p, v in props.items())]
        assert len(keys) == 1, f"{stack}: expected one {rtype} with {props}, found {keys}"
        return attribute(rtype, keys[0], stacks[stack]["resource"][rtype][keys[0]], attr)

    prefix = f"/viberglass/{env}/backend/"
    return {
        "partition": PARTITION,
        "region": REGION,
        "account": ACCOUNT,
        "uploads": f"{env}-viberglass-uploads",
        "key_arn": named("base", "aws_kms_key"),
        "workers_cluster_arn": named("workers", "aws_ecs_cluster", name=f"viberglass-{env}-workers"),
        "worker_execution_role_arn": named("workers", "aws_iam_role", name=f"viberglass-{env}-worker-execution"),
        "worker_task_role_arn": named("workers", "aws_iam_role", name=f"viberglass-{env}-worker-task"),
        "worker_lambda_role_arn": named("workers", "aws_iam_role", name=f"viberglass-{env}-worker-lambda"),
        "ecs_worker_log_group_arn": named("base", "aws_cloudwatch_log_group", name=f"/ecs/viberglass-{env}-worker"),
        "backend_log_group_arn": named("base", "aws_cloudwatch_log_group", name=f"/ecs/viberglass-{env}-backend"),
        "backend_repository_arn": named("platform", "aws_ecr_repository", name=f"{env}-viberglass-backend"),
        "worker_repository_arns": sorted(
            _arn("ecr", f"repository/{env}/{image.repository}") for image in app.WORKER_IMAGES
        ),
        "db_secret_arn": named("platform", "aws_db_instance", "master_user_secret[0].secret_arn"),
        "backend_secret_arns": sorted(
            _arn("ssm", f"parameter{b['name']}")
            for _, b in items(stacks["platform"], "aws_ssm_parameter")
            if str(b["name"]).startswith(prefix)
        ),
    }


def contract_document(permissions: tuple[app.Permission, ...], values: dict[str, str | list[str]]) -> Json:
    """The contract's permissions as a policy document with concrete values."""
    statements: list[Statement] = from_permissions(permissions, values)
    document: Json = json.loads(policy_document(statements))
    return document


def _principal(name: str, document: Json) -> Principal:
    return Principal(arn=name, policies=[parse_policy_document(name, document)])


def _sample(pattern: str) -> str:
    """A concrete resource a pattern matches: every wildcard becomes one plain segment."""
    return pattern.replace("*", "sample").replace("?", "s")


def denied_calls(
    document: Json, permissions: tuple[app.Permission, ...], values: dict[str, str | list[str]]
) -> list[str]:
    """Every (action, resource) of ``permissions`` that ``document`` does not provably allow, with the
    request context the real call carries (the contract's ``context``)."""
    principal = _principal("role", document)
    denied = []
    for permission in permissions:
        context = {key: resolve(value, values) for key, value in permission.context.items()}
        resources = from_permissions((permission,), values)[0].resources
        for action in permission.actions:
            for resource in resources:
                request = _sample(resource)
                ctx = Context()
                solver = z3.Solver()
                for key, value in context.items():
                    solver.add(ctx.constrain(key, value))
                verdict = allowed(principal, z3.StringVal(action.lower()), z3.StringVal(request), ctx)
                solver.add(z3.Not(verdict))
                if solver.check() != z3.unsat:
                    denied.append(f"{action} on {request} with {context}")
    return denied


def wider_than(document: Json, contract: Json) -> str | None:
    """A request ``document`` allows and ``contract`` does not (iamprover/Z3 counterexample), or None."""
    role, needed = _principal("role", document), _principal("contract", contract)
    action, resource, ctx = z3.String("action"), z3.String("resource"), Context()
    actions = [a.lower() for s in document["Statement"] for a in _list(s.get("Action"))]
    solver = z3.Solver()
    solver.add(matches_any(action, actions, case_insensitive=True))
    solver.add(allowed(role, action, resource, ctx))
    solver.add(z3.Not(allowed(needed, action, resource, ctx)))
    if solver.check() != z3.sat:
        return None
    model = solver.model()
    found = {k: model.eval(v, model_completion=True).as_string() for k, v in ctx.string_vars.items()}
    return (
        f"{model.eval(action, model_completion=True).as_string()} on "
        f"{model.eval(resource, model_completion=True).as_string()} with {found}"
    )


def _list(value: Any) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)
