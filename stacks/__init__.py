"""The stacks of one environment and the order they depend on each other: base -> workers -> platform; and,
for an environment on HCP Terraform, the ``hcp`` stack that creates its workspaces (docs/hcp-terraform.md)."""

from __future__ import annotations

from config.schema import EnvironmentConfig
from core.hcp import HCP_STACK, uses_hcp
from imports.cdktf import App
from stacks.base import BaseStack
from stacks.platform import PlatformStack
from stacks.workers import WorkersStack


def build_app(config: EnvironmentConfig, *, outdir: str | None = None) -> App:
    """Every stack of ``config``'s environment in one App (cross-stack references need one App)."""
    app = App(outdir=outdir) if outdir else App()
    base = BaseStack(app, "base", config=config)
    workers = WorkersStack(app, "workers", config=config, base=base)
    PlatformStack(app, "platform", config=config, base=base, workers=workers)
    if uses_hcp(config):
        # Only here: every other environment synthesizes without loading the tfe bindings.
        from stacks.hcp import HcpStack  # noqa: PLC0415

        HcpStack(app, HCP_STACK, config=config)
    return app
