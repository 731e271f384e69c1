"""Statements for things addressed by name across stacks: SSM paths, S3 buckets, log groups.

Each returns statements scoped to explicit ARNs; stacks hand them to :class:`modules.iam.Role`.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.iam import Statement
from modules.account import Account


def ssm_read(account: Account, sid: str, paths: Sequence[str]) -> Statement:
    """Read parameters under each path (``/viberator/secrets`` -> ``parameter/viberator/secrets/*``)."""
    return Statement(
        sid=sid,
        actions=["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
        resources=[account.arn("ssm", f"parameter{path.rstrip('/')}/*") for path in paths],
    )


def ssm_write(account: Account, sid: str, paths: Sequence[str]) -> Statement:
    return Statement(
        sid=sid,
        actions=["ssm:DeleteParameter", "ssm:PutParameter"],
        resources=[account.arn("ssm", f"parameter{path.rstrip('/')}/*") for path in paths],
    )


def bucket_arn(account: Account, bucket_name: str) -> str:
    return f"arn:{account.partition}:s3:::{bucket_name}"


def s3_read(sid: str, bucket: str) -> list[Statement]:
    """List the bucket and read its objects (``bucket`` is the bucket ARN)."""
    return [
        Statement(sid=f"{sid}List", actions=["s3:ListBucket"], resources=[bucket]),
        Statement(sid=f"{sid}Read", actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[f"{bucket}/*"]),
    ]


def s3_write(sid: str, bucket: str, prefix: str = "") -> Statement:
    """Write (and delete) objects, under ``prefix`` when given."""
    return Statement(
        sid=sid,
        actions=["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:PutObject"],
        resources=[f"{bucket}/{prefix}*"],
    )


def logs_write(sid: str, log_group_arns: Sequence[str]) -> Statement:
    """Create streams and put events in the given groups (``arn`` and ``arn:*`` for the streams)."""
    resources = [r for arn in log_group_arns for r in (arn, f"{arn}:*")]
    return Statement(sid=sid, actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=resources)
