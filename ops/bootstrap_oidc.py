"""``ops bootstrap-github-oidc``: the account's GitHub OIDC provider and, per environment, the permissions
boundary every role of the environment carries and this repository's three roles: plan (pull requests),
plan-env (the GitHub Environment ``<env>-plan``) and apply (the GitHub Environment ``<env>``).

The documents come from :mod:`core.ci_iam`. Idempotent: every setting is read and compared whole (trust,
boundary, attached and inline policies); anything else found on a role is removed, so a loosened trust, an
extra administrator policy or an edited boundary is put back, and a second run reports no change. Refuses
to run with credentials of another account than ``aws.account_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from typing import Any

from config.loader import account_peers
from config.schema import EnvironmentConfig
from core import ci_iam, deploy_roles
from core.iam import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST
from ops.common import InputError, Report, aws_call, client, load_config

# AWS no longer checks these for GitHub's provider, but the API still asks for at least one.
THUMBPRINTS = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
INLINE_POLICY = "viberglass-terraform"
MAX_POLICY_VERSIONS = 5  # IAM keeps at most five versions of a managed policy


def _document(value: Any) -> Any:
    """A policy document as IAM returns it (URL-decoded JSON text or, from boto3, already a dict)."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class RoleSpec:
    kind: str
    name: str
    subject: str
    managed_policies: tuple[str, ...]
    inline: dict[str, Any]


def caller(region: str) -> tuple[str, str]:
    """(account, partition) of the credentials in use."""
    identity = aws_call("sts GetCallerIdentity", lambda: client("sts", region).get_caller_identity())
    return identity["Account"], identity["Arn"].split(":")[1]


def require_account(cfg: EnvironmentConfig, account: str, *, file: str) -> None:
    """Refuse credentials of any other account than the environment's (nothing is read or changed)."""
    if account != cfg.aws.account_id:
        raise InputError(
            f"the AWS credentials are for account {account}, but {file} names {cfg.aws.account_id} "
            f"(aws.account_id); use credentials of {cfg.aws.account_id}. Nothing was changed."
        )


