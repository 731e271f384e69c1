"""What the synthesized stacks must do whatever the diagram golden says: each test reads the Terraform JSON
for one behaviour that a one-line slip would break (docs/testing.md lists the mutations they catch)."""

from __future__ import annotations

import pytest

from tests.conftest import Stacks
from tests.tf import items, one, resolve, statement

Env = tuple[str, Stacks]


def test_every_bucket_refuses_plain_http_for_the_bucket_and_each_object(each_env: Env) -> None:
    """aws:SecureTransport false is denied on the bucket ARN *and* on ``<bucket ARN>/*``: object reads and
    writes are what a TLS-only policy exists for."""
    _, stacks = each_env
    policies = [(name, body) for name, stack in stacks.items() for _, body in items(stack, "aws_s3_bucket_policy")]
    assert len(policies) >= 2  # the uploads and the load balancer's access logs at least
    for name, body in policies:
        bucket_arn = body["bucket"].removesuffix(".id}") + ".arn}"
        assert bucket_arn.startswith("${aws_s3_bucket."), (name, body["bucket"])
        deny = statement(body["policy"], "DenyInsecureTransport")
        assert (deny["Effect"], deny["Action"], deny["Principal"]) == ("Deny", ["s3:*"], {"AWS": "*"})
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert sorted(deny["Resource"]) == [bucket_arn, f"{bucket_arn}/*"]


def test_the_production_load_balancer_cannot_be_deleted_by_api(prod: Stacks, dev: Stacks) -> None:
    assert one(prod["platform"], "aws_alb")["enable_deletion_protection"] is True
    assert one(dev["platform"], "aws_alb")["enable_deletion_protection"] is False


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_backend_service_runs_in_the_private_subnets_in_enterprise_mode(
    env: str, dev: Stacks, prod: Stacks
) -> None:
    stacks = {"dev": dev, "prod": prod}[env]
    network = one(stacks["platform"], "aws_ecs_service")["network_configuration"]
    subnets = [resolve(stacks, "platform", s) for s in network["subnets"]]
    assert [rtype for rtype, _ in subnets] == ["aws_subnet", "aws_subnet"]
    private = sorted(body["cidr_block"] for _, body in items(stacks["base"], "aws_subnet")
                     if body["map_public_ip_on_launch"] is False)  # fmt: skip
    assert sorted(body["cidr_block"] for _, body in subnets) == private
    assert all(body["map_public_ip_on_launch"] is False for _, body in subnets)
    assert network["assign_public_ip"] is False
