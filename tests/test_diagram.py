"""The architecture pictures are drawn from the synthesized stacks, and the committed ones are current."""

from __future__ import annotations

import copy
import importlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from ops import architecture, diagram
from ops.__main__ import main
from tests.conftest import ROOT, Stacks, SynthFn
from tests.test_hcp_stack import CLOUD

TITLE = "Viberglass infrastructure (prod)"


def _stacks(stacks: Stacks) -> dict[str, Any]:
    return {name: copy.deepcopy(doc) for name, doc in stacks.items() if name != "manifest"}


def _node(picture: architecture.Picture, rtype: str, name: str = "") -> str:
    found = [n.id for n in picture.nodes.values() if rtype in n.types and name in n.label]
    assert len(found) == 1, (rtype, name, found)
    return found[0]


def _actor(picture: architecture.Picture, label: str) -> str:
    return next(n.id for n in picture.nodes.values() if n.tier == "actor" and n.label == label)


def _edges(picture: architecture.Picture) -> set[tuple[str, str]]:
    return {(e.source, e.target) for e in picture.edges}


def _overview(stacks: dict[str, Any]) -> architecture.Picture:
    return architecture.pictures(stacks, "t")["overview"]


def test_committed_pictures_are_what_make_diagram_draws(prod: Stacks) -> None:
    """Regenerate with `make diagram` when this fails: the pictures must follow the stacks."""
    drawn = architecture.pictures(_stacks(prod), TITLE)
    committed = {p.name.removeprefix("architecture-").removesuffix(".dot") for p in (ROOT / "docs").glob("*.dot")}
    assert committed == set(drawn) == {"overview", "base", "workers", "platform"}
    for name, picture in drawn.items():
        stem = ROOT / "docs" / f"architecture-{name}"
        legend = "overview" if name == "overview" else "stack"
        assert stem.with_suffix(".dot").read_text() == diagram.to_dot(picture, legend), name
        assert stem.with_suffix(".png").stat().st_size > 50_000
        svg = stem.with_suffix(".svg").read_text()
        assert svg.lstrip().startswith("<?xml") and "data:image/png;base64," in svg
        assert 'href="resources/' not in svg and 'href="/' not in svg, "icons must be embedded, not linked"


def test_dot_sources_are_portable_and_use_icons(prod: Stacks) -> None:
    source = diagram.to_dot(_overview(_stacks(prod)), "overview")
    assert str(diagram.resources_root()) not in source
    assert 'image="resources/aws/network/elb-application-load-balancer.png"' in source
    assert 'image="resources/aws/compute/elastic-container-service-service.png"' in source


