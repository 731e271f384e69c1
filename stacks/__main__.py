"""Synthesize several environments in one process: ``python -m stacks --outdir DIR dev prod``.

Each environment goes to ``DIR/<env>/``. Used by the equivalence test, the security gate and the
benchmark; users run ``cdktf synth`` (one environment, chosen by ``VIBERGLASS_ENV``). Exit status as
``main.py``: 0 done, 2 bad arguments or configuration (every environment is validated before any is
synthesized), 1 synthesis failed (that environment's output is removed); one ``error:`` line on failure.
"""

from __future__ import annotations

import sys
from pathlib import Path

from config import ConfigError, load
from core.cli import (
    EXIT_FAILURE,
    EXIT_INPUT,
    EXIT_OK,
    ArgumentParser,
    clear_output,
    collector_paused,
    describe,
    error_line,
    show_tracebacks,
)


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python -m stacks", description=__doc__.splitlines()[0])
    parser.add_argument("--outdir", required=True, type=Path, help="parent folder; one subfolder per environment")
    parser.add_argument("envs", nargs="+", help="environment names, e.g. dev prod")
    args = parser.parse_args(argv)
    try:
        configs = [load(env, source="environment argument") for env in args.envs]
    except ConfigError as error:
        error_line(str(error))
        return EXIT_INPUT

    with collector_paused():
        from stacks import build_app

    for config in configs:
        outdir = args.outdir / config.name
        try:
            outdir.mkdir(parents=True, exist_ok=True)
            build_app(config, outdir=str(outdir)).synth()
        except Exception as error:
            clear_output(outdir)
            if show_tracebacks():
                raise
            error_line(f"synthesis of {config.name} failed: {describe(error)} (set VIBERGLASS_TRACEBACK=1 for details)")
            return EXIT_FAILURE
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
