"""``python -m ops`` (or ``viberglass-ops``): operations commands. ``python -m ops COMMAND --help``."""

from __future__ import annotations

import argparse
import contextlib
import json
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


def _timing(args: argparse.Namespace) -> Any:
    from ops.waiting import Timing

    return Timing(timeout=args.timeout, interval=args.interval)


def _deploy_backend(args: argparse.Namespace) -> int:
    from ops import backend

    backend.deploy(args.env, args.image, timing=_timing(args))
    return 0


def _rollback_backend(args: argparse.Namespace) -> int:
    from ops import backend

    backend.rollback(args.env, to_revision=args.to_revision, timing=_timing(args))
    return 0


def _restart_backend(args: argparse.Namespace) -> int:
    from ops import backend

    backend.restart(args.env, timing=_timing(args))
    return 0


def _deploy_frontend(args: argparse.Namespace) -> int:
    from ops import frontend

    frontend.deploy(args.env, commit=args.commit, url=args.url, timing=_timing(args))
    return 0


def _deploy_workers(args: argparse.Namespace) -> int:
    from ops import workers

    workers.deploy(args.env, tag=args.tag, context=Path(args.context), plan_only=args.plan)
    return 0


def _secrets_set(args: argparse.Namespace) -> int:
    from ops import secrets

    secrets.set_secret(args.env, args.name)
    return 0


def _discover(args: argparse.Namespace) -> int:
    from ops import discovery

    targets = discovery.read(args.env, *args.names)
    for name in args.names:
        # key=value lines, ready for $GITHUB_OUTPUT (ecs/cluster -> ecs_cluster).
        print(f"{name.replace('/', '_')}={targets[name]}")
    return 0


def _registry_login(args: argparse.Namespace) -> int:
    from ops import workers

    host = workers.docker_login(args.env)
    print(f"registry={host}")
    return 0


def _smoke(args: argparse.Namespace) -> int:
    from ops import smoke

    smoke.run(args.env, frontend=args.frontend_url, timing=_timing(args))
    return 0


def _waits(parser: argparse.ArgumentParser, timeout: float = 900) -> None:
    parser.add_argument(
        "--timeout", type=float, default=timeout, help=f"seconds to wait at most (default {timeout:.0f})"
    )
    parser.add_argument("--interval", type=float, default=10, help="seconds between checks (default 10)")


def _diagram(args: argparse.Namespace) -> int:
    from ops import diagram

    try:
        stacks = diagram.load(Path(args.synth_dir))
    except FileNotFoundError as error:
        raise InputError(str(error)) from None
    graph = diagram.build(stacks)
    missing = diagram.missing_types(stacks, graph)
    if missing:
        raise OpsError(f"main resource types missing from the picture: {', '.join(missing)}")
    if args.check:
        print(f"diagram: {len(graph.nodes)} nodes, {len(graph.edges)} edges; every main resource type is drawn")
        return 0
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    source = diagram.to_dot(graph, args.title)
    out.with_suffix(".dot").write_text(source, encoding="utf-8")
    written = [out.with_suffix(".dot")]
    if not args.no_render:
        try:
            written += diagram.render(source, out)
        except FileNotFoundError as error:
            raise InputError(str(error)) from None
    print(f"wrote {', '.join(str(p) for p in written)}")
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
    """Every input becomes a stack (a bad one a failed stack with its reason); exit 0 unless misused."""
    texts = dict(_pairs(args.text, "--text"))
    plans: list[plan_comment.StackPlan] = []
    secrets: dict[str, set[str]] = {}
    for name, path in _pairs(args.plan, "--plan"):
        plans.append(plan_comment.load_plan(name, Path(path)))
        if name in texts:
            # A text is shown only when its plan JSON says which values to redact.
            with contextlib.suppress(OSError, UnicodeDecodeError, ValueError, RecursionError):
                secrets[name] = plan_comment.sensitive_values(json.loads(Path(path).read_text(encoding="utf-8")))
    for name, path in _pairs(args.failed, "--failed"):
        log = Path(path).read_text(encoding="utf-8", errors="replace") if Path(path).is_file() else ""
        plans.append(plan_comment.failed(name, log, reason=plan_comment.first_error(log)))
    for name, reason in _pairs(args.pending, "--pending"):
        plans.append(plan_comment.pending(name, reason))
    for path in args.digest or []:
        plans += plan_comment.load_digest(Path(path), fallback_name=Path(path).stem)
    if not plans:
        raise InputError("give at least one --plan, --failed, --pending or --digest")
    order = {name: i for i, name in enumerate(args.order or [])}
    plans.sort(key=lambda p: order.get(p.name, len(order)))
    if args.save_digest:
        _write(args.save_digest, json.dumps(plan_comment.to_digest(plans), indent=1) + "\n")
    if args.summary:
        _write(args.summary, json.dumps(plan_comment.summary(plans), indent=1) + "\n")
    if args.job_summary:
        _write(args.job_summary, plan_comment.job_summary(plans, texts, secrets))
    # The file ends with a newline and still fits GitHub's limit.
    text = plan_comment.render(plans, full_plan=args.full_plan, commit=args.commit or "",
                               limit=plan_comment.GITHUB_LIMIT - 1) + "\n"  # fmt: skip
    if args.out:
        _write(args.out, text)
    elif not (args.save_digest or args.summary or args.job_summary):
        sys.stdout.write(text)
    return 0


