"""The one place that imports cdktf and the provider bindings (SPEC §1, §8).

Stacks and modules import from ``imports.cdktf`` and ``imports.aws``. Moving to CDK Terrain (``cdktn``)
or to locally generated bindings would change only this folder.
"""

from imports import _fastpath

_fastpath.install()
