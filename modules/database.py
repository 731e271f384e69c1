"""PostgreSQL on RDS: private, encrypted, TLS-only, with its credentials in SSM."""

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
from imports.random import Password
from modules.account import Account
from modules.encryption import EnvironmentKey
from modules.lifecycle import keep
from modules.parameters import SecretParameter
from modules.security_groups import Firewall

POSTGRES_PORT = 5432
# RDS refuses '/', '@', '"' and spaces; a URL also needs ':', '?', '#', '%' and friends escaped. Using
# only unreserved characters keeps DATABASE_URL valid without escaping (the system this replaces broke
# on a '%' in the password).
URL_SAFE_SPECIALS = "-_.~"


def database_url(*, username: str, password: str, host: str, port: int | str, name: str) -> str:
    """``postgresql://user:password@host:port/name?sslmode=require``; ``host`` must not carry a port."""
    return f"postgresql://{username}:{password}@{host}:{port}/{name}?sslmode=require"


class Database(Construct):
    """A PostgreSQL instance in private subnets, reachable only through ``firewall``.

    :param naming: the environment's naming.
    :param subnets: private subnets (two zones at least).
    :param firewall: the database security group (``rds-sg``).
    :param key: encrypts storage, Performance Insights and the credential parameters.
    :param account: for the monitoring role's trust.
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
        )
        IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=monitoring.name,
            policy_arn=f"arn:{account.partition}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
        )
        # Random, URL-safe, and only in state (encrypted S3 / HCP): no literal password anywhere.
        self.password = Password(
            self, "password", length=40, special=True, override_special=URL_SAFE_SPECIALS, min_special=2
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
            password=self.password.result,
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
        self.parameters: dict[str, SecretParameter] = {}
        values = {
            "username": username,
            "password": self.password.result,
            "host": self.instance.address,
            # `address` is the host alone; `endpoint` is host:port and would put the port in twice.
            "url": database_url(
                username=username,
                password=self.password.result,
                host=self.instance.address,
                port=POSTGRES_PORT,
                name=database_name,
            ),
        }
        for key_name, value in values.items():
            self.parameters[key_name] = SecretParameter(
                self,
                f"param-{key_name}",
                name=naming.parameter("database", key_name),
                key=key,
                value=value,
                description=f"PostgreSQL {key_name}",
            )

    @property
    def url_parameter(self) -> SecretParameter:
        return self.parameters["url"]

    @property
    def identifier(self) -> str:
        return self.instance.identifier
