"""The stacks of one environment and the order they depend on each other: base -> workers -> platform."""

from __future__ import annotations

from config.schema import EnvironmentConfig
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
    return app
