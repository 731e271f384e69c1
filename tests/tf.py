"""Small lookups over synthesized Terraform JSON: find resources by type and properties, follow references."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

Json = dict[str, Any]
_REF = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\.([a-z0-9_]+))?\}$")
_DATA_REF = re.compile(r"^\$\{data\.([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")


def items(stack: Json, rtype: str, *, data: bool = False) -> Iterator[tuple[str, Json]]:
    """(address key, body) of every resource (or data source) of ``rtype``."""
    yield from stack.get("data" if data else "resource", {}).get(rtype, {}).items()


def resources(stack: Json, rtype: str, **props: Any) -> list[Json]:
    """Every resource of ``rtype`` whose top-level properties equal ``props``."""
    return [body for _, body in items(stack, rtype) if all(body.get(k) == v for k, v in props.items())]


def one(stack: Json, rtype: str, **props: Any) -> Json:
    found = resources(stack, rtype, **props)
    assert len(found) == 1, f"expected one {rtype} with {props}, found {len(found)}"
    return found[0]


def where(stack: Json, rtype: str, predicate: Callable[[Json], bool]) -> list[Json]:
    return [body for _, body in items(stack, rtype) if predicate(body)]


def ref(stack: Json, rtype: str, attr: str = "id", **props: Any) -> str:
    """The interpolation that references the one ``rtype`` matching ``props``: ``${aws_vpc.x.id}``."""
    keys = [key for key, body in items(stack, rtype) if all(body.get(k) == v for k, v in props.items())]
    assert len(keys) == 1, f"expected one {rtype} with {props}, found {keys}"
    return f"${{{rtype}.{keys[0]}.{attr}}}"


def target(stack: Json, reference: str) -> tuple[str, Json]:
    """Follow ``${type.key.attr}`` to (type, body) of the referenced resource."""
    match = _REF.match(reference)
    assert match, f"not a resource reference: {reference!r}"
    rtype, key, _ = match.groups()
    return rtype, stack["resource"][rtype][key]


def policy(document: str) -> Json:
    """Parse a policy JSON string (interpolations stay as strings)."""
    parsed: Json = json.loads(document)
    return parsed


def sid(document: Json, sid: str) -> Json:
    """The one statement ``sid`` of a parsed policy document."""
    found: list[Json] = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(found) == 1, f"no single statement {sid!r}"
    return found[0]


def statement(document: str, sid_: str) -> Json:
    """The one statement ``sid_`` of a policy JSON string."""
    return sid(policy(document), sid_)


def role_policy(stack: Json, name: str) -> Json:
    """The parsed inline policy of the role named ``name``."""
    keys = [key for key, role in items(stack, "aws_iam_role") if role["name"] == name]
    assert len(keys) == 1, f"no single role {name!r}"
    return policy(one(stack, "aws_iam_role_policy", role=f"${{aws_iam_role.{keys[0]}.id}}")["policy"])


def containers(task: Json) -> list[Json]:
    """Every container definition of a task definition body."""
    parsed: list[Json] = json.loads(task["container_definitions"])
    return parsed


def container(stack: Json) -> Json:
    """The application container (the essential one) of the stack's one task definition."""
    (definition,) = [c for c in containers(one(stack, "aws_ecs_task_definition")) if c["essential"]]
    return dict(definition)


def init_container(task: Json) -> Json:
    """The non-essential container that prepares the writable volumes of ``task``."""
    (definition,) = [c for c in containers(task) if not c["essential"]]
    return dict(definition)


def container_env(stack: Json) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container(stack)["environment"]}


def outputs(stack: Json) -> Json:
    out: Json = stack.get("output", {})
    return out


_REMOTE = re.compile(r"^\$\{data\.terraform_remote_state\.cross-stack-reference-input-([a-z]+)\.outputs\.([^}]+)\}$")


def remote(stacks: dict[str, Json], value: str) -> tuple[str, str]:
    """Follow a cross-stack reference to (source stack, the value the source stack exports)."""
    match = _REMOTE.match(value)
    assert match, f"not a cross-stack reference: {value!r}"
    source, output = match.groups()
    exported: str = stacks[source]["output"][output]["value"]
    return source, exported


def resolve(stacks: dict[str, Json], stack: str, value: str) -> tuple[str, Json]:
    """(type, body) of the resource ``value`` references, following cross-stack references."""
    if _REMOTE.match(value):
        stack, value = remote(stacks, value)
    return target(stacks[stack], value)
