"""The Node.js runtime jsii starts.

The project pins Node 22 from the npm registry (``package.json``, the ``node`` package) because jsii
prints an end-of-life banner on every run under Node 20, which the machines here ship. jsii reads
``JSII_NODE``; we point it at the pinned binary when it is installed and the user did not choose one.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_NODE = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "node"


# jsii 1.x still calls util.isArray, which Node 22 reports as deprecated on every run. Only that one
# warning is silenced; every other Node warning still shows.
_QUIET_JSII = "--disable-warning=DEP0044"


LAZY_PROVIDER_HOOK = Path(__file__).resolve().parent / "lazy_provider.cjs"


def _add_node_option(option: str) -> None:
    options = os.environ.get("NODE_OPTIONS", "")
    if option not in options.split():
        os.environ["NODE_OPTIONS"] = f"{options} {option}".strip()


def prefer_project_node() -> None:
    if "JSII_NODE" not in os.environ and PROJECT_NODE.exists():
        os.environ["JSII_NODE"] = str(PROJECT_NODE)
    if os.environ.get("JSII_NODE") == str(PROJECT_NODE):
        _add_node_option(_QUIET_JSII)


def lazy_provider_modules() -> None:
    """Make the jsii Node process load provider modules on first use (``imports/lazy_provider.cjs``)."""
    if " " not in str(LAZY_PROVIDER_HOOK):  # NODE_OPTIONS cannot quote a path with spaces
        _add_node_option(f"--require={LAZY_PROVIDER_HOOK}")
