"""Who and where: the account, partition and region a stack deploys to, as Terraform values."""

from __future__ import annotations

from imports.aws import DataAwsCallerIdentity, DataAwsPartition
from imports.cdktf import Construct


class Account(Construct):
    """Account id and partition, read by data sources (no AWS call at synth time).

    :param region: the stack's region; ARNs are built for it.
    """

    def __init__(self, scope: Construct, id: str, *, region: str) -> None:
        super().__init__(scope, id)
        self.region = region
        self._identity = DataAwsCallerIdentity(self, "current")
        self._partition = DataAwsPartition(self, "partition")

    @property
    def id(self) -> str:
        """The 12-digit account id (a token)."""
        return self._identity.account_id

    @property
    def partition(self) -> str:
        return self._partition.partition

    @property
    def root_arn(self) -> str:
        return f"arn:{self.partition}:iam::{self.id}:root"

    def arn(self, service: str, resource: str, *, region: str | None = None, global_: bool = False) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>`` (region empty when ``global_``)."""
        where = "" if global_ else (region or self.region)
        return f"arn:{self.partition}:{service}:{where}:{self.id}:{resource}"
