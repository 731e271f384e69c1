"""No plan, plan JSON or state file leaves the runner where repository readers could get it.

Binary plans and `terraform show -json` output hold the database password, SecureString values and tokens
in clear, and so does state. This scans every workflow and every script for the ways such a file escapes:
artifact uploads, cache saves, `gh`/`curl` uploads, and printing plan JSON, state or unchecked plan text to a
log or the job summary. Known findings are listed below with their reason; the test fails on any other
finding, and on a listed one that no longer occurs (so the list cannot go stale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
SCRIPTS = sorted(p for d in ("scripts", ".ci") for p in (ROOT / d).rglob("*") if p.is_file())

# Paths that are (or contain) saved plans, plan JSON, human plans or state.
SENSITIVE_PATH = re.compile(
    r"(^|[/\s\"'=*@])(plans(/|$)|cdktf\.out|terraform-state|\.terraform(/|$)|[\w.*-]*tfplan\b|"
    r"[\w.*-]*\.tfstate\b|plan\.json\b|[\w.*-]*\.plan\.json\b)"
)
UPLOADERS = ("actions/upload-artifact", "actions/cache")
# Shell that sends a file somewhere, or prints plan/state content to the log or the job summary:
# (rule, pattern, whether the line must also name a plan/state path).
SHELL_RULES = [
    ("gh upload", re.compile(r"\bgh\s+(release\s+upload|gist\s+create)\b.*"), False),
    ("gh api file field", re.compile(r"\bgh\s+api\b.*(-F|--field|--input)\b.*"), True),
    ("curl upload", re.compile(r"\bcurl\b.*(-T|--upload-file|-F|--data-binary)\b.*"), True),
    ("plan JSON printed", re.compile(r"\bterraform\b[^|>\n]*\bshow\b[^|>\n]*-json(?![^\n]*>\s*\S).*"), False),
    # `terraform output -json` prints sensitive outputs in clear (only `-raw`/text mode hides them).
    ("outputs printed", re.compile(r"\bterraform\b[^|>\n]*\boutput\b[^|>\n]*-json(?![^\n]*>\s*\S).*"), False),
    ("plan or state printed", re.compile(r"\b(cat|head|tail|less|jq)\b[^|>\n]*"), True),
    ("plan text to job summary", re.compile(r"\bterraform\b.*\bshow\b.*>>\s*\"?\$GITHUB_STEP_SUMMARY.*"), False),
]


@dataclass(frozen=True)
class Finding:
    file: str
    where: str  # job/step for workflows, line for scripts
    rule: str
    text: str


def _steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(job, step) for job, spec in (workflow.get("jobs") or {}).items() for step in spec.get("steps", [])]


def scan_workflow(path: Path) -> list[Finding]:
    workflow: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    found = []
    for job, step in _steps(workflow):
        where = f"{job}: {step.get('name') or step.get('uses') or 'run'}"
        uses = str(step.get("uses", ""))
        if uses.startswith(UPLOADERS):
            for line in str((step.get("with") or {}).get("path", "")).splitlines():
                if SENSITIVE_PATH.search(line.strip()):
                    found.append(Finding(path.name, where, uses.split("@", maxsplit=1)[0], line.strip()))
        found += [Finding(path.name, where, rule, text) for rule, text in scan_shell(str(step.get("run", "")))]
    return found


def scan_shell(script: str) -> list[tuple[str, str]]:
    found = []
    for line in script.splitlines():
        for rule, pattern, needs_path in SHELL_RULES:
            match = pattern.search(line)
            if match and (not needs_path or SENSITIVE_PATH.search(match.group(0))):
                found.append((rule, match.group(0).strip()))
                break
    # Human plan text may reach the job summary only through `ops plan-comment --job-summary`, which
    # redacts what the plan JSON marks sensitive.
    if "GITHUB_STEP_SUMMARY" in script and re.search(r"plans/[^\s]*\.txt|\$stack\.txt|\.txt\"", script):
        found.append(("unchecked plan text to job summary", "plan .txt appended to $GITHUB_STEP_SUMMARY"))
    return found


def scan_script(path: Path) -> list[Finding]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return []
    return [Finding(str(path.relative_to(ROOT)), "script", rule, found) for rule, found in scan_shell(text)]


# Findings that are known and accepted, each with its reason (none: the prod deploy hands over only the
# value-free review record). Each entry must keep matching a finding, and nothing else may be found.
KNOWN: dict[Finding, str] = {}


def _normalise(finding: Finding) -> Finding:
    return Finding(finding.file, finding.where, finding.rule, "path: " + finding.text
                   if finding.rule == "actions/upload-artifact" else finding.text)  # fmt: skip


def test_no_workflow_or_script_leaks_a_plan_or_state() -> None:
    found = {_normalise(f) for p in WORKFLOWS for f in scan_workflow(p)}
    found |= {f for p in SCRIPTS for f in scan_script(p)}
    assert found - KNOWN.keys() == set(), "a plan, plan JSON or state would leave the runner"
    assert KNOWN.keys() - found == set(), "a known leak is gone: remove it from KNOWN"


def test_the_scan_covers_every_workflow_and_script() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"terraform-plan.yml", "terraform-drift.yml", "terraform-deploy-prod.yml", "ci.yml"} <= names
    assert {"plan-stacks.sh", "validate-stacks.sh", "provider-locks.sh", "check"} <= {p.name for p in SCRIPTS}


# -- the scanner finds what it is meant to find --------------------------------------------------------------

STEP = "on: push\njobs:\n  j:\n    runs-on: ubuntu-latest\n    permissions: {}\n    steps:\n"


@pytest.mark.parametrize(
    "step",
    [
        "      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n"
        "        with:\n          name: p\n          path: plans/dev/\n",
        "      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n"
        "        with:\n          name: p\n          path: |\n            digest/dev.json\n"
        "            cdktf.out/stacks/base/tfplan\n",
        "      - uses: actions/cache@5a3ec84eff668545956fd18022155c47e93e2684 # v4.2.3\n"
        "        with:\n          key: k\n          path: terraform-state\n",
        "      - run: terraform -chdir=cdktf.out/stacks/base show -json tfplan\n",
        "      - run: terraform show -json tfplan | jq .\n",
        "      - run: terraform -chdir=cdktf.out/stacks/platform output -json\n",
        "      - run: cat cdktf.out/stacks/base/plan.json\n",
        "      - run: gh release upload v1 base.tfplan\n",
        "      - run: gh api repos/o/r/issues/1/comments -F body=@plans/dev/base.txt\n",
        "      - run: curl -T prod.tfstate https://example.com/\n",
        '      - run: terraform show -no-color tfplan >> "$GITHUB_STEP_SUMMARY"\n',
        '      - run: head -c 1000 plans/dev/base.txt >> "$GITHUB_STEP_SUMMARY"\n',
    ],
)
def test_the_scanner_catches(step: str, tmp_path: Path) -> None:
    workflow = tmp_path / "w.yml"
    workflow.write_text(STEP + step)
    assert scan_workflow(workflow)


@pytest.mark.parametrize(
    "step",
    [
        "      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n"
        "        with:\n          name: d\n          path: digest/dev.json\n",
        '      - run: terraform -chdir="$dir" show -json tfplan > "$dir/plan.json" 2>> "$log"\n',
        '      - run: cat job-summary.md >> "$GITHUB_STEP_SUMMARY"\n',
        '      - run: terraform -chdir="$dir" output -json > "$dir/outputs.json"\n',
        "      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2\n"
        "        with:\n          name: reviewed-base\n          path: reviewed/base.json\n",
    ],
)
def test_the_scanner_lets_value_free_handovers_pass(step: str, tmp_path: Path) -> None:
    workflow = tmp_path / "w.yml"
    workflow.write_text(STEP + step)
    assert scan_workflow(workflow) == []
