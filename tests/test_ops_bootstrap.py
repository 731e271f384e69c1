"""ops bootstrap-state and bootstrap-github-oidc against a moto server on 127.0.0.1 (SPEC §5, §7)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from config.defaults import merge
from ops.__main__ import main
from tests.conftest import raw_config

BUCKET, TABLE = "viberglass-terraform-state", "viberglass-terraform-locks"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def s3(region: str = "eu-west-1") -> Any:
    return boto3.client("s3", region_name=region)


@pytest.fixture
def us_east_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    directory = tmp_path / "config"
    directory.mkdir()
    for env in ("dev", "prod"):
        (directory / f"{env}.yaml").write_text(yaml.safe_dump(raw_config(env)))
    east = merge(
        raw_config("dev"),
        {"aws": {"region": "us-east-1"}, "state": {"s3": {"bucket": "viberglass-state-east", "region": "us-east-1"}}},
    )
    (directory / "east.yaml").write_text(yaml.safe_dump(east))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(directory))
    return "east"


# -- bootstrap-state --------------------------------------------------------------------------------------


def test_first_run_creates_a_complete_bucket(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _ = run(capsys, "bootstrap-state", "--env", "dev")
    client = s3()
    assert status == 0
    assert client.get_bucket_location(Bucket=BUCKET)["LocationConstraint"] == "eu-west-1"
    assert client.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    (rule,) = client.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = client.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    ownership = client.get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_first_run_sets_tls_only_policy_and_noncurrent_expiry(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-state", "--env", "dev", "--noncurrent-days", "60")
    (statement,) = json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]
    assert (statement["Effect"], statement["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})
    (rule,) = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 60


def test_first_run_creates_the_lock_table(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-state", "--env", "dev")
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    table = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "LockID", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["Status"] == "ENABLED"
    backups = dynamodb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


def test_second_run_changes_nothing(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-state", "--env", "dev")
    status, output = run(capsys, "bootstrap-state", "--env", "dev")
    assert status == 0
    assert "No changes" in output and "changed" not in output


def test_drifted_bucket_is_repaired_and_reported(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
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


def test_existing_policy_statements_are_kept(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    s3().create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    other = {
        "Sid": "AuditRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }
    s3().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [other]}))
    run(capsys, "bootstrap-state", "--env", "dev")
    sids = [s["Sid"] for s in json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"])["Statement"]]
    assert sids == ["AuditRead", "DenyInsecureTransport"]


def test_us_east_1_bucket_is_created_without_location_constraint(
    aws: str, us_east_config: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _ = run(capsys, "bootstrap-state", "--env", us_east_config)
    assert status == 0
    assert s3("us-east-1").get_bucket_location(Bucket="viberglass-state-east")["LocationConstraint"] is None


def test_dry_run_changes_nothing(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "bootstrap-state", "--env", "dev", "--dry-run")
    assert status == 0
    assert "would   create the bucket" in output and "Dry run" in output
    assert BUCKET not in [b["Name"] for b in s3().list_buckets()["Buckets"]]
    assert boto3.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"] == []


def test_dry_run_on_drift_lists_the_repair_only(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-state", "--env", "dev")
    s3().put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Suspended"})
    _, output = run(capsys, "bootstrap-state", "--env", "dev", "--dry-run")
    assert "would   enable versioning (was Suspended)" in output
    assert s3().get_bucket_versioning(Bucket=BUCKET)["Status"] == "Suspended"


def test_bucket_of_another_account_is_refused(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
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
    assert "not owned by account 123456789012" in output and "Nothing was changed" in output
    assert "Traceback" not in output
    assert boto3.client("dynamodb", region_name="eu-west-1").list_tables()["TableNames"] == []


def test_bucket_in_another_region_is_refused(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    s3("eu-central-1").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    status, output = run(capsys, "bootstrap-state", "--env", "dev")
    assert status == 1
    assert "is in eu-central-1, not eu-west-1" in output


def test_unknown_environment_is_bad_input(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "bootstrap-state", "--env", "staging")
    assert status == 2
    assert output.strip().startswith("error: --env: unknown environment 'staging'")


# -- bootstrap-github-oidc ----------------------------------------------------------------------------------
# Moto parses every AWS managed policy when it rebuilds IAM (~0.7 s), so the tests that only read what one
# bootstrap made share a module-scoped account; the tests that change it get their own.


@pytest.fixture(scope="module")
def oidc_account(moto_url: str) -> Iterator[dict[str, str]]:
    """dev and prod bootstrapped once; returns each run's output."""
    import io
    import urllib.request
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
        urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
        outputs = {}
        for env in ("dev", "prod"):
            buffer = io.StringIO()
            with redirect_stdout(buffer):
                assert main(["bootstrap-github-oidc", "--env", env]) == 0
            outputs[env] = buffer.getvalue()
        yield outputs


def _trust(role: str) -> dict[str, Any]:
    document = boto3.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    (statement,) = (json.loads(document) if isinstance(document, str) else document)["Statement"]
    return dict(statement)


def test_oidc_creates_the_provider_with_the_sts_audience(oidc_account: dict[str, str]) -> None:
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    provider = boto3.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert provider["ClientIDList"] == ["sts.amazonaws.com"]