def test_every_main_resource_type_is_drawn(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    drawn = architecture.pictures(_stacks(stacks), "t")
    assert architecture.missing_types(_stacks(stacks), drawn) == []
    types = {t for p in drawn.values() for t in p.types}
    assert {"aws_vpc", "aws_alb", "aws_ecs_service", "aws_db_instance", "aws_s3_bucket", "aws_amplify_app",
            "aws_ecs_cluster", "aws_kms_key", "aws_ssm_parameter", "aws_iam_role",
            "aws_security_group"} <= types  # fmt: skip


def test_the_overview_stays_within_its_edge_budget(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    picture = _overview(_stacks(stacks))
    assert 10 <= len(picture.edges) <= architecture.OVERVIEW_EDGE_BUDGET == 40
    assert {e.style for e in picture.edges} <= {"solid", "dashed"}, "grants, cross-stack values: stack pictures"


def test_the_overview_draws_the_request_path_in_order(prod: Stacks) -> None:
    picture = _overview(_stacks(prod))
    path = [
        _actor(picture, "Users"),
        _node(picture, "aws_route53_record"),
        _node(picture, "aws_alb"),
        _node(picture, "aws_ecs_service"),
        _node(picture, "aws_db_instance"),
    ]
    assert all(step in _edges(picture) for step in itertools.pairwise(path))
    backend = path[3]
    # Its SSM secrets are not Terraform resources (ops secrets init creates them): no edge to them.
    assert (backend, _node(picture, "aws_s3_bucket", "uploads")) in _edges(picture)
    assert (path[1], _node(picture, "aws_amplify_app")) in _edges(picture)
    assert sum(1 for s, _ in _edges(picture) if s == path[0]) == 1, "users go through DNS only"


def test_without_a_domain_users_reach_cloudfront_in_front_of_the_load_balancer_and_amplify(dev: Stacks) -> None:
    picture = _overview(_stacks(dev))
    users = _actor(picture, "Users")
    cloudfront = _node(picture, "aws_cloudfront_distribution")
    assert {t for s, t in _edges(picture) if s == users} == {cloudfront, _node(picture, "aws_amplify_app")}
    assert (cloudfront, _node(picture, "aws_alb")) in _edges(picture)


def test_the_overview_shows_workers_started_by_the_backend(dev: Stacks) -> None:
    picture = _overview(_stacks(dev))
    backend = _node(picture, "aws_ecs_service")
    cluster = _node(picture, "aws_ecs_cluster", "workers")
    lambdas = next(n.id for n in picture.nodes.values() if n.label.startswith("Lambda functions"))
    assert {(backend, cluster), (backend, lambdas)} <= _edges(picture)
    assert picture.nodes[cluster].cluster == picture.nodes[lambdas].cluster == "workers"
    assert (cluster, _node(picture, "aws_ecr_repository", "(12)")) in _edges(picture)


def test_github_actions_assume_their_role_in_the_overview(prod: Stacks) -> None:
    picture = _overview(_stacks(prod))
    role = _node(picture, "aws_iam_role", "frontend-deploy")
    github = _actor(picture, "GitHub Actions")
    assert [e.style for e in picture.edges if (e.source, e.target) == (github, role)] == ["dashed"]
    assert (role, _node(picture, "aws_amplify_app")) in _edges(picture)
    assert "HCP Terraform" not in {n.label for n in picture.nodes.values()}


def test_an_hcp_stack_draws_hcp_terraform_assuming_its_roles(prod: Stacks) -> None:
    trust = {"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity",
                            "Principal": {"Federated": "${aws_iam_openid_connect_provider.hcp.arn}"}}]}  # fmt: skip
    stacks = _stacks(prod)
    stacks["hcp"] = {
        "resource": {
            "aws_iam_openid_connect_provider": {"hcp": {"url": "https://app.terraform.io"}},
            "aws_iam_role": {"plan": {"name": "viberglass-prod-hcp-plan", "assume_role_policy": json.dumps(trust)}},
            "tfe_workspace": {
                "base": {"name": "viberglass-prod-base"},
                "platform": {"name": "viberglass-prod-platform"},
            },
        }
    }
    drawn = architecture.pictures(stacks, "t")
    picture = drawn["overview"]
    role = _node(picture, "aws_iam_role", "hcp-plan")
    assert picture.nodes[role].cluster == "hcp"
    assert (_actor(picture, "HCP Terraform"), role) in _edges(picture)
    assert picture.nodes[_node(picture, "tfe_workspace")].label == "HCP Terraform workspaces (2)"
    assert architecture.missing_types(stacks, drawn) == []


def test_cloudfront_in_front_of_the_load_balancer_joins_the_request_path(prod: Stacks) -> None:
    stacks = _stacks(prod)
    platform = stacks["platform"]["resource"]
    alb = next(iter(platform["aws_alb"]))
    platform["aws_cloudfront_distribution"] = {
        "cdn": {"origin": [{"domain_name": f"${{aws_alb.{alb}.dns_name}}", "origin_id": "api"}]}
    }
    for record in platform["aws_route53_record"].values():
        if "alias" in record:
            record["alias"]["name"] = "${aws_cloudfront_distribution.cdn.domain_name}"
            record["alias"]["zone_id"] = "${aws_cloudfront_distribution.cdn.hosted_zone_id}"
    picture = _overview(stacks)
    path = [
        _node(picture, t) for t in ("aws_route53_record", "aws_cloudfront_distribution", "aws_alb", "aws_ecs_service")
    ]
    assert all(step in _edges(picture) for step in itertools.pairwise(path))
    assert (path[0], path[2]) not in _edges(picture)


def test_new_kinds_of_component_are_drawn_and_connected(dev: Stacks) -> None:
    """Step Functions, EventBridge, Secrets Manager and Lambda appear with their connections when a stack has them."""
    stacks = _stacks(dev)
    workers = stacks["workers"]["resource"]
    workers["aws_sfn_state_machine"] = {"flow": {"name": "viberglass-dev-flow"}}
    workers["aws_cloudwatch_event_rule"] = {"nightly": {"name": "viberglass-dev-nightly"}}
    workers["aws_cloudwatch_event_target"] = {
        "t": {"rule": "${aws_cloudwatch_event_rule.nightly.name}", "arn": "${aws_sfn_state_machine.flow.arn}"}
    }
    workers["aws_secretsmanager_secret"] = {"s": {"name": "viberglass-dev-token"}}
    workers["aws_lambda_function"] = {
        "fn": {"function_name": "viberglass-dev-fn", "environment": {"variables": {
            "SECRET": "${aws_secretsmanager_secret.s.arn}"}}}}  # fmt: skip
    drawn = architecture.pictures(stacks, "t")
    assert architecture.missing_types(stacks, drawn) == []
    picture = drawn["overview"]
    rule, machine = (
        _node(picture, "aws_cloudwatch_event_rule", "nightly"),
        _node(picture, "aws_sfn_state_machine", "flow"),
    )
    assert (rule, machine) in _edges(picture)
    assert (_node(picture, "aws_lambda_function"), _node(picture, "aws_secretsmanager_secret")) in _edges(picture)
    assert [e.label for e in drawn["workers"].edges if "nightly" in e.source] == ["triggers"]


