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
    env = {k: v for k, v in os.environ.items() if k not in {"VIBERGLASS_EAGER_IMPORTS", "VIBERGLASS_CONFIG_DIR"}}
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
    """SPEC §8: the fast path changes how the provider package loads, never what is synthesized."""
    outputs = {}
    for mode, extra in (("fast", {}), ("eager", {"VIBERGLASS_EAGER_IMPORTS": "1"})):
        out = tmp_path / mode
        subprocess.run(
            [sys.executable, "-m", "stacks", "--outdir", str(out), "dev", "prod"],
            cwd=ROOT,
            env=_env(**extra),
            check=True,
            timeout=600,
        )
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
