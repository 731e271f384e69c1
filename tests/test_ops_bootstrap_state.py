"""ops/bootstrap_state.py decision by decision: ``StateBootstrap`` called directly (no CLI, no configuration
file) against the moto server of the ``aws`` fixture, every progress line pinned whole, and the pure parts
(CreateBucket's region argument, the TLS-only statement, how a lifecycle rule is compared). The command as
people run it (account check, configuration, exit codes) is tested in tests/test_ops_bootstrap.py."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.config import Config

from config.defaults import merge
from ops import bootstrap_state
from ops.bootstrap_state import (
    LIFECYCLE_ID,
    StateBootstrap,
    _comparable,
    bucket_configuration,
    s3_state,
    tls_only_statement,
)
from ops.common import InputError, OpsError, Report
from tests.aws_clients import moto_client
from tests.conftest import raw_config, use_account

BUCKET, TABLE, REGION, ACCOUNT = "viberglass-test-state", "viberglass-test-locks", "eu-west-1", "123456789012"
# config/dev.yaml's state settings and account
DEV_BUCKET, DEV_TABLE, DEV = "viberglass-dev-terraform-state", "viberglass-terraform-locks", "111122223333"
CREATED = [
    f"State bucket s3://{BUCKET} ({REGION}, account {ACCOUNT})",
    "  changed create the bucket",
    "  changed enable versioning (was never enabled)",
    "  changed turn on default encryption (SSE-S3)",
    "  changed block all public access",
    "  changed enforce bucket-owner object ownership",
    "  changed set the bucket policy: deny non-TLS requests",
    "  changed expire noncurrent state versions after 30 days, no other rule",
    f"Lock table {TABLE}",
    "  waiting for the table to become active ...",
    "  changed create the table (LockID string key, on-demand, encrypted)",
    "  changed turn on point-in-time recovery",
]
IN_PLACE = [
    f"State bucket s3://{BUCKET} ({REGION}, account {ACCOUNT})",
    "  ok      bucket exists and belongs to this account",
    "  ok      versioning enabled",
    "  ok      default encryption on",
    "  ok      all public access blocked",
    "  ok      objects owned by the bucket owner",
    "  ok      bucket policy: TLS only, nothing else",
    "  ok      lifecycle: noncurrent state versions expire after 30 days, nothing else",
    f"Lock table {TABLE}",
    "  ok      table exists with the LockID key",
    "  ok      point-in-time recovery on",
]


def s3() -> Any:
    return moto_client("s3")


def bootstrap(*, table: str | None = TABLE, dry_run: bool = False, days: int = 30) -> tuple[StateBootstrap, Any]:
    out = io.StringIO()
    report = Report(dry_run=dry_run, out=out)
    made = StateBootstrap(bucket=BUCKET, region=REGION, table=table, noncurrent_days=days, report=report,
                          account=ACCOUNT)  # fmt: skip
    return made, out


def both(**kwargs: Any) -> list[str]:
    """One whole run (bucket and table); its progress lines."""
    made, out = bootstrap(**kwargs)
    made.ensure_bucket()
    made.ensure_table()
    lines: list[str] = out.getvalue().splitlines()
    return lines


def bucket_lines(**kwargs: Any) -> list[str]:
    made, out = bootstrap(**kwargs)
    made.ensure_bucket()
    lines: list[str] = out.getvalue().splitlines()
    return lines


@pytest.fixture
def bootstrapped(aws: str) -> None:
    both()


# -- pure parts ---------------------------------------------------------------------------------------------


def test_a_bucket_in_us_east_1_is_created_without_a_location() -> None:
    assert bucket_configuration("us-east-1") == {}


def test_a_bucket_elsewhere_is_created_with_its_region_as_location() -> None:
    assert bucket_configuration("eu-west-1") == {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}}


def test_the_tls_statement_denies_every_action_on_the_bucket_and_its_objects_without_tls() -> None:
    assert tls_only_statement("b") == {
        "Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }  # fmt: skip


@pytest.mark.parametrize("read", [{"Filter": {}}, {"Filter": {"Prefix": ""}}, {"Filter": {}, "Prefix": ""}])
def test_an_empty_prefix_filter_reads_the_same_however_s3_returns_it(read: dict[str, Any]) -> None:
    assert _comparable({"ID": "x", **read}) == {"ID": "x", "Filter": {"Prefix": ""}}


def test_a_real_prefix_filter_is_kept() -> None:
    assert _comparable({"ID": "x", "Filter": {"Prefix": "env:/"}}) == {"ID": "x", "Filter": {"Prefix": "env:/"}}


def test_s3_and_dynamodb_are_asked_in_the_state_region_not_the_shells() -> None:
    made = StateBootstrap(bucket=BUCKET, region="eu-central-1", table=TABLE, noncurrent_days=30, report=Report(),
                          account=ACCOUNT)  # fmt: skip
    assert (made.s3.meta.region_name, made.dynamodb.meta.region_name) == ("eu-central-1", "eu-central-1")


# -- the whole run, line by line ------------------------------------------------------------------------------


def test_a_first_run_creates_everything_and_says_so(aws: str) -> None:
    assert both() == CREATED


def test_a_second_run_finds_everything_in_place(bootstrapped: None) -> None:
    assert both() == IN_PLACE


def test_a_dry_run_lists_what_it_would_create_and_creates_nothing(aws: str) -> None:
    assert both(dry_run=True) == [line.replace("changed", "would  ") for line in CREATED[:2]] + [
        "  would   set versioning", "  would   set encryption", "  would   set public access block",
        "  would   set ownership", "  would   set TLS-only policy", "  would   set lifecycle", CREATED[8],
        "  would   create the table (LockID string key, on-demand, encrypted)",
        "  would   turn on point-in-time recovery",
    ]  # fmt: skip
    assert s3().list_buckets()["Buckets"] == [] and moto_client("dynamodb").list_tables()[
        "TableNames"] == []  # fmt: skip


def test_without_a_lock_table_none_is_made(aws: str) -> None:
    assert both(table=None)[-1] == "Lock table: none configured (state.s3.use_lockfile: S3-native locking)"
    assert moto_client("dynamodb").list_tables()["TableNames"] == []


def test_the_lock_table_is_tagged_as_the_bootstraps(bootstrapped: None) -> None:
    dynamodb = moto_client("dynamodb")
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["TableArn"]
    assert dynamodb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [
        {"Key": "Project", "Value": "viberglass"}, {"Key": "ManagedBy", "Value": "ops bootstrap-state"}]  # fmt: skip


def test_the_lock_table_is_keyed_by_a_string_lockid_on_demand_and_encrypted_with_kms(bootstrapped: None) -> None:
    table = moto_client("dynamodb").describe_table(TableName=TABLE)["Table"]
    assert table["AttributeDefinitions"] == [{"AttributeName": "LockID", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert (table["SSEDescription"]["Status"], table["SSEDescription"]["SSEType"]) == ("ENABLED", "KMS")


def test_the_created_bucket_is_encrypted_with_a_bucket_key(bootstrapped: None) -> None:
    (rule,) = s3().get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule == {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}


def test_the_created_policy_is_the_tls_statement_only(bootstrapped: None) -> None:
    assert json.loads(s3().get_bucket_policy(Bucket=BUCKET)["Policy"]) == {
        "Version": "2012-10-17", "Statement": [tls_only_statement(BUCKET)]}  # fmt: skip


def test_the_created_lifecycle_rule_is_the_only_one(bootstrapped: None) -> None:
    (rule,) = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert _comparable(rule) == {"ID": LIFECYCLE_ID, "Status": "Enabled", "Filter": {"Prefix": ""},
                                 "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                                 "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}}  # fmt: skip


def test_a_changed_expiry_is_applied_on_the_next_run(bootstrapped: None) -> None:
    expected = f"  changed expire noncurrent state versions after 45 days, no other rule (replacing {LIFECYCLE_ID})"
    assert expected in bucket_lines(days=45)
    (rule,) = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    assert rule["NoncurrentVersionExpiration"] == {"NoncurrentDays": 45}


# -- drift, one setting at a time ----------------------------------------------------------------------------


def test_kms_default_encryption_is_accepted(bootstrapped: None) -> None:
    s3().put_bucket_encryption(Bucket=BUCKET, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]})  # fmt: skip
    assert "  ok      default encryption on" in bucket_lines()


def test_one_public_access_setting_off_is_repaired(bootstrapped: None) -> None:
    s3().put_public_access_block(
        Bucket=BUCKET,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": False,
        },
    )
    assert "  changed block all public access" in bucket_lines()  # fmt: skip
    assert all(s3().get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())


def test_writer_ownership_is_repaired(bootstrapped: None) -> None:
    s3().put_bucket_ownership_controls(
        Bucket=BUCKET, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]}
    )
    assert "  changed enforce bucket-owner object ownership" in bucket_lines()
    rules = s3().get_bucket_ownership_controls(Bucket=BUCKET)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


def test_foreign_policy_statements_are_named_even_without_a_sid(bootstrapped: None) -> None:
    reader = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "s3:GetObject",
              "Resource": f"arn:aws:s3:::{BUCKET}/*"}  # fmt: skip
    document = {"Version": "2012-10-17", "Statement": [{**reader, "Sid": "AuditRead"}, reader]}
    s3().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(document))
    assert "  changed replace the bucket policy: deny non-TLS requests (removing AuditRead, (no Sid))" in bucket_lines()


def test_our_tls_statement_edited_is_replaced_without_naming_a_foreign_one(bootstrapped: None) -> None:
    edited = {**tls_only_statement(BUCKET), "Resource": f"arn:aws:s3:::{BUCKET}"}
    s3().put_bucket_policy(Bucket=BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [edited]}))
    assert "  changed replace the bucket policy: deny non-TLS requests" in bucket_lines()


def test_foreign_lifecycle_rules_are_named_even_without_an_id(bootstrapped: None) -> None:
    rules = s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]
    quick = {"Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}
    logs = {"ID": "logs-expiry", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 2}}
    s3().put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [*rules, quick, logs]})
    named = [r.get("ID") for r in s3().get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]]
    shown = named[1] or "(no ID)"  # AWS gives a rule without an ID one of its own; moto keeps none
    expected = (
        f"  changed expire noncurrent state versions after 30 days, no other rule (replacing {shown}, logs-expiry)"
    )
    assert expected in bucket_lines()


def test_point_in_time_recovery_turned_off_is_turned_on(bootstrapped: None) -> None:
    dynamodb = moto_client("dynamodb")
    off: Any = {"PointInTimeRecoveryEnabled": False}
    dynamodb.update_continuous_backups(TableName=TABLE, PointInTimeRecoverySpecification=off)
    assert both()[-2:] == ["  ok      table exists with the LockID key", "  changed turn on point-in-time recovery"]


def test_a_table_with_another_key_is_refused(aws: str) -> None:
    moto_client("dynamodb").create_table(
        TableName=TABLE, AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")  # fmt: skip
    made, _ = bootstrap()
    with pytest.raises(OpsError) as error:
        made.ensure_table()
    assert str(error.value) == (
        f"table {TABLE} exists with key [{{'AttributeName': 'id', 'KeyType': 'HASH'}}], not LockID; refusing to use "
        "it. Nothing was changed."
    )


def test_a_bucket_in_another_region_is_refused_whole(aws: str) -> None:
    moto_client("s3", "eu-central-1").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})  # fmt: skip
    with pytest.raises(OpsError) as error:
        bucket_lines()
    assert str(error.value) == (
        f"bucket {BUCKET} is in eu-central-1, not {REGION}; set state.s3.region: eu-central-1 or choose another "
        "bucket name. Nothing was changed."
    )


def test_a_bucket_in_us_east_1_is_read_as_us_east_1(aws: str) -> None:
    moto_client("s3", "us-east-1").create_bucket(Bucket=BUCKET)
    with pytest.raises(OpsError, match=f"bucket {BUCKET} is in us-east-1, not {REGION};"):
        bucket_lines()


def test_a_bucket_of_another_account_is_refused_whole(aws: str) -> None:
    credentials = moto_client("sts").assume_role(
        RoleArn="arn:aws:iam::222222222222:role/other", RoleSessionName="other")["Credentials"]  # fmt: skip
    foreign: Any = boto3.client("s3", region_name=REGION, aws_access_key_id=credentials["AccessKeyId"],
                                aws_secret_access_key=credentials["SecretAccessKey"],
                                aws_session_token=credentials["SessionToken"])  # fmt: skip
    foreign.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    with pytest.raises(OpsError) as error:
        bucket_lines()
    assert str(error.value) == (
        f"bucket {BUCKET} exists but is not owned by account {ACCOUNT} (or is not reachable); refusing to adopt it. "
        "Choose another state.s3.bucket. Nothing was changed."
    )


def cloud_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud = merge(
        raw_config("dev"),
        {"state": {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass-dev"}}},
    )
    (tmp_path / "dev.yaml").write_text(yaml.safe_dump(cloud))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path))


def test_the_state_settings_are_for_the_s3_backend_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cloud_config(tmp_path, monkeypatch)
    with pytest.raises(InputError) as error:
        s3_state("dev", "a-command")
    assert str(error.value) == "config/dev.yaml: state.backend is cloud; a-command is for the s3 backend"


def test_bootstrap_state_names_itself_when_the_backend_is_not_s3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud_config(tmp_path, monkeypatch)
    with pytest.raises(InputError) as error:
        bootstrap_state.run("dev", dry_run=True, noncurrent_days=30)
    assert str(error.value) == "config/dev.yaml: state.backend is cloud; bootstrap-state is for the s3 backend"


# -- the whole command ---------------------------------------------------------------------------------------


def test_the_command_bootstraps_the_configured_bucket_and_table_in_its_account(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run`` for dev (config/dev.yaml's bucket, table and region) with dev's own account's credentials."""
    use_account(monkeypatch, DEV)
    out = io.StringIO()
    report = bootstrap_state.run("dev", dry_run=False, noncurrent_days=60, report=Report(out=out))
    assert out.getvalue().splitlines() == [
        line.replace(BUCKET, DEV_BUCKET).replace(TABLE, DEV_TABLE).replace(ACCOUNT, DEV).replace("30 days", "60 days")
        for line in CREATED
    ] + ["Done: 9 change(s) made."]
    assert len(report.changes) == 9


