"""The reviewed plan of one stack, and the check that what is about to be applied is exactly that.

A prod deploy plans a stack with the read-only plan role and shows the plan to the reviewers; after they
approve, the apply job plans again with the apply role and applies its own saved plan only when it is the
same plan. The plan job hands over a *review record* (``record``), never a plan: the binary plan and the plan
JSON hold passwords and tokens in clear and never leave the runner that made them. The record holds

* the commit and the SHA-256 of the synthesized stack (``cdk.tf.json``): the same code;
* the value-free digest of ``ops plan-comment`` (addresses, actions, attribute names, reasons) of the changes
  and output changes apply would make;
* per change, the SHA-256 of its planned values with every value the plan marks sensitive replaced by a
  constant: two plans with the same addresses and actions but other values (a memory size, a CIDR) differ.
  Only values the reviewers already read in the job summary go into a hash, so the hashes reveal nothing.

``differences`` lists every way a new plan departs from the record; an empty list means "apply it".
Standard library only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import Any

from ops.plan_comment import PlanError, StackPlan, parse_plan

REVIEW_VERSION = 1
SENSITIVE = "(sensitive)"
# Resource-change keys that say what apply does (prior state and provider internals left out).
CHANGE_KEYS = ("actions", "before", "after", "after_unknown", "replace_paths", "importing")


def _masked(value: Any, mask: Any) -> Any:
    """``value`` with every part ``mask`` (Terraform's ``*_sensitive``) marks replaced by a constant."""
    if mask is True:
        return SENSITIVE
    if isinstance(value, dict):
        sub = mask if isinstance(mask, dict) else {}
        return {k: _masked(v, sub.get(k)) for k, v in value.items()}
    if isinstance(value, list):
        subs = mask if isinstance(mask, list) else []
        return [_masked(v, subs[i] if i < len(subs) else None) for i, v in enumerate(value)]
    return value


def _fingerprint(change: dict[str, Any]) -> str:
    shown = {k: change.get(k) for k in CHANGE_KEYS}
    shown["before"] = _masked(change.get("before"), change.get("before_sensitive"))
    shown["after"] = _masked(change.get("after"), change.get("after_sensitive"))
    text = json.dumps(shown, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprints(document: dict[str, Any]) -> dict[str, str]:
    """Key -> SHA-256 of the masked planned values, for every change apply would make."""
    found = {}
    for rc in document.get("resource_changes") or []:
        change = rc.get("change") or {}
        if change.get("actions") in (["no-op"], ["read"]) and not change.get("importing"):
            continue
        key = rc["address"] + (f" (deposed {rc['deposed']})" if rc.get("deposed") else "")
        found[key] = _fingerprint(change)
    for name, change in sorted((document.get("output_changes") or {}).items()):
        if change.get("actions") != ["no-op"]:
            found[f"output {name}"] = _fingerprint(change)
    return found


def code_sha256(code: bytes) -> str:
    return hashlib.sha256(code).hexdigest()


def _applied(plan: StackPlan) -> dict[str, Any]:
    """The digest part apply acts on: changes (data reads left out) and output changes."""
    applied = {
        "changes": [asdict(c) for c in plan.changes if c.action != "read"],
        "output_changes": plan.output_changes,
    }
    parsed: dict[str, Any] = json.loads(json.dumps(applied))  # tuples as lists: as a stored record reads back
    return parsed


def record(stack: str, document: Any, code: bytes, commit: str) -> dict[str, Any]:
    """The review record of one stack's plan. Raises :class:`PlanError` for a document that is not a
    complete plan (an errored plan cannot be reviewed)."""
    plan = parse_plan(stack, document)
    if plan.error:
        raise PlanError(plan.error)
    return {
        "review_version": REVIEW_VERSION,
        "stack": stack,
        "commit": commit,
        "code_sha256": code_sha256(code),
        "has_changes": plan.has_changes,
        "plan": _applied(plan),
        "values": fingerprints(document),
    }


def differences(reviewed: Any, stack: str, document: Any, code: bytes, commit: str) -> list[str]:
    """Every way the plan ``document`` (of ``code`` at ``commit``) departs from the review record."""
    if not isinstance(reviewed, dict) or reviewed.get("review_version") != REVIEW_VERSION:
        return [f"the review record is not one this tool wrote (review_version {REVIEW_VERSION} expected)"]
    found = []
    if reviewed.get("stack") != stack:
        found.append(f"the review record is of {reviewed.get('stack')!r}, not {stack}")
    if reviewed.get("commit") != commit:
        found.append(f"the plan was reviewed for commit {reviewed.get('commit')}, this job runs {commit}")
    if reviewed.get("code_sha256") != code_sha256(code):
        found.append("the synthesized stack differs from the one planned for review (cdk.tf.json)")
    try:
        now = record(stack, document, code, commit)
    except PlanError as error:
        return [*found, f"the new plan cannot be read: {error}"]
    found += _change_differences(reviewed.get("plan") or {}, now["plan"])
    listed = {line.split(":", 1)[0] for line in found}
    values = reviewed.get("values") or {}
    for key in sorted(values.keys() & now["values"].keys()):
        if values[key] != now["values"][key] and key not in listed:
            found.append(f"{key}: planned values differ from the reviewed plan")
    outputs_listed = any("output changes" in line for line in found)
    for key in sorted((values.keys() ^ now["values"].keys()) - listed):
        if not (key.startswith("output ") and outputs_listed):
            found.append(f"{key}: {'no longer planned' if key in values else 'not in the reviewed plan'}")
    return found


def _change_differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Added, missing and different changes (value-free digests), and different output changes."""
    found = []
    old = {c.get("address", "?"): c for c in before.get("changes") or []}
    new = {c["address"]: c for c in after["changes"]}
    for address in sorted(old.keys() - new.keys()):
        found.append(f"{address}: reviewed ({old[address].get('action')}), no longer planned")
    for address in sorted(new.keys() - old.keys()):
        found.append(f"{address}: planned now ({new[address]['action']}), not in the reviewed plan")
    for address in sorted(old.keys() & new.keys()):
        if old[address] != new[address]:
            found.append(f"{address}: reviewed {_how(old[address])}, planned now {_how(new[address])}")
    if sorted(before.get("output_changes") or []) != sorted(after["output_changes"]):
        found.append(f"output changes: reviewed {before.get('output_changes')}, planned now {after['output_changes']}")
    return found


def _how(change: dict[str, Any]) -> str:
    attributes = ", ".join(change.get("attributes") or [])
    return f"{change.get('action')}" + (f" ({attributes})" if attributes else "")
