"""Render ``terraform show -json`` plans of several stacks into one pull-request comment.

Pure functions, no network. The comment carries a hidden marker so the workflow can find and update it
in place; destroys and replacements are listed above the fold; per-stack details are collapsed; and the
whole never exceeds GitHub's 65,536-character limit (details are cut first, the summary and the
warnings are kept).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = "<!-- viberglass-plan-comment -->"
GITHUB_LIMIT = 65_536
COUNTED = ("create", "update", "delete", "replace", "import", "move", "forget")


class PlanError(ValueError):
    """A plan file that cannot be read as Terraform's JSON plan format."""


@dataclass(frozen=True)
class Change:
    address: str
    action: str  # create | update | delete | replace | read | forget | no-op
    attributes: tuple[str, ...] = ()
    replace_order: str = ""  # "delete, then create" / "create, then delete"
    imported: bool = False
    moved_from: str = ""


@dataclass
class StackPlan:
    """One stack's plan; ``error`` set when the plan failed, ``note`` when it did not run."""

    name: str
    changes: list[Change] = field(default_factory=list)
    output_changes: list[str] = field(default_factory=list)
    error: str = ""
    note: str = ""

    def count(self, kind: str) -> int:
        if kind == "import":
            return sum(c.imported for c in self.changes)
        if kind == "move":
            return sum(bool(c.moved_from) for c in self.changes)
        return sum(c.action == kind for c in self.changes)

    @property
    def has_changes(self) -> bool:
        return any(self.count(k) for k in COUNTED) or bool(self.output_changes)

    @property
    def dangerous(self) -> list[Change]:
        return [c for c in self.changes if c.action in {"delete", "replace"}]


def _action(actions: Sequence[str]) -> tuple[str, str]:
    match list(actions):
        case ["delete", "create"]:
            return "replace", "delete, then create"
        case ["create", "delete"]:
            return "replace", "create, then delete"
        case [single] if single in {"create", "update", "delete", "read", "no-op", "forget"}:
            return single, ""
        case other:
            raise PlanError(f"unknown change actions {other}")


def _changed_attributes(change: dict[str, Any]) -> tuple[str, ...]:
    """Top-level attribute names whose value changes; sensitive ones are marked, values never shown."""
    before = change.get("before") or {}
    after = change.get("after") or {}
    unknown = change.get("after_unknown") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    sensitive = {**_as_dict(change.get("before_sensitive")), **_as_dict(change.get("after_sensitive"))}
    names = sorted(
        k for k in set(before) | set(after) | set(unknown) if before.get(k) != after.get(k) or unknown.get(k)
    )
    return tuple(f"{k} (sensitive)" if sensitive.get(k) else k for k in names)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_plan(name: str, document: Any) -> StackPlan:
    """A :class:`StackPlan` from a parsed ``terraform show -json`` document (format_version 1.x)."""
    if not isinstance(document, dict) or not str(document.get("format_version", "")).startswith("1."):
        raise PlanError("not a Terraform JSON plan (format_version 1.x expected)")
    plan = StackPlan(name)
    for rc in document.get("resource_changes", []) or []:
        change = rc.get("change", {})
        action, order = _action(change.get("actions", []))
        imported = bool(change.get("importing"))
        moved_from = rc.get("previous_address", "") or ""
        if action == "no-op" and not imported and not moved_from:
            continue
        attributes = _changed_attributes(change) if action in {"update", "replace"} else ()
        plan.changes.append(Change(rc["address"], action, attributes, order, imported, moved_from))
    for output, change in sorted((document.get("output_changes") or {}).items()):
        action, _ = _action(change.get("actions", []))
        if action != "no-op":
            plan.output_changes.append(f"{output} ({action})")
    if document.get("errored"):
        plan.error = "Terraform reported the plan as errored"
    return plan


def load_plan(name: str, path: Path) -> StackPlan:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PlanError(f"{path}: cannot read plan JSON ({error.__class__.__name__}: {error})") from None
    try:
        return parse_plan(name, document)
    except PlanError as error:
        raise PlanError(f"{path}: {error}") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise PlanError(f"{path}: malformed plan ({error.__class__.__name__}: {error})") from None


def failed(name: str, log: str, *, lines: int = 20) -> StackPlan:
    """A stack whose plan failed; keeps the last ``lines`` lines of its log."""
    tail = "\n".join(log.rstrip().splitlines()[-lines:])
    return StackPlan(name, error=tail or "(no output)")


def pending(name: str, reason: str) -> StackPlan:
    """A stack that was not planned (e.g. its upstream stack is not applied yet)."""
    return StackPlan(name, note=reason)


# -- rendering ------------------------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _totals(plans: Iterable[StackPlan]) -> dict[str, int]:
    plans = list(plans)
    return {k: sum(p.count(k) for p in plans) for k in COUNTED}


def _headline(plans: list[StackPlan]) -> str:
    totals = _totals(plans)
    words = {"create": "to add", "update": "to change", "delete": "to destroy", "replace": "to replace",
             "import": "to import", "move": "to move", "forget": "to forget"}  # fmt: skip
    parts = [f"{totals[k]} {words[k]}" for k in COUNTED if totals[k] or k in {"create", "update", "delete"}]
    failed_count = sum(bool(p.error) for p in plans)
    suffix = f", **{_plural(failed_count, 'stack')} failed**" if failed_count else ""
    return f"## Terraform plan: {', '.join(parts)}{suffix}"


