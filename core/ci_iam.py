"""The GitHub Actions identities of an environment and the permissions boundary over everything it runs,
as policy documents (pure data: no AWS call, no cdktf).

``ops bootstrap-github-oidc`` installs them; the stacks put :func:`boundary_arn` on every role they create;
``tests/test_ci_iam.py`` proves with iamprover what they allow and deny.

* **The boundary** (``viberglass-<env>-boundary``, a managed policy) is the ceiling of every role of the
  environment: the bootstrap's plan and apply roles and every role the stacks create. It allows every
  service but IAM, Organizations and Account; of IAM only reads, passing the environment's roles, and
  managing roles of the environment *that carry this same boundary* (``iam:PermissionsBoundary``), so
  nothing created under it can hold more than it. It denies changing any boundary, the bootstrap roles and
  the OIDC provider, attaching administrator-class policies, assuming other roles, and, in a shared
  account, touching what belongs to the other environments of the account.
* **The plan roles** read: AWS's ``ReadOnlyAccess`` plus this environment's state, minus every secret value
  (SSM parameters other than the discovery values, Secrets Manager, KMS decryption, object contents other
  than state, log events) and minus any write to state or locks: plans run with ``-lock=false``.
* **The apply role**: ``PowerUserAccess`` plus this environment's state and locks and the bounded role
  management above.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core import app_contract as app
from core import discovery
from core.iam import GITHUB_OIDC_HOST, github_trust
from core.naming import Naming

if TYPE_CHECKING:
    from config.schema import EnvironmentConfig

Json = dict[str, Any]
Statements = list[Json]

PLAN, PLAN_ENV, APPLY = "github-plan", "github-plan-env", "github-apply"
# HCP Terraform's run identities (the `hcp` stack creates them, with the same documents as PLAN and APPLY).
HCP_PLAN, HCP_APPLY = "hcp-plan", "hcp-apply"
# The AWS managed policy each CI identity has attached, besides its inline document.
MANAGED = {PLAN: "ReadOnlyAccess", PLAN_ENV: "ReadOnlyAccess", APPLY: "PowerUserAccess",
           HCP_PLAN: "ReadOnlyAccess", HCP_APPLY: "PowerUserAccess"}  # fmt: skip
BOUNDARY = "boundary"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POWER_USER = "arn:aws:iam::aws:policy/PowerUserAccess"

# AWS managed policies a stack may attach to one of its roles (every other policy is inline). A test keeps
# this list equal to what the stacks attach.
ATTACHABLE_POLICIES = ("arn:{partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",)
# Administrator-class managed policies: never attached by anything under the boundary.
ADMIN_POLICIES = (
    "arn:{partition}:iam::aws:policy/AdministratorAccess*",
    "arn:{partition}:iam::aws:policy/PowerUserAccess",
    "arn:{partition}:iam::aws:policy/IAMFullAccess",
    "arn:{partition}:iam::aws:policy/AWSOrganizationsFullAccess",
    "arn:{partition}:iam::aws:policy/job-function/*",
)
# The role writes the boundary conditions on iam:PermissionsBoundary (the condition key AWS evaluates
# for exactly these actions).
BOUNDED_ROLE_WRITES = (
    "iam:CreateRole",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
)
ROLE_HOUSEKEEPING = (
    "iam:DeleteRole",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
ROLE_READS = (
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListAttachedRolePolicies",
    "iam:ListInstanceProfilesForRole",
    "iam:ListRolePolicies",
    "iam:ListRoleTags",
)
ROLE_WRITES = (
    "iam:AttachRolePolicy",
    "iam:DeleteRole",
    "iam:DeleteRolePermissionsBoundary",
    "iam:DeleteRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateRole",
    "iam:UpdateRoleDescription",
)
POLICY_WRITES = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)
OIDC_PROVIDER_WRITES = (
    "iam:AddClientIDToOpenIDConnectProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:RemoveClientIDFromOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider",
    "iam:UntagOpenIDConnectProvider",
    "iam:UpdateOpenIDConnectProviderThumbprint",
)
# What a plan must never do: write state or a lock (plans run with -lock=false), read a secret value.
STATE_WRITES = ("s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject", "s3:PutObjectAcl")
LOCK_WRITES = (
    "dynamodb:BatchWriteItem",
    "dynamodb:DeleteItem",
    "dynamodb:PartiQLDelete",
    "dynamodb:PartiQLInsert",
    "dynamodb:PartiQLUpdate",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
)
SECRET_READS = ("kms:Decrypt", "secretsmanager:BatchGetSecretValue", "secretsmanager:GetSecretValue")
PARAMETER_READS = ("ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:GetParametersByPath")
OBJECT_READS = ("s3:GetObject", "s3:GetObjectVersion")
LOG_READS = (
    "logs:FilterLogEvents",
    "logs:GetLogEvents",
    "logs:GetLogRecord",
    "logs:GetQueryResults",
    "logs:StartLiveTail",
    "logs:StartQuery",
    "logs:Unmask",
)


def _statement(sid: str, effect: str, actions: Any, resources: Any, conditions: Json | None = None) -> Json:
    body: Json = {"Sid": sid, "Effect": effect}
    body["Action"] = sorted(actions) if isinstance(actions, list | tuple) else actions
    body["Resource"] = list(resources) if isinstance(resources, list | tuple) else resources
    if conditions:
        body["Condition"] = conditions
    return body


@dataclass(frozen=True)
class Place:
    """Where one environment lives and what it names: the ARNs its policies scope to.

    :param env: the environment name.
    :param account: its AWS account (``aws.account_id``).
    :param region: its region.
    :param partition: ``aws`` (or ``aws-cn``, ``aws-us-gov``).
    :param state: (bucket, key prefix, lock table or None) with the s3 backend, else None.
    :param worker_prefix: the path prefix of its worker repositories.
    """

    env: str
    account: str
    region: str
    partition: str
    state: tuple[str, str, str | None] | None
    worker_prefix: str

    @classmethod
    def of(cls, cfg: EnvironmentConfig, partition: str = "aws") -> Place:
        s3 = cfg.state.s3 if cfg.state.backend == "s3" else None
        state = (s3.bucket, s3.key_prefix, s3.dynamodb_table) if s3 is not None else None
        return cls(cfg.name, cfg.aws.account_id, cfg.aws.region, partition, state, cfg.worker_image_prefix)

    @property
    def naming(self) -> Naming:
        return Naming(self.env)

    def iam(self, resource: str) -> str:
        return f"arn:{self.partition}:iam::{self.account}:{resource}"

    def arn(self, service: str, resource: str, region: str | None = None) -> str:
        return f"arn:{self.partition}:{service}:{self.region if region is None else region}:{self.account}:{resource}"

    @property
    def prefix(self) -> str:
        """``viberglass-<env>``, the stem of the environment's names."""
        return self.naming.prefix

    @property
    def boundary_arn(self) -> str:
        return self.iam(f"policy/{self.naming.name(BOUNDARY)}")

    def role_name(self, kind: str) -> str:
        return self.naming.name(kind)

    def role_arn(self, kind: str) -> str:
        return self.iam(f"role/{self.role_name(kind)}")

    @property
    def ci_role_arns(self) -> list[str]:
        """The CI identities: the bootstrap's GitHub roles and HCP Terraform's run roles (the `hcp` stack's,
        whether or not the environment uses HCP Terraform). Nothing under the boundary may change or assume
        them: an apply could otherwise widen its own role's trust or policy."""
        return [self.role_arn(kind) for kind in (PLAN, PLAN_ENV, APPLY, HCP_PLAN, HCP_APPLY)]

    @property
    def roles(self) -> str:
        """Every role of the environment: ``role/viberglass-<env>-*``."""
        return self.iam(f"role/{self.prefix}-*")

    @property
    def provider_arn(self) -> str:
        return self.iam(f"oidc-provider/{GITHUB_OIDC_HOST}")

    # -- state --------------------------------------------------------------------------------------------

    @property
    def state_bucket_arn(self) -> str | None:
        return None if self.state is None else f"arn:{self.partition}:s3:::{self.state[0]}"

    @property
    def state_keys(self) -> str | None:
        """Every state object of the environment (``<prefix>/<env>/<stack>.tfstate`` and its lock file)."""
        if self.state is None:
            return None
        bucket, prefix, _ = self.state
        return f"arn:{self.partition}:s3:::{bucket}/{prefix}/{self.env}/*"

    @property
    def lock_keys(self) -> str | None:
        """The DynamoDB ``LockID`` values of the environment: ``<bucket>/<key>`` and ``<bucket>/<key>-md5``."""
        if self.state is None:
            return None
        bucket, prefix, _ = self.state
        return f"{bucket}/{prefix}/{self.env}/*"

    @property
    def lock_table_arn(self) -> str | None:
        if self.state is None or self.state[2] is None:
            return None
        return self.arn("dynamodb", f"table/{self.state[2]}")

    @property
    def discovery_arns(self) -> list[str]:
        """The plain discovery parameters the platform stack writes (the only parameters a plan reads)."""
        names = [*discovery.PARAMETERS, discovery.ALARM_TOPIC]
        return [self.arn("ssm", f"parameter{self.naming.parameter(*name.split('/'))}") for name in names]

    # -- what the environment names, for a shared account's denials -----------------------------------------

    def named_resources(self) -> list[str]:
        """ARN patterns of everything the environment's stacks and bootstrap name (its state keys, parameters,
        repositories, roles, policies, functions, clusters, log groups, databases, buckets, ...)."""
        p, env, prefix = self.partition, self.env, self.prefix
        found = [
            self.iam(f"role/{prefix}-*"),
            self.iam(f"policy/{prefix}-*"),
            f"arn:{p}:s3:::{env}-viberglass-*",
            self.arn("ssm", f"parameter/viberglass/{env}/*", region="*"),
            self.arn("ecr", f"repository/{env}-viberglass-*", region="*"),
            self.arn("ecr", f"repository/{self.worker_prefix}/*", region="*"),
            self.arn("lambda", f"function:{prefix}-*", region="*"),
            self.arn("states", f"stateMachine:{prefix}-*", region="*"),
            self.arn("states", f"execution:{prefix}-*", region="*"),
            self.arn("events", f"rule/{prefix}-*", region="*"),
            self.arn("ecs", f"cluster/{prefix}-*", region="*"),
            self.arn("ecs", f"service/{prefix}-*", region="*"),
            self.arn("ecs", f"task-definition/{prefix}-*", region="*"),
            self.arn("ecs", f"task/{prefix}-*", region="*"),
            self.arn("logs", f"log-group:/ecs/{prefix}-*", region="*"),
            self.arn("logs", f"log-group:/aws/vpc/{prefix}-*", region="*"),
            self.arn("rds", f"db:{prefix}-*", region="*"),
            self.arn("rds", f"snapshot:{prefix}-*", region="*"),
            self.arn("rds", f"pg:{prefix}-*", region="*"),
            self.arn("rds", f"subgrp:{prefix}-*", region="*"),
            self.arn("sns", f"{prefix}-*", region="*"),
            self.arn("cloudwatch", f"alarm:{prefix}-*", region="*"),
            self.arn("kms", f"alias/{prefix}-*", region="*"),
        ]
        if self.state_keys is not None:
            found.insert(0, self.state_keys)
        return found


