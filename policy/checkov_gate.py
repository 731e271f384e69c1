"""Run checkov on synthesized stacks and hold every finding against the listed exceptions."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SKIPS = Path(__file__).resolve().parent.parent / "security" / "checkov-skips.yaml"
CHECKOV = Path(__file__).resolve().parent.parent / ".tools" / "checkov" / "bin" / "checkov"


@dataclass(frozen=True)
class Skip:
    check: str
    paths: tuple[str, ...]
    reason: str
    envs: tuple[str, ...] = ()

    def matches(self, check: str, path: str, env: str) -> bool:
        return (
            check == self.check
            and (not self.envs or env in self.envs)
            and any(fnmatch.fnmatchcase(path, p) for p in self.paths)
        )


@dataclass
class Result:
    env: str
    passed: int = 0
    failed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str, Skip]] = field(default_factory=list)


def load_skips(path: Path = SKIPS) -> list[Skip]:
    entries = yaml.safe_load(path.read_text())
    skips = []
    for entry in entries:
        if not str(entry.get("reason", "")).strip():
            raise ValueError(f"{path}: {entry.get('check')} has no reason")
        skips.append(Skip(entry["check"], tuple(entry["paths"]), entry["reason"], tuple(entry.get("envs", ()))))
    return skips


def construct_paths(stacks_dir: Path) -> dict[tuple[str, str], str]:
    """(stack file as checkov names it, logical id) -> construct path, e.g. ``base/network/vpc``."""
    paths = {}
    for file in sorted(stacks_dir.glob("*/cdk.tf.json")):
        stack = json.loads(file.read_text())
        for block in ("resource", "data"):
            for items in stack.get(block, {}).values():
                for key, body in items.items():
                    path = body.get("//", {}).get("metadata", {}).get("path")
                    if path:
                        paths[(f"/{file.parent.name}/cdk.tf.json", key)] = path
    return paths


def checkov_view(stack: dict[str, Any]) -> dict[str, Any]:
    """``stack`` without what checkov 3.3's JSON parser cannot read (it then drops the whole file as a
    "parsing error"): the ``ephemeral`` block (Terraform 1.10), the ``removed`` block (1.7) and
    ``terraform.required_version`` (a string where it expects blocks). None holds anything a check looks
    at."""
    view = {key: value for key, value in stack.items() if key not in {"ephemeral", "removed"}}
    if "terraform" in view:
        view["terraform"] = {k: v for k, v in view["terraform"].items() if k != "required_version"}
    return view


def run_checkov(stacks_dir: Path, checkov: Path = CHECKOV) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        for file in sorted(stacks_dir.glob("*/cdk.tf.json")):
            copy = Path(tmp) / file.parent.name / file.name
            copy.parent.mkdir()
            copy.write_text(json.dumps(checkov_view(json.loads(file.read_text()))))
        report = _checkov(Path(tmp), checkov)
    errors = int(report.get("summary", {}).get("parsing_errors", 0))
    if errors:
        # A file checkov cannot parse is a file nothing was checked in: never a pass.
        raise RuntimeError(f"checkov could not parse {errors} stack file(s) in {stacks_dir}")
    return report


# What checkov's own console script (`.tools/checkov/bin/checkov`) does, with Python's cyclic garbage collector
# paused while checkov imports: thousands of check classes that live until the process exits, which the collector
# rescanned again and again (~0.45 s of a ~2 s start). Run by the interpreter of checkov's virtualenv.
_RUN_CHECKOV = """\
import gc, sys, warnings
gc.disable()
from checkov.main import Checkov
gc.enable()
gc.freeze()
sys.argv[0] = "checkov"
with warnings.catch_warnings():
    warnings.simplefilter("ignore", category=SyntaxWarning)
    sys.exit(Checkov().run())
"""


def _checkov(stacks_dir: Path, checkov: Path) -> dict[str, Any]:
    # --skip-download: offline, no platform calls; the JSON report goes to stdout.
    result = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [
            str(checkov.parent / "python"),
            "-c",
            _RUN_CHECKOV,
            "-d",
            str(stacks_dir),
            "--framework",
            "terraform_json",
            "--quiet",
            "--compact",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov failed ({result.returncode}): {result.stderr.strip()[-500:]}")
    report = json.loads(result.stdout)
    # checkov prints one report per framework; a list when several ran.
    report_dict: dict[str, Any] = report[0] if isinstance(report, list) else report
    return report_dict


def evaluate(env: str, report: dict[str, Any], paths: dict[tuple[str, str], str], skips: list[Skip]) -> Result:
    result = Result(env, passed=int(report.get("summary", {}).get("passed", 0)))
    for failure in report.get("results", {}).get("failed_checks", []):
        logical = failure["resource"].split(".", 1)[1]
        path = paths.get((failure["file_path"], logical), f"{failure['file_path']}:{logical}")
        skip = next((s for s in skips if s.matches(failure["check_id"], path, env)), None)
        if skip is None:
            result.failed.append(f"{env}: {failure['check_id']} {path}: {failure['check_name']}")
        else:
            result.skipped.append((failure["check_id"], path, skip))
    return result


def stale(skips: list[Skip], results: list[Result]) -> list[Skip]:
    """Exceptions that matched nothing in any environment: the list must stay true."""
    used = {id(skip) for r in results for _, _, skip in r.skipped}
    return [s for s in skips if id(s) not in used]