def test_an_unclassified_resource_type_fails_the_check_loudly(
    dev: Stacks, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = _stacks(dev)
    stacks["platform"]["resource"]["aws_lambda_layer_version"] = {"layer": {"layer_name": "x"}}
    for name, doc in stacks.items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc))
    assert main(["diagram", "--synth-dir", str(tmp_path), "--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: resource types the pictures do not know: aws_lambda_layer_version;")
    assert "ops/architecture.py" in err


def test_an_overview_over_budget_fails_the_check(
    dev: Stacks, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, doc in _stacks(dev).items():
        (tmp_path / "stacks" / name).mkdir(parents=True)
        (tmp_path / "stacks" / name / "cdk.tf.json").write_text(json.dumps(doc))
    monkeypatch.setattr(architecture, "OVERVIEW_EDGE_BUDGET", 5)
    assert main(["diagram", "--synth-dir", str(tmp_path), "--check"]) == 1
    assert "more than 5" in capsys.readouterr().err


def test_every_icon_of_the_tables_exists_in_the_diagrams_package() -> None:
    icons = {k.icon for k in architecture.KINDS.values()} | {i for _, i in architecture.ACTORS.values()}
    icons |= {k.icon for k in architecture.SERVICE_ROLES.values()} | {"aws.network.PublicSubnet"}
    for icon in sorted(icons):
        module, _, name = icon.rpartition(".")
        cls = getattr(importlib.import_module(f"diagrams.{module}"), name)
        assert (diagram.resources_root() / cls._icon_dir / cls._icon).is_file(), icon


def test_the_tables_do_not_overlap() -> None:
    tables = [set(architecture.KINDS), set(architecture.GLUE) - set(architecture.ALIASES), architecture.DETAIL,
              architecture.SG_RULES, architecture.POLICIES]  # fmt: skip
    assert sum(len(t) for t in tables) == len(set().union(*tables))
    assert {k.tier for k in architecture.KINDS.values()} <= set(architecture.TIERS)


def test_stack_pictures_keep_grants_rules_and_cross_stack_values(dev: Stacks) -> None:
    drawn = architecture.pictures(_stacks(dev), "t")
    base, platform = drawn["base"], drawn["platform"]
    rules = {(base.nodes[e.target].label, e.label) for e in base.edges if e.style == "bold"}
    assert ("security group\nrds-sg", "tcp/5432") in rules
    task_role = _node(platform, "aws_iam_role", "backend-task")
    uploads = _node(platform, "aws_s3_bucket", "uploads")
    assert any((e.source, e.target, e.style) == (task_role, uploads, "dashed") for e in platform.edges)
    crossing = [e for e in platform.edges if e.style == "dotted"]
    assert crossing and all(platform.nodes[e.target].cluster != "platform" for e in crossing)


def test_repetitive_resources_are_grouped(dev: Stacks) -> None:
    drawn = architecture.pictures(_stacks(dev), "t")
    assert "ECR (12)" in {n.label for n in drawn["workers"].nodes.values()}
    assert {"private subnets (2)", "public subnets (2)"} <= {n.label for n in drawn["base"].nodes.values()}
    parameters = sum(len(doc.get("resource", {}).get("aws_ssm_parameter", {})) for doc in _stacks(dev).values())
    assert f"SSM parameters ({parameters})" in {n.label for n in drawn["overview"].nodes.values()}


def test_svg_icons_are_embedded(tmp_path: Path) -> None:
    icon = "resources/aws/network/vpc.png"
    svg = f'<svg><image xlink:href="{icon}" width="1"/><image xlink:href="{icon}"/></svg>'
    embedded = diagram.embed_images(svg, diagram.resources_root())
    assert embedded.count('xlink:href="data:image/png;base64,iVBOR') == 2
    assert icon not in embedded


def test_the_synthesized_hcp_stack_is_drawn(synth: SynthFn) -> None:
    """Every type the real hcp stack synthesizes is classified; HCP Terraform assumes both run roles."""
    stacks = _stacks(synth("dev", CLOUD))
    drawn = architecture.pictures(stacks, "t")
    assert architecture.missing_types(stacks, drawn) == []
    picture = drawn["overview"]
    for phase in ("plan", "apply"):
        assert (_actor(picture, "HCP Terraform"), _node(picture, "aws_iam_role", f"hcp-{phase}")) in _edges(picture)
