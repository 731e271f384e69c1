"""The state backend of every stack, for each backend kind."""

from __future__ import annotations

from tests.conftest import Stacks, SynthFn


def _backend(stack: dict[str, object]) -> dict[str, object]:
    terraform = stack["terraform"]
    assert isinstance(terraform, dict)
    backend: dict[str, object] = terraform["backend"]
    return backend


def test_s3_backend_has_env_and_stack_in_the_key(dev: Stacks) -> None:
    assert _backend(dev["base"]) == {
        "s3": {
            "bucket": "viberglass-dev-terraform-state",
            "key": "viberglass/dev/base.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "dynamodb_table": "viberglass-terraform-locks",
        }
    }


def test_prod_state_key_differs_from_dev(prod: Stacks) -> None:
    s3 = _backend(prod["base"])["s3"]
    assert isinstance(s3, dict) and s3["key"] == "viberglass/prod/base.tfstate"


def test_s3_backend_with_lockfile_and_table_during_migration(synth: SynthFn) -> None:
    s3 = _backend(synth("dev", {"state": {"s3": {"use_lockfile": True}}})["base"])["s3"]
    assert isinstance(s3, dict)
    assert (s3["use_lockfile"], s3["dynamodb_table"]) == (True, "viberglass-terraform-locks")


def test_s3_backend_with_lockfile_only(synth: SynthFn) -> None:
    overrides = {"state": {"s3": {"use_lockfile": True, "dynamodb_table": None, "key_prefix": "infra"}}}
    s3 = _backend(synth("dev", overrides)["base"])["s3"]
    assert isinstance(s3, dict)
    assert (s3["use_lockfile"], "dynamodb_table" in s3, s3["key"]) == (True, False, "infra/dev/base.tfstate")


def test_s3_backend_without_lockfile_omits_it(dev: Stacks) -> None:
    s3 = _backend(dev["base"])["s3"]
    assert isinstance(s3, dict) and "use_lockfile" not in s3


def test_cloud_backend_names_one_workspace_per_env_and_stack(synth: SynthFn) -> None:
    overrides = {"state": {"backend": "cloud", "cloud": {"organization": "ilities", "project": "viberglass"}}}
    terraform = synth("dev", overrides)["base"]["terraform"]
    assert terraform["cloud"] == {
        "organization": "ilities",
        "workspaces": {"name": "viberglass-dev-base", "project": "viberglass"},
    }
    assert "backend" not in terraform


def test_local_backend_keeps_state_outside_cdktf_out(synth: SynthFn) -> None:
    backend = _backend(synth("dev", {"state": {"backend": "local"}})["base"])
    assert backend == {"local": {"path": "../../../terraform-state/dev/base.tfstate"}}
