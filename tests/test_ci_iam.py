"""The CI identities and the permissions boundary, proven with iamprover (Z3) over the documents
``ops bootstrap-github-oidc`` installs (core/ci_iam.py) and the roles the stacks create.

* The apply role cannot escalate: it creates and changes roles only with the boundary, never touches a
  boundary, its own role, the other CI roles or the OIDC provider, attaches no administrator policy, and
  nothing created under the boundary can exceed it.
* The plan roles are read-only: no write to state or locks, no secret value, nothing Terraform does not
  read.
* In a shared account (``aws.shared_account: true``) no identity dev's workflows can reach writes prod's
  state keys, lock items, parameters, repositories, functions, roles or services; the application's own
  unavoidable overlaps are pinned here and listed in docs/security.md.

"Denied" means Z3 found no request context under which it is allowed; "allowed" means none under which it
is denied (``tests/iam_eval.py``). AWS managed policies are the versions moto bundles.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from iamprover.model import Principal

from config import parse
from config.defaults import merge
from core import ci_iam
from tests import iam_eval
from tests.conftest import ROOT, SynthFn, per_test_under_mutation, raw_config
from tests.iam_eval import ACCOUNT, REGION, Resolver, always_allowed, any_allowed, identity, never_allowed
from tests.tf import items

SHARED = {"aws": {"account_id": ACCOUNT, "shared_account": True}}
SEPARATE = {"aws": {"account_id": ACCOUNT}}
READ_ONLY, POWER_USER = iam_eval.managed_policy("ReadOnlyAccess"), iam_eval.managed_policy("PowerUserAccess")


def place(env: str, overrides: dict[str, Any]) -> ci_iam.Place:
    return ci_iam.Place.of(parse(merge(raw_config(env), overrides), env))


def ci_identities(env: str, peers: list[str], overrides: dict[str, Any]) -> dict[str, Principal]:
    """The bootstrap's three roles of ``env``, each with its managed policy, inline policy and boundary."""
    here = place(env, overrides)
    boundary = ci_iam.boundary_document(here, [place(p, overrides) for p in peers])
    plan = ci_iam.plan_document(here)
    return {
        ci_iam.PLAN: identity(ci_iam.PLAN, READ_ONLY, plan, boundary=boundary),
        ci_iam.PLAN_ENV: identity(ci_iam.PLAN_ENV, READ_ONLY, plan, boundary=boundary),
        ci_iam.APPLY: identity(ci_iam.APPLY, POWER_USER, ci_iam.apply_document(here), boundary=boundary),
    }


def stack_identities(stacks: dict[str, Any], boundary: dict[str, Any]) -> dict[str, Principal]:
    """Every role the stacks create, with its inline and attached policies and the environment's boundary
    (each role's permissions_boundary names it; roles-carry-the-boundary checks that on every stack)."""
    real = {k: v for k, v in stacks.items() if k != "manifest"}
    resolver = Resolver(real)
    found = {}
    for stack_name, stack in real.items():
        for key, role in items(stack, "aws_iam_role"):
            assert resolver.text(stack_name, role["permissions_boundary"]).endswith(":policy/viberglass-dev-boundary")
            documents = [
                resolver.document(stack_name, body["policy"])
                for _, body in items(stack, "aws_iam_role_policy")
                if body["role"] in {f"${{aws_iam_role.{key}.id}}", f"${{aws_iam_role.{key}.name}}"}
            ]
            documents += [
                iam_eval.managed_policy(body["policy_arn"].rsplit("/", 1)[-1])
                for _, body in items(stack, "aws_iam_role_policy_attachment")
                if body["role"] in {f"${{aws_iam_role.{key}.id}}", f"${{aws_iam_role.{key}.name}}"}
            ]
            assert documents, role["name"]
            found[role["name"]] = identity(role["name"], *documents, boundary=boundary)
    return found


@pytest.fixture(scope=per_test_under_mutation("module"))
def own() -> dict[str, Principal]:
    """dev's CI roles in dev's own account (the default layout)."""
    return ci_identities("dev", [], SEPARATE)


@pytest.fixture(scope=per_test_under_mutation("module"))
def dev_place() -> ci_iam.Place:
    return place("dev", SEPARATE)


# -- the apply role cannot escalate ---------------------------------------------------------------------------


def test_apply_role_can_still_do_its_job(own: dict[str, Principal], dev_place: ci_iam.Place) -> None:
    """Everything a `cdktf deploy` needs stays allowed (else the denials below would prove nothing useful)."""
    apply, boundary = own[ci_iam.APPLY], {"iam:PermissionsBoundary": dev_place.boundary_arn}
    role = dev_place.iam("role/viberglass-dev-backend-task")
    lock = {"dynamodb:LeadingKeys": "viberglass-dev-terraform-state/viberglass/dev/platform.tfstate"}
    assert always_allowed(apply, "s3:PutObject", f"{dev_place.state_keys[:-1]}platform.tfstate")  # type: ignore[index]
    assert always_allowed(apply, "dynamodb:PutItem", str(dev_place.lock_table_arn), lock)
    for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRolePolicy"):
        assert always_allowed(apply, action, role, boundary), action
    monitoring = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    assert always_allowed(apply, "iam:AttachRolePolicy", role, {**boundary, "iam:PolicyARN": monitoring})
    for action in ("iam:PassRole", "iam:DeleteRole", "iam:UpdateAssumeRolePolicy", "iam:GetRole", "iam:TagRole"):
        assert always_allowed(apply, action, role), action
    assert always_allowed(
        apply, "iam:CreateServiceLinkedRole", dev_place.iam("role/aws-service-role/ecs.amazonaws.com/x")
    )
    for action in ("ec2:CreateVpc", "rds:CreateDBInstance", "ecs:CreateService", "kms:CreateKey", "amplify:CreateApp"):
        assert always_allowed(apply, action, "*", {"aws:ResourceTag/Environment": "dev"}), action


def test_apply_role_creates_and_changes_roles_only_with_the_boundary(
    own: dict[str, Principal], dev_place: ci_iam.Place
) -> None:
    bounded = [*ci_iam.BOUNDED_ROLE_WRITES, "iam:AttachRolePolicy"]
    found = any_allowed(
        own[ci_iam.APPLY], bounded, resources=["*"], context_not={"iam:PermissionsBoundary": dev_place.boundary_arn}
    )
    assert found is None, found


def test_apply_role_has_no_iam_write_outside_its_environments_roles(
    own: dict[str, Principal], dev_place: ci_iam.Place
) -> None:
    """Every IAM write action AWS has (parliament's reference), on every resource but the environment's
    roles and service-linked roles: no users, access keys, policies, groups, providers, other roles."""
    writes = iam_eval.actions_of("iam", *iam_eval.WRITES)
    assert len(writes) > 100
    outside = any_allowed(
        own[ci_iam.APPLY],
        writes,
        resources=["*"],
        except_resources=[dev_place.roles, dev_place.iam("role/aws-service-role/*")],
    )
    assert outside is None, outside


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("iam:DeleteRolePermissionsBoundary", "role/viberglass-dev-backend-task"),
        ("iam:CreatePolicyVersion", "policy/viberglass-dev-boundary"),
        ("iam:SetDefaultPolicyVersion", "policy/viberglass-dev-boundary"),
        ("iam:DeletePolicy", "policy/viberglass-dev-boundary"),
        ("iam:PutRolePolicy", "role/viberglass-dev-github-apply"),
        ("iam:AttachRolePolicy", "role/viberglass-dev-github-apply"),
        ("iam:UpdateAssumeRolePolicy", "role/viberglass-dev-github-apply"),
        ("iam:DeleteRole", "role/viberglass-dev-github-plan"),
        ("iam:PutRolePermissionsBoundary", "role/viberglass-dev-github-plan-env"),
        ("iam:PassRole", "role/viberglass-dev-github-apply"),
        ("sts:AssumeRole", "role/viberglass-dev-github-apply"),
        ("iam:UpdateOpenIDConnectProviderThumbprint", "oidc-provider/token.actions.githubusercontent.com"),
        ("iam:AddClientIDToOpenIDConnectProvider", "oidc-provider/token.actions.githubusercontent.com"),
        ("iam:DeleteOpenIDConnectProvider", "oidc-provider/token.actions.githubusercontent.com"),
        # HCP Terraform's run roles and provider (the hcp stack's): an apply cannot widen its own run role.
        ("iam:UpdateAssumeRolePolicy", "role/viberglass-dev-hcp-apply"),
        ("iam:PutRolePolicy", "role/viberglass-dev-hcp-apply"),
        ("iam:AttachRolePolicy", "role/viberglass-dev-hcp-plan"),
        ("iam:DeleteRolePolicy", "role/viberglass-dev-hcp-plan"),
        ("sts:AssumeRole", "role/viberglass-dev-hcp-apply"),
        ("iam:AddClientIDToOpenIDConnectProvider", "oidc-provider/app.terraform.io"),
        ("iam:CreateUser", "user/x"),
        ("iam:CreateAccessKey", "user/x"),
        ("iam:CreatePolicy", "policy/viberglass-dev-x"),
        ("iam:PassRole", "role/OrganizationAccountAccessRole"),
        ("sts:AssumeRole", "role/OrganizationAccountAccessRole"),
    ],
)
def test_apply_role_cannot_touch_boundaries_ci_roles_or_the_provider(
    own: dict[str, Principal], dev_place: ci_iam.Place, action: str, resource: str
) -> None:
    """Whatever the request context: even a role update that names the right boundary is refused here."""
    assert never_allowed(own[ci_iam.APPLY], action, dev_place.iam(resource)), (action, resource)


