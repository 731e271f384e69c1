"""scripts/lint_shell.py: shellcheck (from PyPI) over the scripts and every workflow `run:` block."""

from __future__ import annotations

import runpy
from pathlib import Path

from tests.conftest import ROOT

lint = runpy.run_path(str(ROOT / "scripts" / "lint_shell.py"))


def test_the_repository_is_clean() -> None:
    scripts = lint["shell_scripts"]()
    blocks = [b for wf in sorted((ROOT / ".github/workflows").glob("*.yml")) for b in lint["run_blocks"](wf)]
    assert {p.name for p in scripts} >= {"check", "run", "plan-stacks.sh", "validate-stacks.sh", "provider-locks.sh"}
    assert len(blocks) > 30
    assert lint["check"](scripts, blocks) == []


def test_a_bad_run_block_is_reported_at_its_workflow_line(tmp_path: Path) -> None:
    workflow = tmp_path / ".github" / "workflows" / "x.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ok\n      - run: |\n          echo fine\n          rm -rf $DIR/*\n"
    )
    findings = lint["check"]([], lint["run_blocks"](workflow))
    assert findings
    assert all(f.startswith(".github/workflows/x.yml:9:") for f in findings)
    assert any("SC2086" in f for f in findings)


def test_a_bad_script_is_reported(tmp_path: Path) -> None:
    script = tmp_path / "scripts" / "bad.sh"
    script.parent.mkdir()
    script.write_text("#!/usr/bin/env bash\ncd $1\n")
    assert lint["shell_scripts"](tmp_path) == [script]
    findings = lint["check"]([script], [])
    assert findings and all(f.startswith(f"{script}:2:") for f in findings)
    assert any("SC2086" in f for f in findings)
