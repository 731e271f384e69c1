"""Load only the provider submodules the stacks use.

``import cdktf_cdktf_provider_aws`` runs a package ``__init__`` that imports all ~2,200 generated
submodules (one per resource type) before anything else happens: about 10 s warm and 25 s cold on a
2-core machine, and several hundred MB, for the ~60 types this project uses. The submodules do not need
that ``__init__``: each one imports ``.._jsii`` (which loads the jsii assembly into the runtime) and its
own classes. So we register the package in ``sys.modules`` *without running its ``__init__``*, after which
``from cdktf_cdktf_provider_aws.vpc import Vpc`` imports exactly ``_jsii`` and ``vpc``.

Nothing else changes: the same classes talk to the same jsii assembly, and a test synthesizes every
environment both ways and compares the output byte for byte. ``VIBERGLASS_EAGER_IMPORTS=1`` turns the
fast path off (the package is then imported the ordinary way).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys

from core.cli import collector_paused

PACKAGE = "cdktf_cdktf_provider_aws"
EAGER_VAR = "VIBERGLASS_EAGER_IMPORTS"


def eager() -> bool:
    """Whether the user asked for the plain, eager import."""
    return os.environ.get(EAGER_VAR, "") not in ("", "0", "false")


def install(package_name: str = PACKAGE) -> None:
    """Make ``package_name`` (a prebuilt provider package) importable submodule by submodule. Idempotent; a
    no-op when eager or loaded. ``imports.tfe`` calls it for the tfe bindings, which only the ``hcp`` stack
    of an environment on HCP Terraform imports."""
    if package_name in sys.modules:
        return
    if eager():
        # ~2,200 generated modules whose objects all live until exit (~13 s -> ~6 s of CPU with the collector
        # paused; core.cli.collector_paused).
        with collector_paused():
            importlib.import_module(package_name)
        return
    spec = importlib.util.find_spec(package_name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"{package_name} is not installed; run `make setup`")
    # module_from_spec sets __path__, __spec__ and __file__ but does not execute __init__.py.
    package = importlib.util.module_from_spec(spec)
    sys.modules[package_name] = package
