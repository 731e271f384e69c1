"""``ops purge-state-history``: delete every earlier version of an environment's Terraform state objects.

The state bucket is versioned, so each apply leaves the state it replaced behind as a noncurrent version
(kept ``bootstrap-state --noncurrent-days``). State written before the backend's secrets left Terraform
holds them (the Slack tokens, the Amplify GitHub token): after rotating those, this removes the old
copies at once instead of waiting for the lifecycle rule. Only noncurrent versions (and noncurrent delete
markers) under ``<key_prefix>/<env>/`` are deleted; the current version of every key stays, and so does
everything of the other environments. Credentials of another account than ``aws.account_id`` are refused.
"""

from __future__ import annotations

from typing import Any

from ops.bootstrap_state import s3_state
from ops.common import OpsError, Report, aws_call, client

BATCH = 1000  # DeleteObjects takes at most 1,000 keys per call


def noncurrent(s3: Any, bucket: str, prefix: str) -> list[dict[str, str]]:
    """Every noncurrent version and delete marker under ``prefix``: ``{"Key", "VersionId"}``."""
    found: list[dict[str, str]] = []
    paginator = s3.get_paginator("list_object_versions")
    pages: list[dict[str, Any]] = aws_call(
        "s3 ListObjectVersions", lambda: list(paginator.paginate(Bucket=bucket, Prefix=prefix))
    )
    for page in pages:
        for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
            if not entry["IsLatest"]:
                found.append({"Key": entry["Key"], "VersionId": entry["VersionId"]})
    return found


def _delete(s3: Any, bucket: str, versions: list[dict[str, str]]) -> None:
    for start in range(0, len(versions), BATCH):
        batch = versions[start : start + BATCH]

        def delete(batch: list[dict[str, str]] = batch) -> Any:
            return s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})

        result = aws_call("s3 DeleteObjects", delete)
        if result.get("Errors"):
            first = result["Errors"][0]
            raise OpsError(
                f"s3 DeleteObjects refused {first.get('Key')} version {first.get('VersionId')}: "
                f"{first.get('Code')}; nothing else is affected, run the command again once that is fixed"
            )


def run(env: str, *, dry_run: bool, report: Report | None = None) -> Report:
    settings, _ = s3_state(env, "purge-state-history")
    report = report or Report(dry_run=dry_run)
    prefix = f"{settings.key_prefix}/{env}/"
    s3 = client("s3", settings.region)
    report.section(f"Earlier state versions in s3://{settings.bucket}/{prefix}")
    old = noncurrent(s3, settings.bucket, prefix)
    if not old:
        report.ok("none: every state object has only its current version")
    for key in sorted({v["Key"] for v in old}):
        versions = [v for v in old if v["Key"] == key]

        def purge(versions: list[dict[str, str]] = versions) -> None:
            _delete(s3, settings.bucket, versions)

        report.change(f"delete {len(versions)} earlier version(s) of {key}", purge)
    report.summary()
    return report
