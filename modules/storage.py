"""The uploads bucket: private, owner-enforced, SSE-KMS, TLS-only, versioned outside dev."""

from __future__ import annotations

from collections.abc import Sequence

from core.iam import Statement, policy_document
from imports.aws import (
    S3Bucket,
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
    S3BucketPolicy,
    S3BucketPublicAccessBlock,
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from imports.cdktf import Construct
from modules import grants
from modules.encryption import EnvironmentKey
from modules.lifecycle import keep


class PrivateBucket(Construct):
    """An S3 bucket nobody outside the account can reach and nobody can reach over plain HTTP.

    :param name: globally unique bucket name.
    :param key: SSE-KMS key (bucket keys on, to cut KMS requests); ``None`` only for a bucket AWS services
        must write with SSE-S3 (ALB access logs cannot use a customer key).
    :param versioning: keep object versions. Default: ``True``.
    :param noncurrent_version_days: expire old versions after this many days. Default: 30.
    :param abort_multipart_days: abort incomplete multipart uploads after this many days. Default: 7.
    :param expire_days: expire current objects after this many days (log buckets). Default: never.
    :param writers: extra policy statements letting AWS services deliver objects. Default: none.
    :param protect: ``prevent_destroy``. Default: ``False``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EnvironmentKey | None,
        versioning: bool = True,
        noncurrent_version_days: int = 30,
        abort_multipart_days: int = 7,
        expire_days: int | None = None,
        writers: Sequence[Statement] = (),
        protect: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.bucket = S3Bucket(
            self,
            "bucket",
            bucket=name,
            force_destroy=False,
            lifecycle=keep(protect),
        )
        S3BucketPublicAccessBlock(
            self,
            "public-access",
            bucket=self.bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=self.bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "encryption",
            bucket=self.bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=(
                        S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="aws:kms", kms_master_key_id=key.arn
                        )
                        if key
                        else S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                            sse_algorithm="AES256"
                        )
                    ),
                    bucket_key_enabled=key is not None,
                )
            ],
        )
        S3BucketVersioningA(
            self,
            "versioning",
            bucket=self.bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(
                status="Enabled" if versioning else "Suspended"
            ),
        )
        S3BucketLifecycleConfiguration(
            self,
            "lifecycle",
            bucket=self.bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="abort-incomplete-multipart-uploads",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(
                            days_after_initiation=abort_multipart_days
                        )
                    ],
                ),
                *(
                    [
                        S3BucketLifecycleConfigurationRule(
                            id="expire-objects",
                            status="Enabled",
                            filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                            expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=expire_days)],
                        )
                    ]
                    if expire_days
                    else []
                ),
                S3BucketLifecycleConfigurationRule(
                    id="expire-noncurrent-versions",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=noncurrent_version_days
                        )
                    ],
                ),
            ],
        )
        self.policy = S3BucketPolicy(
            self,
            "policy",
            bucket=self.bucket.id,
            policy=policy_document(
                [
                    *writers,
                    Statement(
                        sid="DenyInsecureTransport",
                        effect="Deny",
                        principals={"AWS": "*"},
                        actions=["s3:*"],
                        resources=[self.bucket.arn, f"{self.bucket.arn}/*"],
                        conditions={"Bool": {"aws:SecureTransport": "false"}},
                    ),
                ]
            ),
        )

    @property
    def name(self) -> str:
        return self.bucket.bucket

    @property
    def arn(self) -> str:
        return self.bucket.arn

    def read_write_statements(self, sid: str = "Uploads") -> list[Statement]:
        return [*grants.s3_read(sid, self.arn), grants.s3_write(f"{sid}Write", self.arn)]
