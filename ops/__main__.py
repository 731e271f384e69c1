"""``python -m ops`` (or ``viberglass-ops``): operations commands. ``python -m ops COMMAND --help``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from ops import bootstrap_oidc, bootstrap_state
from ops.common import EXIT_AWS, EXIT_INPUT, OpsError

Handler = Callable[[argparse.Namespace], int]


def _bootstrap_state(args: argparse.Namespace) -> int:
    bootstrap_state.run(args.env, dry_run=args.dry_run, noncurrent_days=args.noncurrent_days)
    return 0


def _bootstrap_oidc(args: argparse.Namespace) -> int:
    bootstrap_oidc.run(args.env, dry_run=args.dry_run, subject_prefix=args.subject_prefix)
    return 0


def _command(sub: Any, name: str, handler: Handler, help: str, example: str) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help,
        description=help,
        epilog=f"example:\n  {example}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ops", description="Viberglass operations commands.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _command(
        sub,
        "bootstrap-state",
        _bootstrap_state,
        "Create or repair the Terraform state bucket and lock table of an environment (idempotent).",
        "python -m ops bootstrap-state --env dev --dry-run",
    )
    p.add_argument("--env", required=True, help="environment (config/<env>.yaml names the bucket and table)")
    p.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")
    p.add_argument("--noncurrent-days", type=int, default=90, help="days to keep old state versions (default 90)")

    p = _command(
        sub,
        "bootstrap-github-oidc",
        _bootstrap_oidc,
        "Create or repair the GitHub OIDC provider and the plan/apply roles of an environment (idempotent).",
        "python -m ops bootstrap-github-oidc --env prod",
    )
    p.add_argument(
        "--env", required=True, help="environment; its apply role trusts the GitHub Environment of that name"
    )
    p.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")
    p.add_argument(
        "--subject-prefix",
        help="OIDC subject prefix (default repo:<github.repository>; use GitHub's immutable-id form if your "
        "repository customised its subject claim, e.g. repository_owner_id:123:repository_id:456)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        handler: Handler = args.handler
        return handler(args)
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except NoCredentialsError:
        print("error: no AWS credentials; configure a profile or assume a role first", file=sys.stderr)
        return EXIT_INPUT
    except (ClientError, BotoCoreError) as error:
        print(f"error: AWS call failed: {error}", file=sys.stderr)
        return EXIT_AWS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
