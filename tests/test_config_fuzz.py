"""Property: every configuration broken in one place, anywhere the schema reaches, is refused by
``python main.py`` with status 2 and exactly one ``error:`` line naming that key (and the fix), without a
traceback and without writing anything.

Broken configurations are generated from the schema itself (``config.schema.EnvironmentConfig``): for a
field of any section, a value of the wrong type, a number outside the field's bounds, a choice outside its
literal set, a text the field's own check refuses, too many list items, or an unknown key next to it. A
field added to the schema is fuzzed without touching this file.
"""

from __future__ import annotations

import contextlib
import copy
import io
import os
import tempfile
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import annotated_types
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

import config
import main
from config.schema import EnvironmentConfig

Path_ = tuple[str | int, ...]
EXAMPLES = 200


@dataclass(frozen=True)
class Slot:
    """A place in the configuration: its path and the type the schema gives it (metadata included)."""

    path: Path_
    annotation: Any
    optional: bool


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1 and len(typing.get_args(annotation)) == 2:
            return members[0], True
    return annotation, False


def _core(annotation: Any) -> Any:
    """The type under ``Annotated``."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _model(annotation: Any) -> type[BaseModel] | None:
    core = _core(annotation)
    return core if isinstance(core, type) and issubclass(core, BaseModel) else None


def _with_metadata(field: FieldInfo) -> Any:
    annotation = field.annotation
    return Annotated[annotation, *field.metadata] if field.metadata else annotation


def _slots(model: type[BaseModel], base: dict[str, Any], prefix: Path_ = ()) -> list[Slot]:
    found: list[Slot] = []
    for name, field in model.model_fields.items():
        annotation, optional = _strip_optional(_with_metadata(field))
        path = (*prefix, name)
        found.append(Slot(path, annotation, optional))
        value = base.get(name)
        core = _core(annotation)
        inner = _model(annotation)
        if inner is not None and isinstance(value, dict):
            found += _slots(inner, value, path)
        elif typing.get_origin(core) is list and isinstance(value, list) and value:
            (item,) = typing.get_args(core)
            found.append(Slot((*path, 0), item, False))
        elif typing.get_origin(core) is dict and isinstance(value, dict) and value:
            _, entry = typing.get_args(core)
            entry_model = _model(entry)
            if entry_model is not None:
                key = sorted(value)[0]
                found += _slots(entry_model, value[key], (*path, key))
    return found


def _base(env: str) -> dict[str, Any]:
    """The shipped environment as every key written out, plus an HCP section so its keys are fuzzed too."""
    data: dict[str, Any] = config.load(env).model_dump(mode="python")
    data["state"]["cloud"] = {"organization": "my-org", "project": None, "workspace_prefix": "viberglass"}
    return data


BASES = {env: _base(env) for env in ("dev", "prod")}
SLOTS = {env: _slots(EnvironmentConfig, BASES[env]) for env in BASES}


def _render(path: Path_) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _bounds(annotation: Any) -> tuple[int | None, int | None]:
    low: int | None = None
    high: int | None = None
    for meta in typing.get_args(annotation)[1:] if typing.get_origin(annotation) is Annotated else ():
        if isinstance(meta, annotated_types.Ge):
            low = max(low, int(meta.ge)) if low is not None else int(meta.ge)  # type: ignore[call-overload]
        if isinstance(meta, annotated_types.Le):
            high = min(high, int(meta.le)) if high is not None else int(meta.le)  # type: ignore[call-overload]
    return low, high


def _max_length(annotation: Any) -> int | None:
    for meta in typing.get_args(annotation)[1:] if typing.get_origin(annotation) is Annotated else ():
        if isinstance(meta, annotated_types.MaxLen):
            return int(meta.max_length)
    return None


_STRICT = ConfigDict(strict=True)
NASTY_TEXT = ["", " ", "*", "../x", "a/../b", "x" * 300, "١٢٣", "\u00e9t\u00e9", "a\nb", "-main", "/", "Z"]
# The largest integers a file may hold: 40 characters with the sign (config/loader.py refuses longer ones at
# their line, before any key is read; tests/test_config_messages.py has those).
WRITABLE = 10**39 - 1
INTS = st.integers(min_value=-WRITABLE, max_value=WRITABLE)
SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "int": INTS,
    "float": st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: not f.is_integer()),
    "bool": st.booleans(),
    "text": st.text(max_size=20),
    "list": st.lists(INTS, max_size=2),
    "dict": st.dictionaries(st.sampled_from(["a", "b"]), INTS, max_size=2),
}


def _wrong_types(annotation: Any, optional: bool) -> st.SearchStrategy[Any]:
    core = _core(annotation)
    origin = typing.get_origin(core)
    if core is bool:
        kinds = ["int", "float", "text", "list", "dict"]
    elif core is int:
        kinds = ["bool", "float", "text", "list", "dict"]
    elif core is str:
        kinds = ["int", "bool", "float", "list", "dict"]
    elif origin is Literal:
        kinds = ["float", "list", "dict"]
    elif origin is list:
        kinds = ["int", "bool", "text", "dict"]
    elif origin is dict or _model(core) is not None:
        kinds = ["int", "bool", "text", "list"]
    else:
        raise AssertionError(f"the fuzzer does not know {annotation!r}; teach it")
    strategies = [SCALARS[k] for k in kinds]
    if not optional:
        strategies.append(st.none())
    return st.one_of(strategies)


def _refused(annotation: Any, value: Any) -> bool:
    try:
        TypeAdapter(annotation, config=_STRICT).validate_python(value)
    except ValidationError:
        return True
    return False


@st.composite
def broken_values(draw: st.DrawFn, slot: Slot, env: str) -> Any:
    """A value the schema refuses at ``slot``."""
    annotation, core = slot.annotation, _core(slot.annotation)
    choices = ["wrong-type"]
    low, high = _bounds(annotation)
    if core is int and (low is not None or high is not None):
        choices.append("out-of-bounds")
    if typing.get_origin(core) is Literal:
        choices.append("not-a-choice")
    if core is str:
        choices.append("refused-text")
    if _max_length(annotation) is not None:
        choices.append("too-long")
    how = draw(st.sampled_from(choices))
    if how == "out-of-bounds":
        sides = ([st.integers(min_value=-WRITABLE, max_value=low - 1)] if low is not None else []) + (
            [st.integers(min_value=high + 1, max_value=WRITABLE)] if high is not None else []
        )
        return draw(st.one_of(sides))
    if how == "not-a-choice":
        allowed = typing.get_args(core)
        return draw(st.one_of(st.text(max_size=12), INTS).filter(lambda v: v not in allowed))
    if how == "refused-text":
        value = draw(st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=40)))
        assume(_refused(annotation, value))
        return value
    if how == "too-long":
        current = _lookup(BASES[env], slot.path)
        limit = _max_length(annotation)
        assert limit is not None and isinstance(current, list) and current
        return [current[0]] * (limit + 1)
    return draw(_wrong_types(annotation, slot.optional))


def _lookup(data: dict[str, Any], path: Path_) -> Any:
    node: Any = data
    for part in path:
        node = node[part]
    return node


def _set(data: dict[str, Any], path: Path_, value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _copy(data: Any) -> Any:
    return copy.deepcopy(data)  # plain YAML data (dicts, lists, scalars): what a YAML round trip would give


# The files are written with libyaml's emitter (PyYAML's C binding, the same representer and resolver as
# yaml.safe_dump, ~10x faster); the code under test reads them with its own loader.
def _yaml(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=yaml.CSafeDumper, allow_unicode=True)


SHIPPED = {env: _yaml(document) for env, document in BASES.items()}


@dataclass(frozen=True)
class Broken:
    env: str
    document: dict[str, Any]
    key: str  # the key path the message must start with
    what: str


@st.composite
def broken_configurations(draw: st.DrawFn) -> Broken:
    env = draw(st.sampled_from(sorted(BASES)))
    document = _copy(BASES[env])
    if draw(st.sampled_from(["field", "field", "field", "unknown key"])) == "unknown key":
        # An unknown key next to the keys of any section (or at the top), or a new entry in a catalog.
        sections = [()] + [
            s.path
            for s in SLOTS[env]
            if (_model(s.annotation) or typing.get_origin(_core(s.annotation)) is dict) and _lookup(document, s.path)
        ]
        section = draw(st.sampled_from(sections))
        parent = _lookup(document, section) if section else document
        key = draw(st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True).filter(lambda k: k not in parent))
        parent[key] = draw(st.one_of(SCALARS["int"], SCALARS["text"], SCALARS["bool"]))
        return Broken(env, document, _render((*section, key)), "unknown key")
    slot = draw(st.sampled_from(SLOTS[env]))
    value = draw(broken_values(slot, env))
    if slot.path == ("name",):
        assume(value != env)
    _set(document, slot.path, value)
    return Broken(env, document, _render(slot.path), f"{value!r}")


def _run(case: Broken, folder: Path) -> tuple[int, str, str]:
    (folder / f"{case.env}.yaml").write_text(_yaml(case.document))
    out, err = io.StringIO(), io.StringIO()
    saved = {name: os.environ.get(name) for name in ("VIBERGLASS_CONFIG_DIR", "VIBERGLASS_ENV", "CDKTF_OUTDIR")}
    os.environ.update(
        VIBERGLASS_CONFIG_DIR=str(folder), VIBERGLASS_ENV=case.env, CDKTF_OUTDIR=str(folder / "cdktf.out")
    )
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main.main([])
    finally:
        for name, previous in saved.items():
            if previous is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = previous
    return status, out.getvalue(), err.getvalue()


def _check_one(case: Broken, folder: Path) -> None:
    status, out, err = _run(case, folder)
    lines = err.splitlines()
    assert (status, out, len(lines)) == (2, "", 1), f"{case}: {err}"
    prefix = f"error: {folder / case.env}.yaml: {case.key}"
    assert lines[0].startswith(prefix), f"{lines[0]!r} should start with {prefix!r} ({case.what})"
    assert "; " in lines[0], lines[0]  # the problem, then the fix
    assert "expected format" not in lines[0]
    assert not (folder / "cdktf.out").exists()


def test_the_schema_is_fuzzed_everywhere() -> None:
    """Every section and every field of the schema is a place the fuzzer breaks (guards the walk itself)."""
    paths = {s.path for s in SLOTS["prod"]}
    assert {("tier",), ("aws", "region"), ("state", "s3", "key_prefix"), ("state", "cloud", "project")} <= paths
    assert ("network", "public_subnets", 0) in paths and ("workers", "image_prefix") in paths
    assert {p[0] for p in paths} == set(EnvironmentConfig.model_fields)


def test_broken_configurations_are_refused_with_one_line() -> None:
    """The property over generated broken configurations, inside the normal suite (its time is recorded in
    docs/performance.md, not asserted here: a shared machine's load is not the code's speed)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp).resolve()
        for env, text in SHIPPED.items():
            (folder / f"{env}.yaml").write_text(text)

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        @given(broken_configurations())
        def property_holds(case: Broken) -> None:
            try:
                _check_one(case, folder)
            finally:
                (folder / f"{case.env}.yaml").write_text(SHIPPED[case.env])

        property_holds()
