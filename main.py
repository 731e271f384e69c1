"""Entry point for ``cdktf synth``: build every stack of one environment (``VIBERGLASS_ENV``, default dev).

Configuration is validated before anything heavy is imported, so a bad file fails in a fraction of a
second with one line and writes nothing.
"""

from __future__ import annotations

import sys


def main() -> int:
    from config import ConfigError, load

    try:
        config = load()
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    from stacks import build_app

    build_app(config).synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