# -- GitHub subjects and trust ---------------------------------------------------------------------------------


def infra_subject(cfg: EnvironmentConfig, context: str, *, prefix: str | None = None) -> str:
    """The OIDC subject of this repository's jobs: ``repo:<infra repository>:<context>`` (``prefix`` replaces
    ``repo:<infra repository>`` for a repository that customised its subject, e.g. with immutable ids)."""
    return f"{prefix or f'repo:{cfg.github.infra_repository}'}:{context}"


def plan_subjects(cfg: EnvironmentConfig, *, prefix: str | None = None) -> dict[str, str]:
    """role kind -> the one subject it trusts."""
    return {
        PLAN: infra_subject(cfg, "pull_request", prefix=prefix),
        PLAN_ENV: infra_subject(cfg, f"environment:{cfg.name}-plan", prefix=prefix),
        APPLY: infra_subject(cfg, f"environment:{cfg.name}", prefix=prefix),
    }


def trust_document(provider_arn: str, subject: str) -> Json:
    """:func:`core.iam.github_trust` as data: exactly ``subject``, GitHub's STS audience."""
    trust: Json = json.loads(github_trust(provider_arn, subject))
    return trust


# -- the documents ------------------------------------------------------------------------------------------------


def _bounded_role_management(place: Place) -> Statements:
    """Manage the environment's roles only when they carry (or get) this boundary."""
    bounded = {"StringEquals": {"iam:PermissionsBoundary": place.boundary_arn}}
    attachable = [p.format(partition=place.partition) for p in ATTACHABLE_POLICIES]
    return [
        _statement("BoundedRoles", "Allow", BOUNDED_ROLE_WRITES, place.roles, bounded),
        _statement(
            "AttachServicePolicies",
            "Allow",
            ["iam:AttachRolePolicy"],
            place.roles,
            {**bounded, "ArnEquals": {"iam:PolicyARN": attachable}},
        ),
        _statement("RoleHousekeeping", "Allow", [*ROLE_HOUSEKEEPING, *ROLE_READS, "iam:PassRole"], place.roles),
        _statement(
            "ServiceLinkedRoles",
            "Allow",
            ["iam:CreateServiceLinkedRole"],
            place.iam("role/aws-service-role/*"),
        ),
    ]


