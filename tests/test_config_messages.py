"""Every kind of configuration refusal, as the whole line the user reads: the key path, the problem in plain
words and the fix. In-process (``config.parse``, ``config.loader.read_yaml``, ``config.load``); the process
and `make synth` paths of the same refusals are tests/test_config_errors.py's."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest

from config import ConfigError, load, parse
from config.defaults import merge
from config.loader import read_yaml
from tests.conftest import raw_config

BACKEND_KEYS = "container_port, cpu, desired_count, health_check_path, image_tag, max_count, memory, min_count"
TEXT_FIX = "write text; quote it if it looks like a number, date or true/false"


def _refusal(overrides: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse(merge(raw_config("dev"), overrides), "dev")
    return str(caught.value)


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"nope": 1}, "nope: unknown key; remove it or fix the spelling (known keys here: alarms, aws, backend, "
                      "database, domains, frontend, github, logs, name, network, state, tier, uploads, workers)"),
        ({"backend": {"cpuu": 1}},
         f"backend.cpuu: unknown key; remove it or fix the spelling (known keys here: {BACKEND_KEYS})"),
        ({"state": {"s3": {"buckett": "x"}}}, "state.s3.buckett: unknown key; remove it or fix the spelling (known "
                                              "keys here: bucket, dynamodb_table, key_prefix, region, use_lockfile)"),
        ({"backend": {"bad key": 1}},
         f"backend.'bad key': unknown key; remove it or fix the spelling (known keys here: {BACKEND_KEYS})"),
        ({"backend": {"cpu": "lots"}}, "backend.cpu: is 'lots' (text), not a whole number; write a whole number "
                                       "without quotes"),
        ({"backend": {"cpu": 1.5}}, "backend.cpu: is 1.5 (a decimal number), not a whole number; write a whole "
                                    "number without quotes"),
        ({"backend": {"cpu": {"x": 1}}}, "backend.cpu: is a mapping, not a whole number; write a whole number "
                                         "without quotes"),
        ({"backend": {"cpu": None}}, "backend.cpu: is empty (null), not a whole number; give it a value, or "
                                     "remove the key to use the default"),
        ({"domains": {"app_domain": True}}, f"domains.app_domain: is true (true/false), not text; {TEXT_FIX}"),
        ({"network": {"public_subnets": ["10.0.0.0/24", 5]}},
         f"network.public_subnets[1]: is 5 (a number), not text; {TEXT_FIX}"),
        ({"backend": []}, "backend: is a list, not a mapping of settings; indent its keys under it"),
        ({"network": {"mode": "weird"}},
         "network.mode: 'weird' is not one of: 'enterprise' or 'standard'; use one of them"),
        ({"backend": {"desired_count": -1}}, "backend.desired_count: -1 is below the minimum 0 (ECS runs at most "
                                             "5,000 tasks per service); use a value at least 0"),
        ({"database": {"backup_retention_days": 99}},
         "database.backup_retention_days: 99 is above the maximum 35 (RDS keeps automated backups 1-35 days); use a "
         "value at most 35"),
        ({"network": {"public_subnets": [f"10.0.{i}.0/24" for i in range(7)]}},
         "network.public_subnets: has 7 items, more than 6 (one per zone); remove the extra items"),
        ({"backend": {"image_tag": "bad tag!"}}, "backend.image_tag: 'bad tag!' is not an image tag; write it like "
                                                 "latest"),
        ({"workers": {"image_prefix": "a" * 81}}, "workers.image_prefix: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                                  "aaaaaaaaaaaaaaaaa'... (81 characters) (text): string should have at "
                                                  "most 80 characters; correct the value"),
        ({"backend": {"image_tag": datetime.date(2024, 1, 1)}},
         f"backend.image_tag: is 2024-01-01 (a date), not text; {TEXT_FIX}"),
        ({"backend": {"image_tag": datetime.datetime(2024, 1, 1, 10, 30)}},
         f"backend.image_tag: is 2024-01-01 10:30:00 (a date and time), not text; {TEXT_FIX}"),
        ({"aws": {"availability_zones": [f"eu-west-1{z}" for z in "abcdefg"]}},
         "aws.availability_zones: has 7 items, more than 6 (no region has more than six); remove the extra items"),
        ({"state": {"backend": "cloud", "cloud": {"project": "x"}}},
         "state.cloud.organization: required key is missing; add it"),
        ({"state": {"backend": "cloud", "cloud": {"organization": "o", "project": "x", "bogus": 1}}},
         "state.cloud.bogus: unknown key; remove it or fix the spelling (known keys here: agent_pool, execution_mode, "
         "organization, project, workspace_prefix)"),
        ({"tier": "gold"}, "tier: 'gold' is not a tier; use one of: development, production"),
        ({"name": "prod"}, "name: 'prod' does not match the file name (dev); set name: dev or remove it"),
        ({"github": {"token": "abc"}}, "github.token: looks like a literal secret (value not shown); remove it from "
                                       "the file: no secret belongs in the configuration (the database password is "
                                       "RDS-managed, the backend's secrets are SSM parameters: "
                                       "`.venv/bin/viberglass-ops secrets --help`)"),
    ],
)  # fmt: skip
def test_a_refused_value_is_one_whole_line(overrides: dict[str, Any], line: str) -> None:
    assert _refusal(overrides) == line


def test_a_missing_required_key_says_what_to_add() -> None:
    raw = raw_config("dev")
    del raw["aws"]["account_id"]
    with pytest.raises(ConfigError) as caught:
        parse(raw, "dev")
    assert str(caught.value) == (
        "aws.account_id: required key is missing; add it (the environment's own AWS account, quoted: "
        "`aws sts get-caller-identity` shows it)"
    )


def test_a_file_without_a_tier_says_why_every_file_names_one() -> None:
    raw = raw_config("dev")
    del raw["tier"]
    with pytest.raises(ConfigError) as caught:
        parse(raw, "dev")
    assert str(caught.value) == (
        "tier: is missing; every file says which tier it is, so a renamed or copied file keeps its protections; "
        "add tier: production (protected, production minimums enforced) or tier: development"
    )


@pytest.mark.parametrize(
    ("document", "line"),
    [
        (["a"], "the file holds a list, not a mapping of settings; start from config/dev.yaml"),
        ("text", "the file holds 'text' (text), not a mapping of settings; start from config/dev.yaml"),
        (5, "the file holds 5 (a number), not a mapping of settings; start from config/dev.yaml"),
        ({"tier": "development", 3: "x"}, "the key 3 is not text; quote the key, or remove it"),
    ],
)
def test_a_document_the_schema_cannot_describe_is_refused_whole(document: Any, line: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(document, "dev")
    assert str(caught.value) == line


def test_a_value_that_contains_itself_names_where() -> None:
    raw = raw_config("dev")
    loop: list[Any] = []
    loop.append(loop)
    raw["x"] = loop
    with pytest.raises(ConfigError) as caught:
        parse(raw, "dev")
    assert str(caught.value) == "x[0]: refers to itself through a YAML alias; write the value out"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        (b"#" * (1024 * 1024 + 1),
         "f.yaml: is 1,048,577 bytes; a configuration file is at most 1,048,576; is it the right file?"),
        (b"tier: development\nname: caf\xe9\n", "f.yaml: line 2: byte 0xe9 is not UTF-8 text; save the file as UTF-8"),
        (b"tier: development\nbackend: [1, 2\n",
         "f.yaml: line 3: invalid YAML: expected ',' or ']', but got '<stream end>'; fix the syntax"),
        (b"a: " + b"[" * 25 + b"]" * 25 + b"\n",
         "f.yaml: line 1: values are nested more than 20 levels deep; a configuration is a few levels deep; look "
         "for unclosed brackets or runaway indentation"),
        (b"tier: development\ntier: production\n",
         "f.yaml: line 2: invalid YAML: duplicate key 'tier'; fix the syntax"),
        (b"tier: development\n[a, b]: 1\n",
         "f.yaml: line 2: invalid YAML: a list or mapping used as a key; fix the syntax"),
        (b"tier: development\nname: a\x07b\n",
         "f.yaml: line 2: invalid YAML: special characters are not allowed; fix the syntax"),
        (b"tier: development\n\tname: x\n",
         "f.yaml: line 2: invalid YAML: found character '\\t' that cannot start any token; fix the syntax"),
        # Python will not convert an integer of more than 4,300 digits (a ValueError, not a YAML error).
        (b"tier: development\nlogs:\n  retention_days: " + b"9" * 5000 + b"\n",
         "f.yaml: line 3: a number is written with 5,000 characters; no setting takes a number of more than 40 "
         "characters"),
        (b"tier: development\nx: 0x" + b"f" * 38 + b"\ny: 1" + b":59" * 2000 + b"\n",
         "f.yaml: line 3: a number is written with 6,001 characters; no setting takes a number of more than 40 "
         "characters"),
    ],
)  # fmt: skip
def test_a_file_yaml_cannot_read_names_its_line(tmp_path: Path, content: bytes, line: str) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        read_yaml(path, "f.yaml")
    assert str(caught.value) == line


def test_a_file_of_exactly_one_mebibyte_is_read(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_bytes(b"#" * (1024 * 1024 - 1) + b"\n")  # one comment: an empty document
    assert read_yaml(path, "f.yaml") is None


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config folder with two environments, the working directory its parent (paths are shown relative)."""
    configs = tmp_path / "configs"
    configs.mkdir()
    for env in ("alpha", "beta"):
        (configs / f"{env}.yaml").write_text("tier: development\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VIBERGLASS_ENV", raising=False)
    monkeypatch.delenv("VIBERGLASS_CONFIG_DIR", raising=False)
    return configs