def _warnings(plans: list[StackPlan], budget: int) -> str:
    dangerous = [(p.name, c) for p in plans for c in p.dangerous]
    if not dangerous:
        return ""
    deletes = sum(c.action == "delete" for _, c in dangerous)
    replaces = len(dangerous) - deletes
    lines = [
        "> [!CAUTION]",
        f"> **{_plural(deletes, 'resource')} will be destroyed and {_plural(replaces, 'resource')} replaced:**",
    ]
    used = sum(len(line) + 1 for line in lines)
    for shown, (stack, change) in enumerate(dangerous):
        how = "destroy" if change.action == "delete" else f"replace ({change.replace_order})"
        line = f"> - `{stack}`: {how} `{change.address}`"
        if used + len(line) + 1 > budget - 120:
            lines.append(f"> - ... and {len(dangerous) - shown} more: see the full plan")
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def _table(plans: list[StackPlan]) -> str:
    rows = ["| stack | create | update | delete | replace | import | move | forget | outputs |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    quiet = []
    for p in plans:
        if p.error:
            rows.append(f"| `{p.name}` | **plan failed** |  |  |  |  |  |  |  |")
        elif p.note:
            rows.append(f"| `{p.name}` | not planned: {p.note} |  |  |  |  |  |  |  |")
        elif not p.has_changes:
            quiet.append(f"`{p.name}`")
        else:
            counts = " | ".join(str(p.count(k) or "") for k in COUNTED)
            rows.append(f"| `{p.name}` | {counts} | {len(p.output_changes) or ''} |")
    table = "\n".join(rows) if len(rows) > 2 else ""
    no_changes = f"No changes: {', '.join(quiet)}." if quiet else ""
    return "\n\n".join(part for part in (table, no_changes) if part)


def _failures(plans: list[StackPlan]) -> str:
    blocks = []
    for p in plans:
        if p.error:
            fence = "````" if "```" in p.error else "```"
            blocks.append(f"**`{p.name}` plan failed:**\n\n{fence}\n{p.error}\n{fence}")
    return "\n\n".join(blocks)


def _details(plan: StackPlan) -> list[str]:
    """The lines of one stack's collapsible details (first and last lines open and close it)."""
    counts = ", ".join(_plural(plan.count(k), k) for k in COUNTED if plan.count(k))
    lines = [f"<details><summary><code>{plan.name}</code>: {counts or 'outputs only'}</summary>", ""]
    labels = {"create": "Create", "update": "Update in place", "replace": "Replace", "delete": "Destroy",
              "read": "Read (data sources)", "forget": "Forget (removed from state, kept in AWS)"}  # fmt: skip
    for action, label in labels.items():
        group = [c for c in plan.changes if c.action == action]
        if group:
            lines.append(f"**{label}**")
            for c in group:
                extra = f" ({c.replace_order})" if c.replace_order else ""
                attrs = f": {', '.join(f'`{a}`' for a in c.attributes)}" if c.attributes else ""
                lines.append(f"- `{c.address}`{extra}{attrs}")
            lines.append("")
    imported = [c for c in plan.changes if c.imported]
    if imported:
        lines += ["**Import**", *(f"- `{c.address}`" for c in imported), ""]
    moved = [c for c in plan.changes if c.moved_from]
    if moved:
        lines += ["**Move**", *(f"- `{c.moved_from}` → `{c.address}`" for c in moved), ""]
    if plan.output_changes:
        lines += ["**Outputs**", *(f"- `{o}`" for o in plan.output_changes), ""]
    lines.append("</details>")
    return lines


def render(plans: Sequence[StackPlan], *, full_plan: str = "the job summary", limit: int = GITHUB_LIMIT) -> str:
    """The comment markdown, at most ``limit`` characters."""
    plans = list(plans)
    footer_cut = f"\n\n_Details were cut to fit GitHub's comment limit; the full plan is in {full_plan}._"
    footer = f"\n\n_Full plan: {full_plan}._"
    head_parts = [MARKER, _headline(plans)]
    table, failures = _table(plans), _failures(plans)
    fixed = "\n\n".join([*head_parts, table, failures])
    warnings = _warnings(plans, limit - len(fixed) - len(footer_cut) - 10)
    head = "\n\n".join(part for part in [*head_parts, warnings, table, failures] if part)
    budget = limit - len(head) - len(footer_cut) - 2
    body: list[str] = []
    cut = False
    for plan in plans:
        if plan.error or plan.note or not plan.has_changes:
            continue
        lines = _details(plan)
        block = "\n".join(lines)
        if len(block) + 2 <= budget:
            body.append(block)
            budget -= len(block) + 2
            continue
        # Keep as many lines of this stack as fit, then close it; later stacks get only their summary.
        cut = True
        closing = ["- ... (cut)", "", "</details>"]
        kept: list[str] = []
        room = budget - sum(len(x) + 1 for x in closing)
        for line in lines[:-1]:
            if room - len(line) - 1 < 0:
                break
            kept.append(line)
            room -= len(line) + 1
        if len(kept) > 2:
            partial = "\n".join([*kept, *closing])
            body.append(partial)
            budget -= len(partial) + 2
        break
    text = "\n\n".join([head, *body]) + (footer_cut if cut else footer)
    return text[:limit] if len(text) > limit else text