def guards(place: Place) -> Statements:
    """The denials that make the boundary a ceiling: no role loses or swaps its boundary, no boundary
    changes, the bootstrap's roles and the OIDC provider stay as the bootstrap left them, no
    administrator-class policy is attached, no other role is assumed."""
    admin = [p.format(partition=place.partition) for p in ADMIN_POLICIES]
    return [
        _statement(
            "KeepBoundaries", "Deny", ["iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"], "*"
        ),
        _statement("KeepBoundaryPolicies", "Deny", POLICY_WRITES, place.iam("policy/viberglass-*-boundary")),
        _statement(
            "OnlyThisBoundary",
            "Deny",
            ["iam:CreateRole", "iam:PutRolePermissionsBoundary"],
            "*",
            {"StringNotEquals": {"iam:PermissionsBoundary": place.boundary_arn}},
        ),
        _statement("KeepCiRoles", "Deny", [*ROLE_WRITES, "iam:PassRole", "sts:AssumeRole"], place.ci_role_arns),
        _statement("KeepOidcProvider", "Deny", OIDC_PROVIDER_WRITES, place.iam("oidc-provider/*")),
        _statement(
            "NoAdministratorPolicies",
            "Deny",
            ["iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy"],
            "*",
            {"ArnLike": {"iam:PolicyARN": admin}},
        ),
        _statement("NoRoleHopping", "Deny", ["sts:AssumeRole"], "*"),
    ]


