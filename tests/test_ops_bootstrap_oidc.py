"""ops/bootstrap_oidc.py decision by decision: ``OidcBootstrap``'s provider, boundary and role steps called
directly against the moto server of the ``aws`` fixture (acting in dev's account), every progress line
pinned whole, and the pure parts (the role specs, where each ARN goes in GitHub). The roles here carry a
customer-managed policy of the test's own instead of ReadOnlyAccess/PowerUserAccess, so moto need not load
AWS's managed policies (~0.7 s a reset); the whole command with them is tested in tests/test_ops_bootstrap.py."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.config import Config

from config.defaults import merge
from config.loader import parse
from core import ci_iam
from ops.bootstrap_oidc import (
    INLINE_POLICY,
    THUMBPRINTS,
    OidcBootstrap,
    RoleSpec,
    _document,
    caller,
    github_settings,
    require_account,
    role_specs,
    run,
)
from ops.common import InputError, Report, load_config
from ops.errors import OpsError
from tests.aws_clients import moto_client
from tests.conftest import raw_config, use_account, without_credentials

DEV, MOTO = "111122223333", "123456789012"
PROVIDER = "token.actions.githubusercontent.com"
PROVIDER_ARN = f"arn:aws:iam::{DEV}:oidc-provider/{PROVIDER}"
BOUNDARY_ARN = f"arn:aws:iam::{DEV}:policy/viberglass-dev-boundary"
INFRA, APP = "Ilities/viberglass-infra", "Ilities/viberglass"
REF = "3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"  # github.app_deploy_workflow_ref of config/dev.yaml and prod.yaml
INLINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def iam() -> Any:
    return moto_client("iam")


@pytest.fixture
def dev_account(aws: str, monkeypatch: pytest.MonkeyPatch) -> str:
    use_account(monkeypatch, DEV)
    return aws


def bootstrap(dry_run: bool = False) -> tuple[OidcBootstrap, io.StringIO]:
    out = io.StringIO()
    return OidcBootstrap(cfg=load_config("dev"), report=Report(dry_run=dry_run, out=out)), out


def lines(out: io.StringIO) -> list[str]:
    said: list[str] = out.getvalue().splitlines()
    return said


@pytest.fixture
def reader(dev_account: str) -> str:
    """A customer-managed policy standing in for ReadOnlyAccess."""
    document = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:List*",
                                                                   "Resource": "*"}]})  # fmt: skip
    # Under a path: the step lines name the policy by its name alone, not by what follows the ARN's first "/".
    return str(iam().create_policy(PolicyName="reader", Path="/team/", PolicyDocument=document)["Policy"]["Arn"])


def spec(reader: str) -> RoleSpec:
    return RoleSpec("plan", "viberglass-dev-github-plan", f"repo:{INFRA}:pull_request", (reader,), INLINE)


# -- pure parts ---------------------------------------------------------------------------------------------


def test_a_policy_document_is_read_from_json_text_or_taken_as_it_is() -> None:
    assert (_document('{"a": 1}'), _document({"a": 1})) == ({"a": 1}, {"a": 1})


def test_credentials_of_another_account_are_refused_naming_both() -> None:
    cfg = load_config("dev")
    with pytest.raises(InputError) as error:
        require_account(cfg, MOTO, file="config/dev.yaml")
    assert str(error.value) == (
        f"the AWS credentials are for account {MOTO}, but config/dev.yaml names {DEV} (aws.account_id); use "
        f"credentials of {DEV}. Nothing was changed."
    )
    require_account(cfg, DEV, file="config/dev.yaml")  # its own account: no error


def test_the_three_roles_trust_one_subject_each_with_their_policies() -> None:
    cfg = load_config("dev")
    place = ci_iam.Place.of(cfg)
    plan = ci_iam.plan_document(place)
    assert role_specs(cfg, place, subject_prefix=None) == [
        RoleSpec("github-plan", "viberglass-dev-github-plan", f"repo:{INFRA}:pull_request", (ci_iam.READ_ONLY,),
                 plan),
        RoleSpec("github-plan-env", "viberglass-dev-github-plan-env", f"repo:{INFRA}:environment:dev-plan",
                 (ci_iam.READ_ONLY,), plan),
        RoleSpec("github-apply", "viberglass-dev-github-apply", f"repo:{INFRA}:environment:dev",
                 (ci_iam.POWER_USER,), ci_iam.apply_document(place)),
    ]  # fmt: skip


def test_a_subject_prefix_replaces_the_repository_in_every_subject() -> None:
    cfg = load_config("dev")
    specs = role_specs(cfg, ci_iam.Place.of(cfg), subject_prefix="repository_owner_id:1:repository_id:2")
    assert [s.subject for s in specs] == [
        "repository_owner_id:1:repository_id:2:pull_request",
        "repository_owner_id:1:repository_id:2:environment:dev-plan",
        "repository_owner_id:1:repository_id:2:environment:dev",
    ]


def settings(env: str, **overrides: Any) -> list[str]:
    cfg = parse(merge(raw_config(env), overrides), env)
    place = ci_iam.Place.of(cfg)
    arns = {ci_iam.PLAN: "arn:plan", ci_iam.PLAN_ENV: "arn:plan-env", ci_iam.APPLY: "arn:apply"}
    return github_settings(cfg, arns, place)


def test_github_settings_of_dev_one_line_each() -> None:
    role = f"arn:aws:iam::{DEV}:role/viberglass-dev"
    assert settings("dev") == [
        f"  {INFRA}: repository secret AWS_PLAN_ROLE_ARN_DEV=arn:plan",
        f"  {INFRA}: environment 'dev-plan' secret AWS_PLAN_ROLE_ARN_DEV=arn:plan-env",
        f"  {INFRA}: environment 'dev' secret AWS_ROLE_ARN=arn:apply",
        f"  {APP}: repository secret AWS_BACKEND_DEPLOY_ROLE_ARN_DEV={role}-backend-deploy",
        f"  {APP}: repository secret AWS_FRONTEND_DEPLOY_ROLE_ARN_DEV={role}-frontend-deploy",
        f"  {APP}: repository secret AWS_WORKERS_DEPLOY_ROLE_ARN_DEV={role}-workers-deploy",
        "  environment 'dev' (both repositories): deployment branches main only",
        f"  environment 'dev-plan' ({INFRA}): deployment branches main only, no required reviewers",
        f"  {APP}: OIDC subject template include_claim_keys [repo, context, job_workflow_ref]; its callers pin "
        f"{INFRA}/.github/workflows/deploy-*.yml@{REF}",
    ]


def test_production_environments_need_reviewers_and_pinned_callers() -> None:
    prod = settings("prod")
    assert prod[6] == "  environment 'prod' (both repositories): deployment branches main only and required reviewers"
    assert prod[8].endswith(f"{INFRA}/.github/workflows/deploy-*.yml@{REF}") and len(prod) == 9


def test_without_a_pinned_workflow_ref_no_subject_template_is_asked_for() -> None:
    assert settings("dev", github={"app_deploy_workflow_ref": None}) == settings("dev")[:8]


def test_iam_and_sts_are_asked_in_the_configured_region_and_its_partition(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In AWS China the partition is ``aws-cn``: STS (moto names the partition after the request's region) and
    IAM must be called in the configured region, not the shell's default one, and the environments sharing the
    account are placed in that partition too (their ARNs in the boundary's denials)."""
    for env in ("dev", "prod"):
        raw = merge(raw_config(env), {"aws": {"region": "cn-north-1", "account_id": MOTO, "shared_account": True}})
        (tmp_path / f"{env}.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path))
    made = OidcBootstrap(cfg=load_config("dev"), report=Report(out=io.StringIO()))
    assert (made.place.partition, made.iam.meta.region_name) == ("aws-cn", "cn-north-1")
    assert made.place.provider_arn == f"arn:aws-cn:iam::{MOTO}:oidc-provider/{PROVIDER}"
    assert [(peer.env, peer.partition) for peer in made.peers] == [("prod", "aws-cn")]


def test_the_bootstrap_refuses_credentials_of_another_account_naming_the_file(aws: str) -> None:
    with pytest.raises(InputError) as error:
        bootstrap()
    assert str(error.value).startswith(f"the AWS credentials are for account {MOTO}, but config/dev.yaml names {DEV}")


# -- the OIDC provider ----------------------------------------------------------------------------------------


def test_the_provider_is_created_with_githubs_audience_and_thumbprints(dev_account: str) -> None:
    made, out = bootstrap()
    made.ensure_provider()
    assert lines(out) == [f"GitHub OIDC provider in account {DEV}", f"  changed create the {PROVIDER} provider"]
    provider = iam().get_open_id_connect_provider(OpenIDConnectProviderArn=PROVIDER_ARN)
    assert (provider["Url"], provider["ClientIDList"], provider["ThumbprintList"]) == (
        PROVIDER, ["sts.amazonaws.com"], THUMBPRINTS)  # fmt: skip


def test_an_existing_provider_is_kept(dev_account: str) -> None:
    bootstrap()[0].ensure_provider()
    made, out = bootstrap()
    made.ensure_provider()
    assert lines(out)[1:] == [f"  ok      {PROVIDER} exists (shared by every environment of the account)"]


def test_a_provider_without_the_sts_audience_gets_it(dev_account: str) -> None:
    """A dry run: moto does not implement AddClientIDToOpenIDConnectProvider (the decision is what is tested)."""
    iam().create_open_id_connect_provider(Url=f"https://{PROVIDER}", ClientIDList=["other"], ThumbprintList=THUMBPRINTS)
    made, out = bootstrap(dry_run=True)
    made.ensure_provider()
    assert lines(out)[1:] == ["  would   add the sts.amazonaws.com audience"]


def test_another_provider_is_not_githubs(dev_account: str) -> None:
    iam().create_open_id_connect_provider(Url="https://gitlab.example.com", ClientIDList=["sts.amazonaws.com"],
                                          ThumbprintList=THUMBPRINTS)  # fmt: skip
    made, out = bootstrap()
    made.ensure_provider()
    assert lines(out)[1:] == [f"  changed create the {PROVIDER} provider"]


# -- the permissions boundary ---------------------------------------------------------------------------------


def boundary() -> Any:
    version = iam().get_policy(PolicyArn=BOUNDARY_ARN)["Policy"]["DefaultVersionId"]
    return _document(iam().get_policy_version(PolicyArn=BOUNDARY_ARN, VersionId=version)["PolicyVersion"]["Document"])


def test_the_boundary_is_created_with_the_required_document(dev_account: str) -> None:
    made, out = bootstrap()
    made.ensure_boundary()
    assert lines(out) == ["Permissions boundary viberglass-dev-boundary (every role of dev)",
                          "  changed create the boundary policy"]  # fmt: skip
    assert boundary() == ci_iam.boundary_document(made.place, [])
    policy = iam().get_policy(PolicyArn=BOUNDARY_ARN)["Policy"]
    assert policy["Description"] == "Ceiling of every role of viberglass dev (ops bootstrap-github-oidc)"


def test_the_boundary_as_required_is_kept(dev_account: str) -> None:
    bootstrap()[0].ensure_boundary()
    made, out = bootstrap()
    made.ensure_boundary()
    assert lines(out)[1:] == ["  ok      boundary policy as required"]


def widen(times: int) -> None:
    wide = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    for _ in range(times):
        iam().create_policy_version(PolicyArn=BOUNDARY_ARN, PolicyDocument=wide, SetAsDefault=True)


def test_an_edited_boundary_gets_a_new_default_version(dev_account: str) -> None:
    bootstrap()[0].ensure_boundary()
    widen(1)
    made, out = bootstrap()
    made.ensure_boundary()
    assert lines(out)[1:] == ["  changed replace the boundary policy (a new default version)"]
    assert boundary() == ci_iam.boundary_document(made.place, [])
    versions = iam().list_policy_versions(PolicyArn=BOUNDARY_ARN)["Versions"]
    assert sorted((v["VersionId"], v["IsDefaultVersion"]) for v in versions) == [
        ("v1", False), ("v2", False), ("v3", True)]  # fmt: skip


def test_at_five_versions_the_oldest_is_deleted_first(dev_account: str) -> None:
    bootstrap()[0].ensure_boundary()
    widen(4)
    bootstrap()[0].ensure_boundary()
    versions = {v["VersionId"]: v["IsDefaultVersion"] for v in iam().list_policy_versions(PolicyArn=BOUNDARY_ARN)[
        "Versions"]}  # fmt: skip
    assert versions == {"v2": False, "v3": False, "v4": False, "v5": False, "v6": True}


def test_four_versions_are_kept_when_a_fifth_is_added(dev_account: str) -> None:
    bootstrap()[0].ensure_boundary()
    widen(3)
    bootstrap()[0].ensure_boundary()
    assert len(iam().list_policy_versions(PolicyArn=BOUNDARY_ARN)["Versions"]) == 5


def test_in_a_shared_account_the_boundary_names_the_environments_it_denies(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env, source in (("dev", "dev"), ("prod", "prod"), ("qa", "dev")):
        raw = merge(raw_config(source), {"aws": {"account_id": MOTO, "shared_account": True}})
        (tmp_path / f"{env}.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path))
    made, out = bootstrap(dry_run=True)
    made.ensure_boundary()
    assert lines(out)[0] == "Permissions boundary viberglass-dev-boundary (every role of dev, denying prod, qa)"
    assert [p.env for p in made.peers] == ["prod", "qa"]


# -- the roles ----------------------------------------------------------------------------------------------------


def test_a_new_role_is_created_bounded_and_given_its_policies(reader: str) -> None:
    made, out = bootstrap()
    arn = made.ensure_role(spec(reader))
    assert arn == f"arn:aws:iam::{DEV}:role/viberglass-dev-github-plan"
    assert lines(out) == [
        f"Role viberglass-dev-github-plan (trusted for repo:{INFRA}:pull_request)",
        "  changed create the role",
        "  changed attach reader",
        f"  changed put inline policy {INLINE_POLICY}",
    ]
    role = iam().get_role(RoleName="viberglass-dev-github-plan")["Role"]
    assert (role["Description"], role["MaxSessionDuration"], role["PermissionsBoundary"]["PermissionsBoundaryArn"]) == (
        f"GitHub Actions (repo:{INFRA}:pull_request)", 3600, BOUNDARY_ARN)  # fmt: skip
    trust = ci_iam.trust_document(PROVIDER_ARN, f"repo:{INFRA}:pull_request")
    assert _document(role["AssumeRolePolicyDocument"]) == trust
    body = iam().get_role_policy(RoleName="viberglass-dev-github-plan", PolicyName=INLINE_POLICY)["PolicyDocument"]
    assert _document(body) == INLINE


def test_a_role_as_required_is_kept(reader: str) -> None:
    bootstrap()[0].ensure_role(spec(reader))
    made, out = bootstrap()
    made.ensure_role(spec(reader))
    assert lines(out)[1:] == [
        "  ok      trust policy as required",
        "  ok      permissions boundary in place",
        "  ok      reader attached",
        f"  ok      inline policy {INLINE_POLICY} as required",
    ]


def test_a_dry_run_creates_no_role(reader: str) -> None:
    made, out = bootstrap(dry_run=True)
    made.ensure_role(spec(reader))
    assert lines(out)[1:] == ["  would   create the role", "  would   attach reader",
                              f"  would   put inline policy {INLINE_POLICY}"]  # fmt: skip
    assert iam().list_roles()["Roles"] == []


def test_everything_added_to_a_role_is_removed_and_everything_taken_is_put_back(reader: str) -> None:
    bootstrap()[0].ensure_role(spec(reader))
    name = "viberglass-dev-github-plan"
    other = iam().create_policy(PolicyName="writer", PolicyDocument=json.dumps(INLINE))["Policy"]["Arn"]
    iam().attach_role_policy(RoleName=name, PolicyArn=other)
    iam().detach_role_policy(RoleName=name, PolicyArn=reader)
    iam().put_role_policy(RoleName=name, PolicyName="extra", PolicyDocument=json.dumps(INLINE))
    iam().put_role_policy(RoleName=name, PolicyName=INLINE_POLICY, PolicyDocument=json.dumps({**INLINE, "Id": "x"}))
    iam().delete_role_permissions_boundary(RoleName=name)
    trust = ci_iam.trust_document(PROVIDER_ARN, f"repo:{INFRA}:ref:refs/heads/main")
    iam().update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    made, out = bootstrap()
    made.ensure_role(spec(reader))
    assert lines(out)[1:] == [
        "  changed replace the trust policy",
        "  changed set the permissions boundary",
        "  changed attach reader",
        f"  changed detach {other} (not part of this role)",
        f"  changed replace inline policy {INLINE_POLICY}",
        "  changed delete inline policy extra (not part of this role)",
    ]
    made, out = bootstrap()
    made.ensure_role(spec(reader))
    assert "changed" not in out.getvalue()


# -- the whole command ---------------------------------------------------------------------------------------


def test_a_dry_run_of_the_command_lists_every_step_then_where_each_role_goes(dev_account: str) -> None:
    """``run`` in dev's empty account, dry: the provider, the boundary and the three roles in that order, the
    summary, then the GitHub settings naming the roles it returns (a subject prefix reaching every trust), all
    on the report's own output."""
    out = io.StringIO()
    arns = run("dev", dry_run=True, subject_prefix="repository_owner_id:1:repository_id:2",
               report=Report(dry_run=True, out=out))  # fmt: skip
    role = f"arn:aws:iam::{DEV}:role/viberglass-dev"
    assert arns == {ci_iam.PLAN: f"{role}-github-plan", ci_iam.PLAN_ENV: f"{role}-github-plan-env",
                    ci_iam.APPLY: f"{role}-github-apply"}  # fmt: skip
    assert not iam().list_roles()["Roles"]  # a dry run: nothing made
    subject = "repository_owner_id:1:repository_id:2"
    said = lines(out)
    assert said[:4] == [f"GitHub OIDC provider in account {DEV}", f"  would   create the {PROVIDER} provider",
                        "Permissions boundary viberglass-dev-boundary (every role of dev)",
                        "  would   create the boundary policy"]  # fmt: skip
    for start, kind, suffix, policy in ((4, "plan", "pull_request", "ReadOnlyAccess"),
                                        (8, "plan-env", "environment:dev-plan", "ReadOnlyAccess"),
                                        (12, "apply", "environment:dev", "PowerUserAccess")):  # fmt: skip
        assert said[start : start + 4] == [
            f"Role viberglass-dev-github-{kind} (trusted for {subject}:{suffix})",
            "  would   create the role",
            f"  would   attach {policy}",
            f"  would   put inline policy {INLINE_POLICY}",
        ]
    assert said[16:19] == [
        "Dry run: 11 change(s) would be made; nothing was changed.",
        "",
        "GitHub settings (Settings > Secrets and variables > Actions; Settings > Environments). The deploy roles "
        "exist once the platform and workers stacks are applied:",
    ]
    cfg = load_config("dev")
    assert said[19:] == github_settings(cfg, arns, ci_iam.Place.of(cfg))


def test_the_command_without_a_report_of_its_callers_reports_on_stdout_and_keeps_a_dry_run_dry(
    aws: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """prod, in prod's own account: the environment asked for is the one loaded (dev is the loader's default)."""
    use_account(monkeypatch, "444455556666")
    run("prod", dry_run=True, subject_prefix=None)  # as `ops bootstrap-github-oidc --dry-run` calls it
    said = capsys.readouterr().out.splitlines()
    assert said[4] == f"Role viberglass-prod-github-plan (trusted for repo:{INFRA}:pull_request)"
    assert said[16] == "Dry run: 11 change(s) would be made; nothing was changed."
    assert not iam().list_open_id_connect_providers()["OpenIDConnectProviderList"]


# -- a refused call --------------------------------------------------------------------------------------------


def test_a_read_that_fails_names_the_iam_call(dev_account: str) -> None:
    """Each step's first read against an IAM endpoint nobody listens on: the error line names the call."""
    made, _ = bootstrap()
    plan = spec("arn:aws:iam::aws:policy/ReadOnlyAccess")
    made.iam = boto3.client("iam", region_name="eu-west-1", endpoint_url="http://127.0.0.1:1",
                            config=Config(retries={"max_attempts": 1}, connect_timeout=2))  # fmt: skip
    for step, call in ((made.ensure_provider, "iam ListOpenIDConnectProviders"),
                       (made.ensure_boundary, "iam GetPolicy"),
                       (lambda: made.ensure_role(plan), "iam GetRole")):  # fmt: skip
        with pytest.raises(OpsError) as error:
            step()
        assert str(error.value).startswith(f"{call}: Could not connect to the endpoint URL")


def test_a_creation_that_fails_names_the_iam_call(reader: str) -> None:
    """The provider and the boundary exist under this account's ARNs while the bootstrap looks for them under
    ARNs of no account, so IAM refuses to create them again, and refuses a role bounded by such an ARN."""
    bootstrap()[0].ensure_provider()
    bootstrap()[0].ensure_boundary()
    made, _ = bootstrap()
    made.place = dataclasses.replace(made.place, account="no-account")
    for step, call in ((made.ensure_provider, "iam CreateOpenIDConnectProvider: EntityAlreadyExists"),
                       (made.ensure_boundary, "iam CreatePolicy: EntityAlreadyExists"),
                       (lambda: made.ensure_role(spec(reader)), "iam CreateRole: InvalidParameterValue")):  # fmt: skip
        with pytest.raises(OpsError) as error:
            step()
        assert str(error.value).startswith(f"{call}: ")


def test_a_refused_boundary_version_names_the_iam_call(dev_account: str) -> None:
    bootstrap()[0].ensure_boundary()
    made, _ = bootstrap()
    with pytest.raises(OpsError) as error:
        made._new_version(BOUNDARY_ARN, {"Version": "2012-10-17", "Statement": []})  # IAM refuses an empty policy
    assert str(error.value).startswith("iam CreatePolicyVersion: MalformedPolicyDocument: ")


def test_without_credentials_the_identity_check_names_sts(aws: str, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:  # fmt: skip
    without_credentials(monkeypatch, tmp_path)
    with pytest.raises(InputError) as error:
        caller("eu-west-1")
    assert str(error.value).startswith("sts GetCallerIdentity: no usable AWS credentials")
