"""``viberglass-ops`` (``.venv/bin/viberglass-ops`` after ``make setup``; ``python -m ops`` where the package is
installed, as in the workflows): operations commands. ``viberglass-ops COMMAND --help``."""

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
from core.cli import EXIT_FAILURE, ArgumentParser, describe, error_line, show_tracebacks
from ops import args as valid
from ops import plan_comment
from ops.errors import InputError, OpsError, from_aws

Handler = Callable[[argparse.Namespace], int]
# How the docs run the commands from a clone: the console script `make setup` installs, no activation needed.
OPS = ".venv/bin/viberglass-ops"


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

    context = Path(args.context)
    if not args.plan and not context.is_dir():  # a plan may name the folder of another machine (CI)
        raise InputError(f"--context {args.context!r} is not a folder; give the application repository root")
    workers.deploy(args.env, tag=args.tag, context=context, plan_only=args.plan)
    return 0


def _secrets_set(args: argparse.Namespace) -> int:
    from ops import secrets

    secrets.set_secret(args.env, args.name)
    return 0


def _secrets_init(args: argparse.Namespace) -> int:
    from ops import secrets

    secrets.init(args.env, dry_run=args.dry_run)
    return 0


def _connect_frontend(args: argparse.Namespace) -> int:
    from ops import connect

    connect.frontend(args.env, reconnect=args.reconnect)
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
        "--timeout", type=valid.seconds, default=timeout, help=f"seconds to wait at most (default {timeout:.0f})"
    )
    parser.add_argument("--interval", type=valid.seconds, default=10, help="seconds between checks (default 10)")


def _diagram(args: argparse.Namespace) -> int:
    from ops import architecture

    try:
        stacks = architecture.load(Path(args.synth_dir))
        drawn = architecture.pictures(stacks, args.title)
    except FileNotFoundError as error:
        raise InputError(str(error)) from None
    except architecture.UnclassifiedTypes as error:
        raise OpsError(str(error)) from None
    missing = architecture.missing_types(stacks, drawn)
    if missing:
        raise OpsError(f"main resource types missing from every picture: {', '.join(missing)}")
    edges = len(drawn["overview"].edges)
    if edges > architecture.OVERVIEW_EDGE_BUDGET:
        raise OpsError(
            f"the overview has {edges} edges, more than {architecture.OVERVIEW_EDGE_BUDGET}: fold or omit more "
            "kinds in ops/architecture.py (KINDS, OVERVIEW_FLOWS)"
        )
    summary = ", ".join(f"{name} {len(p.nodes)} nodes/{len(p.edges)} edges" for name, p in drawn.items())
    if args.check:
        print(f"diagram: {summary}; every main resource type is drawn")
        return 0
    from ops import diagram

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for name, picture in drawn.items():
        stem = out.with_name(f"{out.name}-{name}")
        source = diagram.to_dot(picture, "overview" if name == "overview" else "stack")
        stem.with_suffix(".dot").write_text(source, encoding="utf-8")
        written.append(stem.with_suffix(".dot"))
        if not args.no_render:
            try:
                written += diagram.render(source, stem)
            except FileNotFoundError as error:
                raise InputError(str(error)) from None
    print(f"diagram: {summary}\nwrote {', '.join(str(p) for p in written)}")
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