def test_the_command_without_a_report_of_its_callers_reports_on_stdout_and_keeps_a_dry_run_dry(
    aws: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """prod, in prod's own account: the environment asked for is the one loaded (dev is the loader's default)."""
    use_account(monkeypatch, "444455556666")
    bootstrap_state.run("prod", dry_run=True, noncurrent_days=30)  # as `ops bootstrap-state --dry-run` calls it
    said = capsys.readouterr().out.splitlines()
    assert said[0] == "State bucket s3://viberglass-prod-terraform-state (eu-west-1, account 444455556666)"
    assert said[-1] == "Dry run: 9 change(s) would be made; nothing was changed."
    assert s3().list_buckets()["Buckets"] == [] and moto_client("dynamodb").list_tables()["TableNames"] == []


def test_credentials_of_another_account_are_refused_before_anything_is_read(aws: str) -> None:
    with pytest.raises(InputError) as error:
        s3_state("dev", "bootstrap-state")
    assert str(error.value) == (
        f"the AWS credentials are for account {ACCOUNT}, but config/dev.yaml names {DEV} (aws.account_id); use "
        f"credentials of {DEV}. Nothing was changed."
    )


# -- a refused call --------------------------------------------------------------------------------------------


def test_a_read_that_fails_names_the_s3_or_dynamodb_call(aws: str) -> None:
    """Each setting's read against an endpoint nobody listens on: the error line names the call."""
    made, _ = bootstrap()
    made.s3 = boto3.client("s3", region_name=REGION, endpoint_url="http://127.0.0.1:1",
                           config=Config(retries={"max_attempts": 1}, connect_timeout=2))  # fmt: skip
    for step, call in ((made._owned, "s3 ListBuckets"),
                       (made._encryption, "s3 GetBucketEncryption"),
                       (made._public_access, "s3 GetPublicAccessBlock"),
                       (made._ownership, "s3 GetBucketOwnershipControls"),
                       (made._policy, "s3 GetBucketPolicy"),
                       (made._lifecycle, "s3 GetBucketLifecycleConfiguration")):  # fmt: skip
        with pytest.raises(OpsError) as error:
            step()
        assert str(error.value).startswith(f"{call}: Could not connect to the endpoint URL")
    made.dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url="http://127.0.0.1:1",
                                 config=Config(retries={"max_attempts": 1}, connect_timeout=2))  # fmt: skip
    with pytest.raises(OpsError) as error:
        made.ensure_table()
    assert str(error.value).startswith("dynamodb DescribeTable: Could not connect to the endpoint URL")


def test_a_refused_bucket_creation_names_the_s3_call(aws: str) -> None:
    made = StateBootstrap(bucket="ab", region=REGION, table=None, noncurrent_days=30, report=Report(out=io.StringIO()),
                          account=ACCOUNT)  # fmt: skip
    with pytest.raises(OpsError) as error:
        made.ensure_bucket()  # S3 refuses a bucket name shorter than 3 characters
    assert str(error.value).startswith("s3 CreateBucket: InvalidBucketName: ")
