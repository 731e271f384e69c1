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
    overrides = {"tier": "production", "domains": {"api_domain": "api.example.com", "route53_zone_id": "Z123"},
                 "github": {"app_deploy_workflow_ref": "refs/heads/main"}}  # fmt: skip
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
                            "domains": {"api_domain": "api.example.com", "route53_zone_id": "Z1"},
                            "github": raw_config("prod")["github"]}, "live")  # fmt: skip
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


# -- what the loader says about a file it refuses, whole (config/loader.py) ------------------------------------

SECRET_FIX = (
    "remove it from the file: no secret belongs in the configuration (the database password is "
    "RDS-managed, the backend's secrets are SSM parameters: `.venv/bin/viberglass-ops secrets --help`)"
)
TIER_MISSING = (
    "tier: is missing; every file says which tier it is, so a renamed or copied file keeps its "
    "protections; add tier: production (protected, production minimums enforced) or tier: development"
)
# Each file is config/case.yaml; the message names it relative to the working directory.
REFUSED_FILES: dict[str, tuple[str | bytes, str]] = {
    "nested-too-deep": ("tier: development\nnetwork: " + "[" * 20 + "]" * 20 + "\n",
                        "line 2: values are nested more than 20 levels deep; a configuration is a few levels deep; "
                        "look for unclosed brackets or runaway indentation"),
    "nested-20-levels-is-read": ("tier: development\nnetwork: " + "[" * 19 + "]" * 19 + "\n",
                                 "aws: required key is missing; add it"),
    # the depth is counted back down as each value ends: a sibling before a deep list does not hide its depth
    "nested-too-deep-after-a-sibling": ("tier: development\nnetwork: [[x], " + "[" * 19 + "]" * 19 + "]\n",
                                        "line 2: values are nested more than 20 levels deep; a configuration is a "
                                        "few levels deep; look for unclosed brackets or runaway indentation"),
    "duplicate-key": ("tier: development\ntier: development\n", "line 2: invalid YAML: duplicate key 'tier'; fix the "
                      "syntax"),
    "list-as-a-key": ("tier: development\n? [a, b]\n: x\n",
                      "line 2: invalid YAML: a list or mapping used as a key; fix the syntax"),
    "unclosed-list": ("a: [\n", "line 2: invalid YAML: expected the node content, but found '<stream end>'; fix the "
                      "syntax"),
    "control-character": ("tier: development\na: \x07\n", "line 2: invalid YAML: special characters are not "
                          "allowed; fix the syntax"),
    "latin-1": (b"tier: development\ntier: d\xe9velopment\n", "line 2: byte 0xe9 is not UTF-8 text; save the file as "
                "UTF-8"),
    "alias-to-itself": ("tier: development\nnetwork: &n [*n]\n", "network[0]: refers to itself through a YAML alias; "
                        "write the value out"),
    "number-as-a-key": ("tier: development\nx:\n  1: x\n", "x: the key 1 is not text; quote the key, or remove it"),
    "a-list": ("- a\n", "the file holds a list, not a mapping of settings; start from config/dev.yaml"),
    "a-number": ("5\n", "the file holds 5 (a number), not a mapping of settings; start from config/dev.yaml"),
    "empty": ("", TIER_MISSING),
    "no-tier": ("aws: {account_id: '111122223333'}\n", TIER_MISSING),
    "unknown-tier": ("tier: staging\n", "tier: 'staging' is not a tier; use one of: development, production"),
    "another-name": ("tier: development\nname: other\n",
                     "name: 'other' does not match the file name (case); set name: case or remove it"),
    "secret-by-its-key": ("tier: development\nfrontend: {api_key: abcdef}\n",
                          f"frontend.api_key: looks like a literal secret (value not shown); {SECRET_FIX}"),
    "secret-in-a-list": ("tier: development\nx: {tokens: [abc]}\n",
                         f"x.tokens[0]: looks like a literal secret (value not shown); {SECRET_FIX}"),
    "secret-by-its-shape": ('tier: development\nx: {y: "-----BEGIN RSA PRIVATE KEY-----\\nabc"}\n',
                            f"x.y: looks like a literal secret (value not shown); {SECRET_FIX}"),
    # Not secrets: the name of an SSM parameter, a parameter path; the schema refuses the rest of the file.
    "a-parameter-name": ("tier: development\nfrontend: {api_key_parameter: abcdef}\n",
                         "aws: required key is missing; add it"),
    "a-parameter-path": ("tier: development\nfrontend: {api_key: /viberglass/key}\n",
                         "aws: required key is missing; add it"),
    "a-list-of-parameter-names": ("tier: development\nfrontend: {api_key_parameter: [abc, def]}\n",
                                  "aws: required key is missing; add it"),
    # only the setting's own name counts, not the sections above it
    "a-setting-under-a-secret-looking-section": ("tier: development\nx: {token_settings: {lifetime: abc}}\n",
                                                 "aws: required key is missing; add it"),
}  # fmt: skip


