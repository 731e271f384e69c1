"""Behaviour of the configuration rules at their edges, each on a minimal file (not through the shipped
dev.yaml/prod.yaml, which restate most values and so would hide a changed default or a moved bound).

Every test names the bug it exists to catch; ``make mutation`` (docs/testing.md) checks they do.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from config.defaults import merge
from config.errors import ConfigError
from config.loader import MAX_VALUES, account_peers, check_document, parse

# The least a file must say: its tier and its own AWS account.
DEV: dict[str, Any] = {"tier": "development", "aws": {"account_id": "111122223333"}, "state": {"backend": "local"}}
# The least a production file must say besides: where its state lives and the API's domain (HTTPS).
PROD: dict[str, Any] = {
    "tier": "production",
    "aws": {"account_id": "444455556666"},
    "state": {"backend": "s3", "s3": {"bucket": "viberglass-terraform-state", "region": "eu-west-1",
                                      "dynamodb_table": "viberglass-terraform-locks"}},
    "domains": {"api_domain": "api.example.com", "route53_zone_id": "Z0123456789ABCDEFGHIJ"},
    "github": {"app_deploy_workflow_ref": "3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"},
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


# -- every refusal of config/rules.py, whole: key, problem and fix -------------------------------------------

REFUSALS = [
    ("cidr-not-ipv4", dev(network={"vpc_cidr": "10.0.0.0/33"}),
     "network.vpc_cidr: '10.0.0.0/33' is not an IPv4 CIDR block; write it like 10.0.0.0/16"),
    ("cidr-host-bits", dev(network={"vpc_cidr": "10.0.0.1/16"}),
     "network.vpc_cidr: 10.0.0.1/16 has host bits set; use 10.0.0.0/16"),
    ("vpc-too-small", dev(network={"vpc_cidr": "10.0.0.0/29"}),
     "network.vpc_cidr: /29 is outside what a VPC accepts; use /16 to /28"),
    ("zone-of-another-region", dev(aws={"availability_zones": ["eu-west-1a", "us-east-1b"]}),
     "aws.availability_zones: 'us-east-1b' is not a zone of eu-west-1; list 2-6 Availability Zones of eu-west-1, "
     "e.g. eu-west-1a, eu-west-1b"),
    ("zone-with-a-digit-for-a-letter", dev(aws={"availability_zones": ["eu-west-1a", "eu-west-12"]}),
     "aws.availability_zones: 'eu-west-12' is not a zone of eu-west-1; list 2-6 Availability Zones of eu-west-1, "
     "e.g. eu-west-1a, eu-west-1b"),
    ("zone-twice", dev(aws={"availability_zones": ["eu-west-1a", "eu-west-1a"]}),
     "aws.availability_zones: ['eu-west-1a', 'eu-west-1a'] lists a zone twice; list each zone once"),
    ("one-zone", dev(aws={"availability_zones": ["eu-west-1a"]},
                     network={"public_subnets": ["10.0.1.0/24"], "private_subnets": ["10.0.10.0/24"]}),
     "aws.availability_zones: lists 1 zone(s); the load balancer and the database need two at least; "
     "list 2-6 Availability Zones of eu-west-1"),
    ("subnets-per-zone", dev(network={"public_subnets": ["10.0.1.0/24"]}),
     "network.public_subnets: 1 subnets for 2 availability zones (eu-west-1a, eu-west-1b); give one subnet per "
     "zone, or list the zones in aws.availability_zones"),
    ("subnet-outside", dev(network={"public_subnets": ["10.1.1.0/24", "10.0.2.0/24"]}),
     "network.public_subnets[0]: 10.1.1.0/24 is outside network.vpc_cidr (10.0.0.0/16); pick a block inside "
     "10.0.0.0/16"),
    ("subnet-overlap", dev(network={"public_subnets": ["10.0.1.0/24", "10.0.1.0/25"]}),
     "network.public_subnets[1]: 10.0.1.0/25 overlaps network.public_subnets[0] (10.0.1.0/24); give each subnet "
     "its own block"),
    ("subnet-size", dev(network={"private_subnets": ["10.0.10.0/29", "10.0.11.0/24"]}),
     "network.private_subnets[0]: 10.0.10.0/29 is a /29; AWS subnets are /16 to /28; use a /24, for example"),
    ("subnet-cidr-of-a-private-subnet", dev(network={"private_subnets": ["10.0.10.1/24", "10.0.11.0/24"]}),
     "network.private_subnets[0]: 10.0.10.1/24 has host bits set; use 10.0.10.0/24"),
    ("subnet-too-small-for-alb", dev(network={"public_subnets": ["10.0.1.0/28", "10.0.2.0/24"]}),
     "network.public_subnets[0]: 10.0.1.0/28 is too small for the load balancer (an ALB needs /27 or larger); "
     "use a /27 or larger block, e.g. a /24"),
    ("subnet-too-small-for-a-deploy",
     dev(backend={"max_count": 11}, network={"private_subnets": ["10.0.10.0/28", "10.0.11.0/24"]}),
     "network.private_subnets[0]: 10.0.10.0/28 has 11 usable addresses; backend.max_count 11 over 2 zones needs 13 "
     "in each during a deploy; use a larger block, or lower backend.max_count"),
    ("standard-mode-deploys-into-the-public-subnets",
     dev(backend={"max_count": 27}, network={"mode": "standard", "public_subnets": ["10.0.1.0/27", "10.0.2.0/24"]}),
     "network.public_subnets[0]: 10.0.1.0/27 has 27 usable addresses; backend.max_count 27 over 2 zones needs 29 "
     "in each during a deploy; use a larger block, or lower backend.max_count"),
    ("log-retention", dev(logs={"retention_days": 8}),
     "logs.retention_days: 8 is not a retention CloudWatch Logs accepts; use 7 (accepted: 1, 3, 5, 7, 14, 30, 60, "
     "90, ... 3653)"),
    ("fargate-cpu", dev(backend={"cpu": 300}),
     "backend.cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
    ("fargate-memory", dev(backend={"cpu": 256, "memory": 4096}),
     "backend.memory: 4096 MiB is not a Fargate memory size for backend.cpu 256; use 512, 1024, 2048"),
    ("worker-fargate-cpu", dev(workers={"cpu": 300}),
     "workers.cpu: 300 is not a Fargate CPU size; use one of 256, 512, 1024, 2048, 4096, 8192, 16384"),
    ("storage", dev(database={"allocated_storage": 100, "max_allocated_storage": 50}),
     "database.max_allocated_storage: 50 is below database.allocated_storage (100); raise it, or remove it to turn "
     "storage autoscaling off"),
    ("s3-without-settings", dev(state={"backend": "s3"}),
     "state.s3: backend is s3 but there are no s3 settings; add state.s3.bucket, region, dynamodb_table"),
    ("s3-unlocked", dev(state={"backend": "s3", "s3": {"bucket": "viberglass-terraform-state", "region": "eu-west-1"}}),
     "state.s3.dynamodb_table: the s3 backend has no locking; set dynamodb_table, or use_lockfile: true "
     "(Terraform >= 1.10)"),
    ("cloud-without-settings", dev(state={"backend": "cloud"}),
     "state.cloud: backend is cloud but there are no cloud settings; add state.cloud.organization"),
    ("cloud-without-project", dev(state={"backend": "cloud", "cloud": {"organization": "ilities"}}),
     "state.cloud.project: is missing: the hcp stack creates the environment's workspaces in their own project, "
     "and the AWS roles trust runs by project name; add state.cloud.project, e.g. viberglass-dev (one project per "
     "environment)"),
    ("agent-without-pool", dev(state={"backend": "cloud", "cloud": {"organization": "ilities", "project": "p",
                                                                    "execution_mode": "agent"}}),
     "state.cloud.agent_pool: is missing: execution_mode agent runs on an agent pool; name the pool"),
    ("remote-with-pool", dev(state={"backend": "cloud", "cloud": {"organization": "ilities", "project": "p",
                                                                  "agent_pool": "pool"}}),
     "state.cloud.agent_pool: pool is set but execution_mode is remote (HCP Terraform's own workers); set "
     "execution_mode: agent, or remove agent_pool"),
    ("min-above-desired", dev(backend={"min_count": 2, "desired_count": 1, "max_count": 2}),
     "backend.min_count: 2 is above backend.desired_count (1); lower min_count or raise desired_count"),
    ("desired-above-max", dev(backend={"desired_count": 3, "max_count": 2}),
     "backend.desired_count: 3 is above backend.max_count (2); lower desired_count or raise max_count"),
    ("prod-multi-az", prod(database={"multi_az": False}),
     "database.multi_az: false is not allowed in a production environment (one zone failure would stop the "
     "database); set it to true: a standby in a second zone takes over"),
    ("domain-zone", dev(domains={"api_domain": "api.example.com"}),
     "domains.route53_zone_id: is missing but domains.api_domain is set (its certificate is validated through "
     "DNS); set the hosted zone id of the domain (Z...)"),
    ("domain-same", dev(domains={"api_domain": "api.example.com", "app_domain": "api.example.com",
                                 "route53_zone_id": "Z0123456789ABCDEFGHIJ"}),
     "domains.app_domain: api.example.com is also domains.api_domain; give the frontend its own name"),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "line"), [c[1:] for c in REFUSALS], ids=[c[0] for c in REFUSALS])
def test_each_refusal_names_the_key_the_problem_and_the_fix(raw: dict[str, Any], line: str) -> None:
    assert refused(raw, "live" if raw["tier"] == "production" else "sandbox") == line


def test_a_development_tier_under_a_production_name_is_refused_with_the_fix() -> None:
    assert refused(DEV, "prod-eu") == (
        "tier: is development but the environment is named 'prod-eu'; set tier: production; a development "
        "environment needs a name without prod/production"
    )


# -- the accepted side of each bound --------------------------------------------------------------------------


def test_each_complete_state_backend_is_accepted() -> None:
    """HCP Terraform on its own workers or on a named agent pool; S3 locked by its lock file alone."""
    cloud = {"organization": "ilities", "project": "p"}
    assert parse(dev(state={"backend": "cloud", "cloud": cloud}), "x").state.cloud is not None
    agent = parse(
        dev(state={"backend": "cloud", "cloud": {**cloud, "execution_mode": "agent", "agent_pool": "a"}}), "x"
    )
    assert agent.state.cloud is not None and agent.state.cloud.agent_pool == "a"
    s3 = {"bucket": "viberglass-terraform-state", "region": "eu-west-1", "use_lockfile": True}
    assert parse(dev(state={"backend": "s3", "s3": s3}), "x").state.s3 is not None


def test_cloud_settings_left_beside_another_backend_are_not_checked() -> None:
    """Moving from HCP Terraform back to S3 may leave an incomplete `state.cloud` behind: only the chosen backend's
    settings have to be complete."""
    s3 = {"bucket": "viberglass-terraform-state", "region": "eu-west-1", "dynamodb_table": "viberglass-terraform-locks"}
    leftover = {"organization": "ilities", "execution_mode": "agent"}
    assert parse(dev(state={"backend": "s3", "s3": s3, "cloud": leftover}), "x").state.backend == "s3"


def test_a_deploy_that_just_fits_its_subnets_is_accepted() -> None:
    """/28 keeps 11 addresses: 10 tasks over 2 zones need 5 + 5 during a deploy, and one for the database."""
    cfg = parse(dev(backend={"max_count": 10}, network={"private_subnets": ["10.0.10.0/28", "10.0.11.0/24"]}), "x")
    assert cfg.backend.max_count == 10
    standard = dev(
        backend={"max_count": 26}, network={"mode": "standard", "public_subnets": ["10.0.1.0/27", "10.0.2.0/24"]}
    )
    assert parse(standard, "x").network.public_subnets[0] == "10.0.1.0/27"


def test_a_27_is_large_enough_for_the_load_balancer() -> None:
    cfg = parse(dev(network={"public_subnets": ["10.0.1.0/27", "10.0.2.0/24"]}), "sandbox")
    assert cfg.network.public_subnets[0] == "10.0.1.0/27"


def test_a_28_vpc_is_not_refused_for_its_size() -> None:
    """Only its subnets (a /27 for the load balancer does not fit in it) stop it, not the VPC bound."""
    message = refused(dev(network={"vpc_cidr": "10.0.0.0/28"}))
    assert not message.startswith("network.vpc_cidr")


def test_storage_autoscaling_may_start_at_the_allocated_size() -> None:
    cfg = parse(dev(database={"allocated_storage": 100, "max_allocated_storage": 100}), "sandbox")
    assert cfg.database.max_allocated_storage == 100


def test_six_zones_are_accepted() -> None:
    zones = [f"eu-west-1{c}" for c in "abcdef"]
    cfg = parse(dev(aws={"availability_zones": zones},
                    network={"public_subnets": [f"10.0.{i}.0/24" for i in range(1, 7)],
                             "private_subnets": [f"10.0.{i}.0/24" for i in range(11, 17)]}), "sandbox")  # fmt: skip
    assert cfg.availability_zones == zones


def test_a_block_the_schema_let_through_but_ipaddress_cannot_read_is_refused_by_the_rules_too() -> None:
    """config/rules.py reads CIDRs again; the schema refuses such values first, so only a direct call shows
    the rules' own refusal is whole."""
    from config.rules import _cidr

    with pytest.raises(ConfigError) as caught:
        _cidr("network.vpc_cidr", "10.0.0.0/99")
    assert str(caught.value) == "network.vpc_cidr: '10.0.0.0/99' is not an IPv4 CIDR block; write it like 10.0.0.0/16"


