"""Render ``terraform show -json`` plans of several stacks into one pull-request comment.

Pure functions on the standard library, no network. The comment carries a hidden marker so the workflow
can find and update it in place. Every stack is read on its own: a file that is not a readable plan
(not JSON, a state file, an unknown action list, ...) makes *that* stack "failed" with a one-line reason
and never stops the others. Destroys and replacements are listed above the fold, space is budgeted per
stack so one large stack cannot push another stack's destroys out of sight, and the whole never exceeds
GitHub's 65,536-character limit (nothing is cut mid-line or inside a code fence).

Values never leave this module: a :class:`StackPlan` keeps addresses, actions, attribute *names* and
reasons only, so its JSON form (:func:`to_digest`) can travel between CI jobs while the plan JSON, which
holds passwords and tokens in clear, stays on the runner that made it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MARKER = "<!-- viberglass-plan-comment -->"
GITHUB_LIMIT = 65_536
# Keys of the machine-readable summary (``--summary``), in this order.
COUNTED = ("create", "update", "delete", "replace", "import", "move", "forget", "read")
DIGEST_VERSION = 1
_FORMAT = re.compile(r"^[01]\.\d+$")  # plan JSON format versions this module reads (0.1 ... 1.x)

# Terraform's ``action_reason`` values (internal/command/jsonplan), in the words of its human plan.
REASONS = {
    "replace_because_tainted": "tainted",
    "replace_because_cannot_update": "an attribute that cannot be updated in place changed",
    "replace_by_request": "replacement requested (-replace)",
    "replace_by_triggers": "replace_triggered_by changed",
    "delete_because_no_resource_config": "no longer in the configuration",
    "delete_because_wrong_repetition": "count/for_each changed",
    "delete_because_count_index": "count index out of range",
    "delete_because_each_key": "for_each key no longer present",
    "delete_because_no_module": "its module is no longer in the configuration",
    "delete_because_no_move_target": "moved to an address that is not in the configuration",
    "read_because_config_unknown": "its arguments are known only after apply",
    "read_because_dependency_pending": "it depends on changes pending apply",
    "read_because_check_nested": "read by a check block",
}


class PlanError(ValueError):
    """A document that cannot be read as Terraform's JSON plan format (the stack is then "failed")."""


@dataclass(frozen=True)
class Change:
    """One resource instance change, without any value."""

    address: str
    action: str  # create | update | delete | replace | read | forget
    attributes: tuple[str, ...] = ()  # update: changed attribute names; replace: the paths forcing it
    replace_order: str = ""  # "delete, then create" / "create, then delete" / "create, then forget"
    reason: str = ""
    imported: bool = False
    moved_from: str = ""
    deposed: str = ""  # key of a deposed object (a leftover of an earlier create_before_destroy)


@dataclass
class StackPlan:
    """One stack's plan; ``error`` set when it failed (with ``log``, a tail), ``note`` when not planned."""

    name: str
    changes: list[Change] = field(default_factory=list)
    drift: list[Change] = field(default_factory=list)
    output_changes: list[str] = field(default_factory=list)
    error: str = ""
    log: str = ""
    note: str = ""

    @property
    def status(self) -> str:
        return "failed" if self.error else "pending" if self.note else "planned"

    def count(self, kind: str) -> int:
        """Changes of one summary kind; a failed or pending stack counts nothing (its plan is not one)."""
        if self.status != "planned":
            return 0
        if kind == "import":
            return sum(c.imported for c in self.changes)
        if kind == "move":
            return sum(bool(c.moved_from) for c in self.changes)
        return sum(c.action == kind for c in self.changes)

    def counts(self) -> dict[str, int]:
        return {k: self.count(k) for k in COUNTED}

    @property
    def has_changes(self) -> bool:
        """Anything apply would do to infrastructure or outputs (data reads alone are not changes)."""
        return any(self.count(k) for k in COUNTED if k != "read") or bool(self.output_changes)

    @property
    def dangerous(self) -> list[Change]:
        return [c for c in self.changes if c.action in {"delete", "replace"}] if self.status == "planned" else []


