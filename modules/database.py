"""PostgreSQL on RDS: private, encrypted, TLS-only; RDS manages the master password in Secrets Manager."""

from __future__ import annotations

from collections.abc import Sequence

from core.iam import service_trust
from core.naming import Naming
from imports.aws import (
    DbInstance,
    DbParameterGroup,
    DbParameterGroupParameter,
    DbSubnetGroup,
    IamRole,
    IamRolePolicyAttachment,
    Subnet,
)
from imports.cdktf import Construct
from modules.account import Account
from modules.encryption import EnvironmentKey
from modules.lifecycle import keep
from modules.security_groups import Firewall

POSTGRES_PORT = 5432


class Database(Construct):
    """A PostgreSQL instance in private subnets, reachable only through ``firewall``.

    :param naming: the environment's naming.
    :param subnets: private subnets (two zones at least).
    :param firewall: the database security group (``rds-sg``).
    :param key: encrypts storage, Performance Insights and the master-password secret.
    :param account: for the monitoring role's trust.
    :param boundary: the environment's permissions boundary, on the monitoring role.
    :param engine_version: PostgreSQL major (``16``) or major.minor.
    :param instance_class: e.g. ``db.t4g.micro``.
    :param allocated_storage: GiB.
    :param max_allocated_storage: storage autoscaling ceiling; ``None`` turns autoscaling off.
    :param multi_az: standby in a second zone.
    :param backup_retention_days: 1-35.
    :param deletion_protection: refuse API deletion; also adds ``prevent_destroy``.
    :param final_snapshot: take ``<name>-final`` when destroyed.
    :param database_name: the initial database. Default: ``viberglass``.
    :param username: the master user. Default: ``viberglass``.
    :param performance_insights_retention_days: Default: 7 (free tier).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        naming: Naming,
        subnets: Sequence[Subnet],
        firewall: Firewall,
        key: EnvironmentKey,
        account: Account,
        boundary: str,
        engine_version: str,
        instance_class: str,
        allocated_storage: int,
        max_allocated_storage: int | None,
        multi_az: bool,
        backup_retention_days: int,
        deletion_protection: bool,
        final_snapshot: bool,
        database_name: str = "viberglass",
        username: str = "viberglass",
        performance_insights_retention_days: int = 7,
    ) -> None:
        super().__init__(scope, id)
        identifier = naming.name("postgres", max_length=63)
        major = engine_version.split(".", maxsplit=1)[0]
        subnet_group = DbSubnetGroup(
            self, "subnets", name=naming.name("db-subnets"), subnet_ids=[s.id for s in subnets]
        )
        parameters = DbParameterGroup(
            self,
            "parameters",
            name=naming.name(f"postgres{major}"),
            family=f"postgres{major}",
            parameter=[
                DbParameterGroupParameter(name="rds.force_ssl", value="1"),
                DbParameterGroupParameter(name="log_min_duration_statement", value="1000"),
            ],
        )
        monitoring = IamRole(
            self,
            "monitoring-role",
            name=naming.name("rds-monitoring"),
            assume_role_policy=service_trust("monitoring.rds.amazonaws.com", account.id),
            permissions_boundary=boundary,
        )
        IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=monitoring.name,
            policy_arn=f"arn:{account.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
        )
        self.instance = DbInstance(
            self,
            "instance",
            identifier=identifier,
            engine="postgres",
            engine_version=engine_version,
            instance_class=instance_class,
            db_name=database_name,
            username=username,
            # RDS generates the password and keeps it in a Secrets Manager secret encrypted with the
            # environment key (rotated every 7 days by default): no password in code or Terraform state.
            manage_master_user_password=True,
            master_user_secret_kms_key_id=key.arn,
            port=POSTGRES_PORT,
            allocated_storage=allocated_storage,
            max_allocated_storage=max_allocated_storage,
            storage_type="gp3",
            storage_encrypted=True,
            kms_key_id=key.arn,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[firewall.id],
            publicly_accessible=False,
            parameter_group_name=parameters.name,
            multi_az=multi_az,
            backup_retention_period=backup_retention_days,
            copy_tags_to_snapshot=True,
            deletion_protection=deletion_protection,
            skip_final_snapshot=not final_snapshot,
            final_snapshot_identifier=f"{identifier}-final" if final_snapshot else None,
            enabled_cloudwatch_logs_exports=["postgresql", "upgrade"],
            performance_insights_enabled=True,
            performance_insights_kms_key_id=key.arn,
            performance_insights_retention_period=performance_insights_retention_days,
            monitoring_interval=60,
            monitoring_role_arn=monitoring.arn,
            iam_database_authentication_enabled=True,
            auto_minor_version_upgrade=True,
            apply_immediately=False,
            lifecycle=keep(deletion_protection),
        )
        self.database_name = database_name
        self.username = username
        self.port = POSTGRES_PORT

    @property
    def secret_arn(self) -> str:
        """The RDS-managed secret (JSON with ``username`` and ``password``)."""
        return self.instance.master_user_secret.get(0).secret_arn

    @property
    def address(self) -> str:
        """The host name alone (``endpoint`` is ``host:port``)."""
        return self.instance.address

    @property
    def identifier(self) -> str:
        return self.instance.identifier