@pytest.mark.parametrize(
    "policy", ["AdministratorAccess", "PowerUserAccess", "IAMFullAccess", "job-function/SystemAdministrator"]
)
def test_apply_role_attaches_no_administrator_policy(
    own: dict[str, Principal], dev_place: ci_iam.Place, policy: str
) -> None:
    context = {"iam:PermissionsBoundary": dev_place.boundary_arn, "iam:PolicyARN": f"arn:aws:iam::aws:policy/{policy}"}
    assert never_allowed(own[ci_iam.APPLY], "iam:AttachRolePolicy", dev_place.iam("role/viberglass-dev-x"), context)


def test_apply_role_attaches_only_the_listed_service_policies(
    own: dict[str, Principal], dev_place: ci_iam.Place
) -> None:
    allowed = [p.format(partition="aws") for p in ci_iam.ATTACHABLE_POLICIES]
    found = None
    for listed in allowed:  # any policy ARN that is not one of them
        found = found or any_allowed(
            own[ci_iam.APPLY],
            ["iam:AttachRolePolicy"],
            resources=["*"],
            context={"iam:PermissionsBoundary": dev_place.boundary_arn},
            context_not={"iam:PolicyARN": listed},
        )
    assert found is None, found


def test_nothing_created_under_the_boundary_can_exceed_it(dev_place: ci_iam.Place) -> None:
    """A role the apply role creates, even with AdministratorAccess attached, is capped by the boundary:
    no IAM user or key, no role without the boundary, no boundary change, no role hopping, no
    Organizations."""
    admin = identity("admin", iam_eval.managed_policy("AdministratorAccess"),
                     boundary=ci_iam.boundary_document(dev_place, []))  # fmt: skip
    for action, resource in (
        ("iam:CreateUser", "user/x"),
        ("iam:CreateAccessKey", "user/x"),
        ("iam:AttachUserPolicy", "user/x"),
        ("iam:CreatePolicyVersion", "policy/viberglass-dev-boundary"),
        ("iam:DeleteRolePermissionsBoundary", "role/viberglass-dev-x"),
        ("iam:PutRolePolicy", "role/viberglass-dev-github-apply"),
        ("sts:AssumeRole", "role/viberglass-dev-github-apply"),
        ("organizations:LeaveOrganization", "*"),
        ("account:PutAlternateContact", "*"),
    ):
        assert never_allowed(admin, action, dev_place.iam(resource) if resource != "*" else "*"), action
    assert any_allowed(admin, ["iam:CreateRole", "iam:PutRolePolicy"], resources=["*"],
                       context_not={"iam:PermissionsBoundary": dev_place.boundary_arn}) is None  # fmt: skip


SHARING_OUT = [
    ("sso:CreateAccountAssignment", "*"),
    ("sso:CreatePermissionSet", "*"),
    ("sso:AttachManagedPolicyToPermissionSet", "*"),
    ("sso-directory:CreateUser", "*"),
    ("identitystore:CreateUser", "*"),
    ("identitystore:CreateGroupMembership", "*"),
    ("identitystore:ListUsers", "*"),
    ("identitystore-auth:ListSessions", "*"),
    ("ram:CreateResourceShare", "*"),
    ("ram:AssociateResourceShare", "*"),
    ("ram:EnableSharingWithAwsOrganization", "*"),
    ("rds:ModifyDBSnapshotAttribute", "rds:snapshot:viberglass-dev-postgres-final"),
    ("rds:ModifyDBClusterSnapshotAttribute", "rds:cluster-snapshot:x"),
    ("ec2:ModifySnapshotAttribute", "ec2:snapshot/snap-0123"),
    ("ec2:ModifyImageAttribute", "ec2:image/ami-0123"),
    ("ecr:SetRepositoryPolicy", "ecr:repository/someone-elses"),
    ("ecr:SetRepositoryPolicy", "ecr:repository/viberator-worker"),
    ("ecr:DeleteRepositoryPolicy", "ecr:repository/someone-elses"),
    ("ecr:PutReplicationConfiguration", "*"),
    ("ecr:PutRegistryPolicy", "*"),
    ("logs:CreateExportTask", "logs:log-group:/ecs/viberglass-dev-backend"),
    ("logs:PutSubscriptionFilter", "logs:log-group:/ecs/viberglass-dev-backend"),
    ("events:PutPermission", "events:event-bus/default"),
    ("rds:StartExportTask", "rds:snapshot:viberglass-dev-postgres-final"),
    ("ec2:CreateVpcPeeringConnection", "ec2:vpc/vpc-0123"),
    ("ec2:AcceptVpcPeeringConnection", "ec2:vpc-peering-connection/pcx-0123"),
    ("backup:StartCopyJob", "backup:recovery-point:x"),
    ("secretsmanager:PutResourcePolicy", "secretsmanager:secret:rds!db-1234-AbCdEf"),
    ("lambda:AddPermission", "lambda:function:viberator-tenant-1"),
    ("lambda:AddLayerVersionPermission", "lambda:layer:x:1"),
    ("lambda:CreateFunctionUrlConfig", "lambda:function:viberator-tenant-1"),
    ("lambda:UpdateFunctionUrlConfig", "lambda:function:viberator-tenant-1"),
    # Services that act with a service role of their own.
    ("cloudformation:CreateStack", "cloudformation:stack/x/*"),
    ("codebuild:CreateProject", "codebuild:project/x"),
    ("codebuild:StartBuild", "codebuild:project/x"),
]


def _sharing_arn(place: ci_iam.Place, resource: str) -> str:
    if resource == "*":
        return "*"
    service, rest = resource.split(":", 1)
    return place.arn(service, rest)


def _under_the_guards_alone(place: ci_iam.Place) -> Principal:
    """A role allowed everything, under a boundary that is the guards and an allow-everything statement: what
    the guards deny on their own, whatever the boundary's allowing side grants now or later."""
    ceiling = {"Version": "2012-10-17", "Statement": [*ALLOW_ALL["Statement"], *ci_iam.guards(place)]}
    return identity("under-the-guards", ALLOW_ALL, boundary=ceiling)


def test_the_boundarys_guards_hold_on_their_own(dev_place: ci_iam.Place) -> None:
    """No boundary removed or changed, no role without this boundary, the CI roles only read, the OIDC provider
    untouched, no administrator-class policy attached, no role assumed, nothing shared out, no policy on another
    repository: denied by the guards themselves, not by a gap in what the boundary allows."""
    guarded, ci_roles = _under_the_guards_alone(dev_place), dev_place.ci_role_arns
    for action in ("iam:DeleteRolePermissionsBoundary", "iam:DeleteUserPermissionsBoundary"):
        assert any_allowed(guarded, [action], resources=["*"]) is None, action
    denied: list[tuple[list[str], list[str]]] = [
        (list(ci_iam.POLICY_WRITES), [dev_place.iam("policy/viberglass-*-boundary")]),
        (["iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:PassRole", "iam:DeleteRole"], ci_roles),
        (list(ci_iam.OIDC_PROVIDER_WRITES), [dev_place.iam("oidc-provider/*")]),
        (["sts:AssumeRole"], ["*"]),
    ]
    for actions, resources in denied:
        assert any_allowed(guarded, actions, resources=resources) is None, actions
    assert any_allowed(guarded, ["iam:CreateRole", "iam:PutRolePermissionsBoundary"], resources=["*"],
                       context_not={"iam:PermissionsBoundary": dev_place.boundary_arn}) is None  # fmt: skip
    for policy in ci_iam.ADMIN_POLICIES:
        admin = {"iam:PolicyARN": policy.format(partition="aws").replace("*", "")}
        attach = ["iam:AttachGroupPolicy", "iam:AttachRolePolicy", "iam:AttachUserPolicy"]
        assert any_allowed(guarded, attach, resources=["*"], context=admin) is None, policy
    for action, resource in SHARING_OUT:
        assert never_allowed(guarded, action, _sharing_arn(dev_place, resource)), action


