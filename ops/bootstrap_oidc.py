"""``ops bootstrap-github-oidc``: the account's GitHub OIDC provider and, per environment, a plan role
(pull requests, read-only) and an apply role (the GitHub Environment of the same name)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from core.iam import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST
from ops.common import Report, aws_call, client, load_config

# AWS no longer checks these for GitHub's provider, but the API still asks for at least one.
THUMBPRINTS = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
INLINE_POLICY = "viberglass-terraform"


def trust_policy(provider_arn: str, subject: str | list[str]) -> dict[str, Any]:
    """Only tokens for ``subject`` (one, or a list of exact alternatives) with GitHub's STS audience,
    compared exactly (StringEquals, never StringLike)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "GitHubActions",
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                        f"{GITHUB_OIDC_HOST}:sub": subject,
                    }
                },
            }
        ],
    }


def state_statements(
    *, account: str, region: str, bucket: str, key_prefix: str, table: str | None, write: bool
) -> list[dict[str, Any]]:
    """What Terraform needs of the state: read (plan) or read/write (apply), and the lock table."""
    objects = f"arn:aws:s3:::{bucket}/{key_prefix}/*"
    actions = ["s3:GetObject"] + (["s3:PutObject", "s3:DeleteObject"] if write else [])
    statements: list[dict[str, Any]] = [
        {"Sid": "ListState", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Sid": "State", "Effect": "Allow", "Action": actions, "Resource": objects},
    ]
    if table:
        statements.append(
            {
                "Sid": "Lock",
                "Effect": "Allow",
                "Action": ["dynamodb:DeleteItem", "dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem"],
                "Resource": f"arn:aws:dynamodb:{region}:{account}:table/{table}",
            }
        )
    return statements


@dataclass(frozen=True)
class RoleSpec:
    name: str
    subject: str | list[str]
    managed_policies: tuple[str, ...]
    inline: dict[str, Any]
    store_as: str


class OidcBootstrap:
    def __init__(self, *, region: str, report: Report) -> None:
        self.iam = client("iam", region)
        self.report = report
        self.account = aws_call("sts GetCallerIdentity", lambda: client("sts", region).get_caller_identity())["Account"]

    @property
    def provider_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:oidc-provider/{GITHUB_OIDC_HOST}"

    def ensure_provider(self) -> None:
        r = self.report
        r.section(f"GitHub OIDC provider in account {self.account}")
        providers = aws_call("iam ListOpenIDConnectProviders", self.iam.list_open_id_connect_providers)
        if any(p["Arn"] == self.provider_arn for p in providers.get("OpenIDConnectProviderList", [])):
            provider = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=self.provider_arn)
            if GITHUB_OIDC_AUDIENCE not in provider.get("ClientIDList", []):
                r.change(
                    f"add the {GITHUB_OIDC_AUDIENCE} audience",
                    lambda: self.iam.add_client_id_to_open_id_connect_provider(
                        OpenIDConnectProviderArn=self.provider_arn, ClientID=GITHUB_OIDC_AUDIENCE
                    ),
                )
            else:
                r.ok(f"{GITHUB_OIDC_HOST} exists (shared by every environment of the account)")
            return
        r.change(
            f"create the {GITHUB_OIDC_HOST} provider",
            lambda: aws_call(
                "iam CreateOpenIDConnectProvider",
                lambda: self.iam.create_open_id_connect_provider(
                    Url=f"https://{GITHUB_OIDC_HOST}", ClientIDList=[GITHUB_OIDC_AUDIENCE], ThumbprintList=THUMBPRINTS
                ),
            ),
        )

    def ensure_role(self, spec: RoleSpec) -> str:
        r = self.report
        subjects = spec.subject if isinstance(spec.subject, list) else [spec.subject]
        r.section(f"Role {spec.name} (trusted for {', '.join(subjects)})")
        trust = trust_policy(self.provider_arn, spec.subject)
        arn = f"arn:aws:iam::{self.account}:role/{spec.name}"
        found = aws_call("iam GetRole", partial(self.iam.get_role, RoleName=spec.name), missing={"NoSuchEntity"})
        role = found["Role"] if found else None
        if role is None:
            r.change(
                "create the role",
                lambda: aws_call(
                    "iam CreateRole",
                    lambda: self.iam.create_role(
                        RoleName=spec.name,
                        AssumeRolePolicyDocument=json.dumps(trust),
                        Description=f"GitHub Actions ({spec.subject})",
                        MaxSessionDuration=3600,
                    ),
                ),
            )
        else:
            current = role["AssumeRolePolicyDocument"]
            current = json.loads(current) if isinstance(current, str) else current
            if current != trust:
                r.change(
                    "replace the trust policy",
                    lambda: self.iam.update_assume_role_policy(RoleName=spec.name, PolicyDocument=json.dumps(trust)),
                )
            else:
                r.ok("trust policy as required")
        self._policies(spec, exists=role is not None)
        return arn

    def _policies(self, spec: RoleSpec, *, exists: bool) -> None:
        r = self.report
        attached = set()
        if exists:
            listing = self.iam.list_attached_role_policies(RoleName=spec.name)
            attached = {p["PolicyArn"] for p in listing["AttachedPolicies"]}
        for policy in spec.managed_policies:
            if policy in attached:
                r.ok(f"{policy.rsplit('/', 1)[-1]} attached")
            else:
                r.change(
                    f"attach {policy.rsplit('/', 1)[-1]}",
                    partial(self.iam.attach_role_policy, RoleName=spec.name, PolicyArn=policy),
                )
        current = None
        if exists:
            found = aws_call(
                "iam GetRolePolicy",
                partial(self.iam.get_role_policy, RoleName=spec.name, PolicyName=INLINE_POLICY),
                missing={"NoSuchEntity"},
            )
            document = found["PolicyDocument"] if found else None
            current = json.loads(document) if isinstance(document, str) else document
        if current == spec.inline:
            r.ok(f"inline policy {INLINE_POLICY} as required")
        else:
            r.change(
                f"{'update' if current else 'put'} inline policy {INLINE_POLICY}",
                lambda: self.iam.put_role_policy(
                    RoleName=spec.name, PolicyName=INLINE_POLICY, PolicyDocument=json.dumps(spec.inline)
                ),
            )


