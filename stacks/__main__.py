"""Synthesize several environments in one process: ``python -m stacks --outdir DIR dev prod``.

Each environment goes to ``DIR/<env>/``. Used by the equivalence test and the benchmark; users run
``cdktf synth`` (one environment, chosen by ``VIBERGLASS_ENV``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config import ConfigError, load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks", description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", required=True, type=Path, help="parent folder; one subfolder per environment")
    parser.add_argument("envs", nargs="+", help="environment names, e.g. dev prod")
    args = parser.parse_args(argv)
    try:
        configs = [load(env) for env in args.envs]
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    from stacks import build_app

    for config in configs:
        outdir = args.outdir / config.name
        outdir.mkdir(parents=True, exist_ok=True)
        build_app(config, outdir=str(outdir)).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
