"""IAM policy documents as plain data.

Statements are built from explicit action and ARN lists; a statement whose resource must be ``*`` has
to say why (``wildcard_reason``), so an unscoped grant cannot slip in unnoticed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Conditions = Mapping[str, Mapping[str, str | Sequence[str]]]

# GitHub Actions' OIDC issuer and the audience its AWS tokens carry (the trust policies of the stacks,
# the bootstrap command and the policy rule that checks them all use these).
GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"


@dataclass(frozen=True)
class Statement:
    """One IAM policy statement.

    :param sid: statement id, letters and digits.
    :param actions: explicit actions; ``*`` alone is refused.
    :param resources: ARNs. ``["*"]`` only with ``wildcard_reason``.
    :param effect: Default: ``Allow``.
    :param conditions: condition block. Default: none.
    :param wildcard_reason: why AWS offers no narrower resource than ``*``. Default: none.
    """

    sid: str
    actions: Sequence[str]
    resources: Sequence[str] = ()
    effect: str = "Allow"
    conditions: Conditions = field(default_factory=dict)
    principals: Mapping[str, str | Sequence[str]] | None = None
    wildcard_reason: str = ""

    def __post_init__(self) -> None:
        if not self.actions:
            raise ValueError(f"statement {self.sid}: no actions")
        for action in self.actions:
            # A wildcard only ever widens an Allow; in a Deny it is the safe direction.
            if self.effect == "Allow" and (action == "*" or action.endswith(":*")):
                raise ValueError(f"statement {self.sid}: action {action!r} grants a whole service")
        if "*" in self.resources and not self.wildcard_reason:
            raise ValueError(f"statement {self.sid}: resource '*' needs a wildcard_reason")
        if not self.sid.isalnum():
            raise ValueError(f"statement id {self.sid!r} must be letters and digits")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"Sid": self.sid, "Effect": self.effect}
        if self.principals is not None:
            body["Principal"] = dict(self.principals)
        body["Action"] = sorted(self.actions)
        if self.resources:
            body["Resource"] = list(self.resources)
        if self.conditions:
            body["Condition"] = {op: dict(values) for op, values in self.conditions.items()}
        return body


def policy_document(statements: Sequence[Statement]) -> str:
    """The policy as a JSON string (token strings inside are resolved by cdktf at synth)."""
    sids = [s.sid for s in statements]
    if len(set(sids)) != len(sids):
        raise ValueError(f"duplicate statement ids in {sids}")
    return json.dumps({"Version": "2012-10-17", "Statement": [s.to_json() for s in statements]})


def service_trust(service: str, account_id: str) -> str:
    """Trust policy letting one AWS service assume a role, only on behalf of this account."""
    return policy_document(
        [
            Statement(
                sid="TrustService",
                principals={"Service": service},
                actions=["sts:AssumeRole"],
                conditions={"StringEquals": {"aws:SourceAccount": account_id}},
            )
        ]
    )


def github_trust(provider_arn: str, subject: str) -> str:
    """Trust policy for GitHub Actions jobs whose OIDC token has exactly ``subject`` and GitHub's STS
    audience: one repository and one subject per role, compared with StringEquals (never StringLike)."""
    return policy_document(
        [
            Statement(
                sid="GitHubActions",
                principals={"Federated": provider_arn},
                actions=["sts:AssumeRoleWithWebIdentity"],
                conditions={
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subject,
                    }
                },
            )
        ]
    )


def resolve(text: str, values: Mapping[str, str | Sequence[str]]) -> str:
    """``text`` with its ``{placeholders}`` filled from the string entries of ``values``."""
    return text.format(**{k: v for k, v in values.items() if isinstance(v, str)})


def from_permissions(
    permissions: Sequence[Any], values: Mapping[str, str | Sequence[str]], *, sid_prefix: str = ""
) -> list[Statement]:
    """Statements for :class:`core.app_contract.Permission` entries, placeholders filled from ``values``.

    A resource that is exactly one placeholder whose value is a list (``{worker_repository_arns}``)
    expands to one resource per item.
    """
    statements = []
    for permission in permissions:
        resources: list[str] = []
        for pattern in permission.resources:
            whole = pattern[1:-1] if pattern.startswith("{") and pattern.endswith("}") else ""
            listed = values.get(whole)
            if listed is not None and not isinstance(listed, str):
                resources.extend(listed)
            else:
                resources.append(resolve(pattern, values))
        conditions = {
            operator: {
                key: resolve(value, values) if isinstance(value, str) else [resolve(v, values) for v in value]
                for key, value in entries.items()
            }
            for operator, entries in permission.conditions.items()
        }
        statements.append(
            Statement(
                sid=f"{sid_prefix}{permission.sid}",
                actions=permission.actions,
                resources=resources,
                conditions=conditions,
                wildcard_reason=permission.wildcard_reason,
            )
        )
    return statements