def test_the_boundarys_guards_leave_the_environments_own_work(dev_place: ci_iam.Place) -> None:
    """The guards are not a blanket denial: the CI roles can be read, a role created with this boundary, a
    non-administrator policy attached, the environment's own repository given a policy."""
    guarded, boundary = _under_the_guards_alone(dev_place), {"iam:PermissionsBoundary": dev_place.boundary_arn}
    role = dev_place.iam("role/viberglass-dev-x")
    assert always_allowed(guarded, "iam:GetRole", dev_place.ci_role_arns[0])
    # Refreshing the hcp stack's run roles lists their policies.
    assert always_allowed(guarded, "iam:ListAttachedRolePolicies", dev_place.ci_role_arns[-1])
    assert always_allowed(guarded, "iam:CreateRole", role, boundary)
    assert always_allowed(guarded, "iam:AttachRolePolicy", role, {"iam:PolicyARN": "arn:aws:iam::aws:policy/x"})
    repository = dev_place.repositories[0].replace("*", "backend").replace(":*:", f":{REGION}:")
    assert always_allowed(guarded, "ecr:SetRepositoryPolicy", repository)


@pytest.mark.parametrize(("action", "resource"), SHARING_OUT, ids=[f"{a}:{r}" for a, r in SHARING_OUT])
def test_nothing_under_the_boundary_shares_out_of_the_account(
    own: dict[str, Principal], dev_place: ci_iam.Place, action: str, resource: str
) -> None:
    """No Identity Center user, group, permission set or assignment; no RAM share; no snapshot or image made
    public or another account's; no policy on a repository that is not the environment's: denied to the
    apply role, and to a role with AdministratorAccess under the boundary (every role the stacks create),
    whatever the request carries, tags included (the environment's own snapshot too)."""
    admin = identity("admin", iam_eval.managed_policy("AdministratorAccess"),
                     boundary=ci_iam.boundary_document(dev_place, []))  # fmt: skip
    arn, tagged = _sharing_arn(dev_place, resource), {"aws:ResourceTag/Environment": "dev"}
    for who in (own[ci_iam.APPLY], admin):
        assert never_allowed(who, action, arn), (who.arn, action, arn)
        assert never_allowed(who, action, arn, tagged), (who.arn, action, arn)


def test_no_role_the_stacks_create_needs_a_denied_sharing_route(dev: Any, prod: Any) -> None:
    """The boundary caps every role the stacks create: no call the application's roles or the deploy roles
    are given (core/app_contract.py, core/deploy_roles.py), and no action of any inline policy the stacks
    synthesize, matches a NoSharingOut or NoCodeRunners action; and no stack resource type is one that would
    need them (REFRESH_READS lists the stacks' types)."""
    import re
    from fnmatch import fnmatchcase

    from core import app_contract, deploy_roles

    denied = [*ci_iam.NO_SHARING_SERVICES, *ci_iam.SHARING_OUT, *ci_iam.CODE_RUNNERS]
    given = {
        action
        for permissions in (*app_contract.ROLE_PERMISSIONS.values(), *deploy_roles.ROLE_PERMISSIONS.values())
        for permission in permissions
        for action in permission.actions
    }
    assert len(given) > 20
    for stacks in (dev, prod):
        for name, stack in stacks.items():
            if name == "manifest":
                continue
            for _, body in items(stack, "aws_iam_role_policy"):
                given |= set(re.findall(r'"([a-z0-9-]+:[A-Za-z0-9*]+)"', body["policy"]))
    assert [(a, d) for a in sorted(given) for d in denied if fnmatchcase(a.lower(), d.lower())] == []
    needing = ("aws_cloudformation", "aws_codebuild", "aws_lambda", "aws_vpc_peering", "aws_backup",
               "aws_ecr_replication", "aws_ecr_registry_policy", "aws_secretsmanager",
               "aws_cloudwatch_event_permission", "aws_cloudwatch_log_subscription", "aws_ram",
               "aws_ssoadmin")  # fmt: skip
    assert [t for t in REFRESH_READS if t.startswith(needing)] == []


MANAGED_POLICY_LIMIT = 6144  # IAM: characters of a managed policy, whitespace not counted


@pytest.mark.parametrize("layout", ["separate", "shared"])
def test_the_boundary_fits_a_managed_policy(layout: str) -> None:
    """`ops bootstrap-github-oidc` installs the boundary as a managed policy, which IAM refuses above 6,144
    characters; a shared account adds the other environment's denials, the longest case."""
    import json

    overrides = SHARED if layout == "shared" else SEPARATE
    for env, peers in (("dev", ["prod"]), ("prod", ["dev"])):
        here = place(env, overrides)
        document = ci_iam.boundary_document(here, [place(p, overrides) for p in peers] if layout == "shared" else [])
        size = len(json.dumps(document, separators=(",", ":")))
        assert size <= MANAGED_POLICY_LIMIT, (env, layout, size)


def test_the_environments_repository_policies_stay_the_apply_roles(
    own: dict[str, Principal], dev_place: ci_iam.Place
) -> None:
    """The stacks set their repositories' policies (Lambda pulls worker images): still allowed there."""
    for repository in ("dev-viberglass-backend", "dev/viberator-worker-multi-agent", "dev/viberator-base-worker"):
        arn = dev_place.arn("ecr", f"repository/{repository}")
        for action in ci_iam.REPOSITORY_POLICY_WRITES:
            assert always_allowed(own[ci_iam.APPLY], action, arn, {"aws:ResourceTag/Environment": "dev"}), arn


# -- the plan roles read, and nothing secret ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ci_iam.PLAN, ci_iam.PLAN_ENV])
def test_plan_roles_read_what_a_plan_needs(own: dict[str, Principal], dev_place: ci_iam.Place, kind: str) -> None:
    plan = own[kind]
    dev = {"aws:ResourceTag/Environment": "dev"}
    assert always_allowed(plan, "s3:GetObject", f"{dev_place.state_keys[:-1]}workers.tfstate")  # type: ignore[index]
    assert always_allowed(plan, "s3:ListBucket", str(dev_place.state_bucket_arn))
    digest = {"dynamodb:LeadingKeys": "viberglass-dev-terraform-state/viberglass/dev/base.tfstate-md5"}
    assert always_allowed(plan, "dynamodb:GetItem", str(dev_place.lock_table_arn), digest)
    for arn in dev_place.discovery_arns:
        assert always_allowed(plan, "ssm:GetParameter", arn), arn
    reads = ("ec2:DescribeVpcs", "rds:DescribeDBInstances", "amplify:GetApp", "ecs:DescribeServices",
             "secretsmanager:DescribeSecret", "kms:DescribeKey", "iam:GetRole", "ssm:DescribeParameters")  # fmt: skip
    for action in reads:
        assert always_allowed(plan, action, "*", dev), action


