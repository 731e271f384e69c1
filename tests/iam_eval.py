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

import copy
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from typing import Any

import z3
from iamprover.engine.context import Context
from iamprover.engine.encoder import allowed
from iamprover.engine.patterns import expand_variables, has_variable, matches_any
from iamprover.model import Policy, Principal
from iamprover.model import Statement as ProverStatement
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
                reduced = for_request(principal, action, request)
                verdict = allowed(reduced, z3.StringVal(action.lower()), z3.StringVal(request), ctx)
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
    document: Json = copy.deepcopy(_managed_policies()[name]["Document"])
    return document


@lru_cache(maxsize=1)
def _managed_policies() -> Json:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    policies: Json = json.loads(aws_managed_policies_data)
    return policies


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


@cache
def _glob(pattern: str) -> re.Pattern[str]:
    """iamprover's reading of a wildcard pattern (``iam_pattern_to_re`` in iamprover/engine/patterns.py):
    ``*`` any run of characters, ``?`` any one character, everything else literal."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.S)


def _matches(value: str, pattern: str) -> bool:
    return _glob(pattern).fullmatch(value) is not None


@lru_cache(maxsize=256)
def _by_service(patterns: tuple[str, ...]) -> tuple[dict[str, list[tuple[str, str]]], list[tuple[str, str]]]:
    """A statement's Action patterns, each with iamprover's reading (variables widened to ``*`` by its
    ``expand_variables``, lower-cased as its case-insensitive action match does), filed under the service
    their literal ``service:`` prefix names; patterns whose service part has a wildcard (or no colon) can
    name any action and are filed apart. An action ``s3:x`` can only be named by a pattern filed under
    ``s3`` or by one of those."""
    by_service: dict[str, list[tuple[str, str]]] = {}
    anywhere: list[tuple[str, str]] = []
    for pattern in patterns:
        read = expand_variables(pattern).lower()
        service, colon, _ = read.partition(":")
        if colon and "*" not in service and "?" not in service:
            by_service.setdefault(service, []).append((pattern, read))
        else:
            anywhere.append((pattern, read))
    return by_service, anywhere


def _naming(action: str, patterns: list[str]) -> list[str]:
    """The Action patterns that name the concrete ``action`` as iamprover matches them."""
    by_service, anywhere = _by_service(tuple(patterns))
    action = action.lower()
    candidates = [*by_service.get(action.partition(":")[0], []), *anywhere]
    return [pattern for pattern, read in candidates if _matches(action, read)]


def _reduce(statement: ProverStatement, action: str, resource: str | None) -> ProverStatement | None:
    """``statement`` as iamprover evaluates it for ``action`` (and ``resource`` when concrete), or None when
    it cannot apply. Positive patterns: those that cannot match are constant false in iamprover's
    disjunction and drop out; none left, the statement matches nothing. Negative (NotAction/NotResource):
    iamprover ignores patterns holding a policy variable; one of the others matching makes the statement
    match nothing, none matching makes the clause true, written as the request's own value (a pattern
    always matches itself)."""
    if statement.not_actions:
        if any(_matches(action.lower(), p.lower()) for p in statement.not_actions if not has_variable(p)):
            return None
        statement = replace(statement, actions=[action], not_actions=[])
    else:
        actions = _naming(action, statement.actions)
        if not actions:
            return None
        statement = replace(statement, actions=actions)
    if resource is None:
        return statement
    if statement.not_resources:
        if any(_matches(resource, p) for p in statement.not_resources if not has_variable(p)):
            return None
        return replace(statement, resources=[resource], not_resources=[])
    resources = [p for p in statement.resources if _matches(resource, expand_variables(p))]
    return replace(statement, resources=resources) if resources else None


def for_request(principal: Principal, action: str, resource: str | None = None) -> Principal:
    """``principal`` reduced to the statements and patterns iamprover can use for a request for the concrete
    ``action`` (on the concrete ``resource``, when given): exact, the same Z3 encoding minus constant-false
    disjuncts (``_reduce``). AWS's ReadOnlyAccess is one statement of 3,000 action patterns and a shared
    account's boundary lists hundreds of resource patterns; Z3 answers a question about one request in
    milliseconds once those that cannot match it are gone. Conditions are left whole: the request context
    stays symbolic."""

    def prune(policy: Policy) -> Policy:
        reduced = (_reduce(s, action, resource) for s in policy.statements)
        return Policy(name=policy.name, statements=[s for s in reduced if s is not None])

    boundary = principal.permission_boundary
    return Principal(
        arn=principal.arn,
        policies=[prune(p) for p in principal.policies],
        permission_boundary=prune(boundary) if boundary is not None else None,
    )


def _proof(principal: Principal, action: str, resource: str, context: dict[str, str], *, want: bool) -> bool:
    principal = for_request(principal, action, resource)
    ctx = Context()
    with _scope() as solver:
        for key, value in context.items():
            solver.add(ctx.constrain(key, value))
        verdict = allowed(principal, z3.StringVal(action.lower()), z3.StringVal(resource), ctx)
        solver.add(z3.Not(verdict) if want else verdict)
        return bool(solver.check() == z3.unsat)


_SOLVER = z3.Solver()


@contextmanager
def _scope() -> Iterator[z3.Solver]:
    """One Z3 solver for every proof, each in its own push/pop scope (a new solver per query costs more
    than most queries)."""
    _SOLVER.push()
    try:
        yield _SOLVER
    finally:
        _SOLVER.pop()


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
        solver.add(allowed(for_request(principal, action), z3.StringVal(action.lower()), resource, ctx))
        result = solver.check()
        assert result != z3.unknown, f"Z3 gave up on {action}: {solver.reason_unknown()}"  # never read as "none"
        if result == z3.sat:
            model = solver.model()
            found = {k: model.eval(v, model_completion=True).as_string() for k, v in ctx.string_vars.items()}
            return f"{action} on {model.eval(resource, model_completion=True).as_string()} with {found}"
    return None


def policy_subject(trust: str) -> str:
    """The one GitHub OIDC subject a trust policy (JSON text) names."""
    (statement,) = json.loads(trust)["Statement"]
    subject: str = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    return subject
