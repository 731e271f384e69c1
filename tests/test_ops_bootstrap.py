"""ops bootstrap-state and bootstrap-github-oidc against a moto server on 127.0.0.1.

The shipped configuration gives each environment its own account (dev 111122223333, prod 444455556666):
tests act in it through credentials of a role assumed there (``use_account``), and a run with the moto
default account's credentials is refused. The shared-account layout (``aws.shared_account: true``) has a
configuration folder of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from config import load
from config.defaults import merge
from core import ci_iam
from ops.__main__ import main
from tests.conftest import raw_config, use_account

BUCKET, TABLE = "viberglass-dev-terraform-state", "viberglass-terraform-locks"
DEV, PROD, MOTO = "111122223333", "444455556666", "123456789012"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def s3(region: str = "eu-west-1") -> Any:
    return boto3.client("s3", region_name=region)


@pytest.fixture
def dev_account(aws: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The moto server, acting in dev's own account (config/dev.yaml aws.account_id)."""
    use_account(monkeypatch, DEV)
    return aws


@pytest.fixture
def us_east_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    directory = tmp_path / "config"
    directory.mkdir()
    for env in ("dev", "prod"):
        (directory / f"{env}.yaml").write_text(yaml.safe_dump(raw_config(env)))
    east = merge(
        raw_config("dev"),
        {
            "aws": {"region": "us-east-1", "account_id": "777788889999"},
            "state": {"s3": {"bucket": "viberglass-state-east", "region": "us-east-1"}},
        },
    )
    (directory / "east.yaml").write_text(yaml.safe_dump(east))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(directory))
    return "east"


# -- runs shared by the tests that only read what they made ------------------------------------------------
# Each of these accounts lives on this module's own moto server (``moto_url``, a process nothing else resets)
# and is bootstrapped once for the module; the tests that change an account get the function-scoped ``aws``.


def run_in(moto_url: str, account: str, *argv: str) -> tuple[int, str]:
    """``python -m ops *argv`` acting in ``account`` on this module's moto server: (status, output)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    credentials = assumed(moto_url, account)
    buffer = io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", moto_url)
        patch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
        patch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
        patch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
        patch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        patch.setattr(boto3, "DEFAULT_SESSION", None)
        with redirect_stdout(buffer), redirect_stderr(buffer):
            status = main(list(argv))
    return status, buffer.getvalue()


def assumed(moto_url: str, account: str) -> dict[str, str]:
    """Credentials of a role assumed in ``account`` on the moto server at ``moto_url``."""
    sts = boto3.client("sts", region_name="eu-west-1", endpoint_url=moto_url, aws_access_key_id="testing",
                       aws_secret_access_key="testing")  # fmt: skip
    credentials = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/operator", RoleSessionName="operator")
    return {key: str(credentials["Credentials"][key]) for key in ("AccessKeyId", "SecretAccessKey", "SessionToken")}


class Bootstrapped:
    """What a module-scoped bootstrap left: each run's (status, output) and clients of its account."""

    def __init__(self, moto_url: str, account: str, runs: list[tuple[int, str]]) -> None:
        self.runs = runs
        credentials = assumed(moto_url, account)
        self._session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name="eu-west-1",
        )
        self._url = moto_url

    def client(self, service: str) -> Any:
        make: Any = self._session.client
        return make(service, endpoint_url=self._url)


@pytest.fixture(scope="module")
def state_dev(moto_url: str) -> Bootstrapped:
    """bootstrap-state for dev in its own account, run twice (``--noncurrent-days 60``)."""
    argv = ("bootstrap-state", "--env", "dev", "--noncurrent-days", "60")
    return Bootstrapped(moto_url, DEV, [run_in(moto_url, DEV, *argv), run_in(moto_url, DEV, *argv)])


@pytest.fixture(scope="module")
def oidc_dev_own_account(moto_url: str) -> Bootstrapped:
    """bootstrap-github-oidc for dev in its own account (one account per environment), run twice."""
    argv = ("bootstrap-github-oidc", "--env", "dev")
    return Bootstrapped(moto_url, DEV, [run_in(moto_url, DEV, *argv), run_in(moto_url, DEV, *argv)])