# What refreshing each resource type (and reading each data source) the stacks synthesize calls, as IAM
# actions: terraform-provider-aws 6.x's read functions (internal/service/<service>/<type>.go, the `Read` of
# each resource). docs/security.md ("What a plan reads") gives the reasoning for the denials around them.
# A new type in the stacks fails test_every_resource_type_the_stacks_have_is_listed until it is added here.
S3_BUCKET_READS = (
    "s3:ListBucket",  # HeadBucket (findBucket): AWS authorizes HeadBucket as s3:ListBucket
    "s3:GetAccelerateConfiguration", "s3:GetBucketAcl", "s3:GetBucketCORS", "s3:GetBucketLogging",
    "s3:GetBucketObjectLockConfiguration", "s3:GetBucketPolicy", "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging", "s3:GetBucketVersioning", "s3:GetBucketWebsite", "s3:GetEncryptionConfiguration",
    "s3:GetLifecycleConfiguration", "s3:GetReplicationConfiguration",
)  # fmt: skip
ELB = "elasticloadbalancing"
REFRESH_READS: dict[str, tuple[str, ...]] = {
    "aws_acm_certificate": ("acm:DescribeCertificate", "acm:ListTagsForCertificate"),
    "aws_acm_certificate_validation": ("acm:DescribeCertificate",),
    "aws_alb": (f"{ELB}:DescribeLoadBalancers", f"{ELB}:DescribeLoadBalancerAttributes", f"{ELB}:DescribeTags"),
    "aws_alb_listener": (f"{ELB}:DescribeListeners", f"{ELB}:DescribeListenerAttributes", f"{ELB}:DescribeTags"),
    "aws_alb_target_group": (f"{ELB}:DescribeTargetGroups", f"{ELB}:DescribeTargetGroupAttributes",
                             f"{ELB}:DescribeTags"),
    "aws_amplify_app": ("amplify:GetApp",),
    "aws_amplify_branch": ("amplify:GetBranch",),
    "aws_amplify_domain_association": ("amplify:GetDomainAssociation",),
    "aws_cloudfront_distribution": ("cloudfront:GetDistribution", "cloudfront:ListTagsForResource"),
    "aws_cloudwatch_event_rule": ("events:DescribeRule", "events:ListTagsForResource"),
    "aws_cloudwatch_event_target": ("events:ListTargetsByRule",),
    "aws_cloudwatch_log_group": ("logs:DescribeLogGroups", "logs:ListTagsForResource"),
    "aws_cloudwatch_metric_alarm": ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
    "aws_db_instance": ("rds:DescribeDBInstances",),
    "aws_db_parameter_group": ("rds:DescribeDBParameterGroups", "rds:DescribeDBParameters",
                               "rds:ListTagsForResource"),
    "aws_db_subnet_group": ("rds:DescribeDBSubnetGroups", "rds:ListTagsForResource"),
    "aws_default_security_group": ("ec2:DescribeSecurityGroups",),
    "aws_ecr_lifecycle_policy": ("ecr:GetLifecyclePolicy",),
    "aws_ecr_repository": ("ecr:DescribeRepositories", "ecr:ListTagsForResource"),
    "aws_ecr_repository_policy": ("ecr:GetRepositoryPolicy",),
    "aws_ecs_cluster": ("ecs:DescribeClusters",),
    "aws_ecs_service": ("ecs:DescribeServices",),
    "aws_ecs_task_definition": ("ecs:DescribeTaskDefinition",),
    "aws_eip": ("ec2:DescribeAddresses",),
    "aws_flow_log": ("ec2:DescribeFlowLogs",),
    "aws_iam_role": ("iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"),
    "aws_iam_role_policy": ("iam:GetRolePolicy",),
    "aws_iam_role_policy_attachment": ("iam:ListAttachedRolePolicies",),
    "aws_internet_gateway": ("ec2:DescribeInternetGateways",),
    "aws_kms_alias": ("kms:ListAliases",),
    "aws_kms_key": ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"),
    "aws_nat_gateway": ("ec2:DescribeNatGateways",),
    "aws_route": ("ec2:DescribeRouteTables",),
    "aws_route53_record": ("route53:ListResourceRecordSets",),
    "aws_route_table": ("ec2:DescribeRouteTables",),
    "aws_route_table_association": ("ec2:DescribeRouteTables",),
    "aws_s3_bucket": S3_BUCKET_READS,
    "aws_s3_bucket_lifecycle_configuration": ("s3:GetLifecycleConfiguration",),
    "aws_s3_bucket_ownership_controls": ("s3:GetBucketOwnershipControls",),
    "aws_s3_bucket_policy": ("s3:GetBucketPolicy",),
    "aws_s3_bucket_public_access_block": ("s3:GetBucketPublicAccessBlock",),
    "aws_s3_bucket_server_side_encryption_configuration": ("s3:GetEncryptionConfiguration",),
    "aws_s3_bucket_versioning": ("s3:GetBucketVersioning",),
    "aws_security_group": ("ec2:DescribeSecurityGroups",),
    "aws_sfn_state_machine": ("states:DescribeStateMachine", "states:ListTagsForResource"),
    "aws_sns_topic": ("sns:GetTopicAttributes", "sns:ListTagsForResource"),
    "aws_ssm_parameter": ("ssm:GetParameter", "ssm:DescribeParameters", "ssm:ListTagsForResource"),
    "aws_subnet": ("ec2:DescribeSubnets",),
    "aws_vpc": ("ec2:DescribeVpcs", "ec2:DescribeVpcAttribute", "ec2:DescribeRouteTables",
                "ec2:DescribeSecurityGroups", "ec2:DescribeNetworkAcls"),
    "aws_vpc_security_group_egress_rule": ("ec2:DescribeSecurityGroupRules",),
    "aws_vpc_security_group_ingress_rule": ("ec2:DescribeSecurityGroupRules",),
    # data sources
    "data.aws_caller_identity": (),  # sts:GetCallerIdentity needs no permission
    "data.aws_partition": (),
    "data.aws_elb_service_account": (),  # a table in the provider
    "data.aws_cloudfront_cache_policy": ("cloudfront:ListCachePolicies", "cloudfront:GetCachePolicy"),
    "data.aws_cloudfront_origin_request_policy": ("cloudfront:ListOriginRequestPolicies",
                                                  "cloudfront:GetOriginRequestPolicy"),
    "data.aws_ec2_managed_prefix_list": ("ec2:DescribeManagedPrefixLists", "ec2:GetManagedPrefixListEntries"),
    "data.terraform_remote_state": ("s3:GetObject",),  # the upstream stacks' state (test above)
    "data.aws_ssm_parameters_by_path": ("ssm:GetParametersByPath",),  # the Amplify connection marker
}  # fmt: skip


def _stack_types(stacks: dict[str, Any]) -> set[str]:
    real = [v for k, v in stacks.items() if k not in ("manifest", "hcp")]
    return {t for stack in real for t in stack.get("resource", {})} | {
        f"data.{t}" for stack in real for t in stack.get("data", {})
    }


def test_every_resource_type_the_stacks_have_is_listed(synth: SynthFn) -> None:
    """The list below is the stacks' types exactly (dev, prod, and an environment on HCP Terraform, whose
    hcp stack an operator applies, not a plan role): a new type needs its reads listed and proven."""
    found = _stack_types(synth("dev")) | _stack_types(synth("prod"))
    assert found == set(REFRESH_READS)


@pytest.mark.parametrize("kind", [ci_iam.PLAN, ci_iam.PLAN_ENV])
def test_a_plan_still_refreshes_every_resource_type_the_stacks_have(
    own: dict[str, Principal], dev_place: ci_iam.Place, dev: Any, kind: str
) -> None:
    """Every read the provider makes for the stacks' types stays allowed after the denials: buckets on the
    stacks' own bucket names (HeadBucket is s3:ListBucket), parameters on the discovery names, state on the
    state keys, everything else on any resource of the environment."""
    plan, tagged = own[kind], {"aws:ResourceTag/Environment": "dev"}
    buckets = [f"arn:aws:s3:::{b['bucket']}" for stack in ("platform",) for _, b in items(dev[stack], "aws_s3_bucket")]
    assert len(buckets) == 2
    refused = []
    for rtype, actions in REFRESH_READS.items():
        for action in actions:
            if action.startswith("s3:Get") and rtype == "data.terraform_remote_state":
                resources = [f"{dev_place.state_keys[:-1]}base.tfstate"]  # type: ignore[index]
            elif action.startswith("s3:"):
                resources = buckets
            elif action == "ssm:GetParameter":
                resources = dev_place.discovery_arns
            elif action == "ssm:GetParametersByPath":  # the connection marker's own path, no ancestor
                resources = [arn for arn in dev_place.discovery_arns if arn.endswith("/amplify/connection")]
                assert len(resources) == 1
            else:
                resources = ["*"]
            refused += [(rtype, action, r) for r in resources if not always_allowed(plan, action, r, tagged)]
    assert refused == []


