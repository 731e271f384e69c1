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

import dataclasses
import fnmatch
import json
import re
from dataclasses import dataclass
from typing import Any

import z3
from iamprover.engine.context import Context
from iamprover.engine.encoder import allowed
from iamprover.engine.patterns import matches_any
from iamprover.model import Policy, Principal
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


# -- whole identities: AWS managed policies, boundaries, proofs over every request --------------------------------


def managed_policy(name: str) -> Json:
    """An AWS managed policy's document as the installed moto bundles it (moto 5.2.5: ReadOnlyAccess of
    2026-09-24, PowerUserAccess of 2026-02-12): the same text the bootstrap tests attach on the moto server."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    document: Json = json.loads(aws_managed_policies_data)[name]["Document"]
    return document


def single_valued(document: Json) -> Json:
    """``document`` with the set operators ``ForAllValues:``/``ForAnyValue:`` turned into the plain operator.

    iamprover 0.7 treats set operators as unknown (always true in an Allow, never true in a Deny). For a
    request that carries exactly one value of the key, both mean the plain operator on that value; every
    request these tests pin a set-valued key for is one (DynamoDB item calls carry one partition key in
    ``dynamodb:LeadingKeys``)."""
    text = json.dumps(document).replace('"ForAllValues:', '"').replace('"ForAnyValue:', '"')
    result: Json = json.loads(text)
    return result


def identity(name: str, *documents: Json, boundary: Json | None = None) -> Principal:
    """A principal with ``documents`` as its identity policies and ``boundary`` as permissions boundary."""
    return Principal(
        arn=name,
        policies=[parse_policy_document(f"{name}-{i}", single_valued(d)) for i, d in enumerate(documents)],
        permission_boundary=parse_policy_document(f"{name}-boundary", single_valued(boundary)) if boundary else None,
    )


def for_action(principal: Principal, action: str) -> Principal:
    """``principal`` reduced to what can apply to ``action``, a concrete action name: exact, since a statement
    whose Action (or NotAction) excludes the action adds nothing to the allow or the deny, and inside a
    statement an Action pattern that does not match the name is false for it (one pattern that matches is
    the whole Action; one NotAction pattern that does not match is the whole NotAction). AWS's
    ReadOnlyAccess is one statement of 3,000 action patterns: encoded whole, each question cost Z3 ~0.2 s;
    reduced, milliseconds."""
    name = action.lower()

    def matching(patterns: list[str]) -> list[str]:
        return [p for p in patterns if fnmatch.fnmatchcase(name, p.lower())]

    def prune(policy: Policy) -> Policy:
        statements = []
        for statement in policy.statements:
            if statement.not_actions:
                if matching(statement.not_actions):
                    continue
                statements.append(dataclasses.replace(statement, not_actions=statement.not_actions[:1]))
            elif found := matching(statement.actions):
                statements.append(dataclasses.replace(statement, actions=found[:1]))
        return Policy(name=policy.name, statements=statements)

    boundary = principal.permission_boundary
    return Principal(
        arn=principal.arn,
        policies=[prune(p) for p in principal.policies],
        permission_boundary=prune(boundary) if boundary is not None else None,
    )


def _proof(principal: Principal, action: str, resource: str, context: dict[str, str], *, want: bool) -> bool:
    principal = for_action(principal, action)
    ctx = Context()
    solver = z3.Solver()
    for key, value in context.items():
        solver.add(ctx.constrain(key, value))
    verdict = allowed(principal, z3.StringVal(action.lower()), z3.StringVal(resource), ctx)
    solver.add(z3.Not(verdict) if want else verdict)
    return bool(solver.check() == z3.unsat)


def always_allowed(principal: Principal, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Allowed whatever the request context holds beyond ``context`` (a Z3 proof, not a sample)."""
    return _proof(principal, action, resource, context or {}, want=True)


def never_allowed(principal: Principal, action: str, resource: str, context: dict[str, str] | None = None) -> bool:
    """Denied whatever the request context holds beyond ``context`` (a Z3 proof, not a sample)."""
    return _proof(principal, action, resource, context or {}, want=False)


def actions_of(service: str, *levels: str) -> list[str]:
    """Every action of ``service`` at the given access levels (``Write``, ``Permissions management``,
    ``Tagging``, ``Read``, ``List``), from parliament's bundled AWS service reference."""
    from parliament import iam_definition

    return sorted(
        {
            f"{service}:{p['privilege']}"
            for entry in iam_definition
            if entry["prefix"] == service
            for p in entry["privileges"]
            if not levels or p["access_level"] in levels
        }
    )


WRITES = ("Write", "Permissions management", "Tagging")


def any_allowed(
    principal: Principal,
    actions: list[str],
    *,
    resources: list[str],
    except_resources: list[str] | None = None,
    context: dict[str, str] | None = None,
    context_not: dict[str, str] | None = None,
) -> str | None:
    """A request the principal allows: one of ``actions`` (concrete names), on a resource matching
    ``resources`` and none of ``except_resources``, with the keys of ``context`` pinned and those of
    ``context_not`` holding anything but the given value. The Z3 counterexample, or None when there is none
    (each action is its own query over every resource and context: a symbolic action against AWS's
    3,000-pattern ReadOnlyAccess takes Z3 minutes, a concrete one milliseconds)."""
    for action in actions:
        resource, ctx = z3.String("resource"), Context()
        solver = z3.Solver()
        solver.add(matches_any(resource, resources))
        if except_resources:
            solver.add(z3.Not(matches_any(resource, except_resources)))
        for key, value in (context or {}).items():
            solver.add(ctx.constrain(key, value))
        for key, value in (context_not or {}).items():
            solver.add(z3.Not(ctx.constrain(key, value)))
        solver.add(allowed(for_action(principal, action), z3.StringVal(action.lower()), resource, ctx))
        if solver.check() == z3.sat:
            model = solver.model()
            found = {k: model.eval(v, model_completion=True).as_string() for k, v in ctx.string_vars.items()}
            return f"{action} on {model.eval(resource, model_completion=True).as_string()} with {found}"
    return None


def policy_subject(trust: str) -> str:
    """The one GitHub OIDC subject a trust policy (JSON text) names."""
    (statement,) = json.loads(trust)["Statement"]
    subject: str = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    return subject
