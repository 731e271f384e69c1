"""The base stack on the synthesized JSON: network, security groups, key, log groups, outputs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Stacks, SynthFn
from tests.tf import one, outputs, policy, ref, resources, statement, target, where


def test_dev_vpc_has_cidr_and_dns(dev: Stacks) -> None:
    vpc = one(dev["base"], "aws_vpc")
    assert (vpc["cidr_block"], vpc["enable_dns_support"], vpc["enable_dns_hostnames"]) == ("10.0.0.0/16", True, True)


def test_dev_public_subnets_map_public_ips_in_two_zones(dev: Stacks) -> None:
    public = {
        s["cidr_block"]: s["availability_zone"]
        for s in resources(dev["base"], "aws_subnet")
        if s["map_public_ip_on_launch"]
    }
    assert public == {"10.0.1.0/24": "eu-west-1a", "10.0.2.0/24": "eu-west-1b"}


def test_dev_private_subnets_in_two_zones(dev: Stacks) -> None:
    private = {
        s["cidr_block"]: s["availability_zone"]
        for s in resources(dev["base"], "aws_subnet")
        if not s["map_public_ip_on_launch"]
    }
    assert private == {"10.0.10.0/24": "eu-west-1a", "10.0.11.0/24": "eu-west-1b"}


def test_subnets_belong_to_the_vpc(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    vpc = ref(stacks["base"], "aws_vpc")
    assert {s["vpc_id"] for s in resources(stacks["base"], "aws_subnet")} == {vpc}


def test_public_route_table_routes_to_the_internet_gateway(dev: Stacks) -> None:
    base = dev["base"]
    route = one(base, "aws_route", gateway_id=ref(base, "aws_internet_gateway"))
    assert route["destination_cidr_block"] == "0.0.0.0/0"


def test_dev_has_one_nat_gateway_and_one_eip(dev: Stacks) -> None:
    assert (len(resources(dev["base"], "aws_nat_gateway")), len(resources(dev["base"], "aws_eip"))) == (1, 1)


def test_dev_private_routes_share_the_single_nat(dev: Stacks) -> None:
    base = dev["base"]
    nat = ref(base, "aws_nat_gateway")
    private_routes = where(base, "aws_route", lambda r: "nat_gateway_id" in r)
    assert [r["nat_gateway_id"] for r in private_routes] == [nat, nat]


def test_prod_has_a_nat_gateway_and_eip_per_zone(prod: Stacks) -> None:
    assert (len(resources(prod["base"], "aws_nat_gateway")), len(resources(prod["base"], "aws_eip"))) == (2, 2)


def test_prod_has_one_private_route_table_per_zone_each_to_its_own_nat(prod: Stacks) -> None:
    base = prod["base"]
    routes = where(base, "aws_route", lambda r: "nat_gateway_id" in r)
    tables = {r["route_table_id"] for r in routes}
    nats = {r["nat_gateway_id"] for r in routes}
    assert (len(tables), len(nats)) == (2, 2)


def test_nat_gateways_sit_in_public_subnets(prod: Stacks) -> None:
    base = prod["base"]
    for nat in resources(base, "aws_nat_gateway"):
        _, subnet = target(base, nat["subnet_id"])
        assert subnet["map_public_ip_on_launch"] is True


def test_standard_mode_has_no_nat_and_no_eip(synth: SynthFn) -> None:
    base = synth("dev", {"network": {"mode": "standard"}})["base"]
    assert (resources(base, "aws_nat_gateway"), resources(base, "aws_eip")) == ([], [])


def test_standard_mode_private_tables_have_no_default_route(synth: SynthFn) -> None:
    base = synth("dev", {"network": {"mode": "standard"}})["base"]
    assert [r["gateway_id"] for r in resources(base, "aws_route")] == [ref(base, "aws_internet_gateway")]


def test_default_security_group_is_locked_down(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    default = one(stacks["base"], "aws_default_security_group")
    assert not default.get("ingress") and not default.get("egress")


def _group(base: dict[str, Any], suffix: str) -> str:
    (key,) = [k for k, g in base["resource"]["aws_security_group"].items() if g["name"].endswith(suffix)]
    return f"${{aws_security_group.{key}.id}}"


def test_backend_group_admits_the_container_port_from_the_vpc(dev: Stacks) -> None:
    base = dev["base"]
    rule = one(base, "aws_vpc_security_group_ingress_rule", security_group_id=_group(base, "backend-sg"))
    assert (rule["cidr_ipv4"], rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (
        "10.0.0.0/16",
        3000,
        3000,
        "tcp",
    )


def test_rds_group_admits_5432_only_from_the_backend_group(dev: Stacks) -> None:
    base = dev["base"]
    rule = one(base, "aws_vpc_security_group_ingress_rule", security_group_id=_group(base, "rds-sg"))
    assert rule["referenced_security_group_id"] == _group(base, "backend-sg")
    assert (rule["from_port"], rule["to_port"], "cidr_ipv4" in rule) == (5432, 5432, False)


def test_rds_group_has_no_egress(dev: Stacks) -> None:
    base = dev["base"]
    assert resources(base, "aws_vpc_security_group_egress_rule", security_group_id=_group(base, "rds-sg")) == []


def test_worker_group_admits_only_the_backend_group(dev: Stacks) -> None:
    base = dev["base"]
    rules = resources(base, "aws_vpc_security_group_ingress_rule", security_group_id=_group(base, "worker-sg"))
    assert [r["referenced_security_group_id"] for r in rules] == [_group(base, "backend-sg")]


def test_worker_group_allows_all_egress(dev: Stacks) -> None:
    base = dev["base"]
    rule = one(base, "aws_vpc_security_group_egress_rule", security_group_id=_group(base, "worker-sg"))
    assert (rule["ip_protocol"], rule["cidr_ipv4"]) == ("-1", "0.0.0.0/0")


def test_backend_egress_is_stated_port_by_port(dev: Stacks) -> None:
    base = dev["base"]
    rules = resources(base, "aws_vpc_security_group_egress_rule", security_group_id=_group(base, "backend-sg"))
    assert sorted(r["from_port"] for r in rules) == [443, 3000, 5432]


def test_security_group_names_are_per_environment(each_env: tuple[str, Stacks]) -> None:
    env, stacks = each_env
    names = sorted(g["name"] for g in resources(stacks["base"], "aws_security_group"))
    assert names == [f"viberglass-{env}-{n}" for n in ("backend-sg", "rds-sg", "worker-sg")]


def test_flow_logs_only_in_prod(dev: Stacks, prod: Stacks) -> None:
    assert (len(resources(dev["base"], "aws_flow_log")), len(resources(prod["base"], "aws_flow_log"))) == (0, 1)


def test_prod_flow_logs_capture_all_traffic_to_an_encrypted_group(prod: Stacks) -> None:
    base = prod["base"]
    flow = one(base, "aws_flow_log")
    _, group = target(base, flow["log_destination"])
    assert (flow["traffic_type"], group["name"], "kms_key_id" in group) == (
        "ALL",
        "/aws/vpc/viberglass-prod-flow-logs",
        True,
    )


def test_flow_log_role_trusts_only_the_service_for_this_account(prod: Stacks) -> None:
    base = prod["base"]
    role = one(base, "aws_iam_role", name="viberglass-prod-vpc-flow-logs")
    trust = statement(role["assume_role_policy"], "TrustService")
    assert trust["Principal"] == {"Service": "vpc-flow-logs.amazonaws.com"}
    assert list(trust["Condition"]["StringEquals"]) == ["aws:SourceAccount"]


def test_kms_key_rotates(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    assert one(stacks["base"], "aws_kms_key")["enable_key_rotation"] is True


def test_kms_alias_names_the_environment(each_env: tuple[str, Stacks]) -> None:
    env, stacks = each_env
    base = stacks["base"]
    alias = one(base, "aws_kms_alias")
    assert (alias["name"], alias["target_key_id"]) == (
        f"alias/viberglass-{env}-ssm",
        ref(base, "aws_kms_key", "key_id"),
    )


def test_kms_key_policy_lets_cloudwatch_logs_use_it_for_this_environment_only(each_env: tuple[str, Stacks]) -> None:
    env, stacks = each_env
    logs = statement(one(stacks["base"], "aws_kms_key")["policy"], "CloudWatchLogsUses")
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    arn = logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert arn.endswith(f":log-group:*viberglass-{env}-*")


def test_kms_key_policy_grants_no_bare_wildcard_action(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    actions = [a for s in policy(one(stacks["base"], "aws_kms_key")["policy"])["Statement"] for a in s["Action"]]
    assert "kms:*" not in actions and "*" not in actions


def test_prod_kms_key_cannot_be_destroyed(prod: Stacks, dev: Stacks) -> None:
    assert one(prod["base"], "aws_kms_key")["lifecycle"] == {"prevent_destroy": True}
    assert "lifecycle" not in one(dev["base"], "aws_kms_key")


@pytest.mark.parametrize("name", ["/ecs/viberglass-{env}-worker", "/ecs/viberglass-{env}-backend"])
def test_log_groups_have_retention_and_the_key(each_env: tuple[str, Stacks], name: str) -> None:
    env, stacks = each_env
    base = stacks["base"]
    group = one(base, "aws_cloudwatch_log_group", name=name.format(env=env))
    expected = {"dev": 7, "prod": 90}[env]
    assert (group["retention_in_days"], group["kms_key_id"]) == (expected, ref(base, "aws_kms_key", "arn"))


def test_outputs_cover_network_groups_key_and_logs(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    expected = {
        "vpc_id",
        "public_subnet_ids",
        "private_subnet_ids",
        "backend_security_group_id",
        "rds_security_group_id",
        "worker_security_group_id",
        "kms_key_arn",
        "kms_alias_name",
        "ecs_worker_log_group_name",
        "backend_log_group_name",
    }
    assert expected <= set(outputs(stacks["base"]))


def test_provider_sets_region_and_default_tags(each_env: tuple[str, Stacks]) -> None:
    env, stacks = each_env
    (provider,) = stacks["base"]["provider"]["aws"]
    assert provider["region"] == "eu-west-1"
    assert provider["default_tags"] == [
        {"tags": {"Project": "viberglass", "Environment": env, "ManagedBy": "terraform"}}
    ]


def test_every_provider_allows_only_the_configured_account(dev: Stacks, prod: Stacks) -> None:
    """One account per environment: Terraform refuses credentials of any other account (aws.account_id is
    required), in every stack and every provider alias (prod's us-east-1 certificate provider too)."""
    for stacks, account in ((dev, "111122223333"), (prod, "444455556666")):
        providers = [p for name, s in stacks.items() if name != "manifest" for p in s["provider"]["aws"]]
        assert len(providers) >= 3
        assert {tuple(p["allowed_account_ids"]) for p in providers} == {(account,)}
