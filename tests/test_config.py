"""Good configuration: shipped files, tier defaults, derived values."""

from __future__ import annotations

import pytest

import config
from config.defaults import merge
from tests.conftest import raw_config


def test_shipped_environments_are_dev_and_prod() -> None:
    assert config.available_environments() == ["dev", "prod"]


def test_dev_defaults() -> None:
    cfg = config.load("dev")
    assert (cfg.tier, cfg.network.single_nat_gateway, cfg.network.flow_logs, cfg.logs.retention_days) == (
        "development",
        True,
        False,
        7,
    )


def test_prod_is_production_with_prod_sizes() -> None:
    cfg = config.load("prod")
    assert (cfg.production, cfg.backend.cpu, cfg.backend.memory) == (True, 512, 1024)
    assert (cfg.database.multi_az, cfg.database.backup_retention_days, cfg.database.deletion_protection) == (
        True,
        30,
        True,
    )


def test_default_environment_is_dev(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VIBERGLASS_ENV", raising=False)
    assert config.load().name == "dev"


def test_viberglass_env_selects_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBERGLASS_ENV", "prod")
    assert config.load().name == "prod"


def test_a_file_states_only_what_it_changes() -> None:
    """Tier defaults fill in what a minimal file leaves out."""
    minimal = {"state": raw_config("dev")["state"]}
    cfg = config.parse(minimal, "staging")
    assert (cfg.tier, cfg.backend.cpu, cfg.database.instance_class) == ("development", 256, "db.t4g.micro")


def test_prod_tier_defaults_apply_to_other_names_set_to_production() -> None:
    overrides = {"tier": "production", "domains": {"api_domain": "api.example.com", "route53_zone_id": "Z123"}}
    cfg = config.parse(merge({"state": raw_config("dev")["state"]}, overrides), "live")
    assert (cfg.database.deletion_protection, cfg.logs.retention_days) == (True, 90)


def test_listed_zones_are_used() -> None:
    raw = merge(raw_config("dev"), {"aws": {"availability_zones": ["eu-west-1b", "eu-west-1c"]}})
    assert config.parse(raw, "dev").availability_zones == ["eu-west-1b", "eu-west-1c"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_backend_runs_one_task_by_default_in_every_tier(env: str) -> None:
    """The application's scheduler, sweepers and session presence are per task (BackendSettings)."""
    backend = config.load(env).backend
    assert (backend.desired_count, backend.min_count, backend.max_count) == (1, 1, 1)
    minimal = config.parse({"state": raw_config("dev")["state"], "tier": "production",
                            "domains": {"api_domain": "api.example.com", "route53_zone_id": "Z1"}}, "live")  # fmt: skip
    assert (minimal.backend.desired_count, minimal.backend.max_count) == (1, 1)


def test_worker_image_prefix_defaults_to_the_environment_name() -> None:
    cfg = config.parse({"state": raw_config("dev")["state"]}, "staging")
    assert cfg.worker_image_prefix == "staging"
    assert config.load("prod").worker_image_prefix == "prod"


def test_postgresql_16_by_default() -> None:
    assert config.load("prod").database.engine_version == "16"