# -- reading plans -------------------------------------------------------------------------------------------


# The replacement orders :func:`_action` reads, in the comment's words.
REPLACE_ORDERS = frozenset(
    {"delete, then create", "create, then delete", "create, then forget the old object, which stays in AWS"}
)


def _action(actions: Any) -> tuple[str, str]:
    if not isinstance(actions, list):
        raise PlanError(f"change actions {actions!r} are not a list")
    match actions:
        case ["delete", "create"]:
            return "replace", "delete, then create"
        case ["create", "delete"]:
            return "replace", "create, then delete"
        case ["create", "forget"]:
            return "replace", "create, then forget the old object, which stays in AWS"
        case [single] if single in {"create", "update", "delete", "read", "no-op", "forget"}:
            return single, ""
        case other:
            raise PlanError(f"unknown change actions {other}")


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _path(steps: Any) -> str:
    """A ``replace_paths`` entry (["tags", "Name"], ["ingress", 0, "cidr"]) as ``tags["Name"]``."""
    if not isinstance(steps, list) or not steps:
        return ""
    text = str(steps[0])
    for step in steps[1:]:
        text += f"[{step}]" if isinstance(step, int) else f"[{json.dumps(str(step))}]"
    return text


def _changed_attributes(change: dict[str, Any]) -> tuple[str, ...]:
    """Top-level attribute names whose value changes; sensitive ones are marked. Never a value."""
    before, after, unknown = (_as_dict(change.get(k)) for k in ("before", "after", "after_unknown"))
    sensitive = {**_as_dict(change.get("before_sensitive")), **_as_dict(change.get("after_sensitive"))}
    names = []
    for k in sorted(set(before) | set(after) | set(unknown)):
        if unknown.get(k):
            names.append(f"{k} (known after apply)")
        elif before.get(k) != after.get(k):
            names.append(f"{k} (sensitive)" if sensitive.get(k) else k)
    return tuple(names)


def _reason(value: Any) -> str:
    return REASONS.get(str(value), str(value)) if value else ""


def _change(rc: Any) -> Change | None:
    """One ``resource_changes``/``resource_drift`` entry; None for a plain no-op."""
    if not isinstance(rc, dict) or not isinstance(rc.get("address"), str):
        raise PlanError("a resource change without an address")
    change = _as_dict(rc.get("change"))
    action, order = _action(change.get("actions"))
    imported = change.get("importing") is not None
    moved_from = str(rc.get("previous_address") or "")
    if action == "no-op" and not imported and not moved_from:
        return None
    if action == "replace":
        attributes = tuple(p for p in (_path(s) for s in change.get("replace_paths") or []) if p)
    elif action == "update":
        attributes = _changed_attributes(change)
    else:
        attributes = ()
    deposed = str(rc.get("deposed") or "")
    return Change(rc["address"], action, attributes, order, _reason(rc.get("action_reason")), imported,
                  moved_from, deposed)  # fmt: skip


def _describe(document: Any) -> str:
    """Why ``document`` is not a plan, in one line."""
    if not isinstance(document, dict):
        return f"not a Terraform JSON plan (a JSON {type(document).__name__})"
    if {"lineage", "serial"} & document.keys() or ("version" in document and "resources" in document):
        return "a Terraform state file, not a plan (give `terraform show -json <planfile>`)"
    version = _version(document)
    if version is None:
        return "not a Terraform JSON plan (no format_version)"
    if not _FORMAT.match(str(version)):
        return f"plan format_version {version} is not one this tool reads (0.x and 1.x)"
    if "values" in document:
        return "`terraform show -json` of a state, not of a plan (give it the saved plan file)"
    return "not a Terraform JSON plan (no planned_values or resource_changes)"


