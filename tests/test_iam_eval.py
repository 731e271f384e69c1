"""tests/iam_eval.py's request reduction (``for_request``) and shared solver change no iamprover verdict:
every proof in tests/test_ci_iam.py runs on reduced principals, so the reduction must be exact.

Each request is answered twice: by tests/iam_eval.py (``always_allowed``/``never_allowed``/``any_allowed``)
and by iamprover on the whole principal with a new solver per query, as "always allowed", "never allowed"
or "depends on the request context"."""

from __future__ import annotations

from typing import Any

import pytest
import z3
from iamprover.engine.context import Context
from iamprover.engine.encoder import allowed
from iamprover.model import Principal

from core import ci_iam
from tests import iam_eval
from tests.test_ci_iam import SHARED, place, prod_requests


def verdict(principal: Principal, action: str, resource: str) -> str:
    """What tests/iam_eval.py proves about the request (reduced principal, one shared solver)."""
    if iam_eval.always_allowed(principal, action, resource):
        return "always"
    return "never" if iam_eval.never_allowed(principal, action, resource) else "depends"


def whole(principal: Principal, action: str, resource: str) -> str:
    """What iamprover answers on the whole principal, each query with a new solver."""
    answers = []
    for want in (True, False):
        solver = z3.Solver()
        found = allowed(principal, z3.StringVal(action.lower()), z3.StringVal(resource), Context())
        solver.add(z3.Not(found) if want else found)
        answers.append(solver.check() == z3.unsat)
    return "always" if answers[0] else "never" if answers[1] else "depends"


def searched(principal: Principal, action: str) -> bool:
    """Whether some resource and context get ``action`` allowed, on the whole principal."""
    solver = z3.Solver()
    solver.add(allowed(principal, z3.StringVal(action.lower()), z3.String("resource"), Context()))
    return bool(solver.check() == z3.sat)


# Every branch of the reduction: Action patterns with `*` and `?`, upper case and a policy variable;
# NotAction with and without a variable; Resource and NotResource patterns with wildcards, variables and
# case; a condition (left to Z3); a boundary with its own Allow and NotAction Deny.
IDENTITY: dict[str, Any] = {"Statement": [
    {"Effect": "Allow", "Action": ["s3:Get*", "S3:ListBucket", "ec2:Describe?pcs", "*:GetThing", "sns:${aws:x}"],
     "Resource": ["arn:aws:s3:::b/*", "arn:aws:s3:::B?", "arn:aws:iam::1:role/${aws:username}", "arn:aws:ec2:*"]},
    {"Effect": "Allow", "NotAction": ["iam:*", "kms:Get${aws:x}"], "NotResource": ["arn:aws:s3:::b/*", "*${aws:x}"],
     "Condition": {"StringEquals": {"aws:ResourceTag/Environment": "dev"}}},
    {"Effect": "Deny", "Action": "s3:GetObject", "NotResource": ["arn:aws:s3:::b/public/*"]},
    {"Effect": "Deny", "NotAction": ["s3:*", "ec2:*", "kms:*"], "Resource": "arn:aws:iam::1:role/alice",
     "Condition": {"StringLike": {"aws:PrincipalTag/team": "x*"}}},
]}  # fmt: skip
BOUNDARY: dict[str, Any] = {"Statement": [
    {"Effect": "Allow", "Action": "*", "Resource": "*"},
    {"Effect": "Deny", "NotAction": ["s3:*", "ec2:Describe*", "sns:*", "kms:*"], "Resource": "*"},
    {"Effect": "Deny", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::B2"},
]}  # fmt: skip
ACTIONS = ["s3:GetObject", "s3:getobject", "S3:LISTBUCKET", "s3:PutObject", "ec2:DescribeVpcs", "ec2:DescribeXpcs",
           "ec2:DescribeVpcsX", "iam:GetRole", "kms:GetThing", "kms:Decrypt", "sns:Publish"]  # fmt: skip
RESOURCES = ["arn:aws:s3:::b/k", "arn:aws:s3:::b/public/k", "arn:aws:s3:::B1", "arn:aws:s3:::B2", "arn:aws:s3:::b1",
             "arn:aws:iam::1:role/alice", "arn:aws:ec2:eu-west-1:1:vpc/v", "*"]  # fmt: skip


def test_the_reduction_changes_no_verdict_on_any_branch() -> None:
    principal = iam_eval.identity("p", IDENTITY, boundary=BOUNDARY)
    found = {(a, r): verdict(principal, a, r) for a in ACTIONS for r in RESOURCES}
    assert found == {(a, r): whole(principal, a, r) for a in ACTIONS for r in RESOURCES}
    assert set(found.values()) == {"always", "never", "depends"}  # the grid reaches every outcome
    searches = {a: iam_eval.any_allowed(principal, [a], resources=["*"]) is not None for a in ACTIONS}
    assert searches == {a: searched(principal, a) for a in ACTIONS}
    assert set(searches.values()) == {True, False}


@pytest.fixture(scope="module")
def shared_apply() -> Principal:
    """The apply role of dev in an account shared with prod: PowerUserAccess (NotAction), the apply policy
    and the boundary with every prod name (hundreds of resource patterns, NotResource statements)."""
    here, peers = place("dev", SHARED), [place("prod", SHARED)]
    return iam_eval.identity(ci_iam.APPLY, iam_eval.managed_policy("PowerUserAccess"), ci_iam.apply_document(here),
                             boundary=ci_iam.boundary_document(here, peers))  # fmt: skip


def test_the_reduction_changes_no_verdict_on_the_shared_account_boundary(shared_apply: Principal) -> None:
    """A sample of test_no_dev_identity_writes_what_prod_owns's requests and dev's own counterparts."""
    dev = place("dev", SHARED)
    requests = [(a, r) for a, r, _ in prod_requests(place("prod", SHARED))[::7]] + [
        ("ecr:PutImage", dev.arn("ecr", "repository/dev-viberglass-backend")),
        ("iam:PutRolePolicy", dev.iam("role/viberglass-dev-backend-task")),
        ("iam:CreateUser", dev.iam("user/x")),
    ]
    found = {q: verdict(shared_apply, *q) for q in requests}
    assert found == {q: whole(shared_apply, *q) for q in requests}
    assert {"never", "depends"} <= set(found.values())
