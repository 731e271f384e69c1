"""Good configuration: shipped files, tier defaults, derived values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import config
from config.defaults import merge
from config.loader import account_peers
from core import aws_limits
from tests.conftest import ROOT, raw_config


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
    minimal = {"tier": "development", "aws": {"account_id": "111122223333"}, "state": raw_config("dev")["state"]}
    cfg = config.parse(minimal, "staging")
    assert (cfg.tier, cfg.backend.cpu, cfg.database.instance_class) == ("development", 256, "db.t4g.micro")


def test_prod_tier_defaults_apply_to_other_names_set_to_production() -> None:
    overrides = {"tier": "production", "domains": {"api_domain": "api.example.com", "route53_zone_id": "Z123"}}
    cfg = config.parse(merge({"state": raw_config("dev")["state"], "aws": {"account_id": "444455556666"}}, overrides),
                       "live")  # fmt: skip
    assert (cfg.database.deletion_protection, cfg.logs.retention_days) == (True, 90)


def test_shipped_files_name_their_tier() -> None:
    assert (raw_config("dev")["tier"], raw_config("prod")["tier"]) == ("development", "production")


@pytest.mark.parametrize("name", ["prod-eu", "eu-west", "live", "staging-2"])
def test_a_copy_of_prod_under_any_name_is_production(name: str) -> None:
    """The tier travels with the file: renaming or copying prod.yaml cannot drop production."""
    cfg = config.parse(raw_config("prod"), name)
    assert cfg.production
    assert (cfg.database.multi_az, cfg.database.deletion_protection, cfg.database.final_snapshot) == (True, True, True)
    assert (cfg.network.flow_logs, cfg.network.single_nat_gateway, cfg.uploads.versioning) == (True, False, True)


@pytest.mark.parametrize("name", ["prod", "production", "prod-eu", "eu-prod", "us-production-2"])
def test_a_name_that_says_production_cannot_be_development(name: str) -> None:
    with pytest.raises(config.ConfigError, match=r"^tier: is development but the environment is named"):
        config.parse(raw_config("dev"), name)


@pytest.mark.parametrize("name", ["products", "reprod", "dev-productive"])
def test_only_whole_words_prod_and_production_say_production(name: str) -> None:
    assert config.parse(raw_config("dev"), name).tier == "development"


def test_regions_come_from_the_sdk_endpoint_data() -> None:
    """botocore's partitions.json: every partition, no `*-global` endpoint aliases, no network."""
    regions = aws_limits.regions()
    assert {"eu-west-1", "us-east-1", "cn-north-1", "us-gov-west-1", "ap-southeast-7"} <= regions
    assert not {"aws-global", "zz-nowhere-9", "banana"} & regions


def test_validating_a_configuration_does_not_import_botocore() -> None:
    """The synth path reads the SDK's region list as a data file; importing botocore would cost ~80 ms."""
    code = "import sys, config; config.load('dev'); print(sorted(m for m in sys.modules if m.startswith('botocore')))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_listed_zones_are_used() -> None:
    raw = merge(raw_config("dev"), {"aws": {"availability_zones": ["eu-west-1b", "eu-west-1c"]}})
    assert config.parse(raw, "dev").availability_zones == ["eu-west-1b", "eu-west-1c"]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_backend_runs_one_task_by_default_in_every_tier(env: str) -> None:
    """The application's scheduler, sweepers and session presence are per task (BackendSettings)."""
    backend = config.load(env).backend
    assert (backend.desired_count, backend.min_count, backend.max_count) == (1, 1, 1)
    minimal = config.parse({"state": raw_config("dev")["state"], "tier": "production", "aws": raw_config("prod")["aws"],
                            "domains": {"api_domain": "api.example.com", "route53_zone_id": "Z1"}}, "live")  # fmt: skip
    assert (minimal.backend.desired_count, minimal.backend.max_count) == (1, 1)


def test_worker_image_prefix_defaults_to_the_environment_name() -> None:
    cfg = config.parse({"tier": "development", "aws": raw_config("dev")["aws"], "state": raw_config("dev")["state"]},
                       "staging")  # fmt: skip
    assert cfg.worker_image_prefix == "staging"
    assert config.load("prod").worker_image_prefix == "prod"


def test_postgresql_16_by_default() -> None:
    assert config.load("prod").database.engine_version == "16"


# -- one AWS account per environment ---------------------------------------------------------------------------


def _folder(tmp_path: Path, files: dict[str, dict[str, Any]]) -> Path:
    for env, overrides in files.items():
        base = "prod" if env.startswith("prod") else "dev"
        (tmp_path / f"{env}.yaml").write_text(yaml.safe_dump(merge(raw_config(base), overrides)))
    return tmp_path


def test_shipped_environments_have_accounts_of_their_own() -> None:
    dev, prod = config.load("dev"), config.load("prod")
    assert dev.aws.account_id != prod.aws.account_id
    assert not dev.aws.shared_account and not prod.aws.shared_account
    assert account_peers(dev) == account_peers(prod) == []


def test_two_environments_in_one_account_are_refused_without_shared_account(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"dev": {}, "qa": {}})  # qa is a copy of dev: the same account
    with pytest.raises(config.ConfigError) as error:
        config.load("dev", folder)
    assert str(error.value) == (
        f"{folder / 'dev.yaml'}: aws.account_id: 111122223333 is also the account of qa (qa.yaml); environments "
        "get an account each by default; give dev its own account, or set aws.shared_account: true in dev.yaml "
        "and qa.yaml (docs/security.md lists what a shared account mixes)"
    )


def test_a_shared_account_must_be_said_in_every_file_naming_it(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"dev": {"aws": {"shared_account": True}}, "qa": {}})
    for env in ("dev", "qa"):
        with pytest.raises(config.ConfigError, match=r"set aws\.shared_account: true in qa\.yaml \("):
            config.load(env, folder)


def test_a_shared_account_said_everywhere_loads(tmp_path: Path) -> None:
    shared = {"aws": {"shared_account": True}}
    folder = _folder(tmp_path, {"dev": shared, "qa": shared, "prod": {}})
    assert config.load("dev", folder).aws.shared_account
    assert account_peers(config.load("qa", folder), folder) == ["dev"]
    assert account_peers(config.load("prod", folder), folder) == []