def _write(path: str, text: str) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text, encoding="utf-8")


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


def _add_shipping_commands(sub: Any) -> None:
    """deploy, rollback, restart, secrets, smoke."""
    deploy = sub.add_parser(
        "deploy",
        help="Ship the backend, the frontend or the worker images.",
        description="Ship the backend, the frontend or the worker images.",
    )
    deploy_sub = deploy.add_subparsers(dest="target", required=True, metavar="TARGET")
    p = _command(
        deploy_sub,
        "backend",
        _deploy_backend,
        "Register a revision pinned to the image digest, update the service, wait, smoke /health; "
        "roll back on failure.",
        "python -m ops deploy backend --env dev --image 3f2c1ab",
    )
    p.add_argument("--env", required=True, help="environment")
    p.add_argument("--image", required=True, help="a tag of the backend repository, <repo>:<tag> or <repo>@sha256:...")
    _waits(p)
    p = _command(
        deploy_sub,
        "frontend",
        _deploy_frontend,
        "Start an Amplify release (or follow the auto-build of --commit), wait for it, smoke the site.",
        "python -m ops deploy frontend --env prod --commit 3f2c1ab9e8d7",
    )
    p.add_argument("--env", required=True, help="environment")
    p.add_argument("--commit", help="follow the auto-build job of this commit instead of starting a release")
    p.add_argument("--url", help="URL to smoke-test (default: the custom domain or the branch URL)")
    _waits(p, timeout=1800)
    p = _command(
        deploy_sub,
        "workers",
        _deploy_workers,
        "Build and push every worker image tagged <env>-<sha> and <env>-latest (base image first).",
        "python -m ops deploy workers --env dev --tag dev-3f2c1ab --plan",
    )
    p.add_argument("--env", required=True, help="environment")
    p.add_argument("--tag", required=True, help="<env>-<git sha>")
    p.add_argument("--context", default=".", help="application repository root (workers/<image>/Dockerfile)")
    p.add_argument("--plan", action="store_true", help="print the exact docker commands; build nothing")

    rollback = sub.add_parser(
        "rollback",
        help="Put the backend service back on an earlier revision.",
        description="Put the backend service back on an earlier revision.",
    )
    rollback_sub = rollback.add_subparsers(dest="target", required=True, metavar="TARGET")
    p = _command(
        rollback_sub,
        "backend",
        _rollback_backend,
        "Point the backend service at an earlier task-definition revision (default: the previous one) and wait.",
        "python -m ops rollback backend --env prod --to-revision 41",
    )
    p.add_argument("--env", required=True, help="environment")
    p.add_argument("--to-revision", type=int, help="revision number of the backend task family")
    _waits(p)

    restart = sub.add_parser(
        "restart",
        help="Restart the backend tasks (e.g. after a secret changed).",
        description="Restart the backend tasks (e.g. after a secret changed).",
    )
    restart_sub = restart.add_subparsers(dest="target", required=True, metavar="TARGET")
    p = _command(
        restart_sub,
        "backend",
        _restart_backend,
        "Start a new deployment of the running revision and wait for it.",
        "python -m ops restart backend --env dev",
    )
    p.add_argument("--env", required=True, help="environment")
    _waits(p)

    secrets = sub.add_parser(
        "secrets",
        help="Operator-held secrets (values come from stdin).",
        description="Operator-held secrets (values come from stdin).",
    )
    secrets_sub = secrets.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = _command(
        secrets_sub,
        "set",
        _secrets_set,
        "Store a secret read from stdin as a SecureString with the environment key.",
        "pbpaste | python -m ops secrets set slackBotToken --env dev",
    )
    p.add_argument("name", help="webhookSecretEncryptionKey, slackSigningSecret, slackBotToken or github-token")
    p.add_argument("--env", required=True, help="environment")

    p = _command(
        sub,
        "discover",
        _discover,
        "Print deployment-discovery values of an environment as name=value lines.",
        "python -m ops discover --env dev deployment/ecrRepository ecs/service",
    )
    p.add_argument("--env", required=True, help="environment")
    p.add_argument("names", nargs="+", help="parameter names under /viberglass/<env>/, e.g. ecs/cluster")

    p = _command(
        sub,
        "registry-login",
        _registry_login,
        "Log Docker in to the account's ECR registry (token from boto3, password through stdin).",
        "python -m ops registry-login --env dev",
    )
    p.add_argument("--env", required=True, help="environment")

    p = _command(
        sub,
        "smoke",
        _smoke,
        "Check the API /health, the frontend URL and running vs desired backend tasks.",
        "python -m ops smoke --env prod",
    )
    p.add_argument("--env", required=True, help="environment")
    p.add_argument("--frontend-url", help="URL to check (default: the custom domain or the branch URL)")
    _waits(p, timeout=60)


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

    _add_shipping_commands(sub)

    p = _command(
        sub,
        "diagram",
        _diagram,
        "Draw the architecture (Graphviz DOT, SVG, PNG) from synthesized stacks.",
        "python -m ops diagram --synth-dir cdktf.out --out docs/architecture",
    )
    p.add_argument("--synth-dir", default="cdktf.out", help="synthesized output (default cdktf.out)")
    p.add_argument("--out", default="docs/architecture", help="output path without extension")
    p.add_argument("--title", default="Viberglass infrastructure", help="picture title")
    p.add_argument("--check", action="store_true", help="only check every main resource type is drawn")
    p.add_argument("--no-render", action="store_true", help="write the DOT source only")

    p = _command(
        sub,
        "plan-comment",
        _plan_comment,
        "Render terraform show -json plans of several stacks into one pull-request comment (no network).",
        "python -m ops plan-comment --plan dev/base=base.json --plan dev/workers=workers.json --out comment.md",
    )
    p.fromfile_prefix_chars = "@"  # @FILE: arguments one per line (scripts/ci/plan-stacks.sh writes them)
    p.add_argument("--plan", action="append", metavar="STACK=FILE", help="a stack's `terraform show -json` output")
    p.add_argument("--failed", action="append", metavar="STACK=LOG", help="a stack whose plan failed, with its log")
    p.add_argument("--pending", action="append", metavar="STACK=REASON", help="a stack not planned, and why")
    p.add_argument("--digest", action="append", metavar="FILE", help="stacks from a --save-digest file (no values)")
    p.add_argument("--text", action="append", metavar="STACK=FILE", help="a stack's human plan (for --job-summary)")
    p.add_argument("--order", nargs="*", metavar="STACK", help="stack order in the comment (default: as given)")
    p.add_argument("--commit", help="the commit the plans were made for (named in the comment)")
    p.add_argument("--full-plan", default="the job summary", help="where readers find the full plan (text or URL)")
    p.add_argument("--out", help="write the markdown here (default: stdout)")
    p.add_argument("--summary", metavar="FILE", help="write the machine-readable summary (JSON) here")
    p.add_argument("--save-digest", metavar="FILE", help="write the stacks, without any value, as JSON here")
    p.add_argument("--job-summary", metavar="FILE", help="write the --text plans, sensitive values redacted, here")
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