def _version(document: dict[str, Any]) -> Any:
    """``format_version`` of ``terraform show -json``, or ``plan_format_version`` of the redacted JSON plan
    HCP Terraform serves for a run (ops/hcp_runs.py): the same ``resource_changes``, ``resource_drift`` and
    ``output_changes``, without ``planned_values``."""
    return document.get("format_version", document.get("plan_format_version"))


def parse_plan(name: str, document: Any) -> StackPlan:
    """A :class:`StackPlan` from a parsed ``terraform show -json`` plan (format_version 0.x or 1.x), or HCP
    Terraform's redacted JSON plan of a run (plan_format_version 1.x).

    Raises :class:`PlanError` (one line) for anything else: states, other JSON, unknown action lists.
    """
    if not (
        isinstance(document, dict)
        and _FORMAT.match(str(_version(document) or ""))
        # HCP's redacted plan leaves out empty lists (a plan without changes has no resource_changes).
        and ({"planned_values", "resource_changes", "plan_format_version"} & document.keys())
    ):
        raise PlanError(_describe(document))
    plan = StackPlan(name)
    try:
        for rc in document.get("resource_changes") or []:
            if (change := _change(rc)) is not None:
                plan.changes.append(change)
        for rc in document.get("resource_drift") or []:
            if (change := _change(rc)) is not None:
                plan.drift.append(change)
        for output, change in sorted(_as_dict(document.get("output_changes")).items()):
            action, _ = _action(_as_dict(change).get("actions"))
            if action != "no-op":
                plan.output_changes.append(f"{output} ({action})")
    except (KeyError, TypeError, AttributeError) as error:
        raise PlanError(f"malformed plan ({error.__class__.__name__}: {error})") from None
    if document.get("errored"):
        plan.error = "Terraform reported the plan as errored: it stopped part-way, so its changes are incomplete"
    return plan