def _sid(env: str) -> str:
    return "".join(part.capitalize() for part in env.split("-"))


def other_environments(peers: list[Place]) -> Statements:
    """In a shared account: nothing of the other environments, by name, by lock key or by their
    ``Environment`` tag (every resource the stacks create carries it through the provider's default tags)."""
    statements = []
    for peer in peers:
        sid = f"NotEnvironment{_sid(peer.env)}"
        statements.append(_statement(f"{sid}Named", "Deny", "*", peer.named_resources()))
        if peer.lock_keys is not None and peer.lock_table_arn is not None:
            statements.append(
                _statement(
                    f"{sid}Locks",
                    "Deny",
                    "dynamodb:*",
                    peer.lock_table_arn,
                    {"ForAnyValue:StringLike": {"dynamodb:LeadingKeys": [peer.lock_keys]}},
                )
            )
        statements.append(
            _statement(f"{sid}Tagged", "Deny", "*", "*", {"StringEquals": {"aws:ResourceTag/Environment": peer.env}})
        )
    return statements


def boundary_document(place: Place, peers: list[Place]) -> Json:
    """The permissions boundary of every role of the environment."""
    statements = [
        {
            "Sid": "EveryServiceButIam",
            "Effect": "Allow",
            "NotAction": ["account:*", "iam:*", "organizations:*"],
            "Resource": "*",
        },
        _statement("ReadIam", "Allow", ["iam:Get*", "iam:List*"], "*"),
        *_bounded_role_management(place),
        *guards(place),
        *other_environments(peers),
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def _state(place: Place, *, write: bool) -> Statements:
    if place.state_keys is None or place.state_bucket_arn is None:
        return []
    actions = ["s3:GetObject", *(["s3:DeleteObject", "s3:PutObject"] if write else [])]
    statements = [
        _statement("ListState", "Allow", ["s3:ListBucket"], place.state_bucket_arn),
        _statement("State", "Allow", actions, place.state_keys),
    ]
    if place.lock_table_arn is not None:
        # Terraform reads the state digest (<key>-md5) even with -lock=false; applies take the lock.
        lock = [
            "dynamodb:DescribeTable",
            "dynamodb:GetItem",
            *(["dynamodb:DeleteItem", "dynamodb:PutItem"] if write else []),
        ]
        statements.append(
            _statement(
                "Lock",
                "Allow",
                lock,
                place.lock_table_arn,
                {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [place.lock_keys]}},
            )
        )
    return statements


