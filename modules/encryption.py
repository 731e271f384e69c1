"""The environment's customer-managed KMS key, used for SSM, logs, S3, RDS, ECR and SNS."""

from __future__ import annotations

from core.iam import Statement, policy_document
from core.naming import Naming
from imports.aws import KmsAlias, KmsKey
from imports.cdktf import Construct
from modules.account import Account
from modules.lifecycle import keep

_ADMIN_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:Create*",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)
_USE_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*")


class EnvironmentKey(Construct):
    """A KMS key with rotation, an alias and a key policy scoped to this environment.

    The account may administer and use the key (IAM policies then decide who inside it may); CloudWatch
    Logs may use it only for this environment's log groups (``kms:EncryptionContext:aws:logs:arn``).

    :param naming: the environment's naming.
    :param account: account and region.
    :param protect: refuse ``terraform destroy`` of the key (``prevent_destroy``). Default: ``False``.
    :param deletion_window_days: waiting period before a scheduled deletion. Default: 30.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        account: Account,
        protect: bool = False,
        deletion_window_days: int = 30,
    ) -> None:
        super().__init__(scope, id)
        self._account = account
        log_groups = account.arn("logs", f"log-group:*{naming.prefix}-*")
        policy = policy_document(
            [
                Statement(
                    sid="AccountAdministers",
                    principals={"AWS": account.root_arn},
                    actions=_ADMIN_ACTIONS,
                    resources=["*"],
                    wildcard_reason="in a key policy, * means this key",
                ),
                Statement(
                    sid="AccountUses",
                    principals={"AWS": account.root_arn},
                    actions=_USE_ACTIONS,
                    resources=["*"],
                    wildcard_reason="in a key policy, * means this key",
                ),
                Statement(
                    # Alarms publish to the environment's encrypted SNS topic.
                    sid="CloudWatchAlarmsUse",
                    principals={"Service": "cloudwatch.amazonaws.com"},
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                    conditions={"StringEquals": {"aws:SourceAccount": account.id}},
                    wildcard_reason="in a key policy, * means this key",
                ),
                Statement(
                    sid="CloudWatchLogsUses",
                    principals={"Service": f"logs.{account.region}.amazonaws.com"},
                    actions=_USE_ACTIONS,
                    resources=["*"],
                    conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
                    wildcard_reason="in a key policy, * means this key",
                ),
            ]
        )
        self.key = KmsKey(
            self,
            "key",
            description=f"{naming.prefix}: SSM parameters, logs and data at rest",
            enable_key_rotation=True,
            deletion_window_in_days=deletion_window_days,
            policy=policy,
            lifecycle=keep(protect),
        )
        self.alias = KmsAlias(self, "alias", name=naming.kms_alias("ssm"), target_key_id=self.key.key_id)

    @property
    def arn(self) -> str:
        return self.key.arn

    def use_statement(self, sid: str = "UseEnvironmentKey", *, via: tuple[str, ...] = ()) -> Statement:
        """Decrypt and data-key rights on this key only; ``via`` limits them to calls through services."""
        conditions = {}
        if via:
            services = [f"{service}.{self._account.region}.amazonaws.com" for service in via]
            conditions = {"StringEquals": {"kms:ViaService": services}}
        return Statement(
            sid=sid,
            actions=["kms:Decrypt", "kms:DescribeKey", "kms:GenerateDataKey"],
            resources=[self.key.arn],
            conditions=conditions,
        )