# -- what the schema's refusals say (config/loader.py, _from_validation): one whole line per kind ---------------

SCHEMA_REFUSALS = {
    "unknown-key": ({"bogus": 1}, "bogus: unknown key; remove it or fix the spelling (known keys here: alarms, "
                    "aws, backend, database, domains, frontend, github, logs, name, network, state, tier, uploads, "
                    "workers)"),
    "unknown-nested-key": ({"network": {"bogus": 1}}, "network.bogus: unknown key; remove it or fix the spelling "
                           "(known keys here: flow_logs, mode, private_subnets, public_subnets, single_nat_gateway, "
                           "vpc_cidr)"),
    "text-for-a-number": ({"backend": {"cpu": "abc"}},
                          "backend.cpu: is 'abc' (text), not a whole number; write a whole number without quotes"),
    "null-for-a-number": ({"backend": {"cpu": None}}, "backend.cpu: is empty (null), not a whole number; give it a "
                          "value, or remove the key to use the default"),
    "boolean-for-a-number": ({"backend": {"desired_count": True}}, "backend.desired_count: is true (true/false), "
                             "not a whole number; write a whole number without quotes"),
    "decimal-for-a-number": ({"backend": {"desired_count": 1.5}}, "backend.desired_count: is 1.5 (a decimal "
                             "number), not a whole number; write a whole number without quotes"),
    "list-for-text": ({"aws": {"region": ["x"]}}, "aws.region: is a list, not text; write text; quote it if it "
                      "looks like a number, date or true/false"),
    "number-for-text": ({"aws": {"region": 5}}, "aws.region: is 5 (a number), not text; write text; quote it if it "
                        "looks like a number, date or true/false"),
    "mapping-for-a-list": ({"network": {"public_subnets": {"a": 1}}},
                           "network.public_subnets: is a mapping, not a list; write a YAML list, e.g. [a, b]"),
    "not-one-of": ({"network": {"mode": "weird"}},
                   "network.mode: 'weird' is not one of: 'enterprise' or 'standard'; use one of them"),
    "below-the-minimum": ({"backend": {"desired_count": -1}}, "backend.desired_count: -1 is below the minimum 0 (ECS "
                          "runs at most 5,000 tasks per service); use a value at least 0"),
    "above-the-maximum": ({"database": {"backup_retention_days": 99}}, "database.backup_retention_days: 99 is above "
                          "the maximum 35 (RDS keeps automated backups 1-35 days); use a value at most 35"),
    "too-many-items": ({"network": {"public_subnets": [f"10.0.{i}.0/24" for i in range(7)]}},
                       "network.public_subnets: has 7 items, more than 6 (one per zone); remove the extra items"),
    "below-a-minimum-without-a-description": ({"uploads": {"noncurrent_version_days": 0}},
                                              "uploads.noncurrent_version_days: 0 is below the minimum 1; use a value "
                                              "at least 1"),
    "required-key-without-a-description": ({"state": {"backend": "s3", "s3": {"bucket": "viberglass-x"}}},
                                           "state.s3.region: required key is missing; add it"),
    "text-too-long": ({"workers": {"image_prefix": "a" * 81}}, "workers.image_prefix: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaa'... (81 characters) (text): string should have at most 80 "
                      "characters; correct the value"),
    "a-check-of-the-schema": ({"workers": {"image_prefix": "UPPER"}}, "workers.image_prefix: 'UPPER' is not an ECR "
                              "repository name (2-256 lower-case letters and digits in words joined by '.', '_', '-', "
                              "namespaces by '/'); write it like viberator-worker-codex"),
    "a-check-of-a-list-item": ({"network": {"public_subnets": ["x"]}},
                               "network.public_subnets[0]: 'x' is not an IPv4 CIDR block; write it like 10.0.0.0/16"),
    "number-in-a-list-of-text": ({"network": {"public_subnets": [1]}}, "network.public_subnets[0]: is 1 (a number), "
                                 "not text; write text; quote it if it looks like a number, date or true/false"),
    "date-for-a-number": ({"backend": {"cpu": datetime.date(2024, 1, 2)}}, "backend.cpu: is 2024-01-02 "
                          "(a date), not a whole number; write a whole number without quotes"),
    "mapping-for-a-number": ({"backend": {"cpu": {"a": 1}}},
                             "backend.cpu: is a mapping, not a whole number; write a whole number without quotes"),
    "list-for-a-number": ({"logs": {"retention_days": []}},
                          "logs.retention_days: is a list, not a whole number; write a whole number without quotes"),
    "text-for-a-boolean": ({"network": {"flow_logs": "yes"}},
                           "network.flow_logs: is 'yes' (text), not true or false; write true or false without quotes"),
    "text-for-a-list": ({"network": {"public_subnets": "10.0.0.0/24"}}, "network.public_subnets: is '10.0.0.0/24' "
                        "(text), not a list; write a YAML list, e.g. [a, b]"),
    "null-for-text": ({"github": {"app_repository": None}}, "github.app_repository: is empty (null), not text; give "
                      "it a value, or remove the key to use the default"),
    "number-for-a-section": ({"workers": 5},
                             "workers: is 5 (a number), not a mapping of settings; indent its keys under it"),
    "number-not-one-of": ({"database": {"performance_insights_retention_days": 8}},
                          "database.performance_insights_retention_days: 8 is not one of: 7, 31, 93, 186, 372 or 731; "
                          "use one of them"),
    "unknown-key-two-levels-down": ({"state": {"backend": "s3", "s3": {"bucket": "viberglass-x", "region": "eu-west-1",
                                                                       "extra": 1}}},
                                    "state.s3.extra: unknown key; remove it or fix the spelling (known keys here: "
                                    "bucket, dynamodb_table, key_prefix, region, use_lockfile)"),
}  # fmt: skip


