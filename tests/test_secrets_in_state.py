"""No secret value in Terraform state or plan: every synthesized stack of every environment is walked
(policy rule ``no-secret-in-state``, also run by the security gate), and each way a secret used to or could
get in is shown to be caught."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from config import available_environments
from policy.rules import no_secret_in_state
from tests.conftest import Stacks, SynthFn


def _real(stacks: Stacks) -> dict[str, Any]:
    return {k: v for k, v in stacks.items() if k != "manifest"}


@pytest.mark.parametrize("env", available_environments())
def test_no_stack_of_any_environment_stores_a_secret(synth: SynthFn, env: str) -> None:
    assert no_secret_in_state(_real(synth(env)), env) == []


def test_the_database_password_is_rds_managed(each_env: tuple[str, Stacks]) -> None:
    _, stacks = each_env
    (db,) = stacks["platform"]["resource"]["aws_db_instance"].values()
    assert db["manage_master_user_password"] is True and not {"password", "password_wo"} & set(db)


# Each way a secret reaches state, injected into a copy of the real dev stacks: (stack, section, type, body).
SECRETS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "generated password resource": ("platform", "resource", "random_password", {"length": 32}),
    "database password argument": (
        "platform", "resource", "aws_db_instance", {"identifier": "x", "password": "${random_password.p.result}"}
    ),
    "operator SecureString placeholder": (
        "platform", "resource", "aws_ssm_parameter",
        {"name": "/viberglass/dev/backend/slackBotToken", "type": "SecureString", "value": "not-configured",
         "lifecycle": {"ignore_changes": ["value"]}},
    ),
    "write-only SecureString (decrypted on every refresh)": (
        "platform", "resource", "aws_ssm_parameter",
        {"name": "/viberglass/dev/backend/secretsEncryptionKey", "type": "SecureString",
         "value_wo": "${ephemeral.random_password.k.result}", "value_wo_version": 1},
    ),
    "decrypted parameter data source": (
        "platform", "data", "aws_ssm_parameter", {"name": "/viberglass/github/amplify-token", "with_decryption": True}
    ),
    "Amplify access token": (
        "platform", "resource", "aws_amplify_app", {"name": "x", "access_token": "${data.aws_ssm_parameter.t.value}"}
    ),
    "generated value in a plain argument": (
        "platform", "resource", "aws_ssm_parameter",
        {"name": "/viberglass/dev/ecs/cluster", "type": "String", "value": "${random_password.p.result}"},
    ),
    "secret version": ("platform", "resource", "aws_secretsmanager_secret_version", {"secret_string": "x"}),
    "secret version data source": ("platform", "data", "aws_secretsmanager_secret_version", {"secret_id": "x"}),
    "private key": ("base", "resource", "tls_private_key", {"algorithm": "ED25519"}),
    "access key": ("base", "resource", "aws_iam_access_key", {"user": "ci"}),
    "basic-auth credentials": (
        "platform", "resource", "aws_amplify_branch", {"branch_name": "main", "basic_auth_credentials": "dTpw"}
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", SECRETS)
def test_each_way_a_secret_gets_into_state_is_caught(dev: Stacks, case: str) -> None:
    stack, section, rtype, body = SECRETS[case]
    stacks = copy.deepcopy(_real(dev))
    stacks[stack].setdefault(section, {}).setdefault(rtype, {})["injected"] = body
    found = no_secret_in_state(stacks, "dev")
    assert len(found) == 1 and "injected" in found[0], found


def test_a_sensitive_output_is_caught(dev: Stacks) -> None:
    stacks = copy.deepcopy(_real(dev))
    stacks["platform"]["output"]["db_password"] = {"value": "${aws_db_instance.x.password}", "sensitive": True}
    assert no_secret_in_state(stacks, "dev") == ["platform: output.db_password is sensitive: its value is in state"]


def test_write_only_arguments_and_secret_references_pass(dev: Stacks) -> None:
    """What keeps values out of state is allowed: `*_wo` arguments, ARNs and KMS ids of secrets, the RDS
    switch, a task definition naming a secret by ARN."""
    stacks = copy.deepcopy(_real(dev))
    stacks["platform"]["resource"].setdefault("aws_secretsmanager_secret", {})["ok"] = {
        "name": "x", "kms_key_id": "${k}", "recovery_window_in_days": 7
    }  # fmt: skip
    stacks["platform"]["resource"]["aws_db_instance"]["w"] = {
        "identifier": "w", "password_wo": "${ephemeral.random_password.p.result}", "password_wo_version": 1,
        "master_user_secret_kms_key_id": "${k}",
    }  # fmt: skip
    assert no_secret_in_state(stacks, "dev") == []
