"""Lifecycle settings shared by the constructs that hold state."""

from __future__ import annotations

from imports.cdktf import TerraformResourceLifecycle


def keep(protect: bool) -> TerraformResourceLifecycle | None:
    """``prevent_destroy`` when ``protect`` (production stateful resources), else nothing."""
    return TerraformResourceLifecycle(prevent_destroy=True) if protect else None