@pytest.mark.parametrize(("sections", "line"), SCHEMA_REFUSALS.values(), ids=SCHEMA_REFUSALS)
def test_each_kind_of_schema_refusal_is_one_whole_line(sections: dict[str, Any], line: str) -> None:
    assert refused(dev(**sections)) == line


def test_a_missing_required_key_says_what_to_add_and_why() -> None:
    raw = {**DEV, "aws": {}}
    assert refused(raw) == (
        "aws.account_id: required key is missing; add it (the environment's own AWS account, quoted: "
        "`aws sts get-caller-identity` shows it)"
    )


def test_a_value_is_described_by_its_yaml_kind() -> None:
    from config.loader import _kind

    values: list[Any] = [None, {}, [], True, 3, 1.5, "x", datetime.date(2024, 1, 2), b"x"]
    assert [_kind(v) for v in values] == [
        "empty (null)", "a mapping", "a list", "true (true/false)", "3 (a number)", "1.5 (a decimal number)",
        "'x' (text)", "2024-01-02 (a date)", "b'x' (bytes)",
    ]  # fmt: skip


def test_the_schema_field_of_a_key_path_follows_sections_and_list_items() -> None:
    """What a refusal's "why" and "known keys" come from: list indexes are skipped, a path below a plain
    value stays on that value's field, an unknown key has no field."""
    from config.loader import _field
    from config.schema import AwsSettings, EnvironmentConfig, NetworkSettings, S3State

    assert _field(("network", "public_subnets", 0)) is NetworkSettings.model_fields["public_subnets"]
    assert _field(("network",)) is EnvironmentConfig.model_fields["network"]
    assert _field(("aws", "account_id")) is AwsSettings.model_fields["account_id"]
    assert _field(("state", "s3", "bucket")) is S3State.model_fields["bucket"]
    assert _field(("network", "vpc_cidr", "x")) is NetworkSettings.model_fields["vpc_cidr"]
    assert _field(("nope",)) is None
    assert _field(("network", "nope")) is None
    assert _field(()) is None


