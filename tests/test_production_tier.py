"""Production is a property of the file (``tier: production``), not of its name: a copy of prod.yaml under
another name synthesizes with every production protection, and the security gate holds it to them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.loader import parse
from policy import rules as policy_rules
from tests.conftest import Stacks, raw_config
from tests.tf import items, one, resources

COPY = "prod-eu"
# Resource types that hold state: each must carry prevent_destroy in production.
STATEFUL = ("aws_db_instance", "aws_s3_bucket", "aws_kms_key", "aws_ecr_repository")


@pytest.fixture(scope="session")
def prod_copy(tmp_path_factory: pytest.TempPathFactory) -> Stacks:
    """config/prod.yaml, unchanged, synthesized as environment ``prod-eu``."""
    from stacks import build_app

    out = tmp_path_factory.mktemp("synth-prod-copy")
    build_app(parse(raw_config("prod"), COPY), outdir=str(out)).synth()
    return {p.parent.name: json.loads(p.read_text()) for p in (out / "stacks").glob("*/cdk.tf.json")}


def _protected(stacks: Stacks) -> dict[str, int]:
    """Resource type -> how many resources of it carry prevent_destroy."""
    counts: dict[str, int] = {}
    for stack in stacks.values():
        for rtype in STATEFUL:
            for _, body in items(stack, rtype):
                if body.get("lifecycle", {}).get("prevent_destroy"):
                    counts[rtype] = counts.get(rtype, 0) + 1
    return counts


def _all(stacks: Stacks, rtype: str) -> list[dict[str, Any]]:
    return [body for stack in stacks.values() for _, body in items(stack, rtype)]


def test_the_copy_protects_every_stateful_resource_like_prod(prod_copy: Stacks, prod: Stacks) -> None:
    assert _protected(prod_copy) == _protected(prod)
    assert set(_protected(prod_copy)) == set(STATEFUL)
    for rtype in STATEFUL:
        assert all(body.get("lifecycle", {}).get("prevent_destroy") for body in _all(prod_copy, rtype)), rtype


def test_the_copy_keeps_its_logs_on_destroy(prod_copy: Stacks) -> None:
    groups = _all(prod_copy, "aws_cloudwatch_log_group")
    assert groups and all(body.get("skip_destroy") for body in groups)


def test_the_copy_has_a_protected_multi_az_database_with_backups(prod_copy: Stacks) -> None:
    db = one(prod_copy["platform"], "aws_db_instance")
    assert (db["multi_az"], db["deletion_protection"], db["skip_final_snapshot"]) == (True, True, False)
    assert db["backup_retention_period"] >= 7
    assert db["final_snapshot_identifier"].startswith(f"viberglass-{COPY}-")


def test_the_copy_has_flow_logs_and_one_nat_gateway_per_zone(prod_copy: Stacks) -> None:
    base = prod_copy["base"]
    assert len(resources(base, "aws_flow_log")) == 1
    zones = {body["availability_zone"] for _, body in items(base, "aws_subnet")}
    assert len(resources(base, "aws_nat_gateway")) == len(zones) == 2


def test_the_copy_versions_uploads(prod_copy: Stacks) -> None:
    versioning = resources(prod_copy["platform"], "aws_s3_bucket_versioning")
    statuses = [v["versioning_configuration"]["status"] for v in versioning]
    assert statuses and set(statuses) == {"Enabled"}


def test_the_security_gate_holds_the_copy_to_production(prod_copy: Stacks) -> None:
    assert policy_rules.is_production(COPY)  # no config/prod-eu.yaml: the stricter rules apply
    assert policy_rules.production_state_is_protected(prod_copy, COPY) == []


def test_the_security_gate_follows_the_tier_not_the_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "live.yaml").write_text(yaml.safe_dump(raw_config("prod")))
    (tmp_path / "scratch.yaml").write_text(yaml.safe_dump(raw_config("dev")))
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path))
    assert (policy_rules.is_production("live"), policy_rules.is_production("scratch")) == (True, False)
    unprotected = {"platform": {"resource": {"aws_s3_bucket": {"uploads": {"bucket": "x"}}}}}
    assert policy_rules.production_state_is_protected(unprotected, "live") != []
    assert policy_rules.production_state_is_protected(unprotected, "scratch") == []