class OidcBootstrap:
    def __init__(self, *, cfg: EnvironmentConfig, report: Report) -> None:
        self.cfg = cfg
        self.iam = client("iam", cfg.aws.region)
        self.report = report
        self.account, partition = caller(cfg.aws.region)
        require_account(cfg, self.account, file=f"config/{cfg.name}.yaml")
        self.place = ci_iam.Place.of(cfg, partition)
        peers = account_peers(cfg) if cfg.aws.shared_account else []
        self.peers = [ci_iam.Place.of(load_config(peer), partition) for peer in peers]

    # -- the OIDC provider ----------------------------------------------------------------------------------

    def ensure_provider(self) -> None:
        r, arn = self.report, self.place.provider_arn
        r.section(f"GitHub OIDC provider in account {self.account}")
        providers = aws_call("iam ListOpenIDConnectProviders", self.iam.list_open_id_connect_providers)
        if any(p["Arn"] == arn for p in providers.get("OpenIDConnectProviderList", [])):
            provider = self.iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
            if GITHUB_OIDC_AUDIENCE not in provider.get("ClientIDList", []):
                r.change(
                    f"add the {GITHUB_OIDC_AUDIENCE} audience",
                    lambda: self.iam.add_client_id_to_open_id_connect_provider(
                        OpenIDConnectProviderArn=arn, ClientID=GITHUB_OIDC_AUDIENCE
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

    # -- the permissions boundary ----------------------------------------------------------------------------

    def ensure_boundary(self) -> None:
        r, arn = self.report, self.place.boundary_arn
        name = arn.rsplit("/", 1)[-1]
        wanted = ci_iam.boundary_document(self.place, self.peers)
        shared = f", denying {', '.join(p.env for p in self.peers)}" if self.peers else ""
        r.section(f"Permissions boundary {name} (every role of {self.cfg.name}{shared})")
        found = aws_call("iam GetPolicy", partial(self.iam.get_policy, PolicyArn=arn), missing={"NoSuchEntity"})
        if found is None:
            r.change(
                "create the boundary policy",
                lambda: aws_call(
                    "iam CreatePolicy",
                    lambda: self.iam.create_policy(
                        PolicyName=name,
                        PolicyDocument=json.dumps(wanted),
                        Description=f"Ceiling of every role of viberglass {self.cfg.name} (ops bootstrap-github-oidc)",
                    ),
                ),
            )
            return
        default = found["Policy"]["DefaultVersionId"]
        version = self.iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]
        if _document(version["Document"]) == wanted:
            r.ok("boundary policy as required")
            return
        r.change("replace the boundary policy (a new default version)", lambda: self._new_version(arn, wanted))

    def _new_version(self, arn: str, document: dict[str, Any]) -> None:
        versions = self.iam.list_policy_versions(PolicyArn=arn)["Versions"]
        old = sorted((v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"])
        if len(versions) >= MAX_POLICY_VERSIONS and old:
            self.iam.delete_policy_version(PolicyArn=arn, VersionId=old[0]["VersionId"])
        aws_call(
            "iam CreatePolicyVersion",
            lambda: self.iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True
            ),
        )

    # -- the roles -----------------------------------------------------------------------------------------------

    def ensure_role(self, spec: RoleSpec) -> str:
        r = self.report
        r.section(f"Role {spec.name} (trusted for {spec.subject})")
        trust = ci_iam.trust_document(self.place.provider_arn, spec.subject)
        boundary = self.place.boundary_arn
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
                        PermissionsBoundary=boundary,
                    ),
                ),
            )
        else:
            if _document(role["AssumeRolePolicyDocument"]) != trust:
                r.change(
                    "replace the trust policy",
                    lambda: self.iam.update_assume_role_policy(RoleName=spec.name, PolicyDocument=json.dumps(trust)),
                )
            else:
                r.ok("trust policy as required")
            if role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") != boundary:
                r.change(
                    "set the permissions boundary",
                    lambda: self.iam.put_role_permissions_boundary(RoleName=spec.name, PermissionsBoundary=boundary),
                )
            else:
                r.ok("permissions boundary in place")
        self._managed(spec, exists=role is not None)
        self._inline(spec, exists=role is not None)
        return f"{self.place.iam('role/')}{spec.name}"

    def _managed(self, spec: RoleSpec, *, exists: bool) -> None:
        r = self.report
        attached: set[str] = set()
        if exists:
            pages = self.iam.get_paginator("list_attached_role_policies").paginate(RoleName=spec.name)
            attached = {p["PolicyArn"] for page in pages for p in page["AttachedPolicies"]}
        for policy in spec.managed_policies:
            if policy in attached:
                r.ok(f"{policy.rsplit('/', 1)[-1]} attached")
            else:
                r.change(
                    f"attach {policy.rsplit('/', 1)[-1]}",
                    partial(self.iam.attach_role_policy, RoleName=spec.name, PolicyArn=policy),
                )
        for extra in sorted(attached - set(spec.managed_policies)):
            r.change(
                f"detach {extra} (not part of this role)",
                partial(self.iam.detach_role_policy, RoleName=spec.name, PolicyArn=extra),
            )

    def _inline(self, spec: RoleSpec, *, exists: bool) -> None:
        r = self.report
        names: set[str] = set()
        if exists:
            pages = self.iam.get_paginator("list_role_policies").paginate(RoleName=spec.name)
            names = {name for page in pages for name in page["PolicyNames"]}
        current = None
        if INLINE_POLICY in names:
            document = self.iam.get_role_policy(RoleName=spec.name, PolicyName=INLINE_POLICY)["PolicyDocument"]
            current = _document(document)
        if current == spec.inline:
            r.ok(f"inline policy {INLINE_POLICY} as required")
        else:
            r.change(
                f"{'replace' if current else 'put'} inline policy {INLINE_POLICY}",
                lambda: self.iam.put_role_policy(
                    RoleName=spec.name, PolicyName=INLINE_POLICY, PolicyDocument=json.dumps(spec.inline)
                ),
            )
        for extra in sorted(names - {INLINE_POLICY}):
            r.change(
                f"delete inline policy {extra} (not part of this role)",
                partial(self.iam.delete_role_policy, RoleName=spec.name, PolicyName=extra),
            )