def _load_refusal(*args: Any, **kwargs: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        load(*args, **kwargs)
    return str(caught.value)


def test_an_environment_variable_set_but_empty_is_refused(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBERGLASS_ENV", "")
    assert _load_refusal(None, folder) == (
        "VIBERGLASS_ENV: is set but empty; name an environment, or unset VIBERGLASS_ENV for the default (dev)"
    )
    assert _load_refusal("", folder, source="--env") == (
        "--env: is set but empty; name an environment, or unset --env for the default (dev)"
    )


def test_a_name_that_is_not_an_environment_name_lists_the_known_ones(folder: Path) -> None:
    assert _load_refusal("Bad_Name", folder) == (
        "VIBERGLASS_ENV: 'Bad_Name' is not an environment name (lower-case letters and digits, words joined by "
        "single dashes); use one of: alpha, beta"
    )


def test_an_unknown_environment_lists_the_files_and_points_at_a_yml_twin(folder: Path) -> None:
    assert _load_refusal("gamma", folder) == (
        "VIBERGLASS_ENV: unknown environment 'gamma'; use one of: alpha, beta (files in configs)"
    )
    (folder / "gamma.yml").write_text("tier: development\n")
    assert _load_refusal("gamma", folder, source="--env") == (
        "--env: unknown environment 'gamma'; use one of: alpha, beta (files in configs); configs/gamma.yml "
        "exists: rename it to gamma.yaml"
    )


def test_a_folder_where_the_file_should_be_is_named(folder: Path) -> None:
    (folder / "gamma.yaml").mkdir()
    assert _load_refusal("gamma", folder) == (
        "configs/gamma.yaml is a folder, not a file; put the settings of gamma in a file configs/gamma.yaml"
    )


def test_a_missing_config_folder_says_how_to_get_it_back(folder: Path) -> None:
    assert _load_refusal("alpha", folder / "missing") == "configs/missing does not exist; restore config/ from git"
    assert _load_refusal("alpha", folder / "alpha.yaml") == (
        "configs/alpha.yaml is not a folder; restore config/ from git"
    )


def test_a_config_folder_variable_pointing_nowhere_names_the_variable(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIBERGLASS_CONFIG_DIR", str(folder / "missing"))
    assert _load_refusal("alpha") == (
        "VIBERGLASS_CONFIG_DIR: configs/missing does not exist; point VIBERGLASS_CONFIG_DIR at the folder holding "
        "<env>.yaml files, or unset it"
    )


def test_every_read_of_the_same_text_is_a_copy_of_its_own(tmp_path: Path) -> None:
    """A text is parsed once per process (config/loader.py `_parsed`): what one caller changes in the
    document it got never reaches the next caller."""
    path = tmp_path / "f.yaml"
    path.write_text("tier: development\nlogs: {retention_days: 7}\n")
    first = read_yaml(path, "f.yaml")
    first["logs"]["retention_days"] = 1
    assert read_yaml(path, "f.yaml") == {"tier": "development", "logs": {"retention_days": 7}}
