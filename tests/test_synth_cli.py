"""Synthesis as users run it: through the pinned cdktf CLI, and both import paths giving the same bytes."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIBERGLASS_EAGER_IMPORTS", "VIBERGLASS_CONFIG_DIR", "NODE_OPTIONS", "JSII_NODE"}
    }
    env["PATH"] = f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{env.get('PATH', '')}"
    env["CHECKPOINT_DISABLE"] = "1"
    env.update(extra)
    return env


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


# What runs the fast path in a fresh process: synthesizes dev (through `python -m stacks`, as the gate and
# the benchmark do), then prints how many AWS provider submodules were loaded and which tfe (HCP Terraform)
# binding modules were.
FAST_SYNTH = (
    "import json, sys; from stacks.__main__ import main; status = main(sys.argv[1:]); "
    "print(json.dumps([sum(m.startswith('cdktf_cdktf_provider_aws.') for m in sys.modules), "
    "sorted(m for m in sys.modules if 'provider_tfe' in m)])); sys.exit(status)"
)


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """The four synthesis processes of this module, started together and run once: the cdktf CLI for dev
    and for prod (fast imports, through main.py, as users run it), every environment with the eager import
    (~12 s: it imports all 2,200 provider modules), and dev through `python -m stacks` with fast imports.
    Each test asserts on one of them; pytest-xdist runs a module's tests on one worker (``--dist loadfile``),
    so nothing runs twice."""
    root = tmp_path_factory.mktemp("synth-cli")
    commands = {
        "cli-dev": ([str(CDKTF), "synth", "--output", str(root / "cli-dev")], _env(VIBERGLASS_ENV="dev")),
        "cli-prod": ([str(CDKTF), "synth", "--output", str(root / "cli-prod")], _env(VIBERGLASS_ENV="prod")),
        "eager": (
            [sys.executable, "-m", "stacks", "--outdir", str(root / "eager"), "dev", "prod"],
            _env(VIBERGLASS_EAGER_IMPORTS="1"),
        ),
        "fast": ([sys.executable, "-c", FAST_SYNTH, "--outdir", str(root / "fast"), "dev"], _env()),
    }
    started = {
        name: subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for name, (argv, env) in commands.items()
    }
    results = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=600)
        results[name] = (subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), root / name)
    return results


Processes = dict[str, tuple[subprocess.CompletedProcess[str], Path]]


@pytest.mark.slow
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_cdktf_cli_synth_writes_every_stack(env: str, processes: Processes) -> None:
    result, out = processes[f"cli-{env}"]
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (out / "stacks" / "base" / "cdk.tf.json").is_file()
    assert set(manifest["stacks"]) == {"base", "workers", "platform"}


@pytest.mark.slow
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_fast_and_eager_imports_synthesize_identical_bytes(env: str, processes: Processes) -> None:
    """The fast path changes how the provider package loads, never what is synthesized: the eager import's
    output equals, byte for byte and file for file, what the cdktf CLI synthesized with the fast path."""
    eager_result, eager = processes["eager"]
    cli_result, cli = processes[f"cli-{env}"]
    assert eager_result.returncode == 0 and cli_result.returncode == 0, eager_result.stderr + cli_result.stderr
    # Nothing on stderr: no Node end-of-life banner, no deprecation noise.
    assert eager_result.stderr == "", eager_result.stderr
    eager = eager / env
    assert _tree(eager) == _tree(cli)
    assert any(name.endswith("cdk.tf.json") for name in _tree(eager))
    _, mismatch, errors = filecmp.cmpfiles(eager, cli, _tree(eager), shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.mark.slow
def test_fast_path_synthesizes_quietly_with_only_the_submodules_in_use(processes: Processes) -> None:
    result, fast = processes["fast"]
    assert result.returncode == 0 and result.stderr == "", result.stderr
    loaded, _ = json.loads(result.stdout)
    assert 0 < loaded < 150
    # `python -m stacks` (the gate, the benchmark) writes what the CLI writes.
    _, cli = processes["cli-dev"]
    _, mismatch, errors = filecmp.cmpfiles(fast / "dev", cli, _tree(cli), shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.mark.slow
def test_an_environment_on_s3_never_loads_the_tfe_bindings(processes: Processes) -> None:
    """Only an environment on HCP Terraform imports the tfe provider bindings (its `hcp` stack): dev, on S3,
    synthesizes its three stacks without loading a single tfe module."""
    result, fast = processes["fast"]
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[1] == []
    assert {p.name for p in (fast / "dev" / "stacks").iterdir()} == {"base", "workers", "platform"}
    base = json.loads((fast / "dev" / "stacks" / "base" / "cdk.tf.json").read_text())
    assert "tfe_workspace" not in base.get("resource", {})


def test_node_hook_turns_provider_index_requires_into_lazy_getters(tmp_path: Path) -> None:
    """imports/lazy_provider.cjs: requiring the provider index loads no resource module until it is used."""
    lib = tmp_path / "cache" / "@cdktf" / "provider-aws" / "1.0.0" / "lib"
    (lib / "vpc").mkdir(parents=True)
    (lib / "vpc" / "index.js").write_text(
        "globalThis.loaded = (globalThis.loaded || []).concat('vpc'); exports.Vpc = 1;\n"
    )
    (lib / "index.js").write_text('"use strict";\nexports.vpc = void 0;\nexports.vpc = require("./vpc");\n')
    script = (
        f"const p = require({json.dumps(str(lib / 'index.js'))});"
        "const before = (globalThis.loaded || []).length;"
        "const keys = Object.keys(p).join();"
        "const value = p.vpc.Vpc;"
        "console.log(JSON.stringify([before, keys, value, globalThis.loaded]));"
    )
    node = ROOT / "node_modules" / ".bin" / "node"
    hook = ROOT / "imports" / "lazy_provider.cjs"
    clean = {k: v for k, v in os.environ.items() if k != "NODE_OPTIONS"}
    lazy = subprocess.run(
        [str(node), f"--require={hook}", "-e", script], env=clean, capture_output=True, text=True, check=True
    )
    eager = subprocess.run([str(node), "-e", script], env=clean, capture_output=True, text=True, check=True)
    assert json.loads(lazy.stdout) == [0, "vpc", 1, ["vpc"]]
    assert json.loads(eager.stdout) == [1, "vpc", 1, ["vpc"]]
