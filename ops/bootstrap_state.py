"""``ops bootstrap-state``: the S3 bucket and DynamoDB table Terraform keeps its state and locks in.

Idempotent: every setting is read first and changed only when it differs, so a second run reports no
change and a drifted bucket is brought back into line. The bucket policy and the lifecycle rules are
compared whole and replaced when they differ: a statement or rule someone added (a reader in another
account, a 1-day expiry of old state versions) is removed, not kept. Credentials of another account than
``aws.account_id``, a bucket this account does not own, or one in another region than configured, are
refused without any change.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from config.schema import S3State
from ops.bootstrap_oidc import caller, require_account
from ops.common import InputError, OpsError, Report, aws_call, client, error_code, load_config

TLS_SID = "DenyInsecureTransport"
LIFECYCLE_ID = "expire-noncurrent-state-versions"


def bucket_configuration(region: str) -> dict[str, Any]:
    """CreateBucket's region argument: none for us-east-1 (AWS rejects it there), the region elsewhere."""
    return {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}


def tls_only_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


class StateBootstrap:
    """Brings the state bucket and lock table of one environment's config into the required shape."""

    def __init__(
        self, *, bucket: str, region: str, table: str | None, noncurrent_days: int, report: Report, account: str
    ) -> None:
        self.bucket, self.region, self.table = bucket, region, table
        self.noncurrent_days = noncurrent_days
        self.report = report
        self.s3 = client("s3", region)
        self.dynamodb = client("dynamodb", region)
        self.account = account

    # -- bucket ---------------------------------------------------------------------------------------

    def _owned(self) -> bool:
        names: set[str] = set()
        paginator = self.s3.get_paginator("list_buckets")
        for page in aws_call("s3 ListBuckets", lambda: list(paginator.paginate())):
            names.update(b["Name"] for b in page.get("Buckets", []))
        return self.bucket in names

    def _exists_elsewhere(self) -> bool:
        try:
            self.s3.head_bucket(Bucket=self.bucket)
        except ClientError as error:
            # 403 / 301: it exists, and not as ours.
            return error_code(error) not in {"404", "NoSuchBucket", "NotFound"}
        return True

    def ensure_bucket(self) -> None:
        r = self.report
        r.section(f"State bucket s3://{self.bucket} ({self.region}, account {self.account})")
        if self._owned():
            location = aws_call("s3 GetBucketLocation", lambda: self.s3.get_bucket_location(Bucket=self.bucket))
            actual = location.get("LocationConstraint") or "us-east-1"
            if actual != self.region:
                raise OpsError(
                    f"bucket {self.bucket} is in {actual}, not {self.region}; set state.s3.region: {actual} "
                    "or choose another bucket name. Nothing was changed."
                )
            r.ok("bucket exists and belongs to this account")
        elif self._exists_elsewhere():
            raise OpsError(
                f"bucket {self.bucket} exists but is not owned by account {self.account} (or is not reachable); "
                "refusing to adopt it. Choose another state.s3.bucket. Nothing was changed."
            )
        else:
            r.change(
                "create the bucket",
                lambda: aws_call(
                    "s3 CreateBucket",
                    lambda: self.s3.create_bucket(Bucket=self.bucket, **bucket_configuration(self.region)),
                ),
            )
            if r.dry_run:
                for setting in (
                    "versioning",
                    "encryption",
                    "public access block",
                    "ownership",
                    "TLS-only policy",
                    "lifecycle",
                ):
                    r.change(f"set {setting}", lambda: None)
                return
        self._versioning()
        self._encryption()
        self._public_access()
        self._ownership()
        self._policy()
        self._lifecycle()

    def _versioning(self) -> None:
        status = self.s3.get_bucket_versioning(Bucket=self.bucket).get("Status", "never enabled")
        if status == "Enabled":
            self.report.ok("versioning enabled")
            return
        self.report.change(
            f"enable versioning (was {status})",
            lambda: self.s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"}),
        )

    def _encryption(self) -> None:
        current = aws_call(
            "s3 GetBucketEncryption",
            lambda: self.s3.get_bucket_encryption(Bucket=self.bucket),
            missing={"ServerSideEncryptionConfigurationNotFoundError"},
        )
        rules = (current or {}).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        if any(
            r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") in {"AES256", "aws:kms"} for r in rules
        ):
            self.report.ok("default encryption on")
            return
        self.report.change(
            "turn on default encryption (SSE-S3)",
            lambda: self.s3.put_bucket_encryption(
                Bucket=self.bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": True}
                    ]
                },
            ),
        )

    def _public_access(self) -> None:
        wanted = dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
        )
        current = aws_call(
            "s3 GetPublicAccessBlock",
            lambda: self.s3.get_public_access_block(Bucket=self.bucket),
            missing={"NoSuchPublicAccessBlockConfiguration"},
        )
        if current and current.get("PublicAccessBlockConfiguration") == wanted:
            self.report.ok("all public access blocked")
            return
        self.report.change(
            "block all public access",
            lambda: self.s3.put_public_access_block(Bucket=self.bucket, PublicAccessBlockConfiguration=wanted),
        )

    def _ownership(self) -> None:
        current = aws_call(
            "s3 GetBucketOwnershipControls",
            lambda: self.s3.get_bucket_ownership_controls(Bucket=self.bucket),
            missing={"OwnershipControlsNotFoundError"},
        )
        rules = (current or {}).get("OwnershipControls", {}).get("Rules", [])
        if [r.get("ObjectOwnership") for r in rules] == ["BucketOwnerEnforced"]:
            self.report.ok("objects owned by the bucket owner")
            return
        self.report.change(
            "enforce bucket-owner object ownership",
            lambda: self.s3.put_bucket_ownership_controls(
                Bucket=self.bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
            ),
        )

    def _policy(self) -> None:
        current = aws_call(
            "s3 GetBucketPolicy", lambda: self.s3.get_bucket_policy(Bucket=self.bucket), missing={"NoSuchBucketPolicy"}
        )
        wanted = {"Version": "2012-10-17", "Statement": [tls_only_statement(self.bucket)]}
        document = json.loads(current["Policy"]) if current else None
        if document == wanted:
            self.report.ok("bucket policy: TLS only, nothing else")
            return
        foreign = [
            str(s.get("Sid", "(no Sid)")) for s in (document or {}).get("Statement", []) if s.get("Sid") != TLS_SID
        ]
        why = f" (removing {', '.join(foreign)})" if foreign else ""
        self.report.change(
            f"{'replace' if document else 'set'} the bucket policy: deny non-TLS requests{why}",
            lambda: self.s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(wanted)),
        )

    def _lifecycle(self) -> None:
        current = aws_call(
            "s3 GetBucketLifecycleConfiguration",
            lambda: self.s3.get_bucket_lifecycle_configuration(Bucket=self.bucket),
            missing={"NoSuchLifecycleConfiguration"},
        )
        rules = (current or {}).get("Rules", [])
        days = self.noncurrent_days
        wanted = {
            "ID": LIFECYCLE_ID,
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "NoncurrentVersionExpiration": {"NoncurrentDays": days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        }
        if [_comparable(r) for r in rules] == [_comparable(wanted)]:
            self.report.ok(f"lifecycle: noncurrent state versions expire after {days} days, nothing else")
            return
        foreign = [str(r.get("ID", "(no ID)")) for r in rules if _comparable(r) != _comparable(wanted)]
        why = f" (replacing {', '.join(foreign)})" if foreign else ""
        self.report.change(
            f"expire noncurrent state versions after {days} days, no other rule{why}",
            lambda: self.s3.put_bucket_lifecycle_configuration(
                Bucket=self.bucket, LifecycleConfiguration={"Rules": [wanted]}
            ),
        )

    # -- lock table -------------------------------------------------------------------------------------

    def ensure_table(self) -> None:
        r = self.report
        if self.table is None:
            r.section("Lock table: none configured (state.s3.use_lockfile: S3-native locking)")
            return
        r.section(f"Lock table {self.table}")
        table = aws_call(
            "dynamodb DescribeTable",
            lambda: self.dynamodb.describe_table(TableName=self.table),
            missing={"ResourceNotFoundException"},
        )
        if table is None:
            r.change("create the table (LockID string key, on-demand, encrypted)", self._create_table)
            if r.dry_run:
                r.change("turn on point-in-time recovery", lambda: None)
                return
        else:
            keys = table["Table"]["KeySchema"]
            if keys != [{"AttributeName": "LockID", "KeyType": "HASH"}]:
                raise OpsError(
                    f"table {self.table} exists with key {keys}, not LockID; refusing to use it. Nothing was changed."
                )
            r.ok("table exists with the LockID key")
        backups = self.dynamodb.describe_continuous_backups(TableName=self.table)
        pitr = backups["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
        if pitr.get("PointInTimeRecoveryStatus") == "ENABLED":
            r.ok("point-in-time recovery on")
        else:
            r.change(
                "turn on point-in-time recovery",
                lambda: self.dynamodb.update_continuous_backups(
                    TableName=self.table, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
                ),
            )

    def _create_table(self) -> None:
        aws_call(
            "dynamodb CreateTable",
            lambda: self.dynamodb.create_table(
                TableName=self.table,
                AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
                SSESpecification={"Enabled": True},
                Tags=[{"Key": "Project", "Value": "viberglass"}, {"Key": "ManagedBy", "Value": "ops bootstrap-state"}],
            ),
        )
        self.report.info("waiting for the table to become active ...")
        self.dynamodb.get_waiter("table_exists").wait(
            TableName=self.table, WaiterConfig={"Delay": 2, "MaxAttempts": 60}
        )


def _comparable(rule: dict[str, Any]) -> dict[str, Any]:
    """A lifecycle rule as S3 returns it, with what S3 adds on read taken out (an empty ``Prefix`` filter
    may come back as ``{"Prefix": ""}`` or without it)."""
    body = {k: v for k, v in rule.items() if k not in {"Prefix"}}
    if body.get("Filter") == {}:
        body["Filter"] = {"Prefix": ""}
    return body


def s3_state(env: str, command: str) -> tuple[S3State, str]:
    """The environment's S3 state settings and its account, once the credentials in use are shown to be that
    account's (``command`` names the refusal for another backend)."""
    cfg = load_config(env)
    if cfg.state.backend != "s3" or cfg.state.s3 is None:
        raise InputError(f"config/{env}.yaml: state.backend is {cfg.state.backend}; {command} is for the s3 backend")
    account, _ = caller(cfg.state.s3.region)
    require_account(cfg, account, file=f"config/{env}.yaml")
    return cfg.state.s3, account


def run(env: str, *, dry_run: bool, noncurrent_days: int, report: Report | None = None) -> Report:
    s3, account = s3_state(env, "bootstrap-state")
    report = report or Report(dry_run=dry_run)
    bootstrap = StateBootstrap(
        bucket=s3.bucket,
        region=s3.region,
        table=s3.dynamodb_table,
        noncurrent_days=noncurrent_days,
        report=report,
        account=account,
    )
    bootstrap.ensure_bucket()
    bootstrap.ensure_table()
    report.summary()
    return report
