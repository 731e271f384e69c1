"""Behaviour of the configuration rules at their edges, each on a minimal file (not through the shipped
dev.yaml/prod.yaml, which restate most values and so would hide a changed default or a moved bound).

Every test names the bug it exists to catch; ``make mutation`` (docs/testing.md) checks they do.
"""

from __future__ import annotations

from typing import Any

import pytest

from config.defaults import merge
from config.errors import ConfigError
from config.loader import parse

DEV: dict[str, Any] = {"tier": "development", "state": {"backend": "local"}}
# The least a production file must say: where its state lives and the API's domain (HTTPS).
PROD: dict[str, Any] = {
    "tier": "production",
    "state": {"backend": "s3", "s3": {"bucket": "viberglass-terraform-state", "region": "eu-west-1",
                                      "dynamodb_table": "viberglass-terraform-locks"}},
    "domains": {"api_domain": "api.example.com", "route53_zone_id": "Z0123456789ABCDEFGHIJ"},
}  # fmt: skip


def refused(raw: dict[str, Any], env: str = "sandbox") -> str:
    with pytest.raises(ConfigError) as caught:
        parse(raw, env)
    return str(caught.value)


def dev(**sections: Any) -> dict[str, Any]:
    return merge(DEV, sections)


def prod(**sections: Any) -> dict[str, Any]:
    return merge(PROD, sections)


# -- the production tier's own defaults (a file that says nothing else) ------------------------------------


def test_a_minimal_production_file_gets_a_resilient_database() -> None:
    database = parse(PROD, "live").database
    assert database.multi_az is True
    assert database.backup_retention_days == 30
    assert database.deletion_protection is True
    assert database.final_snapshot is True


def test_a_minimal_production_file_gets_a_resilient_network_and_kept_evidence() -> None:
    cfg = parse(PROD, "live")
    assert cfg.network.single_nat_gateway is False  # one NAT gateway per zone
    assert cfg.network.flow_logs is True
    assert cfg.network.mode == "enterprise"
    assert cfg.uploads.versioning is True
    assert cfg.logs.retention_days == 90
    assert cfg.alarms.enabled is True


def test_a_minimal_development_file_is_cheap() -> None:
    cfg = parse(DEV, "sandbox")
    assert (cfg.database.multi_az, cfg.database.backup_retention_days) == (False, 7)
    assert (cfg.network.single_nat_gateway, cfg.network.flow_logs, cfg.uploads.versioning) == (True, False, False)


# -- literal secrets ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", ["api_token", "db_password", "passwd", "client_secret", "api_key", "apikey", "private_key", "access-key"]
)
def test_a_secret_named_key_with_an_ordinary_looking_value_is_refused(key: str) -> None:
    """The key alone gives it away: the value has no well-known credential shape."""
    message = refused(dev(frontend={key: "correct-horse-battery"}))
    assert message.startswith(f"frontend.{key}: looks like a literal secret")
    assert "correct-horse-battery" not in message


def test_a_parameter_name_in_a_secret_named_key_is_not_a_secret() -> None:
    message = refused(dev(frontend={"api_token": "/viberglass/dev/token"}))
    assert "literal secret" not in message  # refused only as an unknown key


# -- numbers at their bounds --------------------------------------------------------------------------------


def test_backups_kept_zero_days_are_refused_in_every_tier() -> None:
    assert refused(dev(database={"backup_retention_days": 0})).startswith("database.backup_retention_days: ")
    assert parse(dev(database={"backup_retention_days": 1}), "sandbox").database.backup_retention_days == 1


def test_backups_kept_more_than_35_days_are_refused() -> None:
    assert refused(dev(database={"backup_retention_days": 36})).startswith("database.backup_retention_days: ")
    assert parse(dev(database={"backup_retention_days": 35}), "sandbox").database.backup_retention_days == 35


def test_production_keeps_backups_at_least_seven_days() -> None:
    assert "days are too few" in refused(prod(database={"backup_retention_days": 6}), "live")
    assert parse(prod(database={"backup_retention_days": 7}), "live").database.backup_retention_days == 7


@pytest.mark.parametrize("prefix", [8, 12, 15])
def test_a_vpc_larger_than_a_16_is_refused(prefix: int) -> None:
    message = refused(dev(network={"vpc_cidr": f"10.0.0.0/{prefix}"}))
    assert message.startswith(f"network.vpc_cidr: /{prefix} is outside what a VPC accepts")


def test_a_vpc_of_a_16_is_accepted() -> None:
    assert parse(dev(network={"vpc_cidr": "10.0.0.0/16"}), "sandbox").network.vpc_cidr == "10.0.0.0/16"


def test_a_vpc_smaller_than_a_28_is_refused() -> None:
    assert refused(dev(network={"vpc_cidr": "10.0.0.0/29"})).startswith("network.vpc_cidr: /29 is outside")


def test_desired_count_may_equal_max_count_but_not_exceed_it() -> None:
    backend = {"min_count": 1, "desired_count": 2, "max_count": 2}
    assert parse(dev(backend=backend), "sandbox").backend.desired_count == 2
    message = refused(dev(backend={**backend, "desired_count": 3}))
    assert message.startswith("backend.desired_count: 3 is above backend.max_count (2)")


def test_min_count_may_equal_desired_count_but_not_exceed_it() -> None:
    backend = {"min_count": 2, "desired_count": 2, "max_count": 2}
    assert parse(dev(backend=backend), "sandbox").backend.min_count == 2
    message = refused(dev(backend={**backend, "min_count": 3, "max_count": 3}))
    assert message.startswith("backend.min_count: 3 is above backend.desired_count (2)")


# -- domains ------------------------------------------------------------------------------------------------


def test_the_frontend_cannot_share_the_api_domain() -> None:
    domains = {"api_domain": "api.example.com", "route53_zone_id": "Z0123456789ABCDEFGHIJ"}
    message = refused(dev(domains={**domains, "app_domain": "api.example.com"}))
    assert message.startswith("domains.app_domain: api.example.com is also domains.api_domain")
    assert parse(dev(domains={**domains, "app_domain": "app.example.com"}), "sandbox").domains.app_domain


def test_an_api_domain_needs_its_hosted_zone() -> None:
    message = refused(dev(domains={"api_domain": "api.example.com"}))
    assert message.startswith("domains.route53_zone_id: is missing but domains.api_domain is set")