def test_the_known_keys_of_an_unknown_key_are_its_sections_keys() -> None:
    from config.loader import _known_keys

    assert _known_keys(("x",))[:3] == ["alarms", "aws", "backend"]
    assert _known_keys(("state", "x")) == ["backend", "cloud", "s3"]
    assert _known_keys(("state", "cloud", "x")) == [
        "agent_pool", "execution_mode", "organization", "project", "workspace_prefix"
    ]  # fmt: skip
    assert _known_keys(("nope", "x")) == []
    assert _known_keys(("network", "vpc_cidr", "x")) == []
    assert _known_keys(("aws", "availability_zones", "x")) == []


# -- the size of a document (YAML aliases can make a small file huge) ----------------------------------------

TOO_MANY = (
    "expands to more than 10,000 values (YAML aliases repeat what they point at); write the settings out; a "
    "configuration needs a few hundred values at most"
)


def test_a_document_of_exactly_the_most_values_is_read() -> None:
    """Every mapping, list and scalar counts once: 1 mapping + 1 list + 9,998 strings = 10,000."""
    assert MAX_VALUES == 10_000
    check_document({"a": ["v"] * 9_998})


def test_one_value_more_in_a_mapping_is_refused_however_it_is_spread() -> None:
    for document in ({"a": ["v"] * 9_998, "b": "w"}, {"a": ["v"] * 9_998, "b": "w", "c": "x"}):
        with pytest.raises(ConfigError) as caught:
            check_document(document)
        assert str(caught.value) == TOO_MANY


def test_values_after_a_list_reached_the_most_are_counted_too() -> None:
    with pytest.raises(ConfigError) as caught:
        check_document([["v"] * 9_998, "w", "x"])
    assert str(caught.value) == TOO_MANY


def test_a_peer_file_that_is_not_a_mapping_shares_no_account(tmp_path: Path) -> None:
    """Another environment's file holding a list names no account: it is reported by its own load, not here."""
    (tmp_path / "sandbox.yaml").write_text("tier: development\naws: {account_id: '111122223333'}\n")
    (tmp_path / "broken.yaml").write_text("- tier\n- aws\n")
    (tmp_path / "twin.yaml").write_text("aws: {account_id: '111122223333'}\n")
    cfg = parse(DEV, "sandbox")
    assert account_peers(cfg, tmp_path) == ["twin"]
