"""Rules that relate several keys to each other, checked after the schema accepted each key alone.

Each rule raises :class:`ConfigError` with the key path in the user's words and the bad value.
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Callable

from config.checks import show
from config.errors import ConfigError
from config.schema import EnvironmentConfig
from core import aws_limits
from core.network import first_overlap, outside, parse_cidr


def _cidr(key: str, value: str) -> ipaddress.IPv4Network:
    try:
        return parse_cidr(value)
    except ValueError:
        try:
            loose = ipaddress.IPv4Network(value, strict=False)
        except ValueError:
            raise ConfigError(key, f"{value!r} is not an IPv4 CIDR block", "write it like 10.0.0.0/16") from None
        raise ConfigError(key, f"{value} has host bits set", f"use {loose}") from None


def _zones(cfg: EnvironmentConfig) -> list[str]:
    region, azs = cfg.aws.region, cfg.availability_zones
    counts = aws_limits.ZONE_COUNTS
    wanted = f"{counts[0]}-{counts[-1]} Availability Zones of {region}"
    for az in azs:
        if not (az.startswith(region) and len(az) == len(region) + 1 and az[-1] in string.ascii_lowercase):
            raise ConfigError(
                "aws.availability_zones",
                f"{show(az)} is not a zone of {region}",
                f"list {wanted}, e.g. {region}a, {region}b",
            )
    if len(set(azs)) != len(azs):
        raise ConfigError("aws.availability_zones", f"{azs} lists a zone twice", "list each zone once")
    if len(azs) not in counts:
        raise ConfigError(
            "aws.availability_zones",
            f"lists {len(azs)} zone(s); the load balancer and the database need two at least",
            f"list {wanted}",
        )
    return azs


def _subnet_sizes(cfg: EnvironmentConfig, subnets: list[tuple[str, ipaddress.IPv4Network]], zones: int) -> None:
    net, backend = cfg.network, cfg.backend
    prefixes = aws_limits.SUBNET_PREFIXES
    for key, subnet in subnets:
        if subnet.prefixlen not in prefixes:
            raise ConfigError(
                key, f"{subnet} is a /{subnet.prefixlen}; AWS subnets are /16 to /28", "use a /24, for example"
            )
    for key, subnet in subnets:
        if key.startswith("network.public_subnets") and subnet.prefixlen > aws_limits.ALB_MIN_PREFIX:
            raise ConfigError(
                key,
                f"{subnet} is too small for the load balancer (an ALB needs /{aws_limits.ALB_MIN_PREFIX} or larger)",
                f"use a /{aws_limits.ALB_MIN_PREFIX} or larger block, e.g. a /24",
            )
    # Tasks run in the private subnets (enterprise) or the public ones (standard). During a rolling deploy
    # ECS runs old and new tasks side by side (twice max_count), spread over the zones; the database takes
    # an address in its zone too.
    group = "private_subnets" if net.mode == "enterprise" else "public_subnets"
    per_zone = -(-backend.max_count // zones)
    needed = 2 * per_zone + 1
    for key, subnet in subnets:
        if key.startswith(f"network.{group}") and aws_limits.usable_addresses(subnet.prefixlen) < needed:
            raise ConfigError(
                key,
                f"{subnet} has {aws_limits.usable_addresses(subnet.prefixlen)} usable addresses; backend.max_count "
                f"{backend.max_count} over {zones} zones needs {needed} in each during a deploy",
                "use a larger block, or lower backend.max_count",
            )


def check_network(cfg: EnvironmentConfig) -> None:
    """`network.vpc_cidr` is /16-/28; `aws.availability_zones` are 2-6 zones of `aws.region`; one of
    `network.public_subnets` and of `network.private_subnets` per zone, inside the VPC, no overlaps, large
    enough for the load balancer and for a rolling deploy of `backend.max_count` tasks."""
    net = cfg.network
    vpc = _cidr("network.vpc_cidr", net.vpc_cidr)
    if not 16 <= vpc.prefixlen <= 28:
        raise ConfigError("network.vpc_cidr", f"/{vpc.prefixlen} is outside what a VPC accepts", "use /16 to /28")
    azs = _zones(cfg)
    for group in ("public_subnets", "private_subnets"):
        count = len(getattr(net, group))
        if count != len(azs):
            raise ConfigError(
                f"network.{group}",
                f"{count} subnets for {len(azs)} availability zones ({', '.join(azs)})",
                "give one subnet per zone, or list the zones in aws.availability_zones",
            )
    subnets: list[tuple[str, ipaddress.IPv4Network]] = []
    for group in ("public_subnets", "private_subnets"):
        for i, value in enumerate(getattr(net, group)):
            subnets.append((f"network.{group}[{i}]", _cidr(f"network.{group}[{i}]", value)))
    for key, subnet in subnets:
        if outside(vpc, [subnet]):
            raise ConfigError(key, f"{subnet} is outside network.vpc_cidr ({vpc})", f"pick a block inside {vpc}")
    pair = first_overlap([s for _, s in subnets])
    if pair:
        keys = [k for k, s in subnets if s in pair]
        raise ConfigError(keys[1], f"{pair[1]} overlaps {keys[0]} ({pair[0]})", "give each subnet its own block")
    _subnet_sizes(cfg, subnets, len(azs))


def check_logs(cfg: EnvironmentConfig) -> None:
    """`logs.retention_days` is a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)."""
    days = cfg.logs.retention_days
    if days not in aws_limits.LOG_RETENTION_DAYS:
        raise ConfigError(
            "logs.retention_days",
            f"{days} is not a retention CloudWatch Logs accepts",
            f"use {aws_limits.nearest_retention(days)} (accepted: 1, 3, 5, 7, 14, 30, 60, 90, ... 3653)",
        )


def _fargate(prefix: str, cpu: int, memory: int) -> None:
    if cpu not in aws_limits.fargate_cpu_values():
        values = ", ".join(str(v) for v in aws_limits.fargate_cpu_values())
        raise ConfigError(f"{prefix}.cpu", f"{cpu} is not a Fargate CPU size", f"use one of {values}")
    if not aws_limits.is_fargate_size(cpu, memory):
        raise ConfigError(
            f"{prefix}.memory",
            f"{memory} MiB is not a Fargate memory size for {prefix}.cpu {cpu}",
            f"use {aws_limits.describe_memory_choices(cpu)}",
        )


def check_sizes(cfg: EnvironmentConfig) -> None:
    """`backend.cpu`/`backend.memory` and `workers.cpu`/`workers.memory` are Fargate sizes;
    `backend.min_count` <= `backend.desired_count` <= `backend.max_count`; `database.max_allocated_storage`
    is not below `database.allocated_storage`."""
    _fargate("backend", cfg.backend.cpu, cfg.backend.memory)
    _fargate("workers", cfg.workers.cpu, cfg.workers.memory)
    b = cfg.backend
    if b.min_count > b.desired_count:
        raise ConfigError(
            "backend.min_count",
            f"{b.min_count} is above backend.desired_count ({b.desired_count})",
            "lower min_count or raise desired_count",
        )
    if b.desired_count > b.max_count:
        raise ConfigError(
            "backend.desired_count",
            f"{b.desired_count} is above backend.max_count ({b.max_count})",
            "lower desired_count or raise max_count",
        )
    db = cfg.database
    if db.max_allocated_storage is not None and db.max_allocated_storage < db.allocated_storage:
        raise ConfigError(
            "database.max_allocated_storage",
            f"{db.max_allocated_storage} is below database.allocated_storage ({db.allocated_storage})",
            "raise it, or remove it to turn storage autoscaling off",
        )


def check_state(cfg: EnvironmentConfig) -> None:
    """`state.backend` has its settings (`state.s3`, `state.cloud`); S3 state is locked
    (`state.s3.dynamodb_table` or `state.s3.use_lockfile`); HCP Terraform state names its project
    (`state.cloud.project`), and agent execution its pool (`state.cloud.execution_mode`,
    `state.cloud.agent_pool`)."""
    state = cfg.state
    if state.backend == "s3":
        if state.s3 is None:
            raise ConfigError(
                "state.s3", "backend is s3 but there are no s3 settings", "add state.s3.bucket, region, dynamodb_table"
            )
        if state.s3.dynamodb_table is None and not state.s3.use_lockfile:
            raise ConfigError(
                "state.s3.dynamodb_table",
                "the s3 backend has no locking",
                "set dynamodb_table, or use_lockfile: true (Terraform >= 1.10)",
            )
    if state.backend == "cloud" and state.cloud is None:
        raise ConfigError(
            "state.cloud", "backend is cloud but there are no cloud settings", "add state.cloud.organization"
        )
    cloud = state.cloud
    if state.backend == "cloud" and cloud is not None:
        if cloud.project is None:
            raise ConfigError(
                "state.cloud.project",
                "is missing: the hcp stack creates the environment's workspaces in their own project, and the "
                "AWS roles trust runs by project name",
                "add state.cloud.project, e.g. viberglass-dev (one project per environment)",
            )
        if cloud.execution_mode == "agent" and cloud.agent_pool is None:
            raise ConfigError(
                "state.cloud.agent_pool", "is missing: execution_mode agent runs on an agent pool", "name the pool"
            )
        if cloud.execution_mode == "remote" and cloud.agent_pool is not None:
            raise ConfigError(
                "state.cloud.agent_pool",
                f"{cloud.agent_pool} is set but execution_mode is remote (HCP Terraform's own workers)",
                "set execution_mode: agent, or remove agent_pool",
            )


def _looks_like_production(env: str) -> bool:
    return bool({"prod", "production"} & set(env.split("-")))


def check_tier_name(env: str, tier: str) -> None:
    """A file whose name says production (``prod``, ``prod-eu``, ``eu-production``) cannot be `tier`
    development."""
    if tier != "production" and _looks_like_production(env):
        raise ConfigError(
            "tier",
            f"is {tier} but the environment is named {env!r}",
            "set tier: production; a development environment needs a name without prod/production",
        )


PRODUCTION_BACKUP_DAYS = 7
# What every production environment has, whatever its file says: (key, holds, problem, fix).
PRODUCTION_MINIMUMS: tuple[tuple[str, Callable[[EnvironmentConfig], bool], str, str], ...] = (
    (
        "database.deletion_protection",
        lambda c: c.database.deletion_protection,
        "is not allowed in a production environment",
        "set it to true (turn it off only in a reviewed change that deletes the database)",
    ),
    (
        "database.final_snapshot",
        lambda c: c.database.final_snapshot,
        "is not allowed in a production environment",
        "set it to true",
    ),
    (
        "database.multi_az",
        lambda c: c.database.multi_az,
        "is not allowed in a production environment (one zone failure would stop the database)",
        "set it to true: a standby in a second zone takes over",
    ),
    (
        "database.backup_retention_days",
        lambda c: c.database.backup_retention_days >= PRODUCTION_BACKUP_DAYS,
        f"days are too few in a production environment (at least {PRODUCTION_BACKUP_DAYS})",
        f"keep backups {PRODUCTION_BACKUP_DAYS} to 35 days (restores reach back only as far as the backups)",
    ),
    (
        "network.flow_logs",
        lambda c: c.network.flow_logs,
        "is not allowed in a production environment (no record of who talked to what)",
        "set it to true",
    ),
    (
        "network.mode",
        lambda c: c.network.mode == "enterprise",
        "is not allowed in a production environment (tasks in public subnets, no NAT gateways)",
        "use enterprise: tasks in private subnets behind one NAT gateway per zone",
    ),
    (
        "network.single_nat_gateway",
        lambda c: not c.network.single_nat_gateway,
        "is not allowed in a production environment (one zone failure would cut every zone off the internet)",
        "set it to false: one NAT gateway per zone",
    ),
    (
        "uploads.versioning",
        lambda c: c.uploads.versioning,
        "is not allowed in a production environment (an overwrite or delete would lose the upload)",
        "set it to true",
    ),
    (
        "state.backend",
        lambda c: c.state.backend != "local",
        "is not allowed in a production environment (state on one laptop)",
        "use s3 or cloud",
    ),
    (
        "domains.api_domain",
        lambda c: c.domains.api_domain is not None,
        "is not allowed in a production environment (the API would be plain HTTP)",
        "set it, e.g. api.example.com, with domains.route53_zone_id",
    ),
)


def check_production(cfg: EnvironmentConfig) -> None:
    """Production minimums. ``prevent_destroy`` on stateful resources follows the tier itself (the stacks
    protect what ``cfg.production`` marks), so it cannot be configured away."""
    if not cfg.production:
        return
    for key, holds, problem, fix in PRODUCTION_MINIMUMS:
        if not holds(cfg):
            value: object = cfg.model_dump()
            for part in key.split("."):
                value = value[part] if isinstance(value, dict) else None
            raise ConfigError(key, f"{show(value)} {problem}", fix)


def check_domains(cfg: EnvironmentConfig) -> None:
    """`domains.api_domain` needs `domains.route53_zone_id` (its certificate is validated through DNS);
    `domains.app_domain` differs from the API domain."""
    d = cfg.domains
    # The API certificate is validated through DNS in the zone; the frontend's records can be created
    # by hand instead (they are outputs), so only the API needs the zone.
    if d.api_domain and not d.route53_zone_id:
        raise ConfigError(
            "domains.route53_zone_id",
            "is missing but domains.api_domain is set (its certificate is validated through DNS)",
            "set the hosted zone id of the domain (Z...)",
        )
    if d.api_domain and d.app_domain and d.api_domain == d.app_domain:
        raise ConfigError(
            "domains.app_domain", f"{d.app_domain} is also domains.api_domain", "give the frontend its own name"
        )


RULES: tuple[Callable[[EnvironmentConfig], None], ...] = (
    check_network,
    check_logs,
    check_sizes,
    check_state,
    check_production,
    check_domains,
)


def check_all(cfg: EnvironmentConfig) -> None:
    """Run every rule; the first broken one raises."""
    for rule in RULES:
        rule(cfg)