def load_plan(name: str, path: Path) -> StackPlan:
    """The plan of ``path``, or a failed stack saying in one line why it could not be read."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        return parse_plan(name, document)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return StackPlan(name, error=f"{path.name}: cannot read plan JSON ({error.__class__.__name__}: {error})")
    except PlanError as error:
        return StackPlan(name, error=f"{path.name}: {error}")
    except RecursionError:
        return StackPlan(name, error=f"{path.name}: JSON nested too deeply to be a plan")


def failed(name: str, log: str, *, reason: str = "plan failed", lines: int = 20) -> StackPlan:
    """A stack whose init or plan failed; keeps the last ``lines`` lines of its log."""
    tail = "\n".join(log.rstrip().splitlines()[-lines:])
    return StackPlan(name, error=reason, log=tail or "(no output)")


def pending(name: str, reason: str) -> StackPlan:
    """A stack that was not planned (e.g. its upstream stack is not applied yet)."""
    return StackPlan(name, note=reason)


# -- digests: the value-free form that travels between jobs -----------------------------------------------


def to_digest(plans: Iterable[StackPlan]) -> dict[str, Any]:
    return {"digest_version": DIGEST_VERSION, "stacks": [asdict(p) for p in plans]}


def _strings(value: Any, what: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PlanError(f"{what} is not a list of strings")
    return list(value)


def _digest_change(raw: Any) -> Change:
    if not isinstance(raw, dict):
        raise PlanError("a change is not an object")
    text = {k: str(raw.get(k) or "") for k in ("address", "action", "replace_order", "reason", "moved_from", "deposed")}
    if text["action"] not in {"create", "update", "delete", "replace", "read", "forget", "no-op"}:
        raise PlanError(f"unknown action {text['action']!r}")
    return Change(text["address"], text["action"], tuple(_strings(raw.get("attributes", []), "attributes")),
                  text["replace_order"], text["reason"], bool(raw.get("imported")), text["moved_from"],
                  text["deposed"])  # fmt: skip


def from_digest(document: Any) -> list[StackPlan]:
    """The stacks of a digest written by :func:`to_digest`; raises :class:`PlanError` when malformed."""
    if not isinstance(document, dict) or document.get("digest_version") != DIGEST_VERSION:
        raise PlanError(f"not a plan digest (digest_version {DIGEST_VERSION} expected)")
    plans = []
    for raw in document.get("stacks") or []:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise PlanError("a digest stack without a name")
        plans.append(
            StackPlan(
                raw["name"],
                changes=[_digest_change(c) for c in raw.get("changes") or []],
                drift=[_digest_change(c) for c in raw.get("drift") or []],
                output_changes=_strings(raw.get("output_changes", []), "output_changes"),
                error=str(raw.get("error") or ""),
                log=str(raw.get("log") or ""),
                note=str(raw.get("note") or ""),
            )
        )
    return plans


def load_digest(path: Path, fallback_name: str) -> list[StackPlan]:
    """The stacks of a digest file, or one failed stack named ``fallback_name`` saying why not."""
    try:
        return from_digest(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, PlanError) as error:
        return [StackPlan(fallback_name, error=f"{path.name}: cannot read plan digest ({error})")]


def summary(plans: Iterable[StackPlan]) -> dict[str, Any]:
    """The machine-readable summary (``--summary``): name, status and counts of every stack."""
    return {"stacks": [{"name": p.name, "status": p.status, "counts": p.counts()} for p in plans]}


# -- keeping sensitive values out of the human plan text --------------------------------------------------


def _sensitive_leaves(value: Any, mask: Any) -> Iterator[Any]:
    if mask is True:
        yield value
    elif isinstance(mask, dict) and isinstance(value, dict):
        for key, sub in mask.items():
            yield from _sensitive_leaves(value.get(key), sub)
    elif isinstance(mask, list) and isinstance(value, list):
        for sub_value, sub_mask in zip(value, mask, strict=False):
            yield from _sensitive_leaves(sub_value, sub_mask)


def _scalars(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for sub in value.values():
            yield from _scalars(sub)
    elif isinstance(value, list):
        for sub in value:
            yield from _scalars(sub)
    elif value is not None and not isinstance(value, bool):
        text = str(value)
        yield text
        yield from text.splitlines()  # multi-line values are printed line by line (heredocs)


def _module_values(module: Any) -> Iterator[tuple[Any, Any]]:
    module = _as_dict(module)
    for raw in module.get("resources") or []:
        resource = _as_dict(raw)
        yield resource.get("values"), resource.get("sensitive_values")
    for child in module.get("child_modules") or []:
        yield from _module_values(child)


def sensitive_values(document: Any) -> set[str]:
    """Every value the plan JSON marks sensitive (resource attributes, outputs, sensitive variables)."""
    document = _as_dict(document)
    pairs: list[tuple[Any, Any]] = []
    for key in ("resource_changes", "resource_drift"):
        for rc in document.get(key) or []:
            change = _as_dict(_as_dict(rc).get("change"))
            pairs += [(change.get("before"), change.get("before_sensitive")),
                      (change.get("after"), change.get("after_sensitive"))]  # fmt: skip
    for raw in _as_dict(document.get("output_changes")).values():
        change = _as_dict(raw)
        pairs += [(change.get("before"), change.get("before_sensitive")),
                  (change.get("after"), change.get("after_sensitive"))]  # fmt: skip
    for key in ("planned_values", "prior_state"):
        section = _as_dict(document.get(key))
        section = _as_dict(section.get("values", section))
        pairs += list(_module_values(section.get("root_module")))
        for output in _as_dict(section.get("outputs")).values():
            pairs.append((_as_dict(output).get("value"), _as_dict(output).get("sensitive") is True))
    declared = _as_dict(_as_dict(_as_dict(document.get("configuration")).get("root_module")).get("variables"))
    for name, variable in _as_dict(document.get("variables")).items():
        if _as_dict(declared.get(name)).get("sensitive"):
            pairs.append((_as_dict(variable).get("value"), True))
    found: set[str] = set()
    for value, mask in pairs:
        for leaf in _sensitive_leaves(value, mask):
            found.update(_scalars(leaf))
    return found


REDACTED = "(sensitive value)"
MIN_REDACTED_LENGTH = 8


def redact(text: str, secrets: Iterable[str]) -> tuple[str, int]:
    """``text`` with every sensitive value of at least 8 characters replaced as Terraform prints it.

    Terraform already redacts sensitive values in its human plan; this is the second lock. Shorter values
    (booleans, ports) cannot be told apart from ordinary text and are left to Terraform.
    """
    count = 0
    for secret in sorted({s for s in secrets if len(s) >= MIN_REDACTED_LENGTH}, key=len, reverse=True):
        if secret in text:
            count += text.count(secret)
            text = text.replace(secret, REDACTED)
    return text, count


# -- Markdown that cannot be broken by what it quotes ------------------------------------------------------


# C0 controls (newlines included), DEL and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _printable(text: str) -> str:
    """Control characters (newlines included) as escapes, so a value stays on its line."""
    return _CONTROL.sub(lambda found: f"\\x{ord(found.group()):02x}", text)


def code(text: str) -> str:
    """``text`` as an inline code span: Markdown and HTML inside are shown literally."""
    text = _printable(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) or not text else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def cell(text: str) -> str:
    """A code span safe inside a table cell (GitHub splits cells on ``|`` even inside code)."""
    return code(text).replace("|", "\\|")


def html_code(text: str) -> str:
    return f"<code>{html.escape(_printable(text))}</code>"


def fenced(text: str) -> list[str]:
    """A fenced code block around ``text`` whose fence no line of ``text`` can close."""
    lines = [_printable(line) for line in text.splitlines()] or [""]
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence, *lines, fence]


# -- rendering ------------------------------------------------------------------------------------------------

WORDS = {"create": "to add", "update": "to change", "delete": "to destroy", "replace": "to replace",
         "import": "to import", "move": "to move", "forget": "to forget", "read": "to read"}  # fmt: skip
MAX_LINE = 400  # a log line longer than this is shortened (one line of a minified JSON error, say)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _headline(plans: list[StackPlan]) -> str:
    totals = {k: sum(p.count(k) for p in plans) for k in COUNTED if k != "read"}
    parts = [f"{n} {WORDS[k]}" for k, n in totals.items() if n or k in {"create", "update", "delete"}]
    failed_count = sum(p.status == "failed" for p in plans)
    pending_count = sum(p.status == "pending" for p in plans)
    drifted = sum(len(p.drift) for p in plans if p.status == "planned")
    suffix = f", **{_plural(failed_count, 'stack')} failed**" if failed_count else ""
    suffix += f", {_plural(pending_count, 'stack')} not planned" if pending_count else ""
    suffix += f", {_plural(drifted, 'resource')} changed outside Terraform" if drifted else ""
    return f"## Terraform plan: {', '.join(parts)}{suffix}"


def _table(plans: list[StackPlan]) -> list[str]:
    rows = ["| stack | result | create | update | delete | replace | import | move | forget | read | outputs |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    blank = " |" * (len(COUNTED) + 1)
    for p in plans:
        if p.status == "failed":
            rows.append(f"| {cell(p.name)} | **failed** |{blank}")
        elif p.status == "pending":
            rows.append(f"| {cell(p.name)} | not planned: {cell(p.note)} |{blank}")
        else:
            result = "changes" if p.has_changes else "data reads only" if p.count("read") else "no changes"
            counts = " | ".join(str(p.count(k) or "") for k in COUNTED)
            rows.append(f"| {cell(p.name)} | {result} | {counts} | {len(p.output_changes) or ''} |")
    return rows


def _said(text: str, known: frozenset[str]) -> str:
    """``text`` in the comment's own words when it is one of ``known``; anything else (a reason a newer
    Terraform added, a digest that did not come from :func:`to_digest`) as code, so it renders literally:
    never a heading, a link, a mention or an HTML comment that hides the rest."""
    return text if text in known else code(text)


_REASON_WORDS = frozenset(REASONS.values())


def _how(change: Change) -> str:
    if change.action == "delete":
        what = f"**destroy deposed object** {code(change.deposed)} of" if change.deposed else "**destroy**"
    else:
        what = f"**replace** ({_said(change.replace_order, REPLACE_ORDERS)})"
    because = f": {_said(change.reason, _REASON_WORDS)}" if change.reason else ""
    forced = f"; forced by {', '.join(code(a) for a in change.attributes)}" if change.attributes else ""
    return f"{what} {code(change.address)}{because}{forced}"


def _caution_section(plan: StackPlan) -> tuple[list[str], Callable[[int], str]]:
    deletes = sum(c.action == "delete" for c in plan.dangerous)
    replaces = len(plan.dangerous) - deletes
    head = f"> **{code(plan.name)}: {_plural(deletes, 'destroy')}, {_plural(replaces, 'replacement')}**"
    lines = [head, *(f"> - {_how(c)}" for c in plan.dangerous)]
    return lines, lambda n: f"> - ... and {n} more in {code(plan.name)}: see the full plan"


def _failure_section(plan: StackPlan) -> tuple[list[str], list[str]]:
    """The always-kept head (reason) and the log lines of a failed stack."""
    # Terraform's first error line quotes what it could not do, values of the configuration among them: code.
    head = [f"**{code(plan.name)} failed**: {code(plan.error)}"]
    log = [line if len(line) <= MAX_LINE else line[:MAX_LINE] + " [...]" for line in plan.log.splitlines()]
    return head, log


def _change_line(c: Change) -> str:
    extra = f" ({_said(c.replace_order, REPLACE_ORDERS)})" if c.replace_order else ""
    if c.deposed:
        extra += f" (deposed object {code(c.deposed)})"
    if c.reason:
        extra += f": {_said(c.reason, _REASON_WORDS)}"
    if c.attributes:
        label = "forced by" if c.action == "replace" else "changes"
        extra += f"; {label} {', '.join(code(a) for a in c.attributes)}"
    return f"- {code(c.address)}{extra}"


def _details(plan: StackPlan) -> list[str]:
    """One stack's collapsible details; the first and last lines open and close it."""
    counts = ", ".join(f"{plan.count(k)} {WORDS[k]}" for k in COUNTED if plan.count(k))
    lines = [f"<details><summary>{html_code(plan.name)}: {html.escape(counts or 'outputs only')}</summary>", ""]
    groups = [("Replace", "replace"), ("Destroy", "delete"), ("Create", "create"), ("Update in place", "update"),
              ("Forget (removed from state, kept in AWS)", "forget"),
              ("Read during apply (data sources)", "read")]  # fmt: skip
    for label, action in groups:
        group = [c for c in plan.changes if c.action == action]
        if group:
            lines += [f"**{label}**", *(_change_line(c) for c in group), ""]
    imported = [c for c in plan.changes if c.imported]
    if imported:
        lines += ["**Import**", *(f"- {code(c.address)}" for c in imported), ""]
    moved = [c for c in plan.changes if c.moved_from]
    if moved:
        lines += ["**Move**", *(f"- {code(c.moved_from)} → {code(c.address)}" for c in moved), ""]
    if plan.drift:
        lines += ["**Changed outside Terraform (drift; the plan above puts it back)**",
                  *(_change_line(c) for c in plan.drift), ""]  # fmt: skip
    if plan.output_changes:
        lines += ["**Outputs**", *(f"- {code(o)}" for o in plan.output_changes), ""]
    lines.append("</details>")
    return lines


