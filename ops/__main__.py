"""``python -m ops`` (or ``viberglass-ops``): operations commands. ``python -m ops COMMAND --help``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Commands import what they need: `plan-comment` runs on the standard library alone (the PR-comment job
# installs nothing), while the AWS commands bring boto3.
from ops import plan_comment
from ops.errors import EXIT_AWS, EXIT_INPUT, InputError, OpsError

Handler = Callable[[argparse.Namespace], int]


def _bootstrap_state(args: argparse.Namespace) -> int:
    from ops import bootstrap_state

    bootstrap_state.run(args.env, dry_run=args.dry_run, noncurrent_days=args.noncurrent_days)
    return 0


def _bootstrap_oidc(args: argparse.Namespace) -> int:
    from ops import bootstrap_oidc

    bootstrap_oidc.run(args.env, dry_run=args.dry_run, subject_prefix=args.subject_prefix)
    return 0


def _pairs(values: list[str] | None, flag: str) -> list[tuple[str, str]]:
    pairs = []
    for value in values or []:
        name, sep, rest = value.partition("=")
        if not sep or not name or not rest:
            raise InputError(f"{flag} {value!r}: expected NAME=VALUE")
        pairs.append((name, rest))
    return pairs


def _plan_comment(args: argparse.Namespace) -> int:
    plans: list[plan_comment.StackPlan] = []
    try:
        for name, path in _pairs(args.plan, "--plan"):
            plans.append(plan_comment.load_plan(name, Path(path)))
        for name, path in _pairs(args.failed, "--failed"):
            log = Path(path).read_text(encoding="utf-8", errors="replace") if Path(path).exists() else ""
            plans.append(plan_comment.failed(name, log))
        for name, reason in _pairs(args.pending, "--pending"):
            plans.append(plan_comment.pending(name, reason))
    except plan_comment.PlanError as error:
        raise InputError(str(error)) from None
    if not plans:
        raise InputError("give at least one --plan, --failed or --pending")
    order = {name: i for i, name in enumerate(args.order or [])}
    plans.sort(key=lambda p: order.get(p.name, len(order)))
    text = plan_comment.render(plans, full_plan=args.full_plan)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")
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

    p = _command(
        sub,
        "plan-comment",
        _plan_comment,
        "Render terraform show -json plans of several stacks into one pull-request comment (no network).",
        "python -m ops plan-comment --plan dev/base=base.json --plan dev/workers=workers.json --out comment.md",
    )
    p.add_argument("--plan", action="append", metavar="STACK=FILE", help="a stack's `terraform show -json` output")
    p.add_argument("--failed", action="append", metavar="STACK=LOG", help="a stack whose plan failed, with its log")
    p.add_argument("--pending", action="append", metavar="STACK=REASON", help="a stack not planned, and why")
    p.add_argument("--order", nargs="*", metavar="STACK", help="stack order in the comment (default: as given)")
    p.add_argument("--full-plan", default="the job summary", help="where readers find the full plan (text or URL)")
    p.add_argument("--out", help="write the markdown here (default: stdout)")
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
    except Exception as error:
        # botocore's errors, without importing botocore for commands that do not use it.
        module = type(error).__module__
        if not module.startswith("botocore"):
            raise
        if type(error).__name__ == "NoCredentialsError":
            print("error: no AWS credentials; configure a profile or assume a role first", file=sys.stderr)
            return EXIT_INPUT
        print(f"error: AWS call failed: {error}", file=sys.stderr)
        return EXIT_AWS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
