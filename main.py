"""Entry point for ``cdktf synth``: build every stack of one environment (``VIBERGLASS_ENV``, default dev).

Configuration is validated before anything heavy is imported, so a bad file fails in a fraction of a
second. Exit status: 0 synthesized, 2 bad configuration, 1 synthesis failed; on failure one ``error:``
line on stderr and no synthesized output left behind (``--check`` validates only; ``make synth`` runs it
before the cdktf CLI, which would wrap the line in its own report).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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

OUTDIR_VAR = "CDKTF_OUTDIR"  # set by the cdktf CLI (`--output`); cdktf.out otherwise, as the App does


def output_dir() -> Path:
    return Path(os.environ.get(OUTDIR_VAR) or "cdktf.out")


def _failed(error: Exception, what: str, outdir: Path) -> int:
    clear_output(outdir)
    if show_tracebacks():
        raise error
    error_line(f"{what} failed: {describe(error)} (set VIBERGLASS_TRACEBACK=1 for the traceback)")
    return EXIT_FAILURE


def main(argv: list[str] | None = None) -> int:
    parser = ArgumentParser(prog="python main.py", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="validate the configuration only; synthesize nothing")
    args = parser.parse_args(argv)
    outdir = output_dir()

    from config import ConfigError, load

    try:
        config = load()
    except ConfigError as error:
        if not args.check:  # --check writes nothing, so it removes nothing either
            clear_output(outdir)
        error_line(str(error))
        return EXIT_INPUT
    except Exception as error:
        return _failed(error, "reading the configuration", outdir)
    if args.check:
        return EXIT_OK

    try:
        with collector_paused():
            from stacks import build_app

        build_app(config).synth()
    except Exception as error:
        return _failed(error, f"synthesis of {config.name}", outdir)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
