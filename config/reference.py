"""The key-by-key reference of ``docs/configuration.md``, generated from the schema (``make docs``).

Every key of :class:`config.schema.EnvironmentConfig` gets one row: its type, its default in each tier
(:data:`config.defaults.TIER_DEFAULTS` over the schema's own default), the values it accepts (the field's
``Literal`` choices, bounds and check, whose docstring says what it accepts), and the rules of
:mod:`config.rules` that relate it to other keys (a rule names its keys in backticks in its docstring).
A test regenerates the page and fails when the committed one differs, so the page cannot drift from
the schema.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Le, MaxLen
from pydantic import AfterValidator, BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from config import rules
from config.defaults import TIER_DEFAULTS
from config.schema import EnvironmentConfig

TIERS = ("development", "production")
REQUIRED = "required"


@dataclass(frozen=True)
class Row:
    key: str
    type: str
    defaults: tuple[str, str]  # development, production
    accepts: str
    rules: tuple[str, ...]


def _show(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, list):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    return f"`{value}`"


def _unwrap(annotation: Any) -> tuple[Any, list[Any], bool]:
    """(base type, metadata, optional) of an annotation such as ``Annotated[str, check(...)] | None``."""
    metadata: list[Any] = []
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            annotation = args[0]
        elif origin is Annotated:
            annotation, *extra = get_args(annotation)
            metadata += extra
        else:
            return annotation, metadata, optional


def _type_name(base: Any) -> str:
    origin = get_origin(base)
    if origin is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(base))
    if origin is list:
        inner, _, _ = _unwrap(get_args(base)[0])
        return f"list of {_type_name(inner)}"
    if isinstance(base, type) and issubclass(base, BaseModel):
        return "section"
    return {str: "text", int: "integer", bool: "true/false"}.get(base, getattr(base, "__name__", str(base)))


def _accepts(base: Any, metadata: list[Any]) -> str:
    """What the field alone accepts: bounds, a check's description, a list's element check."""
    flat: list[Any] = []
    for item in metadata:
        flat += [item, *item.metadata] if isinstance(item, FieldInfo) else [item]
    low = next((m.ge for m in flat if isinstance(m, Ge)), None)
    high = next((m.le for m in flat if isinstance(m, Le)), None)
    longest = next((m.max_length for m in flat if isinstance(m, MaxLen)), None)
    described = [m.description for m in flat if isinstance(m, FieldInfo) and m.description]
    parts: list[str] = []
    if (low is not None or high is not None) and not described:
        parts.append(f"{low if low is not None else 'up'} to {high if high is not None else 'any'}")
    parts += described
    for item in flat:
        if isinstance(item, AfterValidator):
            doc = inspect.getdoc(item.func) or ""
            parts.append(" ".join(doc.split("\n\n", 1)[0].split()).replace("``", "`").rstrip("."))
    if get_origin(base) is list:
        inner, inner_meta, _ = _unwrap(get_args(base)[0])
        parts.append(_accepts(inner, inner_meta))
        if longest is not None:
            parts.append(f"at most {longest} items")
    elif longest is not None and not any("at most" in p for p in parts):
        parts.append(f"at most {longest} characters")
    return "; ".join(p for p in parts if p)


def _rule_keys() -> dict[str, list[str]]:
    """key -> the rules that check it, from the backticked key paths in each rule's docstring."""
    found: dict[str, list[str]] = {}
    functions = [rules.check_tier_name, *rules.RULES]
    for function in functions:
        doc = " ".join((inspect.getdoc(function) or "").split()).replace("``", "`")
        for key in dict.fromkeys(re.findall(r"`([a-z_]+(?:\.[a-z0-9_]+)*)`", doc)):
            found.setdefault(key, []).append(f"`{function.__name__}`")
    for key, *_ in rules.PRODUCTION_MINIMUMS:
        found.setdefault(key, []).append("production minimum")
    return found


def rule_texts() -> list[tuple[str, str]]:
    """(rule name, what it checks) of every rule that relates keys to each other."""
    return [
        (function.__name__, " ".join((inspect.getdoc(function) or "").split()).replace("``", "`"))
        for function in (rules.check_tier_name, *rules.RULES)
    ]


def _tier_default(path: tuple[str, ...], tier: str, field: FieldInfo) -> str:
    value: Any = TIER_DEFAULTS[tier]
    for part in path:
        value = value.get(part, PydanticUndefined) if isinstance(value, dict) else PydanticUndefined
    if value is not PydanticUndefined:
        return _show(value)
    if field.default is not PydanticUndefined:
        default = field.default
        return "see below" if isinstance(default, BaseModel) else _show(default)
    if field.default_factory is not None:
        return _show(field.default_factory())  # type: ignore[call-arg]
    return REQUIRED


def rows(model: type[BaseModel] = EnvironmentConfig, prefix: tuple[str, ...] = ()) -> Iterator[Row]:
    """One row per key, depth first in schema order; sections are followed by their keys."""
    checked = _rule_keys()
    for name, field in model.model_fields.items():
        path = (*prefix, name)
        key = ".".join(path)
        base, metadata, optional = _unwrap(field.annotation)
        kind = _type_name(base) + (" (optional)" if optional else "")
        defaults = (_tier_default(path, "development", field), _tier_default(path, "production", field))
        if path == ("name",):
            defaults = ("the file name", "the file name")
        yield Row(key, kind, defaults, _accepts(base, [*metadata, field]), tuple(checked.get(key, ())))
        if isinstance(base, type) and issubclass(base, BaseModel):
            yield from rows(base, path)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    """The generated reference (Markdown), everything below docs/configuration.md's marker."""
    lines = [
        "## Every key",
        "",
        "Generated from `config/schema.py`, `config/defaults.py` and `config/rules.py` by `make docs`; a test",
        "fails when this list and the schema differ. *Development* and *production* are the defaults of each",
        "tier (what a file gets when it does not write the key); *required* means the file must write it.",
        "",
    ]
    section = ""
    for row in rows():
        top = row.key.split(".", 1)[0]
        if top != section:
            section = top
            lines += ["", f"### `{top}`", "", "| key | type | development | production | accepts / checked by |",
                      "|---|---|---|---|---|"]  # fmt: skip
        if row.type == "section" and "." not in row.key:
            continue
        checks = "; ".join([p for p in (row.accepts, ", ".join(row.rules)) if p])
        lines.append(
            f"| `{row.key}` | {_cell(row.type)} | {_cell(row.defaults[0])} | {_cell(row.defaults[1])} | "
            f"{_cell(checks) or '-'} |"
        )
    lines += [
        "",
        "### Rules that relate keys",
        "",
        "Checked after every key passed on its own (`config/rules.py`):",
        "",
    ]
    lines += [f"- `{name}`: {text}" for name, text in rule_texts()]
    lines += ["- production minimum: a production file below one of these is refused, naming the key:", ""]
    lines += [f"  - `{key}`: {fix}" for key, _holds, _problem, fix in rules.PRODUCTION_MINIMUMS]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"
