"""Rules that relate several keys to each other, checked after the schema accepted each key alone.

Each rule raises :class:`ConfigError` with the key path in the user's words and the bad value.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

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


def check_network(cfg: EnvironmentConfig) -> None:
    net = cfg.network
    vpc = _cidr("network.vpc_cidr", net.vpc_cidr)
    if not 16 <= vpc.prefixlen <= 28:
        raise ConfigError("network.vpc_cidr", f"/{vpc.prefixlen} is outside what a VPC accepts", "use /16 to /28")
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
    azs = cfg.availability_zones
    for az in azs:
        if not (az.startswith(cfg.aws.region) and len(az) == len(cfg.aws.region) + 1):
            raise ConfigError(
                "aws.availability_zones", f"{az!r} is not a zone of {cfg.aws.region}", f"use {cfg.aws.region}a, ..."
            )
    if len(set(azs)) != len(azs):
        raise ConfigError("aws.availability_zones", f"{azs} lists a zone twice", "list each zone once")
    for group in ("public_subnets", "private_subnets"):
        count = len(getattr(net, group))
        if count != len(azs):
            raise ConfigError(
                f"network.{group}",
                f"{count} subnets for {len(azs)} availability zones ({', '.join(azs)})",
                "give one subnet per zone, or list the zones in aws.availability_zones",
            )


def check_logs(cfg: EnvironmentConfig) -> None:
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


def check_production(cfg: EnvironmentConfig) -> None:
    if not cfg.production:
        return
    if not cfg.database.deletion_protection:
        raise ConfigError(
            "database.deletion_protection",
            "is false in a production environment",
            "set it to true (turn it off only in a reviewed change that deletes the database)",
        )
    if not cfg.database.final_snapshot:
        raise ConfigError("database.final_snapshot", "is false in a production environment", "set it to true")
    if cfg.domains.api_domain is None:
        raise ConfigError(
            "domains.api_domain",
            "is missing in a production environment (the API would be plain HTTP)",
            "set it, e.g. api.example.com, with domains.route53_zone_id",
        )
    if cfg.state.backend == "local":
        raise ConfigError("state.backend", "local state in a production environment", "use s3 or cloud")


def check_domains(cfg: EnvironmentConfig) -> None:
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