def plan_document(place: Place) -> Json:
    """The plan roles' inline policy (with ``ReadOnlyAccess`` attached)."""
    statements = _state(place, write=False)
    if place.state_bucket_arn is not None:
        statements.append(_statement("NoStateWrites", "Deny", STATE_WRITES, f"{place.state_bucket_arn}/*"))
    if place.lock_table_arn is not None:
        statements.append(_statement("NoLockWrites", "Deny", LOCK_WRITES, place.lock_table_arn))
    statements += [
        _statement("NoSecretValues", "Deny", SECRET_READS, "*"),
        {
            "Sid": "OnlyDiscoveryParameters",
            "Effect": "Deny",
            "Action": sorted(PARAMETER_READS),
            "NotResource": place.discovery_arns,
        },
        {
            "Sid": "OnlyStateObjects",
            "Effect": "Deny",
            "Action": sorted(OBJECT_READS),
            "NotResource": [place.state_keys]
            if place.state_keys
            else [f"arn:{place.partition}:s3:::no-state-bucket/*"],
        },
        _statement("NoLogContents", "Deny", LOG_READS, "*"),
    ]
    return {"Version": "2012-10-17", "Statement": statements}


def application_data(place: Place) -> list[str]:
    """What the application creates and names at run time, without any environment in the name (Lambda
    clankers, their log groups, worker secrets and tenant credentials): the backend's own, never
    Terraform's. In a shared account every environment's backend uses the same names."""
    return [
        place.arn("lambda", f"function:{app.LAMBDA_FUNCTION_PREFIX}*", region="*"),
        place.arn("logs", f"log-group:/aws/lambda/{app.LAMBDA_FUNCTION_PREFIX}*", region="*"),
        place.arn("ssm", f"parameter{app.SECRETS_SSM_PREFIX}/*", region="*"),
        place.arn("ssm", f"parameter{app.TENANTS_SSM_PREFIX}", region="*"),
        place.arn("ssm", f"parameter{app.TENANTS_SSM_PREFIX}/*", region="*"),
    ]


def apply_document(place: Place) -> Json:
    """The apply role's inline policy (with ``PowerUserAccess`` attached): state and locks, bounded roles,
    and nothing of the application's run-time data (its tenants' credentials, its clanker functions)."""
    statements = [
        *_state(place, write=True),
        *_bounded_role_management(place),
        *guards(place),
        _statement("NotTheApplicationsData", "Deny", "*", application_data(place)),
    ]
    return {"Version": "2012-10-17", "Statement": statements}
