"""Walking parsed JSON/YAML documents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(key path, value) of every scalar: ``network.public_subnets[1]``."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from leaves(child, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from leaves(child, f"{path}[{i}]")
    else:
        yield path, value


def strings(value: Any) -> Iterator[str]:
    """Every string anywhere in ``value``."""
    return (leaf for _, leaf in leaves(value) if isinstance(leaf, str))