# -- bootstrap-state --------------------------------------------------------------------------------------


def test_first_run_creates_a_complete_bucket(state_dev: Bootstrapped) -> None:
    status, _ = state_dev.runs[0]
    client = state_dev.client("s3")
    assert status == 0
    assert client.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "eu-west-1"
    assert client.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    (rule,) = client.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = client.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    ownership = client.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_first_run_sets_tls_only_policy_and_noncurrent_expiry(state_dev: Bootstrapped) -> None:
    client = state_dev.client("s3")
    (statement,) = json.loads(client.get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert (statement["Effect"], statement["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    (rule,) = client.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 60


def test_first_run_creates_the_lock_table(state_dev: Bootstrapped) -> None:
    dynamodb = state_dev.client("dynamodb")
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "LockID", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    backups = dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_second_run_changes_nothing(state_dev: Bootstrapped) -> None:
    status, output = state_dev.runs[1]
    assert status == 0
    assert "No changes" in output and "changed" not in output


def test_drifted_bucket_is_repaired_and_reported(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-state", "--env", "dev")
    client = s3()
    client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    client.delete_public_access_block(Bucket=BUCKET)
    status, output = run(capsys, "bootstrap-state", "--env", "dev")
    assert status == 0
    assert "changed enable versioning (was Suspended)" in output
    assert "changed block all public access" in output
    assert client.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    assert all(client.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())


def test_a_foreign_bucket_policy_statement_is_removed(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Another account reading every state file is drift, not something to keep next to the TLS rule."""
    run(capsys, "bootstrap-state", "--env", "dev")
    reader = {
        "Sid": "AuditRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    document = json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"])
    document["Statement"].append(reader)
    s3().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(document))
    status, output = run(capsys, "bootstrap-state", "--env", "dev")
    statements = json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert status == 0 and "changed replace the bucket policy: deny non-TLS requests (removing AuditRead)" in output
    assert [s["Sid"] for s in statements] == ["DenyInsecureTransport"]
    assert "No changes" in run(capsys, "bootstrap-state", "--env", "dev")[1]


def test_a_foreign_one_day_expiry_rule_is_replaced(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A second rule expiring old state versions after a day would leave nothing to recover from."""
    run(capsys, "bootstrap-state", "--env", "dev")
    rules = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    quick = {"ID": "cleanup", "Status": "Enabled", "Filter": {"Prefix": ""},
             "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}  # fmt: skip
    s3().put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [*rules, quick]})
    status, output = run(capsys, "bootstrap-state", "--env", "dev")
    (rule,) = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert status == 0 and "(replacing cleanup)" in output
    assert (rule["ID"], rule["NoncurrentVersionExpiration"]["NoncurrentDays"]) == (
        "expire-noncurrent-state-versions",
        90,
    )


def test_our_expiry_rule_shortened_by_hand_is_put_back(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-state", "--env", "dev")
    (rule,) = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    rule["NoncurrentVersionExpiration"]["NoncurrentDays"] = 1
    s3().put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [rule]})
    _, output = run(capsys, "bootstrap-state", "--env", "dev")
    (rule,) = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert "changed expire noncurrent state versions after 90 days" in output
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 90


def test_state_bootstrap_refuses_another_account(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The moto default account is not dev's: exit 2, one line, nothing created."""
    status, output = run(capsys, "bootstrap-state", "--env", "dev")
    assert status == 2
    assert output.strip() == (
        f"error: the AWS credentials are for account {MOTO}, but config/dev.yaml names {DEV} (aws.account_id); "
        f"use credentials of {DEV}. Nothing was changed."
    )
    assert s3().list_buckets()["Buckets"] == []


def test_us_east_1_bucket_is_created_without_location_constraint(
    aws: str, us_east_config: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    use_account(monkeypatch, "777788889999")
    status, _ = run(capsys, "bootstrap-state", "--env", us_east_config)
    assert status == 0
    assert s3("us-east-1").get_bucket_location(Bucket="viberglass-state-east")["LocationConstraint"] is None


def test_dry_run_changes_nothing(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "bootstrap-state", "--env", "dev", "--dry-run")
    assert status == 0
    assert "would   create the bucket" in output and "Dry run" in output
    assert BUCKET not in [b["Name"] for b in s3().list_buckets()["Buckets"]]
    assert boto3.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"] == []


def test_dry_run_on_drift_lists_the_repair_only(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-state", "--env", "dev")
    s3().put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    _, output = run(capsys, "bootstrap-state", "--env", "dev", "--dry-run")
    assert "would   enable versioning (was Suspended)" in output
    assert s3().get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended"


def test_bucket_of_another_account_is_refused(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    credentials = boto3.client("sts").assume_role(
        RoleArn="arn:aws:iam::222222222222:role/other", RoleSessionName="other-account"
    )["Credentials"]
    foreign = boto3.client(
        "s3",
        region_name="eu-west-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    foreign.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    status, output = run(capsys, "bootstrap-state", "--env", "dev")
    assert status == 1
    assert f"not owned by account {DEV}" in output and "Nothing was changed" in output
    assert "Traceback" not in output
    assert boto3.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"] == []


def test_bucket_in_another_region_is_refused(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    s3("eu-central-1").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    status, output = run(capsys, "bootstrap-state", "--env", "dev")
    assert status == 1
    assert "is in eu-central-1, not eu-west-1" in output


def test_unknown_environment_is_bad_input(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "bootstrap-state", "--env", "staging")
    assert status == 2
    assert output.strip().startswith("error: --env: unknown environment 'staging'")


# -- bootstrap-github-oidc ----------------------------------------------------------------------------------
# Moto parses every AWS managed policy when it rebuilds IAM (~0.7 s), so the tests that only read what one
# bootstrap made share a module-scoped account; the tests that change it get their own.

PROVIDER = "token.actions.githubusercontent.com"
INFRA, APP = "Ilities/viberglass-infra", "Ilities/viberglass"


def shared_config(directory: Path) -> Path:
    """dev and prod in the moto default account, as aws.shared_account: true allows."""
    directory.mkdir(parents=True, exist_ok=True)
    for env in ("dev", "prod"):
        raw = merge(raw_config(env), {"aws": {"account_id": MOTO, "shared_account": True}})
        (directory / f"{env}.yaml").write_text(yaml.safe_dump(raw))
    return directory


@pytest.fixture(scope="module")
def oidc_account(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """dev and prod bootstrapped once, sharing the moto default account; returns each run's output."""
    import io
    from contextlib import redirect_stdout

    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        patch.delenv("AWS_SESSION_TOKEN", raising=False)
        patch.setattr(boto3, "DEFAULT_SESSION", None)
        outputs = {}
        with pytest.MonkeyPatch.context() as config:  # only for these runs: later tests choose their own
            config.setenv("VIBERGLASS_CONFIG_DIR", str(shared_config(tmp_path_factory.mktemp("shared") / "config")))
            for env in ("dev", "prod"):
                buffer = io.StringIO()
                with redirect_stdout(buffer):
                    assert main(["bootstrap-github-oidc", "--env", env]) == 0
                outputs[env] = buffer.getvalue()
        yield outputs


def _document(value: Any) -> dict[str, Any]:
    return dict(json.loads(value) if isinstance(value, str) else value)


def _trust(role: str) -> dict[str, Any]:
    (statement,) = _document(boto3.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])[
        "Statement"
    ]
    return dict(statement)


def _subject(role: str) -> Any:
    return _trust(role)["Condition"]["StringEquals"][f"{PROVIDER}:sub"]


def _boundary(env: str, account: str = MOTO, iam: Any = None) -> dict[str, Any]:
    iam = iam or boto3.client("iam")
    arn = f"arn:aws:iam::{account}:policy/viberglass-{env}-boundary"
    version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return _document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def _places(env: str) -> tuple[ci_iam.Place, list[ci_iam.Place]]:
    other = {"dev": "prod", "prod": "dev"}[env]
    return ci_iam.Place.of(load(env)), [ci_iam.Place.of(load(other))]


ROLES = ("viberglass-dev-github-plan", "viberglass-dev-github-plan-env", "viberglass-dev-github-apply")


def test_oidc_creates_the_provider_with_the_sts_audience(oidc_account: dict[str, str]) -> None:
    arn = f"arn:aws:iam::{MOTO}:oidc-provider/{PROVIDER}"
    provider = boto3.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]


def test_second_environment_reuses_the_provider(oidc_account: dict[str, str]) -> None:
    assert f"changed create the {PROVIDER} provider" in oidc_account["dev"]
    assert f"ok      {PROVIDER} exists" in oidc_account["prod"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_environment_gets_its_boundary_denying_the_other(
    oidc_account: dict[str, str], env: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The installed boundary is exactly the document tests/test_ci_iam.py proves things about; in this
    shared account it denies the other environment's names, lock items and tagged resources."""
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(shared_config(tmp_path / "config")))
    place, peers = _places(env)
    boundary = _boundary(env)
    assert boundary == ci_iam.boundary_document(place, peers)
    sids = {s["Sid"] for s in boundary["Statement"]}
    other = peers[0].env.capitalize()
    assert {f"NotEnvironment{other}Named", f"NotEnvironment{other}Locks", f"NotEnvironment{other}Tagged"} <= sids


def test_every_role_carries_the_boundary(oidc_account: dict[str, str]) -> None:
    iam = boto3.client("iam")
    for role in ROLES:
        boundary = iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
        assert boundary == f"arn:aws:iam::{MOTO}:policy/viberglass-dev-boundary", role


def test_each_role_trusts_one_subject_of_this_repository(oidc_account: dict[str, str]) -> None:
    """Exactly one repository and one subject per role, compared with StringEquals."""
    assert {role: _subject(role) for role in ROLES} == {
        "viberglass-dev-github-plan": f"repo:{INFRA}:pull_request",
        "viberglass-dev-github-plan-env": f"repo:{INFRA}:environment:dev-plan",
        "viberglass-dev-github-apply": f"repo:{INFRA}:environment:dev",
    }
    for role in ROLES:
        trust = _trust(role)
        assert trust["Principal"] == {"Federated": f"arn:aws:iam::{MOTO}:oidc-provider/{PROVIDER}"}
        assert trust["Action"] == ["sts:AssumeRoleWithWebIdentity"]
        assert list(trust["Condition"]) == ["StringEquals"]
        assert trust["Condition"]["StringEquals"][f"{PROVIDER}:aud"] == "sts.amazonaws.com"


@pytest.mark.parametrize(
    "subject",
    [
        f"repo:{APP}:environment:prod",  # the application repository (its deploy roles are the stacks')
        f"repo:{APP}:pull_request",
        f"repo:{INFRA.lower()}:environment:prod",  # AWS compares exactly
        f"repo:{INFRA}:ref:refs/heads/main",  # a push to a branch
        f"repo:{INFRA}:environment:dev",  # another environment
        f"repo:{INFRA}:environment:prod-plan",  # the read-only plan environment
    ],
)
def test_no_other_subject_reaches_the_prod_apply_role(oidc_account: dict[str, str], subject: str) -> None:
    assert _subject("viberglass-prod-github-apply") == f"repo:{INFRA}:environment:prod" != subject


def test_roles_get_exactly_their_policies(oidc_account: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:  # fmt: skip
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(shared_config(tmp_path / "config")))
    place, _ = _places("dev")
    iam = boto3.client("iam")
    attached = {role: [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
                for role in ROLES}  # fmt: skip
    assert attached == {ROLES[0]: ["ReadOnlyAccess"], ROLES[1]: ["ReadOnlyAccess"], ROLES[2]: ["PowerUserAccess"]}
    inline = {role: iam.list_role_policies(RoleName=role)["PolicyNames"] for role in ROLES}
    assert set(map(tuple, inline.values())) == {("viberglass-terraform",)}
    documents = {
        role: _document(iam.get_role_policy(RoleName=role, PolicyName="viberglass-terraform")["PolicyDocument"])
        for role in ROLES
    }
    assert documents[ROLES[0]] == documents[ROLES[1]] == ci_iam.plan_document(place)
    assert documents[ROLES[2]] == ci_iam.apply_document(place)


def test_the_plan_roles_allow_no_write(oidc_account: dict[str, str]) -> None:
    """What the plan role allows beside ReadOnlyAccess is reading this environment's state and lock digest;
    every write to state or locks is denied outright (tests/test_ci_iam.py proves it against every request)."""
    body = boto3.client("iam").get_role_policy(RoleName=ROLES[0], PolicyName="viberglass-terraform")["PolicyDocument"]
    allowed = {a for s in _document(body)["Statement"] if s["Effect"] == "Allow" for a in s["Action"]}
    assert allowed == {"s3:ListBucket", "s3:GetObject", "dynamodb:DescribeTable", "dynamodb:GetItem"}
    denied = {a for s in _document(body)["Statement"] if s["Effect"] == "Deny" for a in s["Action"]}
    assert {"s3:PutObject", "s3:DeleteObject", "dynamodb:PutItem", "dynamodb:DeleteItem", "kms:Decrypt",
            "secretsmanager:GetSecretValue", "ssm:GetParameter"} <= denied  # fmt: skip


def test_oidc_prints_where_every_role_goes_in_github(oidc_account: dict[str, str]) -> None:
    output = oidc_account["prod"]
    role = f"arn:aws:iam::{MOTO}:role/viberglass-prod"
    assert f"{INFRA}: repository secret AWS_PLAN_ROLE_ARN_PROD={role}-github-plan\n" in output
    assert f"{INFRA}: environment 'prod-plan' secret AWS_PLAN_ROLE_ARN_PROD={role}-github-plan-env\n" in output
    assert f"{INFRA}: environment 'prod' secret AWS_ROLE_ARN={role}-github-apply\n" in output
    assert f"{APP}: repository secret AWS_BACKEND_DEPLOY_ROLE_ARN_PROD={role}-backend-deploy\n" in output
    assert f"{APP}: repository secret AWS_FRONTEND_DEPLOY_ROLE_ARN_PROD={role}-frontend-deploy\n" in output
    assert f"{APP}: repository secret AWS_WORKERS_DEPLOY_ROLE_ARN_PROD={role}-workers-deploy\n" in output
    # The prod Environments: reviewers on `prod` only; `prod-plan` (terraform-deploy-prod.yml's plan jobs,
    # "no reviewers: it only lets the read-only plan role be assumed") must not hold every plan for one.
    assert "environment 'prod' (both repositories): deployment branches main only and required reviewers\n" in output
    assert f"environment 'prod-plan' ({INFRA}): deployment branches main only, no required reviewers\n" in output
    assert f"{APP}: OIDC subject template include_claim_keys [repo, context, job_workflow_ref]" in output


def test_the_printed_plan_environment_matches_the_prod_workflow() -> None:
    """What the bootstrap prints for `prod-plan` is what terraform-deploy-prod.yml relies on: its plan jobs
    run in `prod-plan`, which has no reviewers, and its apply jobs in `prod`, which has them."""
    import yaml

    from tests.conftest import ROOT

    jobs = yaml.safe_load((ROOT / ".github/workflows/terraform-deploy-prod.yml").read_text())["jobs"]
    environments = {name: job.get("environment") for name, job in jobs.items()}
    assert {e for n, e in environments.items() if n.startswith("plan-")} == {"prod-plan"}
    assert {e for n, e in environments.items() if n.startswith("apply-")} == {"prod"}


# -- runs that change the account -------------------------------------------------------------------------------


def test_oidc_second_run_changes_nothing(oidc_dev_own_account: Bootstrapped) -> None:
    status, output = oidc_dev_own_account.runs[0]
    assert status == 0, output
    status, output = oidc_dev_own_account.runs[1]
    assert status == 0
    assert "No changes" in output and "changed" not in output


def test_own_account_layout_has_no_denials_of_other_environments(oidc_dev_own_account: Bootstrapped) -> None:
    """One account per environment: nothing of prod is in dev's account, so the boundary names none of it."""
    assert oidc_dev_own_account.runs[0][0] == 0
    boundary = _boundary("dev", DEV, oidc_dev_own_account.client("iam"))
    assert boundary == ci_iam.boundary_document(ci_iam.Place.of(load("dev")), [])
    assert not any(s["Sid"].startswith("NotEnvironment") for s in boundary["Statement"])


def test_oidc_refuses_another_account(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "bootstrap-github-oidc", "--env", "prod")
    assert status == 2 and f"config/prod.yaml names {PROD} (aws.account_id)" in output
    assert boto3.client("iam").list_roles()["Roles"] == []
    assert boto3.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


@pytest.mark.managed_policies
def test_oidc_custom_subject_prefix(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-github-oidc", "--env", "dev", "--subject-prefix", "repository_owner_id:1:repository_id:2")
    assert _subject("viberglass-dev-github-plan") == "repository_owner_id:1:repository_id:2:pull_request"


def test_oidc_dry_run_changes_nothing(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "bootstrap-github-oidc", "--env", "dev", "--dry-run")
    assert status == 0 and "would   create the role" in output and "would   create the boundary policy" in output
    assert boto3.client("iam").list_roles()["Roles"] == []
    assert boto3.client("iam").list_policies(Scope="Local")["Policies"] == []
    assert boto3.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


@pytest.mark.managed_policies
def test_oidc_repairs_a_loosened_trust_policy(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-github-oidc", "--env", "dev")
    loose = _trust("viberglass-dev-github-apply")
    loose["Condition"] = {"StringLike": {f"{PROVIDER}:sub": "repo:Ilities/*"}}
    boto3.client("iam").update_assume_role_policy(
        RoleName="viberglass-dev-github-apply",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [loose]}),
    )
    _, output = run(capsys, "bootstrap-github-oidc", "--env", "dev")
    assert "changed replace the trust policy" in output
    assert _subject("viberglass-dev-github-apply") == f"repo:{INFRA}:environment:dev"
    assert list(_trust("viberglass-dev-github-apply")["Condition"]) == ["StringEquals"]


@pytest.mark.managed_policies
def test_oidc_removes_what_someone_added_to_a_role(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    """An administrator policy attached by hand, an extra inline policy, a dropped boundary: all repaired."""
    run(capsys, "bootstrap-github-oidc", "--env", "dev")
    iam = boto3.client("iam")
    role = "viberglass-dev-github-plan"
    iam.attach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    decrypt = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
    iam.put_role_policy(RoleName=role, PolicyName="extra", PolicyDocument=json.dumps(decrypt))
    iam.delete_role_permissions_boundary(RoleName=role)
    status, output = run(capsys, "bootstrap-github-oidc", "--env", "dev")
    assert status == 0
    assert "changed detach arn:aws:iam::aws:policy/AdministratorAccess (not part of this role)" in output
    assert "changed delete inline policy extra (not part of this role)" in output
    assert "changed set the permissions boundary" in output
    assert [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [
        "ReadOnlyAccess"
    ]
    assert iam.list_role_policies(RoleName=role)["PolicyNames"] == ["viberglass-terraform"]
    assert iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"].endswith(
        ":policy/viberglass-dev-boundary"
    )


@pytest.mark.managed_policies
def test_oidc_restores_an_edited_boundary(dev_account: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A boundary widened by hand (a new default version allowing iam:*) gets the required document back as
    a new default version; IAM's limit of five versions is kept by deleting the oldest."""
    run(capsys, "bootstrap-github-oidc", "--env", "dev")
    iam = boto3.client("iam")
    arn = f"arn:aws:iam::{DEV}:policy/viberglass-dev-boundary"
    wide = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for _ in range(4):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(wide), SetAsDefault=True)
    status, output = run(capsys, "bootstrap-github-oidc", "--env", "dev")
    assert status == 0 and "changed replace the boundary policy (a new default version)" in output
    assert _boundary("dev", DEV) == ci_iam.boundary_document(ci_iam.Place.of(load("dev")), [])
    assert len(iam.list_policy_versions(PolicyArn=arn)["Versions"]) == 5
