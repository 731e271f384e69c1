"""The one place that imports cdktf and the provider bindings (docs/design.md "Toolchain").

Stacks and modules import from ``imports.cdktf`` and ``imports.aws``. Moving to CDK Terrain (``cdktn``)
or to locally generated bindings would change only this folder. Importing this package first picks the
Node.js runtime jsii will start (:mod:`imports.runtime`) and installs the provider fast path
(:mod:`imports._fastpath`).
"""

from imports import _fastpath, runtime

runtime.prefer_project_node()
if not _fastpath.eager():
    runtime.lazy_provider_modules()
_fastpath.install()
