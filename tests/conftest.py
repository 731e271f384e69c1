"""Shared fixtures. Synthesis is expensive (a jsii runtime per process), so each environment and each
configuration variant is synthesized once per test session and every test reads the JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
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
