"""CloudWatch log groups: finite retention and the environment key, always."""

from __future__ import annotations

from imports.aws import CloudwatchLogGroup
from imports.cdktf import Construct
from modules.encryption import EnvironmentKey


class LogGroup(Construct):
    """An encrypted log group with finite retention.

    :param name: the log group name, e.g. ``/ecs/viberglass-dev-worker``.
    :param retention_days: a value CloudWatch accepts (validated in configuration).
    :param key: the environment key that encrypts the group.
    :param skip_destroy: keep the group (and its logs) when Terraform destroys it. Default: ``False``.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        retention_days: int,
        key: EnvironmentKey,
        skip_destroy: bool = False,
    ) -> None:
        super().__init__(scope, id)
        self.resource = CloudwatchLogGroup(
            self,
            "group",
            name=name,
            retention_in_days=retention_days,
            kms_key_id=key.arn,
            skip_destroy=skip_destroy or None,
        )

    @property
    def name(self) -> str:
        return self.resource.name

    @property
    def arn(self) -> str:
        return self.resource.arn