def test_second_environment_reuses_the_provider(oidc_account: dict[str, str]) -> None:
    assert "changed create the token.actions.githubusercontent.com provider" in oidc_account["dev"]
    assert "ok      token.actions.githubusercontent.com exists" in oidc_account["prod"]


def test_plan_role_trusts_only_pull_requests_of_the_repository(oidc_account: dict[str, str]) -> None:
    trust = _trust("viberglass-dev-github-plan")
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Principal"] == {
        "Federated": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    }
    assert trust["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                "repo:ilities/viberglass:pull_request",
                "repo:ilities/viberglass:environment:dev-plan",
            ],
        }
    }


def test_apply_role_trusts_only_the_environment(oidc_account: dict[str, str]) -> None:
    assert _trust("viberglass-prod-github-apply")["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": "repo:ilities/viberglass:environment:prod",
        }
    }


@pytest.mark.parametrize(
    "subject",
    [
        "repo:someone-else/viberglass:pull_request",  # another repository
        "repo:ilities/viberglass:ref:refs/heads/main",  # a push to a branch
        "repo:ilities/viberglass:environment:dev",  # another environment
    ],
)
def test_no_other_subject_matches_either_prod_role(oidc_account: dict[str, str], subject: str) -> None:
    for role in ("viberglass-prod-github-plan", "viberglass-prod-github-apply"):
        condition = _trust(role)["Condition"]
        assert list(condition) == ["StringEquals"]  # exact match: no StringLike wildcards
        allowed = condition["StringEquals"]["token.actions.githubusercontent.com:sub"]
        assert subject not in (allowed if isinstance(allowed, list) else [allowed])


def test_roles_get_their_rights(oidc_account: dict[str, str]) -> None:
    iam = boto3.client("iam")
    attached = {
        role: [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
        for role in ("viberglass-dev-github-plan", "viberglass-dev-github-apply")
    }
    assert attached == {
        "viberglass-dev-github-plan": ["ReadOnlyAccess"],
        "viberglass-dev-github-apply": ["PowerUserAccess"],
    }
    document = iam.get_role_policy(RoleName="viberglass-dev-github-plan", PolicyName="viberglass-terraform")
    body = document["PolicyDocument"]
    statements = {s["Sid"]: s for s in (json.loads(body) if isinstance(body, str) else body)["Statement"]}
    assert statements["State"]["Action"] == ["s3:GetObject"]
    assert statements["State"]["Resource"] == f"arn:aws:s3:::{BUCKET}/viberglass/*"


def test_apply_role_manages_only_this_environments_roles(oidc_account: dict[str, str]) -> None:
    body = boto3.client("iam").get_role_policy(
        RoleName="viberglass-prod-github-apply", PolicyName="viberglass-terraform"
    )["PolicyDocument"]
    statements = {s["Sid"]: s for s in (json.loads(body) if isinstance(body, str) else body)["Statement"]}
    assert statements["ManageEnvironmentRoles"]["Resource"] == "arn:aws:iam::123456789012:role/viberglass-prod-*"
    assert set(statements["State"]["Action"]) == {"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}


def test_oidc_prints_the_secret_names_and_arns(oidc_account: dict[str, str]) -> None:
    output = oidc_account["dev"]
    assert "AWS_ROLE_ARN=arn:aws:iam::123456789012:role/viberglass-dev-github-apply" in output
    assert "AWS_PLAN_ROLE_ARN_DEV=arn:aws:iam::123456789012:role/viberglass-dev-github-plan" in output


@pytest.mark.managed_policies
def test_oidc_second_run_changes_nothing(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-github-oidc", "--env", "prod")
    status, output = run(capsys, "bootstrap-github-oidc", "--env", "prod")
    assert status == 0
    assert "No changes" in output and "changed" not in output


@pytest.mark.managed_policies
def test_oidc_custom_subject_prefix(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-github-oidc", "--env", "dev", "--subject-prefix", "repository_owner_id:1:repository_id:2")
    sub = _trust("viberglass-dev-github-plan")["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
    assert sub == [
        "repository_owner_id:1:repository_id:2:pull_request",
        "repository_owner_id:1:repository_id:2:environment:dev-plan",
    ]


def test_oidc_dry_run_changes_nothing(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, output = run(capsys, "bootstrap-github-oidc", "--env", "dev", "--dry-run")
    assert status == 0 and "would   create the role" in output
    assert boto3.client("iam").list_roles()["Roles"] == []
    assert boto3.client("iam").list_open_id_connect_providers()["OpenIDConnectProviderList"] == []


@pytest.mark.managed_policies
def test_oidc_repairs_a_loosened_trust_policy(aws: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "bootstrap-github-oidc", "--env", "dev")
    loose = _trust("viberglass-dev-github-apply")
    loose["Condition"] = {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:ilities/*"}}
    boto3.client("iam").update_assume_role_policy(
        RoleName="viberglass-dev-github-apply",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [loose]}),
    )
    _, output = run(capsys, "bootstrap-github-oidc", "--env", "dev")
    assert "changed replace the trust policy" in output
    assert list(_trust("viberglass-dev-github-apply")["Condition"]) == ["StringEquals"]
