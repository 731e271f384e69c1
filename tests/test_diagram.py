"""The architecture picture is drawn from the synthesized stacks, and the committed one is current."""

from __future__ import annotations

from typing import Any

from ops import diagram
from tests.conftest import ROOT, Stacks


def _stacks(stacks: Stacks) -> dict[str, Any]:
    return {name: doc for name, doc in stacks.items() if name != "manifest"}


def test_committed_diagram_source_is_what_the_command_draws_for_dev(dev: Stacks) -> None:
    """Regenerate with `make diagram` when this fails: the picture must follow the stacks."""
    source = diagram.to_dot(diagram.build(_stacks(dev)), "Viberglass infrastructure (dev)")
    assert (ROOT / "docs" / "architecture.dot").read_text() == source
    assert (ROOT / "docs" / "architecture.png").stat().st_size > 10_000
    assert (ROOT / "docs" / "architecture.svg").read_text().lstrip().startswith("<?xml")


def test_every_main_resource_type_is_drawn(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    graph = diagram.build(_stacks(stacks))
    assert diagram.missing_types(_stacks(stacks), graph) == []
    assert {"aws_vpc", "aws_alb", "aws_ecs_service", "aws_db_instance", "aws_s3_bucket", "aws_amplify_app",
            "aws_ecr_repository", "aws_kms_key", "aws_ssm_parameter", "aws_iam_role"} <= graph.types  # fmt: skip


def test_a_new_kind_of_component_fails_the_check(dev: Stacks) -> None:
    stacks = _stacks(dev)
    stacks["platform"] = {**stacks["platform"], "resource": {**stacks["platform"]["resource"],
                          "aws_lambda_function": {"fn": {"function_name": "x"}}}}  # fmt: skip
    assert diagram.missing_types(stacks, diagram.build(stacks)) == ["aws_lambda_function"]


def test_security_group_rules_are_edges(dev: Stacks) -> None:
    edges = diagram.build(_stacks(dev)).edges
    labelled = {(a.split("_")[0], b, label) for a, b, label, style in edges if style == "bold"}
    assert any(label == "tcp/5432" and "rds" in b for _, b, label in labelled)
    assert any(label == "tcp/3000" and "backend" in b for _, b, label in labelled)


def test_iam_grants_are_edges(dev: Stacks) -> None:
    graph = diagram.build(_stacks(dev))
    grants = {(a, b) for a, b, _, style in graph.edges if style == "dashed"}
    assert any("task_role" in a and a.startswith("platform_") and "aws_s3_bucket" in b for a, b in grants)


def test_cross_stack_values_are_edges(dev: Stacks) -> None:
    graph = diagram.build(_stacks(dev))
    assert any(a.startswith("platform_") and b.startswith("base_") for a, b, _, s in graph.edges if s == "dotted")


def test_repetitive_resources_are_grouped(dev: Stacks) -> None:
    graph = diagram.build(_stacks(dev))
    assert 'label="ECR worker repositories (12)"' in graph.nodes["workers_worker_repositories"]
    assert "(2)" in graph.nodes["base_private_subnets"]