def role_specs(cfg: EnvironmentConfig, place: ci_iam.Place, *, subject_prefix: str | None) -> list[RoleSpec]:
    """The plan, plan-env and apply roles of one environment, each trusted for exactly one subject."""
    subjects = ci_iam.plan_subjects(cfg, prefix=subject_prefix)
    plan = ci_iam.plan_document(place)
    return [
        RoleSpec(ci_iam.PLAN, place.role_name(ci_iam.PLAN), subjects[ci_iam.PLAN], (ci_iam.READ_ONLY,), plan),
        RoleSpec(
            ci_iam.PLAN_ENV, place.role_name(ci_iam.PLAN_ENV), subjects[ci_iam.PLAN_ENV], (ci_iam.READ_ONLY,), plan
        ),
        RoleSpec(
            ci_iam.APPLY,
            place.role_name(ci_iam.APPLY),
            subjects[ci_iam.APPLY],
            (ci_iam.POWER_USER,),
            ci_iam.apply_document(place),
        ),
    ]


def github_settings(cfg: EnvironmentConfig, arns: dict[str, str], place: ci_iam.Place) -> list[str]:
    """Where each role ARN goes in GitHub (docs/security.md, "GitHub identities"), one line each."""
    env, upper, infra, app = cfg.name, cfg.name.upper(), cfg.github.infra_repository, cfg.github.app_repository
    lines = [
        f"  {infra}: repository secret AWS_PLAN_ROLE_ARN_{upper}={arns[ci_iam.PLAN]}",
        f"  {infra}: environment '{env}-plan' secret AWS_PLAN_ROLE_ARN_{upper}={arns[ci_iam.PLAN_ENV]}",
        f"  {infra}: environment '{env}' secret AWS_ROLE_ARN={arns[ci_iam.APPLY]}",
    ]
    for role in deploy_roles.WORKFLOWS:
        secret = f"AWS_{role.split('-')[0].upper()}_DEPLOY_ROLE_ARN_{upper}"
        lines.append(f"  {app}: repository secret {secret}={place.iam('role/')}{place.role_name(role)}")
    branches = "main only" + (" and required reviewers" if cfg.production else "")
    lines.append(f"  deployment branches of environment '{env}' (both repositories) and '{env}-plan': {branches}")
    return lines


def run(env: str, *, dry_run: bool, subject_prefix: str | None, report: Report | None = None) -> dict[str, str]:
    cfg = load_config(env)
    report = report or Report(dry_run=dry_run)
    bootstrap = OidcBootstrap(cfg=cfg, report=report)
    bootstrap.ensure_provider()
    bootstrap.ensure_boundary()
    arns = {
        spec.kind: bootstrap.ensure_role(spec)
        for spec in role_specs(cfg, bootstrap.place, subject_prefix=subject_prefix)
    }
    report.summary()
    # A pull_request job must not enter a GitHub Environment (its OIDC subject would become
    # environment:<env>); jobs in '<env>-plan' get the environment secret of the same name instead.
    print(
        "\nGitHub settings (Settings > Secrets and variables > Actions; Settings > Environments). The deploy "
        "roles exist once the platform and workers stacks are applied:",
        file=report.out,
    )
    for line in github_settings(cfg, arns, bootstrap.place):
        print(line, file=report.out)
    return arns
