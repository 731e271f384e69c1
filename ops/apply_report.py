"""What an apply did, for the job summary and the merged pull request: per stack, the changes (from the plan
that was applied, value-free), the stack's outputs that matter (its named outputs; never a sensitive one,
never cdktf's cross-stack wiring) and links to the run and the commit. Standard library only.
"""

from __future__ import annotations

import json
from typing import Any

from ops.plan_comment import COUNTED, StackPlan, cell, code

MARKER = "<!-- viberglass-apply-report -->"
CROSS_STACK = "cross-stack-output-"
MAX_VALUE = 300
WORDS = {"create": "added", "update": "changed", "delete": "destroyed", "replace": "replaced", "forget": "forgotten",
         "import": "imported", "move": "moved"}  # fmt: skip


def outputs_that_matter(outputs: Any) -> list[tuple[str, str]]:
    """(name, shown value) of ``terraform output -json``: named outputs only; sensitive ones say so."""
    shown = []
    for name, output in sorted((outputs or {}).items()):
        if name.startswith(CROSS_STACK) or not isinstance(output, dict):
            continue
        if output.get("sensitive"):
            shown.append((name, "(sensitive)"))
            continue
        value = output.get("value")
        text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
        shown.append((name, text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."))
    return shown


def _value(text: str) -> str:
    if text.startswith("https://") and " " not in text and "|" not in text and ")" not in text:
        return f"[{text}]({text})"
    return cell(text)


def render(plan: StackPlan, outputs: Any, *, run_url: str, commit_url: str, failed: str = "") -> str:
    """One stack's report (Markdown)."""
    lines = [f"### {code(plan.name)} {'apply failed' if failed else 'applied'}", ""]
    if failed:
        lines += [f"**{failed}**", ""]
    counts = {k: plan.count(k) for k in COUNTED if k != "read"}
    if not plan.has_changes:
        lines.append("No changes.")
    else:
        said = [f"{n} {WORDS[k]}" for k, n in counts.items() if n]
        if plan.output_changes:
            said.append(f"{len(plan.output_changes)} output(s) changed")
        lines += [", ".join(said) + ".", "", "| change | resource |", "|---|---|"]
        for change in plan.changes:
            if change.action != "read":
                lines.append(f"| {change.action} | {cell(change.address)} |")
    shown = outputs_that_matter(outputs)
    if shown:
        lines += ["", "| output | value |", "|---|---|"]
        lines += [f"| {cell(name)} | {_value(value)} |" for name, value in shown]
    lines += ["", f"[Run]({run_url}) · commit [{code(commit_url.rsplit('/', 1)[-1][:12])}]({commit_url})", ""]
    return "\n".join(lines)


def backend_template_changed(plan: StackPlan) -> bool:
    """Whether the apply replaced or changed a task definition the running service does not follow by itself
    (the backend service ignores ``task_definition``: `ops deploy backend --running-image` must follow)."""
    return any(c.address.startswith("aws_ecs_task_definition.") and c.action in {"update", "replace"}
               for c in plan.changes)  # fmt: skip