@pytest.mark.parametrize("kind", [ci_iam.PLAN, ci_iam.PLAN_ENV])
def test_plan_roles_read_the_frontend_connection_marker_by_its_path_only(
    own: dict[str, Principal], dev_place: ci_iam.Place, kind: str
) -> None:
    """The platform stack reads `ops connect frontend`'s marker with GetParametersByPath, which IAM authorizes
    on the requested path (and then returns everything under it): the plan roles may query exactly the
    marker's own path, never an ancestor that would hand them the environment's other parameters."""
    plan = own[kind]
    ssm = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/viberglass/dev"
    assert always_allowed(plan, "ssm:GetParametersByPath", f"{ssm}/amplify/connection")
    assert always_allowed(plan, "ssm:GetParameter", f"{ssm}/amplify/connection/repository")
    for ancestor in (ssm, f"{ssm}/amplify", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/viberglass"):
        assert never_allowed(plan, "ssm:GetParametersByPath", ancestor), ancestor
    assert never_allowed(
        plan, "ssm:GetParametersByPath", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/viberglass/prod/amplify/connection"
    )


def test_plan_role_writes_no_state_and_no_lock(own: dict[str, Principal], dev_place: ci_iam.Place) -> None:
    """Plans run with -lock=false (scripts/ci/plan-stacks.sh); no S3 or DynamoDB write is allowed at all."""
    plan = own[ci_iam.PLAN]
    found = any_allowed(plan, iam_eval.actions_of("dynamodb", *iam_eval.WRITES), resources=["*"])
    assert found is None, found
    state_writes = [*ci_iam.STATE_WRITES, "s3:PutObjectTagging", "s3:RestoreObject", "s3:PutBucketPolicy",
                    "s3:PutBucketVersioning", "s3:PutLifecycleConfiguration", "s3:DeleteBucket"]  # fmt: skip
    found = any_allowed(plan, state_writes, resources=[f"{dev_place.state_bucket_arn}*"])
    assert found is None, found


def test_plan_role_reads_no_secret_value(own: dict[str, Principal], dev_place: ci_iam.Place) -> None:
    plan = own[ci_iam.PLAN]
    for action, resource in (
        ("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:rds!db-1234-AbCdEf"),
        ("secretsmanager:BatchGetSecretValue", "*"),
        ("kms:Decrypt", f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0b1e7c3a-0000-4000-8000-00000000e0e0"),
        ("s3:GetObject", "arn:aws:s3:::dev-viberglass-uploads/ticket-media/x.png"),
        ("s3:GetObject", "arn:aws:s3:::dev-viberglass-alb-logs/alb/x.log.gz"),
        ("logs:GetLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/viberglass-dev-backend:log-stream:x"),
        ("logs:FilterLogEvents", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/ecs/viberglass-dev-backend"),
    ):
        assert never_allowed(plan, action, resource), (action, resource)
    # Any parameter but the plain discovery values: the backend's secrets, tenant credentials, the
    # application's worker secrets (the AWS-managed aws/ssm key would decrypt those for any reader).
    found = any_allowed(plan, list(ci_iam.PARAMETER_READS), resources=["*"], except_resources=dev_place.discovery_arns)
    assert found is None, found


OLD_STATE = "arn:aws:s3:::viberglass-dev-terraform-state/viberglass/dev/platform.tfstate"


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        # Earlier versions of the state (they held the Slack and GitHub tokens before those left Terraform).
        ("s3:GetObjectVersion", OLD_STATE),
        ("s3:GetObjectVersionForReplication", OLD_STATE),
        ("s3:GetObjectVersionTorrent", OLD_STATE),
        ("s3:ListBucketVersions", "arn:aws:s3:::viberglass-dev-terraform-state"),
        ("s3:GetObjectVersion", "arn:aws:s3:::dev-viberglass-uploads/ticket-media/screenshots/x.png"),
        # Other buckets' keys and contents, by any route.
        ("s3:ListBucket", "arn:aws:s3:::someone-elses-bucket"),
        ("s3:ListBucketVersions", "arn:aws:s3:::dev-viberglass-uploads"),
        ("s3:ListBucketMultipartUploads", "arn:aws:s3:::dev-viberglass-uploads"),
        ("s3:ListMultipartUploadParts", "arn:aws:s3:::dev-viberglass-uploads/ticket-media/x.mp4"),
        ("s3:GetObjectTorrent", "arn:aws:s3:::dev-viberglass-uploads/ticket-media/x.png"),
        ("s3-object-lambda:GetObject", f"arn:aws:s3-object-lambda:{REGION}:{ACCOUNT}:accesspoint/x"),
        ("s3-object-lambda:ListBucket", f"arn:aws:s3-object-lambda:{REGION}:{ACCOUNT}:accesspoint/x"),
        ("s3express:CreateSession", f"arn:aws:s3express:{REGION}:{ACCOUNT}:bucket/x--euw1-az1--x-s3"),
        # Values outside Terraform's resources.
        ("ecs:DescribeTasks", f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/viberglass-dev-workers/0123456789abcdef"),
        ("rds:DownloadDBLogFilePortion", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:viberglass-dev-postgres"),
        ("rds:DownloadCompleteDBLogFile", f"arn:aws:rds:{REGION}:{ACCOUNT}:db:viberglass-dev-postgres"),
        ("cloudtrail:LookupEvents", "*"),
        ("cloudtrail:GetQueryResults", f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:eventdatastore/x"),
        ("ecr:GetDownloadUrlForLayer", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/dev-viberglass-backend"),
        ("ecr:BatchGetImage", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/dev/viberator-worker-multi-agent"),
    ],
)
def test_plan_role_reads_no_old_state_and_no_run_time_value(
    own: dict[str, Principal], action: str, resource: str
) -> None:
    """Whatever the request carries (the environment's tag included): a plan reads none of these."""
    for context in ({}, {"aws:ResourceTag/Environment": "dev"}):
        assert never_allowed(own[ci_iam.PLAN], action, resource, context), (action, resource, context)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        # The backend's clanker functions hold tenant values in their environment.
        ("lambda:GetFunction", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:viberator-tenant-1"),
        ("lambda:GetFunctionConfiguration", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:viberator-tenant-1"),
        ("sqs:ReceiveMessage", f"arn:aws:sqs:{REGION}:{ACCOUNT}:any-queue"),
        ("amplify:GetJob", f"arn:aws:amplify:{REGION}:{ACCOUNT}:apps/d1/branches/main/jobs/0000000001"),
        # Items of any table but the lock table's digests (checked below), by every read route.
        ("dynamodb:GetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/any-table"),
        ("dynamodb:BatchGetItem", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/any-table"),
        ("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/any-table/index/by-tenant"),
        ("dynamodb:Scan", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/any-table"),
        ("dynamodb:PartiQLSelect", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/any-table"),
        ("dynamodb:GetRecords", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/any-table/stream/2026-01-01T00:00:00.000"),
        ("dynamodb:Scan", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/viberglass-terraform-locks"),
        ("dynamodb:Query", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/viberglass-terraform-locks"),
    ],
)
def test_plan_role_reads_no_value_of_services_no_stack_manages(
    own: dict[str, Principal], action: str, resource: str
) -> None:
    """ReadOnlyAccess returns these values, and no refresh of the stacks' types calls them (REFRESH_READS):
    whatever the request carries, the plan roles (which any branch of this repository runs) read none."""
    for kind in (ci_iam.PLAN, ci_iam.PLAN_ENV):
        for context in ({}, {"aws:ResourceTag/Environment": "dev"}):
            assert never_allowed(own[kind], action, resource, context), (kind, action, resource, context)


def test_plan_role_reads_only_the_state_digest_of_any_table(own: dict[str, Principal], dev_place: ci_iam.Place) -> None:
    """dynamodb:GetItem, searched by Z3 over every table: only the lock table (the digest read)."""
    assert dev_place.lock_table_arn is not None
    found = any_allowed(
        own[ci_iam.PLAN], ["dynamodb:GetItem"], resources=["*"], except_resources=[dev_place.lock_table_arn]
    )
    assert found is None, found


def test_a_plan_role_without_a_lock_table_reads_no_item() -> None:
    """On HCP Terraform (no lock table) the plan roles read no table item at all."""
    cloud = {"state": {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-dev"}}}
    here = place("dev", {**SEPARATE, **cloud})
    assert here.lock_table_arn is None
    plan = identity(ci_iam.PLAN, READ_ONLY, ci_iam.plan_document(here), boundary=ci_iam.boundary_document(here, []))
    assert any_allowed(plan, ["dynamodb:GetItem", *ci_iam.ITEM_READS], resources=["*"]) is None


@pytest.mark.parametrize("role", [ci_iam.PLAN, ci_iam.APPLY])
def test_the_inline_policy_alone_gives_terraform_its_state(dev_place: ci_iam.Place, role: str) -> None:
    """Each CI role's own inline policy carries the state access Terraform needs (list the bucket, read the
    stack's state, its lock table's digest; an apply also writes both), so swapping the attached AWS managed
    policy (ReadOnlyAccess, PowerUserAccess) for a narrower one cannot cut a plan or an apply off its state."""
    document = ci_iam.plan_document(dev_place) if role == ci_iam.PLAN else ci_iam.apply_document(dev_place)
    alone = identity(role, document, boundary=ci_iam.boundary_document(dev_place, []))
    assert dev_place.state_keys is not None and dev_place.lock_table_arn is not None
    state = f"{dev_place.state_keys[:-1]}platform.tfstate"
    lock = {"dynamodb:LeadingKeys": "viberglass-dev-terraform-state/viberglass/dev/platform.tfstate-md5"}
    assert always_allowed(alone, "s3:ListBucket", str(dev_place.state_bucket_arn))
    assert always_allowed(alone, "s3:GetObject", state)
    for action in ("dynamodb:DescribeTable", "dynamodb:GetItem"):
        assert always_allowed(alone, action, dev_place.lock_table_arn, lock), action
    writes: list[tuple[str, str, dict[str, str]]] = [("s3:PutObject", state, {}), ("s3:DeleteObject", state, {})]
    writes += [(action, dev_place.lock_table_arn, lock) for action in ("dynamodb:PutItem", "dynamodb:DeleteItem")]
    for action, resource, context in writes:
        assert (always_allowed if role == ci_iam.APPLY else never_allowed)(alone, action, resource, context), action


def test_the_plan_policys_grants_alone_write_no_state_and_no_lock(dev_place: ci_iam.Place) -> None:
    """The plan policy's Allow statements on their own (its write denials set aside) grant no state or lock
    write: the denials are a second layer, not the only thing keeping a plan read-only."""
    plan = ci_iam.plan_document(dev_place)
    grants = {**plan, "Statement": [s for s in plan["Statement"] if s["Effect"] == "Allow"]}
    assert grants["Statement"], plan
    writes = [*ci_iam.STATE_WRITES, *ci_iam.LOCK_WRITES]
    assert any_allowed(identity(ci_iam.PLAN, grants), writes, resources=["*"]) is None


def test_the_inline_lock_grant_reaches_only_the_environments_own_lock_items(dev_place: ci_iam.Place) -> None:
    """The lock table is shared by every environment (config/*.yaml): each CI role's own Lock statement names
    its environment's LockIDs, whatever the managed policy or the boundary add or take away."""
    assert dev_place.lock_table_arn is not None
    table = dev_place.lock_table_arn
    foreign = ["viberglass-prod-terraform-state/viberglass/prod/platform.tfstate", "other-bucket/x.tfstate-md5"]
    plan, apply = (
        identity(ci_iam.PLAN, ci_iam.plan_document(dev_place)),
        identity(ci_iam.APPLY, ci_iam.apply_document(dev_place)),
    )
    for key in foreign:
        lock = {"dynamodb:LeadingKeys": key}
        assert never_allowed(plan, "dynamodb:GetItem", table, lock), key
        for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"):
            assert never_allowed(apply, action, table, lock), (action, key)


def test_in_a_shared_account_each_environment_still_takes_its_own_lock() -> None:
    """The boundary's denial of the other environments' lock items leaves the shared table's own items: dev's
    apply takes and releases its lock, dev's plan reads its state digest, with prod in the same account."""
    here, roles = place("dev", SHARED), ci_identities("dev", ["prod"], SHARED)
    assert here.lock_table_arn is not None
    # The table ops bootstrap-state creates carries no Environment tag (ops/bootstrap_state.py).
    untagged = {"aws:ResourceTag/Environment": ""}
    own = {**untagged, "dynamodb:LeadingKeys": "viberglass-dev-terraform-state/viberglass/dev/platform.tfstate"}
    for action in ("dynamodb:PutItem", "dynamodb:DeleteItem"):
        assert always_allowed(roles[ci_iam.APPLY], action, here.lock_table_arn, own), action
    digest = {**untagged, "dynamodb:LeadingKeys": f"{own['dynamodb:LeadingKeys']}-md5"}
    assert always_allowed(roles[ci_iam.PLAN], "dynamodb:GetItem", here.lock_table_arn, digest)


ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


@pytest.mark.parametrize("layout", ["s3", "cloud"])
def test_the_plan_policys_denials_hold_on_their_own(layout: str) -> None:
    """The plan roles' inline denials do not lean on ReadOnlyAccess's gaps or on the boundary: beside a policy
    that allows everything, and without the boundary, a plan still writes no state or lock, reads no secret,
    no parameter but the discovery values, no object but the state, no log, old version, key listing, run-time
    or tenant value, lists only its own buckets and reads only the lock table's items (a future ReadOnlyAccess
    that grows a read cannot widen a plan)."""
    cloud = {"state": {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-dev"}}}
    here = place("dev", {**SEPARATE, **(cloud if layout == "cloud" else {})})
    alone = identity(ci_iam.PLAN, ALLOW_ALL, ci_iam.plan_document(here))
    everything = ["*"]
    if here.state_bucket_arn is not None:
        assert any_allowed(alone, list(ci_iam.STATE_WRITES), resources=[f"{here.state_bucket_arn}/*"]) is None
    if here.lock_table_arn is not None:
        assert any_allowed(alone, list(ci_iam.LOCK_WRITES), resources=[here.lock_table_arn]) is None
    denied = [*ci_iam.SECRET_READS, *ci_iam.LOG_READS, *ci_iam.OLD_VERSION_READS, *ci_iam.KEY_LISTINGS,
              *ci_iam.RUN_TIME_VALUES, *ci_iam.TENANT_VALUES]  # fmt: skip
    assert any_allowed(alone, denied, resources=everything) is None
    only = [
        (ci_iam.PARAMETER_READS, here.discovery_arns),
        # Without a state bucket (HCP Terraform) the exception is a bucket name no one can own.
        (ci_iam.OBJECT_READS, [here.state_keys or "arn:aws:s3:::no-state-bucket/*"]),
        (["s3:ListBucket"], here.own_buckets),
        (["dynamodb:GetItem"], [here.lock_table_arn] if here.lock_table_arn else []),
    ]
    for actions, allowed_on in only:
        found = any_allowed(alone, list(actions), resources=everything, except_resources=allowed_on or None)
        assert found is None, found
        for resource in allowed_on:  # and the exception is not a denial of everything
            assert always_allowed(alone, actions[0], resource.replace("*", "x")), (actions[0], resource)


def test_plan_role_lists_only_the_state_bucket_and_the_stacks_buckets(
    own: dict[str, Principal], dev_place: ci_iam.Place
) -> None:
    """Any bucket but those (searched by Z3 over every bucket name): no s3:ListBucket."""
    found = any_allowed(own[ci_iam.PLAN], ["s3:ListBucket"], resources=["*"], except_resources=dev_place.own_buckets)
    assert found is None, found
    assert dev_place.own_buckets == ["arn:aws:s3:::viberglass-dev-terraform-state", "arn:aws:s3:::dev-viberglass-*"]


def test_plan_needs_no_secret_because_the_stacks_hold_none(synth: SynthFn) -> None:
    """The plan role's denials are safe only while no stack reads a secret: no SecureString resource (the
    provider decrypts it on refresh), no secret data source (policy rule no-secret-in-state)."""
    from policy import rules

    for env in ("dev", "prod"):
        stacks = {k: v for k, v in synth(env).items() if k != "manifest"}
        assert rules.no_secret_in_state(stacks, env) == []
        assert not [p for s in stacks.values() for p in s.get("resource", {}).get("aws_ssm_parameter", {}).values()
                    if p["type"] != "String"]  # fmt: skip


# -- a shared account: nothing dev can reach writes prod ---------------------------------------------------------------


PROD_TAG = {"aws:ResourceTag/Environment": "prod"}


def prod_requests(prod: ci_iam.Place) -> list[tuple[str, str, dict[str, str]]]:
    """Writes (and secret reads) on what prod owns in a shared account, as concrete requests."""
    bucket, prefix, _ = prod.state  # type: ignore[misc]
    arn = prod.arn
    found: list[tuple[str, str, dict[str, str]]] = []
    for stack in ("base", "workers", "platform"):
        key = f"arn:aws:s3:::{bucket}/{prefix}/prod/{stack}.tfstate"
        found += [(a, r, {}) for a in ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:GetObject")
                  for r in (key, f"{key}.tflock")]  # fmt: skip
        for lock_id in (f"{bucket}/{prefix}/prod/{stack}.tfstate", f"{bucket}/{prefix}/prod/{stack}.tfstate-md5"):
            found += [(a, str(prod.lock_table_arn), {"dynamodb:LeadingKeys": lock_id})
                      for a in ("dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:UpdateItem")]  # fmt: skip
    for name in ("/viberglass/prod/ecs/cluster", "/viberglass/prod/backend/secretsEncryptionKey"):
        actions = ("ssm:PutParameter", "ssm:DeleteParameter", "ssm:LabelParameterVersion", "ssm:GetParameter")
        found += [(a, arn("ssm", f"parameter{name}"), {}) for a in actions]
    for repository in ("prod-viberglass-backend", "prod/viberator-worker-multi-agent", "prod/viberator-base-worker"):
        found += [(a, arn("ecr", f"repository/{repository}"), {}) for a in
                  ("ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:CompleteLayerUpload", "ecr:BatchDeleteImage",
                   "ecr:DeleteRepository", "ecr:SetRepositoryPolicy", "ecr:PutLifecyclePolicy")]  # fmt: skip
    functions = ("lambda:CreateFunction", "lambda:UpdateFunctionCode", "lambda:DeleteFunction", "lambda:InvokeFunction")
    found += [(a, arn("lambda", "function:viberglass-prod-anything"), {}) for a in functions]
    found += [
        ("ecs:UpdateService", arn("ecs", "service/viberglass-prod-backend/viberglass-prod-backend"), {}),
        ("ecs:RunTask", arn("ecs", "task-definition/viberglass-prod-worker-multi-agent:1"), {}),
        ("ecs:DeleteCluster", arn("ecs", "cluster/viberglass-prod-workers"), {}),
        ("states:StartExecution", arn("states", "stateMachine:viberglass-prod-restart-backend"), {}),
        ("rds:ModifyDBInstance", arn("rds", "db:viberglass-prod-postgres"), {}),
        ("s3:PutObject", "arn:aws:s3:::prod-viberglass-uploads/ticket-media/x", {}),
        ("iam:PassRole", prod.iam("role/viberglass-prod-backend-task"), {}),
        ("iam:PutRolePolicy", prod.iam("role/viberglass-prod-backend-deploy"), {}),
        ("sts:AssumeRole", prod.iam("role/viberglass-prod-github-apply"), {}),
        ("iam:CreatePolicyVersion", prod.boundary_arn, {}),
        # Resources named by id carry the provider's default tag Environment=prod.
        ("kms:Decrypt", arn("kms", "key/0b1e7c3a-0000-4000-8000-00000000e0e0"), PROD_TAG),
        ("ec2:TerminateInstances", arn("ec2", "instance/i-0123"), PROD_TAG),
        ("amplify:StartJob", arn("amplify", "apps/d1app/branches/main/jobs/1"), PROD_TAG),
        ("elasticloadbalancing:DeleteLoadBalancer", arn("elasticloadbalancing", "loadbalancer/app/x/1"), PROD_TAG),
    ]  # fmt: skip
    return found


@pytest.fixture(scope=per_test_under_mutation("module"))
def shared_dev(synth: SynthFn) -> dict[str, Principal]:
    """Every identity dev's workflows and workloads can act as, in an account shared with prod."""
    here, peers = place("dev", SHARED), [place("prod", SHARED)]
    found = ci_identities("dev", ["prod"], SHARED)
    found.update(stack_identities(synth("dev", SHARED), ci_iam.boundary_document(here, peers)))
    return found


DEV_IDENTITIES = [
    ci_iam.PLAN, ci_iam.PLAN_ENV, ci_iam.APPLY,
    "viberglass-dev-backend-deploy", "viberglass-dev-frontend-deploy", "viberglass-dev-workers-deploy",
    "viberglass-dev-backend-task", "viberglass-dev-backend-execution", "viberglass-dev-worker-task",
    "viberglass-dev-worker-execution", "viberglass-dev-worker-lambda", "viberglass-dev-rds-monitoring",
    "viberglass-dev-restart-backend-sfn", "viberglass-dev-restart-backend-events",
]  # fmt: skip


def test_every_role_dev_can_reach_is_checked(shared_dev: dict[str, Principal]) -> None:
    assert set(shared_dev) == set(DEV_IDENTITIES)


@pytest.mark.parametrize("name", DEV_IDENTITIES)
def test_no_dev_identity_writes_what_prod_owns(shared_dev: dict[str, Principal], name: str) -> None:
    requests = prod_requests(place("prod", SHARED))
    assert len(requests) > 80
    reached = [(a, r, c) for a, r, c in requests if not never_allowed(shared_dev[name], a, r, c)]
    assert reached == []


@pytest.mark.parametrize("name", [ci_iam.APPLY, "viberglass-dev-backend-deploy"])
def test_the_proof_is_not_vacuous(shared_dev: dict[str, Principal], name: str) -> None:
    """The same identities do reach dev's own counterparts of those requests."""
    dev = place("dev", SHARED)
    repository = dev.arn("ecr", "repository/dev-viberglass-backend")
    assert always_allowed(shared_dev[name], "ecr:PutImage", repository, {"aws:ResourceTag/Environment": "dev"})
    service = dev.arn("ecs", "service/viberglass-dev-backend/viberglass-dev-backend")
    assert always_allowed(shared_dev[name], "ecs:UpdateService", service, {"aws:ResourceTag/Environment": "dev"})


# The application's own names carry no environment: in a shared account each environment's backend and
# workers reach the other's. docs/security.md lists exactly these; nothing else of prod is reachable.
OVERLAPS = [
    ("viberglass-dev-backend-task", "lambda:UpdateFunctionCode", "function:viberator-", "lambda"),
    ("viberglass-dev-backend-task", "ssm:GetParameter", "parameter/viberator/tenants/", "ssm"),
    ("viberglass-dev-backend-task", "ssm:PutParameter", "parameter/viberator/secrets/", "ssm"),
    ("viberglass-dev-worker-task", "ssm:GetParameter", "parameter/viberator/secrets/", "ssm"),
    ("viberglass-dev-worker-lambda", "ssm:GetParameter", "parameter/viberator/secrets/", "ssm"),
    ("viberglass-dev-worker-lambda", "logs:CreateLogGroup", "log-group:/aws/lambda/viberator-", "logs"),
    ("viberglass-dev-backend-task", "ecs:RegisterTaskDefinition", "*", ""),
    ("viberglass-dev-backend-deploy", "ecs:RegisterTaskDefinition", "*", ""),
]


@pytest.mark.parametrize(("name", "action", "resource", "service"), OVERLAPS, ids=[f"{o[0]}:{o[1]}" for o in OVERLAPS])
def test_the_applications_shared_names_are_the_documented_overlaps(
    shared_dev: dict[str, Principal], name: str, action: str, resource: str, service: str
) -> None:
    arn = "*" if resource == "*" else place("dev", SHARED).arn(service, f"{resource}prod-clanker")
    untagged = {"aws:ResourceTag/Environment": ""}  # the application tags none of these
    assert always_allowed(shared_dev[name], action, arn, untagged), (name, action)
    security = (ROOT / "docs" / "security.md").read_text()
    assert f"`{name.removeprefix('viberglass-dev-')}`" in security and action in security


@pytest.mark.parametrize("name", [ci_iam.PLAN, ci_iam.APPLY, "viberglass-dev-frontend-deploy",
                                  "viberglass-dev-workers-deploy", "viberglass-dev-backend-deploy"])  # fmt: skip
def test_no_ci_identity_reaches_the_applications_shared_names(shared_dev: dict[str, Principal], name: str) -> None:
    """Only the application's own roles share those names; the CI identities write none of them."""
    dev = place("dev", SHARED)
    for action, resource in (
        ("lambda:UpdateFunctionCode", dev.arn("lambda", "function:viberator-prod-clanker")),
        ("lambda:DeleteFunction", dev.arn("lambda", "function:viberator-prod-clanker")),
        ("ssm:PutParameter", dev.arn("ssm", "parameter/viberator/tenants/t/api-key")),
        ("ssm:GetParameter", dev.arn("ssm", "parameter/viberator/secrets/openai")),
        ("ssm:DeleteParameter", dev.arn("ssm", "parameter/viberator/secrets/openai")),
    ):
        assert never_allowed(shared_dev[name], action, resource), (name, action)


# -- prod takes deployments from main only ----------------------------------------------------------------------------


def test_a_customised_subject_prefix_replaces_the_repository_in_every_roles_subject() -> None:
    """A repository whose OIDC subject uses immutable ids (`--subject-prefix`): each role trusts its own
    context under that prefix, never the default `repo:<owner>/<name>` form."""
    cfg = parse(raw_config("prod"), "prod")
    prefix = "repo:Ilities/viberglass-infra@123456789"
    assert ci_iam.plan_subjects(cfg, prefix=prefix) == {
        ci_iam.PLAN: f"{prefix}:pull_request",
        ci_iam.PLAN_ENV: f"{prefix}:environment:prod-plan",
        ci_iam.APPLY: f"{prefix}:environment:prod",
    }


def test_the_trust_document_admits_exactly_one_subject_with_githubs_audience(dev_place: ci_iam.Place) -> None:
    """What the bootstrap installs as each role's trust: the OIDC provider's web identity, exactly one subject
    (StringEquals), GitHub's STS audience."""
    subject = "repo:Ilities/viberglass-infra:environment:dev"
    (statement,) = ci_iam.trust_document(dev_place.provider_arn, subject)["Statement"]
    assert statement["Effect"] == "Allow" and statement["Principal"] == {"Federated": dev_place.provider_arn}
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    host = "token.actions.githubusercontent.com"
    assert statement["Condition"] == {"StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": subject}}


def test_every_role_that_can_change_prod_trusts_only_a_prod_environment(synth: SynthFn) -> None:
    """Jobs get the subject `environment:prod` only once GitHub let them into the Environment `prod`, whose
    deployment-branch policy admits `main` only (docs/security.md): no role able to change prod trusts a
    branch, a tag or a pull request."""
    cfg = parse(raw_config("prod"), "prod")
    subjects = ci_iam.plan_subjects(cfg)
    assert subjects[ci_iam.APPLY] == "repo:Ilities/viberglass-infra:environment:prod"
    prod = {k: v for k, v in synth("prod").items() if k != "manifest"}
    github = [
        iam_eval.policy_subject(role["assume_role_policy"])
        for stack in prod.values()
        for _, role in items(stack, "aws_iam_role")
        if "oidc-provider" in role["assume_role_policy"]
    ]
    # The deploy roles: the application repository's `prod` Environment, each pinned to its own workflow.
    assert len(github) == len(set(github)) == 3
    assert all(s.startswith("repo:Ilities/viberglass:environment:prod:job_workflow_ref:") for s in github), github
    # The plan roles (read-only) are the only ones a pull request or the prod-plan Environment reaches.
    assert {subjects[ci_iam.PLAN], subjects[ci_iam.PLAN_ENV]} == {
        "repo:Ilities/viberglass-infra:pull_request",
        "repo:Ilities/viberglass-infra:environment:prod-plan",
    }


def test_named_resources_cover_every_name_the_stacks_give(synth: SynthFn) -> None:
    """The shared-account denial names what the stacks name: every name of prod's stacks carries one of the
    environment's prefixes the denial lists (a new naming scheme must extend core/ci_iam.py), or is one
    of the explained exceptions."""
    prod = {k: v for k, v in synth("prod", SHARED).items() if k != "manifest"}
    names = {
        str(body[attr])
        for stack in prod.values()
        for bodies in stack.get("resource", {}).values()
        for body in bodies.values()
        for attr in ("name", "bucket", "identifier", "family", "alarm_name", "repository_name")
        if isinstance(body.get(attr), str) and "${" not in body[attr]
    }
    prefixes = ("viberglass-prod-", "prod-viberglass-", "/viberglass/prod/", "/ecs/viberglass-prod-",
                "/aws/vpc/viberglass-prod-", "alias/viberglass-prod-", "prod/",
                "viberator-worker-viberglass-prod")  # fmt: skip
    named = " ".join(place("prod", SHARED).named_resources())
    assert all(p.strip("/") in named for p in prefixes)
    unnamed = {n for n in names if not n.startswith(prefixes)}
    explained = {
        "permissions", "deliver-to-log-group",  # inline policy names: part of their (named) role
        "api.viberglass.io", "app.viberglass.io",  # DNS records and certificates of the configured domains
        "postgres16",  # a parameter group's engine family, not a name
    }  # fmt: skip
    assert unnamed == explained


# One resource of each kind prod names, in a region other than prod's own (a stack or an operator may create it
# there; the shared-account denial must still cover it). `{env}` is the environment named.
NAMED_KINDS = [
    "arn:aws:s3:::viberglass-{env}-terraform-state/viberglass/{env}/base/terraform.tfstate",
    "arn:aws:iam::123456789012:role/viberglass-{env}-backend-task",
    "arn:aws:iam::123456789012:policy/viberglass-{env}-boundary",
    "arn:aws:s3:::{env}-viberglass-uploads",
    "arn:aws:ssm:us-east-2:123456789012:parameter/viberglass/{env}/backend/x",
    "arn:aws:ecr:us-east-2:123456789012:repository/{env}-viberglass-backend",
    "arn:aws:ecr:us-east-2:123456789012:repository/{env}/worker",
    "arn:aws:lambda:us-east-2:123456789012:function:viberglass-{env}-worker",
    "arn:aws:states:us-east-2:123456789012:stateMachine:viberglass-{env}-restart",
    "arn:aws:states:us-east-2:123456789012:execution:viberglass-{env}-restart:1",
    "arn:aws:events:us-east-2:123456789012:rule/viberglass-{env}-restart",
    "arn:aws:ecs:us-east-2:123456789012:cluster/viberglass-{env}-backend",
    "arn:aws:ecs:us-east-2:123456789012:service/viberglass-{env}-backend/viberglass-{env}-backend",
    "arn:aws:ecs:us-east-2:123456789012:task-definition/viberglass-{env}-backend:3",
    "arn:aws:ecs:us-east-2:123456789012:task-definition/viberator-worker-viberglass-{env}:3",
    "arn:aws:ecs:us-east-2:123456789012:task/viberglass-{env}-backend/0123456789abcdef",
    "arn:aws:logs:us-east-2:123456789012:log-group:/ecs/viberglass-{env}-backend",
    "arn:aws:logs:us-east-2:123456789012:log-group:/aws/vpc/viberglass-{env}-flow",
    "arn:aws:rds:us-east-2:123456789012:db:viberglass-{env}-db",
    "arn:aws:rds:us-east-2:123456789012:snapshot:viberglass-{env}-final",
    "arn:aws:rds:us-east-2:123456789012:pg:viberglass-{env}-pg",
    "arn:aws:rds:us-east-2:123456789012:subgrp:viberglass-{env}-db",
    "arn:aws:sns:us-east-2:123456789012:viberglass-{env}-alarms",
    "arn:aws:cloudwatch:us-east-2:123456789012:alarm:viberglass-{env}-cpu",
    "arn:aws:kms:us-east-2:123456789012:alias/viberglass-{env}-logs",
]


@pytest.mark.parametrize("kind", NAMED_KINDS, ids=[k.split(":")[2] + ":" + k.rsplit(":", 1)[-1] for k in NAMED_KINDS])
def test_the_shared_account_denial_names_each_kind_of_prod_resource_in_any_region_and_no_dev_one(kind: str) -> None:
    """What `named_resources` lists is what dev's identities are denied in an account shared with prod: each kind
    of prod resource, wherever it lives, matches one of prod's patterns; dev's own resource of that kind matches
    none (dev keeps working on its own)."""
    patterns = place("prod", SHARED).named_resources()
    assert any(iam_eval._matches(kind.format(env="prod"), pattern) for pattern in patterns), kind
    assert not any(iam_eval._matches(kind.format(env="dev"), pattern) for pattern in patterns), kind


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("lambda:UpdateFunctionCode", "arn:aws:lambda:us-east-2:123456789012:function:viberator-clanker"),
        ("logs:DeleteLogGroup", "arn:aws:logs:us-east-2:123456789012:log-group:/aws/lambda/viberator-clanker"),
        ("ssm:GetParameter", "arn:aws:ssm:us-east-2:123456789012:parameter/viberator/secrets/openai"),
        ("ssm:PutParameter", "arn:aws:ssm:us-east-2:123456789012:parameter/viberator/tenants"),
        ("ssm:PutParameter", "arn:aws:ssm:us-east-2:123456789012:parameter/viberator/tenants/t/api-key"),
    ],
    ids=["function", "function-logs", "secret", "tenants", "tenant-credential"],
)
def test_the_apply_role_touches_none_of_the_applications_data_in_any_region(
    own: dict[str, Principal], action: str, resource: str
) -> None:
    """The application's clankers, their logs, worker secrets and tenant credentials are the backend's own in
    every region the account uses, not only the environment's; PowerUserAccess alone would allow each call."""
    assert always_allowed(identity("power-user", POWER_USER), action, resource)
    assert never_allowed(own[ci_iam.APPLY], action, resource), (action, resource)


# Statements docs/security.md and docs/decisions.md name by their ids, and the document that holds each.
DOCUMENTED_STATEMENTS = {
    "KeepCiRoles": "boundary",
    "KeepOidcProvider": "boundary",
    "NoSharingOut": "boundary",
    "OnlyTheEnvironmentsRepositoryPolicies": "boundary",
    "NoTenantValues": "plan",
    "NoTableItems": "plan",
}


@pytest.mark.parametrize("layout", ["s3", "cloud"])
def test_the_statements_the_docs_name_are_there_by_that_name(layout: str) -> None:
    """The docs point a reader at statements by id (what to look for in the console's policy view); a renamed
    statement would leave them pointing at nothing. With or without a lock table (NoTableItems has both forms)."""
    cloud = {"state": {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-dev"}}}
    here = place("dev", {**SEPARATE, **(cloud if layout == "cloud" else {})})
    documents = {"boundary": ci_iam.boundary_document(here, []), "plan": ci_iam.plan_document(here)}
    docs = "".join((ROOT / "docs" / name).read_text() for name in ("security.md", "decisions.md"))
    for sid, document in DOCUMENTED_STATEMENTS.items():
        assert f"`{sid}`" in docs, sid
        assert sid in [statement.get("Sid") for statement in documents[document]["Statement"]], (sid, document)


ACTION, RESOURCE = re.compile(r"\*|[A-Za-z0-9-]+:[A-Za-z0-9*?]+"), re.compile(r"\*|arn:[a-z-]+:[a-z0-9-]+:.*")


@pytest.mark.parametrize("layout", ["separate", "shared", "cloud"])
def test_every_ci_document_is_one_iam_accepts(layout: str) -> None:
    """IAM refuses a document whose Version is not 2012-10-17, whose statement ids are not unique and
    alphanumeric, whose effect is not exactly Allow or Deny, or whose actions or resources are empty, not text,
    an action without its service prefix or a resource that is neither `*` nor an ARN (the evaluator in these
    tests is more lenient). A peer without a lock table gets no lock statement."""
    cloud = {"state": {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-dev"}}}
    overrides = SHARED if layout == "shared" else {**SEPARATE, **cloud} if layout == "cloud" else SEPARATE
    prod = place("prod", overrides)
    # A peer whose name has a dash (names may: core/naming.py) still gets an alphanumeric statement id.
    peers = [prod, dataclasses.replace(prod, env="prod-eu")] if layout == "shared" else []
    if layout == "shared" and prod.state is not None:  # and one whose state has no lock table
        peers.append(dataclasses.replace(prod, env="qa", state=(prod.state[0], prod.state[1], None)))
    here = place("dev", overrides)
    documents = {
        "boundary": ci_iam.boundary_document(here, peers),
        "plan": ci_iam.plan_document(here),
        "apply": ci_iam.apply_document(here),
    }
    for name, document in documents.items():
        assert document["Version"] == "2012-10-17", name
        sids = [statement["Sid"] for statement in document["Statement"]]
        assert all(isinstance(sid, str) and sid.isalnum() for sid in sids), (name, sids)
        assert len(set(sids)) == len(sids), (name, sids)
        assert {statement["Effect"] for statement in document["Statement"]} <= {"Allow", "Deny"}, name
        # Every action AWS has (a misspelt one would deny or grant nothing), on resources of its own types.
        assert iam_eval.parliament_findings(document) == [], name
        assert all({"Action", "Resource"} & set(statement) for statement in document["Statement"]), name
        for statement in document["Statement"]:
            for key in {"Action", "NotAction", "Resource", "NotResource"} & set(statement):
                values = statement[key] if isinstance(statement[key], list) else [statement[key]]
                assert values and all(isinstance(v, str) and v for v in values), (name, statement.get("Sid"), key)
                # IAM: an action is `*` or `<service prefix>:<action>`; a resource is `*` or an ARN.
                shape = ACTION if key.endswith("Action") else RESOURCE
                assert all(shape.fullmatch(v) for v in values), (name, statement.get("Sid"), key, values)