def _hcp_plan_json(args: argparse.Namespace) -> int:
    from ops import hcp_runs

    run = hcp_runs.save_plan_json(Path(args.log), Path(args.out), full=args.full)
    print(f"{run.organization}/{run.workspace} {run.run_id}: plan JSON written to {args.out}")
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
        f"{OPS} deploy backend --env dev --image 3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument("--image", required=True, help="a tag of the backend repository, <repo>:<tag> or <repo>@sha256:...")
    _waits(p)
    p = _command(
        deploy_sub,
        "frontend",
        _deploy_frontend,
        "Start an Amplify release (or follow the auto-build of --commit), wait for it, smoke the site.",
        f"{OPS} deploy frontend --env prod --commit 3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument(
        "--commit", type=valid.commit, help="follow the auto-build job of this commit instead of starting a release"
    )
    p.add_argument("--url", type=valid.url, help="URL to smoke-test (default: the custom domain or the branch URL)")
    _waits(p, timeout=1800)
    p = _command(
        deploy_sub,
        "workers",
        _deploy_workers,
        "Build and push every worker image of the application's catalog into the environment's repositories, "
        "tagged <git sha> and latest (the tag the backend runs); base image first.",
        f"{OPS} deploy workers --env dev --tag 3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3 --plan",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument("--tag", required=True, help="the commit's immutable tag: the full 40-character <git sha>")
    p.add_argument(
        "--context", default=".", help="application repository root (the catalog's Dockerfile paths are under it)"
    )
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
        f"{OPS} rollback backend --env prod --to-revision 41",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument("--to-revision", type=valid.revision, help="revision number of the backend task family")
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
        f"{OPS} restart backend --env dev",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    _waits(p)

    secrets = sub.add_parser(
        "secrets",
        help="Operator-held secrets (values come from stdin).",
        description="Operator-held secrets (values come from stdin).",
    )
    secrets_sub = secrets.add_subparsers(dest="action", required=True, metavar="ACTION")
    p = _command(
        secrets_sub,
        "init",
        _secrets_init,
        "Create the backend's missing SSM secrets (after base, before platform): generated keys and the "
        "operator-held ones as not-configured. Existing values are never read or changed.",
        f"{OPS} secrets init --env dev",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument("--dry-run", action="store_true", help="list what would be created; create nothing")
    p = _command(
        secrets_sub,
        "set",
        _secrets_set,
        "Store an operator-held secret read from stdin as a SecureString with the environment key.",
        f"pbpaste | {OPS} secrets set slackBotToken --env dev",
    )
    p.add_argument("name", help="slackSigningSecret or slackBotToken")
    p.add_argument("--env", required=True, type=valid.environment, help="environment")

    connect = sub.add_parser(
        "connect",
        help="Connect the Amplify app to the application repository (token from stdin, never stored).",
        description="Connect the Amplify app to the application repository (token from stdin, never stored).",
    )
    connect_sub = connect.add_subparsers(dest="target", required=True, metavar="TARGET")
    p = _command(
        connect_sub,
        "frontend",
        _connect_frontend,
        "Connect the environment's Amplify app to github.app_repository with a GitHub token read from stdin "
        "(after platform; Amplify installs its GitHub App and keeps no token).",
        f"pbpaste | {OPS} connect frontend --env dev",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument("--reconnect", action="store_true", help="hand Amplify a new token even if already connected")

    p = _command(
        sub,
        "discover",
        _discover,
        "Print deployment-discovery values of an environment as name=value lines.",
        f"{OPS} discover --env dev deployment/ecrRepository ecs/service",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument(
        "names", nargs="+", type=valid.discovery_name, help="parameter names under /viberglass/<env>/, e.g. ecs/cluster"
    )

    p = _command(
        sub,
        "registry-login",
        _registry_login,
        "Log Docker in to the account's ECR registry (token from boto3, password through stdin).",
        f"{OPS} registry-login --env dev",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")

    p = _command(
        sub,
        "smoke",
        _smoke,
        "Check the API /health, the frontend URL and running vs desired backend tasks.",
        f"{OPS} smoke --env prod",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument("--frontend-url", type=valid.url, help="URL to check (default: the custom domain or the branch URL)")
    _waits(p, timeout=60)


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        prog="viberglass-ops",
        description="Viberglass operations commands (AWS credentials from your profile or assumed role).",
        epilog=f"example:\n  {OPS} deploy backend --help",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _command(
        sub,
        "bootstrap-state",
        _bootstrap_state,
        "Create or repair the Terraform state bucket and lock table of an environment (idempotent; refuses "
        "another account than aws.account_id).",
        f"{OPS} bootstrap-state --env dev --dry-run",
    )
    p.add_argument(
        "--env",
        required=True,
        type=valid.environment,
        help="environment (config/<env>.yaml names the bucket and table)",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")
    p.add_argument(
        "--noncurrent-days", type=valid.days, default=90, help="days to keep old state versions (default 90)"
    )

    p = _command(
        sub,
        "bootstrap-github-oidc",
        _bootstrap_oidc,
        "Create or repair the GitHub OIDC provider, the permissions boundary and the plan/apply roles of an "
        "environment (idempotent; refuses another account than aws.account_id).",
        f"{OPS} bootstrap-github-oidc --env prod",
    )
    p.add_argument(
        "--env",
        required=True,
        type=valid.environment,
        help="environment; its apply role trusts the GitHub Environment of that name",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would change; change nothing")
    p.add_argument(
        "--subject-prefix",
        type=valid.subject_prefix,
        help="OIDC subject prefix of this repository's jobs (default repo:<github.infra_repository>; use GitHub's "
        "immutable-id form if it customised its subject claim, e.g. repository_owner_id:123:repository_id:456)",
    )

    _add_shipping_commands(sub)

    p = _command(
        sub,
        "diagram",
        _diagram,
        "Draw the architecture from synthesized stacks: an overview and one picture per stack (Graphviz DOT, "
        "SVG, PNG: <out>-overview.*, <out>-<stack>.*).",
        f"{OPS} diagram --synth-dir cdktf.out --check",
    )
    p.add_argument("--synth-dir", default="cdktf.out", help="synthesized output (default cdktf.out)")
    p.add_argument("--out", default="docs/architecture", help="output path without extension")
    p.add_argument("--title", default="Viberglass infrastructure", help="picture title")
    p.add_argument(
        "--check",
        action="store_true",
        help="only check every resource type is classified and drawn, and the "
        "overview's edge budget; write nothing (needs no Graphviz)",
    )
    p.add_argument("--no-render", action="store_true", help="write the DOT source only")

    p = _command(
        sub,
        "hcp-plan-json",
        _hcp_plan_json,
        "Download the JSON plan of the HCP Terraform run a `terraform plan` output names (redacted unless --full), "
        "for plan-comment; the token is TF_TOKEN_<host>, as for Terraform.",
        f"{OPS} hcp-plan-json --log plans/dev/base.txt --out cdktf.out/stacks/base/plan.json",
    )
    p.add_argument("--log", required=True, help="the captured output of `terraform plan` (it names the run)")
    p.add_argument("--out", required=True, help="where to write the plan JSON (keep it beside the stack)")
    p.add_argument(
        "--full",
        action="store_true",
        help="the full `terraform show -json` document instead of the redacted one (needs workspace admin)",
    )

    p = _command(
        sub,
        "plan-comment",
        _plan_comment,
        "Render terraform show -json plans of several stacks into one pull-request comment (no network).",
        f"{OPS} plan-comment --plan dev/base=base.json --plan dev/workers=workers.json --out comment.md",
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
    """Run one command. Exit status: 0 done, 1 failed while working, 2 bad input (arguments, configuration,
    missing or refused AWS credentials); on failure exactly one ``error:`` line on stderr."""
    parser = build_parser()
    namespace = parser.parse_args(argv)
    handler: Handler = namespace.handler
    try:
        return handler(namespace)
    except OpsError as error:
        error_line(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        error_line("interrupted")
        return 130
    except Exception as error:
        # botocore's errors (recognised without importing botocore for commands that do not use it).
        reported = from_aws(error)
        if reported is not None:
            error_line(str(reported))
            return reported.exit_code
        if show_tracebacks():
            raise
        error_line(f"{describe(error)} (an unexpected error; set VIBERGLASS_TRACEBACK=1 for the traceback)")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
