"""Fail a pull request's plan when prod would lose resources and nobody said that is fine.

    python scripts/ci/plan_gate.py summary.json LABELS_FILE

``summary.json`` is ``python -m ops plan-comment --summary``; LABELS_FILE has the pull request's labels,
one a line. Any destroy or replacement in a ``prod/`` stack needs the ``destroy-ok`` label; exit 1 (with
one ``::error::`` line per stack) otherwise. Standard library only: the comment job installs nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LABEL = "destroy-ok"
GUARDED = "prod/"


def problems(summary: dict[str, Any], labels: set[str]) -> list[str]:
    """One message per guarded stack that destroys or replaces something, unless the label is set."""
    if LABEL in labels:
        return []
    found = []
    for stack in summary.get("stacks", []):
        counts = stack.get("counts", {})
        lost = counts.get("delete", 0) + counts.get("replace", 0)
        if stack.get("name", "").startswith(GUARDED) and lost:
            found.append(
                f"{stack['name']} destroys or replaces {lost} resource(s); add the '{LABEL}' label "
                "to the pull request once that is intended"
            )
    return found


def main(argv: list[str]) -> int:
    summary = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    labels = {line.strip() for line in Path(argv[1]).read_text(encoding="utf-8").splitlines() if line.strip()}
    found = problems(summary, labels)
    for message in found:
        print(f"::error title=prod destroy without {LABEL}::{message}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
