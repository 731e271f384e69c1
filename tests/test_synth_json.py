"""Properties of all synthesized JSON, whatever the resource."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from core.walk import strings
from tests.conftest import Stacks

Env = tuple[str, Stacks]
JSON_ATTRIBUTES = {"policy", "assume_role_policy", "container_definitions"}


def _json_strings(stacks: Stacks) -> Iterator[tuple[str, str, str]]:
    for name, stack in stacks.items():
        for rtype, items in stack.get("resource", {}).items():
            for key, body in items.items():
                for attr in JSON_ATTRIBUTES & set(body):
                    yield f"{name}:{rtype}.{key}", attr, body[attr]


def test_every_json_valued_attribute_parses(each_env: Env) -> None:
    """A Terraform function call inside a JSON string would put raw quotes into it."""
    _, stacks = each_env
    checked = 0
    for where, attr, value in _json_strings(stacks):
        try:
            json.loads(value)
        except json.JSONDecodeError as error:
            raise AssertionError(f"{where}.{attr} is not JSON: {error}") from None
        checked += 1
    assert checked > 10


def test_every_resource_name_carries_the_environment(each_env: Env) -> None:
    """dev and prod must be able to share one account (the system this replaces collided)."""
    env, stacks = each_env
    shared_by_design = {"aws_ecr_repository"}  # the worker catalog: one owner per account, see decisions.md
    scoped_to_parent = {"aws_iam_role_policy", "aws_route53_record"}  # unique within their role / the zone
    for name, stack in stacks.items():
        for rtype, items in stack.get("resource", {}).items():
            for body in items.values():
                label: Any = body.get("name") or body.get("identifier") or body.get("bucket")
                if (
                    isinstance(label, str)
                    and not label.startswith("${")
                    and rtype not in shared_by_design | scoped_to_parent
                ):
                    assert env in label, f"{name}:{rtype} {label!r}"


def test_no_secret_shaped_value_in_any_synthesized_file(each_env: Env) -> None:
    """The database password exists only as a random_password reference; nothing credential-shaped is
    written into the JSON (docs/security.md)."""
    from config.loader import _SECRET_VALUE

    _, stacks = each_env
    found = [v for v in strings(stacks) if _SECRET_VALUE.match(v)]
    assert found == []
