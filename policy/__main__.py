"""The security gate: ``python -m policy [--synth-dir DIR] [--no-checkov] [ENV ...]``.

Synthesizes every environment (or reads ``DIR/<env>/stacks``), applies the project policy rules and
checkov, and exits 1 on any violation, unlisted checkov finding or stale exception.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from config import available_environments
from policy import checkov_gate, rules

ROOT = Path(__file__).resolve().parent.parent


def _load(stacks_dir: Path) -> dict[str, dict[str, object]]:
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(stacks_dir.glob("*/cdk.tf.json"))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m policy", description=__doc__.splitlines()[0])
    parser.add_argument("envs", nargs="*", help="environments (default: every file in config/)")
    parser.add_argument("--synth-dir", type=Path, help="already synthesized: DIR/<env>/stacks/<stack>/cdk.tf.json")
    parser.add_argument("--no-checkov", action="store_true", help="project rules only")
    args = parser.parse_args(argv)
    envs = args.envs or available_environments()

    with tempfile.TemporaryDirectory() as tmp:
        synth_dir = args.synth_dir
        if synth_dir is None:
            synth_dir = Path(tmp)
            subprocess.run([sys.executable, "-m", "stacks", "--outdir", str(synth_dir), *envs], cwd=ROOT, check=True)  # noqa: S603
        problems: list[str] = []
        results = []
        skips = checkov_gate.load_skips()
        for env in envs:
            stacks_dir = synth_dir / env / "stacks"
            problems += [f"{env}: {line}" for line in rules.check(_load(stacks_dir), env)]
            if not args.no_checkov:
                report = checkov_gate.run_checkov(stacks_dir)
                result = checkov_gate.evaluate(env, report, checkov_gate.construct_paths(stacks_dir), skips)
                results.append(result)
                problems += result.failed
                print(
                    f"checkov {env}: {result.passed} passed, {len(result.failed)} failed, "
                    f"{len(result.skipped)} accepted (security/checkov-skips.yaml)"
                )
        if results and set(envs) >= set(available_environments()):
            problems += [
                f"stale exception: {s.check} {list(s.paths)} matches nothing"
                for s in checkov_gate.stale(skips, results)
            ]
    print(f"policy rules: {len(rules.RULES)} rules on {', '.join(envs)}")
    for line in problems:
        print(f"FAIL {line}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
