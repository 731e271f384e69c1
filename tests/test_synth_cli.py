"""Synthesis as users run it: through the pinned cdktf CLI, and both import paths giving the same bytes."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Stacks

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


# tests/synth_probe/sitecustomize.py: put on PYTHONPATH of the cdktf CLI's dev synthesis, it reports (as JSON,
# into this file) which provider binding modules the synthesis that users run (`main.py`, fast imports) loaded.
PROBE = ROOT / "tests" / "synth_probe"
REPORT_VAR = "VIBERGLASS_TEST_MODULE_REPORT"


@pytest.fixture(scope="module")
def processes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[subprocess.CompletedProcess[str], Path]]:
    """The three synthesis processes of this module, started together and run once: the cdktf CLI for dev
    (with the module probe) and for prod (fast imports, through main.py, as users run it), and every
    environment with the eager import (~12 s: it imports all 2,200 provider modules). Each test asserts on
    one of them; pytest-xdist runs a module's tests on one worker (``--dist loadfile``), so nothing runs
    twice."""
    root = tmp_path_factory.mktemp("synth-cli")
    pythonpath = os.pathsep.join(filter(None, [str(PROBE), os.environ.get("PYTHONPATH", "")]))
    probed = _env(VIBERGLASS_ENV="dev", PYTHONPATH=pythonpath, **{REPORT_VAR: str(root / "modules.json")})
    commands = {
        "cli-dev": ([str(CDKTF), "synth", "--output", str(root / "cli-dev")], probed),
        "cli-prod": ([str(CDKTF), "synth", "--output", str(root / "cli-prod")], _env(VIBERGLASS_ENV="prod")),
        "eager": (
            [sys.executable, "-m", "stacks", "--outdir", str(root / "eager"), "dev", "prod"],
            _env(VIBERGLASS_EAGER_IMPORTS="1"),
        ),
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


def _probe_report(processes: Processes) -> dict[str, Any]:
    result, out = processes["cli-dev"]
    assert result.returncode == 0, result.stdout + result.stderr
    report: dict[str, Any] = json.loads((out.parent / "modules.json").read_text())
    assert report["argv"][0].endswith("main.py")  # the synthesis the CLI started, not another Python
    return report


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
def test_fast_path_synthesizes_quietly_with_only_the_submodules_in_use(processes: Processes, dev: Stacks) -> None:
    loaded = _probe_report(processes)["aws_submodules"]
    assert 0 < loaded < 150
    # Nothing on stderr (Python's warnings, what jsii passes on from Node): no Node end-of-life banner, no
    # deprecation noise.
    assert _probe_report(processes)["stderr"] == ""
    _, cli = processes["cli-dev"]
    # The in-process synthesis the other tests read (`build_app(...).synth()`, as `python -m stacks`, the
    # gate and the benchmark run it) writes what the CLI writes.
    for stack in ("base", "workers", "platform"):
        assert json.loads((cli / "stacks" / stack / "cdk.tf.json").read_text()) == dev[stack], stack


@pytest.mark.slow
def test_an_environment_on_s3_never_loads_the_tfe_bindings(processes: Processes) -> None:
    """Only an environment on HCP Terraform imports the tfe provider bindings (its `hcp` stack): dev, on S3,
    synthesizes its three stacks without loading a single tfe module."""
    assert _probe_report(processes)["tfe_modules"] == []
    _, cli = processes["cli-dev"]
    assert {p.name for p in (cli / "stacks").iterdir()} == {"base", "workers", "platform"}
    base = json.loads((cli / "stacks" / "base" / "cdk.tf.json").read_text())
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