def role_specs(env: str, *, account: str, subject_prefix: str) -> list[RoleSpec]:
    cfg = load_config(env)
    region = cfg.aws.region
    s3 = cfg.state.s3
    state_plan: list[dict[str, Any]] = []
    state_apply: list[dict[str, Any]] = []
    if cfg.state.backend == "s3" and s3 is not None:
        common = {
            "account": account,
            "region": s3.region,
            "bucket": s3.bucket,
            "key_prefix": s3.key_prefix,
            "table": s3.dynamodb_table,
        }
        state_plan = state_statements(**common, write=False)  # type: ignore[arg-type]
        state_apply = state_statements(**common, write=True)  # type: ignore[arg-type]
    decrypt_via_ssm = {
        "Sid": "ReadSecureParameters",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": f"arn:aws:kms:{region}:{account}:key/*",
        "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{region}.amazonaws.com"}},
    }
    prefix = f"viberglass-{env}-"
    iam_for_stacks = {
        "Sid": "ManageEnvironmentRoles",
        "Effect": "Allow",
        "Action": [
            "iam:AttachRolePolicy",
            "iam:CreateRole",
            "iam:DeleteRole",
            "iam:DeleteRolePolicy",
            "iam:DetachRolePolicy",
            "iam:GetRole",
            "iam:GetRolePolicy",
            "iam:ListAttachedRolePolicies",
            "iam:ListInstanceProfilesForRole",
            "iam:ListRolePolicies",
            "iam:PassRole",
            "iam:PutRolePolicy",
            "iam:TagRole",
            "iam:UntagRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:UpdateRole",
            "iam:UpdateRoleDescription",
        ],
        "Resource": f"arn:aws:iam::{account}:role/{prefix}*",
    }
    service_linked = {
        "Sid": "ServiceLinkedRoles",
        "Effect": "Allow",
        "Action": "iam:CreateServiceLinkedRole",
        "Resource": f"arn:aws:iam::{account}:role/aws-service-role/*",
    }
    return [
        RoleSpec(
            name=f"{prefix}github-plan",
            # Pull requests, and the plan job of the prod deploy workflow, which runs in the GitHub
            # Environment "<env>-plan" (no reviewers) so that reviewers approve the apply job after
            # reading its plan.
            subject=[f"{subject_prefix}:pull_request", f"{subject_prefix}:environment:{env}-plan"],
            managed_policies=("arn:aws:iam::aws:policy/ReadOnlyAccess",),
            inline={"Version": "2012-10-17", "Statement": [*state_plan, decrypt_via_ssm]},
            store_as="AWS_PLAN_ROLE_ARN",
        ),
        RoleSpec(
            name=f"{prefix}github-apply",
            subject=f"{subject_prefix}:environment:{env}",
            # PowerUserAccess covers every service the stacks use except IAM, which the inline policy
            # grants for this environment's roles only.
            managed_policies=("arn:aws:iam::aws:policy/PowerUserAccess",),
            inline={"Version": "2012-10-17", "Statement": [*state_apply, iam_for_stacks, service_linked]},
            store_as="AWS_ROLE_ARN",
        ),
    ]


def run(env: str, *, dry_run: bool, subject_prefix: str | None, report: Report | None = None) -> dict[str, str]:
    cfg = load_config(env)
    report = report or Report(dry_run=dry_run)
    bootstrap = OidcBootstrap(region=cfg.aws.region, report=report)
    bootstrap.ensure_provider()
    prefix = subject_prefix or f"repo:{cfg.github.repository}"
    arns = {}
    for spec in role_specs(env, account=bootstrap.account, subject_prefix=prefix):
        arns[spec.store_as] = bootstrap.ensure_role(spec)
    report.summary()
    # A pull_request job must not enter a GitHub Environment (its OIDC subject would become
    # environment:<env> and the plan role would refuse it), so the plan role is a repository secret.
    print(f"\nStore these in {cfg.github.repository} (Settings > Secrets and variables > Actions):", file=report.out)
    print(f"  environment '{env}' secret   AWS_ROLE_ARN={arns['AWS_ROLE_ARN']}", file=report.out)
    print(f"  repository secret          AWS_PLAN_ROLE_ARN_{env.upper()}={arns['AWS_PLAN_ROLE_ARN']}", file=report.out)
    return arns
