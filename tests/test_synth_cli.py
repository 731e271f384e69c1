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


@pytest.mark.slow
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_cdktf_cli_synth_writes_every_stack(env: str, tmp_path: Path) -> None:
    out = tmp_path / "cdktf.out"
    result = subprocess.run(
        [str(CDKTF), "synth", "--output", str(out)],
        cwd=ROOT,
        env=_env(VIBERGLASS_ENV=env),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert (out / "stacks" / "base" / "cdk.tf.json").is_file()
    assert set(manifest["stacks"]) == {"base", "workers", "platform"}


@pytest.mark.slow
def test_fast_and_eager_imports_synthesize_identical_bytes(tmp_path: Path) -> None:
    """The fast path changes how the provider package loads, never what is synthesized."""
    outputs = {}
    for mode, extra in (("fast", {}), ("eager", {"VIBERGLASS_EAGER_IMPORTS": "1"})):
        out = tmp_path / mode
        result = subprocess.run(
            [sys.executable, "-m", "stacks", "--outdir", str(out), "dev", "prod"],
            cwd=ROOT, env=_env(**extra), capture_output=True, text=True, check=True, timeout=600,
        )  # fmt: skip
        # Nothing on stderr: no Node end-of-life banner, no deprecation noise.
        assert result.stderr == "", result.stderr
        outputs[mode] = out
    fast, eager = outputs["fast"], outputs["eager"]
    assert _tree(fast) == _tree(eager)
    assert any(name.endswith("cdk.tf.json") for name in _tree(fast))
    _, mismatch, errors = filecmp.cmpfiles(fast, eager, _tree(fast), shallow=False)
    assert (mismatch, errors) == ([], [])


@pytest.mark.slow
def test_fast_path_loads_only_the_submodules_in_use() -> None:
    code = "import sys, stacks; print(sum(m.startswith('cdktf_cdktf_provider_aws.') for m in sys.modules))"
    loaded = int(
        subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True, check=True
        ).stdout
    )
    assert 0 < loaded < 150


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