@pytest.mark.parametrize(("content", "line"), REFUSED_FILES.values(), ids=REFUSED_FILES)
def test_a_refused_file_gets_this_whole_line(
    content: str | bytes, line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "config"
    folder.mkdir()
    path = folder / "case.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(config.ConfigError) as refused:
        config.load("case", folder)
    assert str(refused.value) == f"config/case.yaml: {line}"


def test_a_file_over_a_megabyte_is_refused_before_it_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "big.yaml").write_bytes(b"#" * (1024 * 1024 + 1))
    with pytest.raises(config.ConfigError) as refused:
        config.load("big", tmp_path / "config")
    assert str(refused.value) == (
        "config/big.yaml: is 1,048,577 bytes; a configuration file is at most 1,048,576; is it the right file?"
    )
    (tmp_path / "config" / "big.yaml").write_bytes(b"#" * (1024 * 1024))  # exactly the limit: read (and refused later)
    with pytest.raises(config.ConfigError, match="tier: is missing"):
        config.load("big", tmp_path / "config")


def test_choosing_an_environment_or_folder_that_is_not_there_gets_this_whole_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIBERGLASS_CONFIG_DIR", raising=False)
    monkeypatch.delenv("VIBERGLASS_ENV", raising=False)
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "dev.yaml").write_text("tier: development\n")
    (folder / "fold.yaml").mkdir()
    (folder / "other.yml").write_text("x")
    (tmp_path / "afile").write_text("x")

    def refusal(*args: Any, **kwargs: Any) -> str:
        with pytest.raises(config.ConfigError) as refused:
            config.load(*args, **kwargs)
        return str(refused.value)

    assert refusal("fold", folder) == (
        "config/fold.yaml is a folder, not a file; put the settings of fold in a file config/fold.yaml"
    )
    assert refusal("other", folder) == (
        "VIBERGLASS_ENV: unknown environment 'other'; use one of: dev (files in config); config/other.yml exists: "
        "rename it to other.yaml"
    )
    assert refusal("qa", folder, source="--env") == "--env: unknown environment 'qa'; use one of: dev (files in config)"
    assert refusal("Bad Name", folder) == (
        "VIBERGLASS_ENV: 'Bad Name' is not an environment name (lower-case letters and digits, words joined by single "
        "dashes); use one of: dev"
    )
    assert refusal("Bad Name", tmp_path) == (
        "VIBERGLASS_ENV: 'Bad Name' is not an environment name (lower-case letters and digits, words joined by single "
        "dashes); use one of: none"
    )
    assert refusal("", folder, source="--env") == (
        "--env: is set but empty; name an environment, or unset --env for the default (dev)"
    )
    monkeypatch.setenv("VIBERGLASS_ENV", "")
    assert refusal(None, folder) == (
        "VIBERGLASS_ENV: is set but empty; name an environment, or unset VIBERGLASS_ENV for the default (dev)"
    )
    monkeypatch.delenv("VIBERGLASS_ENV")
    assert refusal("dev", tmp_path / "nope") == "nope does not exist; restore config/ from git"
    assert refusal("dev", tmp_path / "afile") == "afile is not a folder; restore config/ from git"
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(tmp_path / "nope"))
    assert refusal("dev") == (
        "VIBERGLASS_CONFIG_DIR: nope does not exist; point VIBERGLASS_CONFIG_DIR at the folder holding <env>.yaml "
        "files, or unset it"
    )


def test_an_unreadable_file_says_why(tmp_path: Path) -> None:
    from config.loader import read_yaml

    with pytest.raises(config.ConfigError) as refused:
        read_yaml(tmp_path / "gone.yaml", "gone.yaml")
    assert (
        str(refused.value)
        == "gone.yaml: cannot be read (No such file or directory); check the file and its permissions"
    )


def test_the_environments_of_a_folder_are_its_yaml_files_with_environment_names(tmp_path: Path) -> None:
    from config.loader import available_environments

    for name in ("qa.yaml", "dev.yaml", "Bad Name.yaml", "notes.yml"):
        (tmp_path / name).write_text("")
    (tmp_path / "folder.yaml").mkdir()
    assert available_environments(tmp_path) == ["dev", "qa"]
    assert available_environments(tmp_path / "nope") == []


def test_key_paths_are_shown_as_a_user_writes_them() -> None:
    from config.loader import _join, _location

    assert _location(("a", 0, "b c", 1)) == "a[0].'b c'[1]"
    assert _location((0, "a")) == "[0].a"
    assert (_join("", "a"), _join("a", "b.c"), _join("a", "b-c_1")) == ("a", "a.'b.c'", "a.b-c_1")


def test_a_path_outside_the_working_directory_is_shown_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from config.loader import display_path

    monkeypatch.chdir(tmp_path)
    assert display_path(tmp_path / "config" / "dev.yaml") == "config/dev.yaml"
    assert display_path(Path("/etc/hosts")) == "/etc/hosts"


def test_a_written_worker_image_prefix_and_the_default_zones_of_a_region() -> None:
    raw = {"tier": "development", "aws": {**raw_config("dev")["aws"], "region": "us-east-2"},
           "state": raw_config("dev")["state"], "workers": {"image_prefix": "team/dev"}}  # fmt: skip
    cfg = config.parse(raw, "staging")
    assert cfg.worker_image_prefix == "team/dev"
    assert cfg.availability_zones == ["us-east-2a", "us-east-2b"]
    assert cfg.production is False