def _size(lines: Sequence[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _fair_shares(needs: list[int], floors: list[int], budget: int) -> list[int]:
    """Max-min fair shares of ``budget``: each section gets its floor, then small needs are met in full
    and what is left is split evenly among the large ones."""
    shares = list(floors)
    left = budget - sum(floors)
    if left <= 0:
        return shares
    open_ = sorted(range(len(needs)), key=lambda i: needs[i] - floors[i])
    while open_:
        each = left // len(open_)
        i = open_[0]
        want = needs[i] - shares[i]
        if want <= each:
            shares[i] += want
            left -= want
            open_.pop(0)
            continue
        for j in open_:
            shares[j] += each
        break
    return shares


def _fit(lines: list[str], room: int, more: Callable[[int], str]) -> list[str]:
    """The lines that fit in ``room`` characters, the first always, then a "... and N more" line."""
    if _size(lines) <= room:
        return lines
    kept = [lines[0]]
    used = _size(kept)
    for i, line in enumerate(lines[1:], start=1):
        if used + len(line) + 1 + len(more(len(lines) - i)) + 1 > room:
            return [*kept, more(len(lines) - i)]
        kept.append(line)
        used += len(line) + 1
    return kept


def _fit_tail(head: list[str], log: list[str], room: int) -> list[str]:
    """A failure's head and as many of its last log lines as fit, in a fence no line can close.

    The block only shrinks as its first log lines go (fewer lines, a fence no longer), so the first start
    that fits is found by bisection: a log of thousands of lines is fenced a dozen times, not once per line.
    """

    def block(start: int) -> list[str]:
        return [*head, "", *fenced("\n".join(log[start:]))] if log[start:] else head

    low, high = 0, len(log)  # the answer is in [low, high]; from `high` on everything fits (or only head is left)
    while low < high:
        middle = (low + high) // 2
        if _size(block(middle)) <= room:
            high = middle
        else:
            low = middle + 1
    return block(low)  # fits: `low` ends on a start that fitted, or on the end of the log (the head alone)


def render(  # noqa: PLR0915 - one budget walked top to bottom reads best in one place
    plans: Sequence[StackPlan], *, full_plan: str = "the job summary", commit: str = "", limit: int = GITHUB_LIMIT
) -> str:
    """The comment markdown, at most ``limit`` characters, never cut inside a line or a fence."""
    plans = list(plans)
    head = [MARKER, "", _headline(plans)]
    if commit:
        head += ["", f"Planned for commit {code(commit)}."]
    table = _table(plans)
    quiet = [p for p in plans if p.status == "planned" and not p.has_changes and not p.count("read")]
    reads = [p for p in plans if p.status == "planned" and not p.has_changes and p.count("read")]
    notes = []
    if quiet:
        notes.append(f"No changes: {', '.join(code(p.name) for p in quiet)}.")
    if reads:
        notes.append(f"Only data sources read at apply, no changes: {', '.join(code(p.name) for p in reads)}.")
    notes = [line for note in notes for line in (note, "")]  # separate paragraphs
    footer_full = f"_Full plan: {_printable(full_plan)}._"
    footer_cut = f"_Parts were shortened to fit GitHub's comment limit; the full plan is in {_printable(full_plan)}._"
    fixed = [*head, "", *table, "", *notes, "", footer_cut]
    budget = limit - _size(fixed) - 16

    # Above the fold: destroys/replacements and failures, budgeted per stack.
    dangerous = [p for p in plans if p.dangerous]
    failures = [p for p in plans if p.status == "failed"]
    caution = [_caution_section(p) for p in dangerous]
    failing = [_failure_section(p) for p in failures]
    needs = [_size(lines) for lines, _ in caution] + [_size(h) + _size(fenced("\n".join(lg))) + 1 for h, lg in failing]
    floors = [_size([lines[0], more(len(lines) - 1)]) for lines, more in caution] + [_size(h) for h, _ in failing]
    top_budget = max(0, budget * 3 // 4) if any(p.has_changes for p in plans) else budget
    shares = _fair_shares(needs, floors, top_budget)
    cut = any(share < need for share, need in zip(shares, needs, strict=True))
    top: list[str] = []
    if caution:
        deletes = sum(c.action == "delete" for p in dangerous for c in p.dangerous)
        replaces = sum(len(p.dangerous) for p in dangerous) - deletes
        total = f"{_plural(deletes, 'resource')} will be destroyed and {_plural(replaces, 'resource')} replaced"
        top += ["> [!CAUTION]", f"> **{total}.**"]
        for (lines, more), share in zip(caution, shares, strict=False):
            top += [">", *_fit(lines, share, more)]
        top.append("")
    for (fhead, log), share in zip(failing, shares[len(caution) :], strict=True):
        top += [*_fit_tail(fhead, log, share), ""]

    # Below the fold: per-stack details with what is left, again shared fairly.
    left = budget - _size(top)
    detailed = [p for p in plans if p.status == "planned" and (p.has_changes or p.drift)]
    blocks = [_details(p) for p in detailed]
    shares = _fair_shares([_size(b) + 1 for b in blocks], [0] * len(blocks), max(0, left))
    body: list[str] = []
    for block, share in zip(blocks, shares, strict=True):
        if _size(block) + 1 <= share:
            body += [*block, ""]
            continue
        cut = True
        closing = ["", "</details>"]
        kept = _fit(block[:-1], share - _size(closing) - 1, lambda n: f"- ... ({n} more lines: see the full plan)")
        if len(kept) > 2 and share > 0:
            body += [*kept, *closing, ""]

    parts = [*head, "", *top, *table, "", *notes, "", *body, footer_cut if cut else footer_full]
    text = "\n".join(line for i, line in enumerate(parts) if line or (i and parts[i - 1]))
    if len(text) > limit:  # only with absurd inputs (thousands of stacks): keep the verdict, drop the rest
        text = "\n".join([*head, "", footer_cut])[:limit]
    return text


def first_error(log: str) -> str:
    """The first ``Error: ...`` summary line of a Terraform log, as the one-line reason of a failure."""
    for line in log.splitlines():
        stripped = line.strip().lstrip("│").strip()
        if stripped.startswith("Error: "):
            return stripped[:MAX_LINE]
    return "failed (no Terraform error line; see the log)"


JOB_SUMMARY_LIMIT = 1_000_000  # GitHub refuses a step summary over 1 MiB


def job_summary(plans: Sequence[StackPlan], texts: dict[str, str], secrets: dict[str, set[str]]) -> str:
    """The human plans for the job summary: only stacks whose plan JSON named their sensitive values, with
    any such value Terraform left in the text replaced by ``(sensitive value)``; each stack gets an equal
    share of GitHub's 1 MiB step-summary limit."""
    shown = [p for p in plans if p.name in texts]
    share = (JOB_SUMMARY_LIMIT - 10_000) // max(1, len(shown))
    out = ["## Terraform plans", ""]
    for plan in shown:
        out.append(f"### {code(plan.name)}")
        if plan.name not in secrets:
            out += ["", "_Not shown: its plan JSON could not be read, so its sensitive values are unknown._", ""]
            continue
        try:
            raw = Path(texts[plan.name]).read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            out += ["", f"_Not shown: {_printable(str(error))}._", ""]
            continue
        text, count = redact(raw, secrets[plan.name])
        if count:
            out += ["", f"_{_plural(count, 'sensitive value')} that Terraform printed in clear were redacted._"]
        lines, used = [], 0
        for line in text.splitlines():
            used += len(line.encode("utf-8")) + 1
            if used > share:
                lines.append("[... cut to fit GitHub's step-summary limit]")
                break
            lines.append(line)
        out += ["", *fenced("\n".join(lines)), ""]
    return "\n".join(out) + "\n"
