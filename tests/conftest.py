"""Shared fixtures. Synthesis is expensive (a jsii runtime per process), so each environment and each
configuration variant is synthesized once per test session and every test reads the JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.defaults import merge
from config.loader import CONFIG_DIR, parse

ROOT = Path(__file__).resolve().parent.parent
Stacks = dict[str, dict[str, Any]]
SynthFn = Callable[..., Stacks]


def raw_config(env: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((CONFIG_DIR / f"{env}.yaml").read_text())
    return data


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthFn:
    """``synth(env, overrides)`` -> {stack name: synthesized JSON}, cached per (env, overrides)."""
    from stacks import build_app

    cache: dict[str, Stacks] = {}

    def run(env: str, overrides: dict[str, Any] | None = None) -> Stacks:
        key = f"{env}:{json.dumps(overrides, sort_keys=True)}"
        if key not in cache:
            config = parse(merge(raw_config(env), overrides or {}), env)
            out = tmp_path_factory.mktemp(f"synth-{env}")
            build_app(config, outdir=str(out)).synth()
            cache[key] = {p.parent.name: json.loads(p.read_text()) for p in (out / "stacks").glob("*/cdk.tf.json")}
            cache[key]["manifest"] = json.loads((out / "manifest.json").read_text())
        return cache[key]

    return run


@pytest.fixture(scope="session")
def dev(synth: SynthFn) -> Stacks:
    return synth("dev")


@pytest.fixture(scope="session")
def prod(synth: SynthFn) -> Stacks:
    return synth("prod")


@pytest.fixture(scope="session", params=["dev", "prod"])
def each_env(request: pytest.FixtureRequest, synth: SynthFn) -> tuple[str, Stacks]:
    """Run a test once per shipped environment."""
    env: str = request.param
    return env, synth(env)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """A moto server on 127.0.0.1 (real HTTP; boto3 is not patched), shared by the session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> str:
    """Point boto3 at the moto server with fake credentials, starting from an empty account.

    Tests marked ``managed_policies`` also get AWS managed IAM policies (ReadOnlyAccess, ...): moto parses
    ~1,200 of them on every reset (~0.7 s), so only the tests that attach them pay for it. The server runs
    in this process and reads the variable when it rebuilds its IAM backend.
    """
    import urllib.request

    wanted = request.node.get_closest_marker("managed_policies") is not None
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true" if wanted else "false")
    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return moto_url


def use_account(monkeypatch: pytest.MonkeyPatch, account: str) -> None:
    """Make boto3 act in ``account`` on the moto server (after the ``aws`` fixture): credentials of a role
    assumed there, which moto attributes to that account, as AWS does. The configuration names its own
    accounts (`aws.account_id`), and the bootstrap commands refuse any other."""
    import boto3

    credentials = boto3.client("sts", region_name="eu-west-1").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/operator", RoleSessionName="operator"
    )["Credentials"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", credentials["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", credentials["SecretAccessKey"])
    monkeypatch.setenv("AWS_SESSION_TOKEN", credentials["SessionToken"])
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3 caches the credentials it first resolved
