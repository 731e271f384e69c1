"""IAM roles whose rights are a list of :class:`core.iam.Statement` built by grant methods."""

from __future__ import annotations

from collections.abc import Sequence

from core.iam import Statement, policy_document
from imports.aws import IamRole, IamRolePolicy
from imports.cdktf import Construct


class Role(Construct):
    """A role with one inline policy.

    :param name: the role name (unique per account: include the environment).
    :param trust: the assume-role policy JSON (``core.iam.service_trust`` or an OIDC trust).
    :param statements: the rights, each scoped to explicit ARNs.
    :param boundary: the environment's permissions boundary (``ViberglassStack.boundary_arn``): the apply
        role can create no role without it (core/ci_iam.py).
    :param description: what assumes the role and why. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        trust: str,
        statements: Sequence[Statement],
        boundary: str,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        self.role = IamRole(
            self,
            "role",
            name=name,
            assume_role_policy=trust,
            permissions_boundary=boundary,
            description=description,
        )
        self.policy = IamRolePolicy(
            self, "policy", role=self.role.id, name="permissions", policy=policy_document(statements)
        )

    @property
    def arn(self) -> str:
        return self.role.arn

    @property
    def name(self) -> str:
        return self.role.name
