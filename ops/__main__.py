"""``viberglass-ops`` (``.venv/bin/viberglass-ops`` after ``make setup``; ``python -m ops`` where the package is
installed, as in the workflows): operations commands. ``viberglass-ops COMMAND --help``."""

from __future__ import annotations

import argparse
import contextlib
import functools
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


def _purge_state_history(args: argparse.Namespace) -> int:
    from ops import state_history

    state_history.run(args.env, dry_run=args.dry_run)
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

    backend.deploy(args.env, args.image, running_image=args.running_image, timing=_timing(args))
    return 0


def _rollback_backend(args: argparse.Namespace) -> int:
    from ops import backend

    backend.rollback(args.env, to_revision=args.to_revision, to_image=args.to_image, timing=_timing(args))
    return 0


def _rollback_frontend(args: argparse.Namespace) -> int:
    from ops import frontend

    frontend.rollback(args.env, to_commit=args.to_commit, url=args.url, timing=_timing(args))
    return 0


def _push_image(args: argparse.Namespace) -> int:
    from ops import discovery, images
    from ops.common import Report, load_config

    cfg = load_config(args.env)
    repository = discovery.read(args.env, "deployment/ecrRepository")["deployment/ecrRepository"]
    registry = images.Registry(cfg.aws.region)
    if args.check:
        # key=value for $GITHUB_OUTPUT: a re-run finds the image of its commit and skips the build.
        print(f"exists={'true' if images.exists(registry, repository, args.tag) else 'false'}")
        return 0
    report = Report()
    report.section(f"Publishing {repository}:{args.tag}")
    remote = images.publish(registry, repository, args.tag, report)
    images.move_tag(registry, repository, remote, cfg.backend.image_tag, report)
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


def _region(args: argparse.Namespace) -> int:
    from ops.environment import load_config  # not ops.common: no boto3 for a configuration read

    # key=value lines for $GITHUB_OUTPUT: workflows take the region from config, never a literal; with
    # --backend also the state backend (kind=s3|cloud), so a job reads its configuration in one Python start.
    cfg = load_config(args.env)
    print(f"region={cfg.aws.region}")
    if args.backend:
        print(f"kind={cfg.state.backend}")
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


def _read_json(path: str, what: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(f"{what} {path}: cannot read it as JSON ({error.__class__.__name__})") from None


def _read_bytes(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise InputError(f"{what} {path}: {error.strerror or error}") from None


def _plan_review(args: argparse.Namespace) -> int:
    """record: write the value-free review record of a stack's plan; check: exit 1 unless a new plan is it."""
    from ops import review

    document = _read_json(args.plan, "--plan")
    code = _read_bytes(args.code, "--code")
    if args.action == "record":
        try:
            reviewed = review.record(args.stack, document, code, args.commit)
        except plan_comment.PlanError as error:
            raise OpsError(f"{args.stack}: the plan cannot be reviewed: {error}") from None
        _write(args.out, json.dumps(reviewed, indent=1, sort_keys=True) + "\n")
        print(f"changes={'true' if reviewed['has_changes'] else 'false'}")
        return 0
    found = review.differences(_read_json(args.reviewed, "--reviewed"), args.stack, document, code, args.commit)
    if found:
        print(f"The plan made now for {args.stack} is not the reviewed plan:")
        for line in found:
            print(f"  - {line}")
        raise OpsError(
            f"{args.stack}: refusing to apply a plan that differs from the reviewed one ({len(found)} "
            "difference(s) listed above); dispatch the workflow again to review a fresh plan"
        )
    print(f"{args.stack}: the plan is the reviewed plan (same commit, code, changes and values)")
    return 0


def _apply_report(args: argparse.Namespace) -> int:
    from ops import apply_report

    plan = plan_comment.load_plan(args.stack, Path(args.plan))
    if plan.status == "failed":
        # A report saying "No changes" about a plan nobody could read would be a lie, and would skip the
        # backend redeploy a changed task definition needs.
        raise OpsError(
            f"{args.stack}: cannot read the applied plan {args.plan} ({plan.error}); what the apply changed is "
            "unknown: read the apply log"
        )
    outputs = _read_json(args.outputs, "--outputs") if args.outputs and Path(args.outputs).is_file() else {}
    text = apply_report.render(plan, outputs, run_url=args.run_url, commit_url=args.commit_url, failed=args.failed)
    _write(args.out, text)
    # key=value for $GITHUB_OUTPUT: whether the backend must follow a new task definition.
    print(f"backend_template={'changed' if apply_report.backend_template_changed(plan) else 'unchanged'}")
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
    """deploy, rollback, restart."""
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
        "Register Terraform's latest task definition with the image digest in every container of the backend "
        "repository, update the service, wait, smoke /health; roll back on failure. Nothing to register when the "
        "service already runs exactly that (a re-run).",
        f"{OPS} deploy backend --env dev --image 3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument(
        "--image",
        type=valid.image,
        help="a tag of the backend repository (a commit SHA: full, or 7+ characters naming one tag), "
        "<repo>:<tag> or <repo>@sha256:...",
    )
    which.add_argument(
        "--running-image",
        action="store_true",
        help="the image the service runs now, on Terraform's latest task definition (after an infrastructure "
        "apply: cpu, memory, environment and secrets changes reach the service)",
    )
    _waits(p)
    p = _command(
        deploy_sub,
        "frontend",
        _deploy_frontend,
        "Start an Amplify release of the branch's newest commit (or follow the auto-build job of --commit), "
        "wait for it, smoke the site.",
        f"{OPS} deploy frontend --env prod --commit 3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument(
        "--commit",
        type=valid.commit,
        help="follow the auto-build job of this commit (7-40 characters of its SHA) instead of starting a release",
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
        "Point the backend service at an earlier task-definition revision (default: the previous one "
        "`deploy backend` registered) and wait, or deploy an earlier image with --to-image.",
        f"{OPS} rollback backend --env prod --to-image 3f2c1ab",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    target = p.add_mutually_exclusive_group()
    target.add_argument(
        "--to-revision",
        type=valid.revision,
        help="a revision of the backend task family: 41, <family>:41 or its ARN (default: the previous revision "
        "`deploy backend` registered)",
    )
    target.add_argument(
        "--to-image",
        type=valid.image,
        help="deploy this earlier image on Terraform's task definition instead: a commit SHA (7+ characters "
        "naming one tag) or a tag",
    )
    _waits(p)
    p = _command(
        rollback_sub,
        "frontend",
        _rollback_frontend,
        "Rebuild and deploy an earlier commit of the frontend: retry the Amplify job that built it, wait, check "
        "it built that commit, smoke the site.",
        f"{OPS} rollback frontend --env prod --to-commit 3f2c1ab",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument(
        "--to-commit", required=True, type=valid.commit, help="the commit to go back to (7-40 characters of its SHA)"
    )
    p.add_argument("--url", type=valid.url, help="URL to smoke-test (default: the custom domain or the branch URL)")
    _waits(p, timeout=1800)

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


def _add_secret_commands(sub: Any) -> None:
    """secrets, connect, discover, registry-login, smoke."""
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
        "region",
        _region,
        "Print the environment's AWS region (aws.region of its configuration) as a region=... line.",
        f"{OPS} region --env prod --backend",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument(
        "--backend", action="store_true", help="also print its state backend (state.backend) as a kind=... line"
    )

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


def _add_ci_commands(sub: Any) -> None:
    """registry-login, push-image, plan-review and apply-report: what the deploy workflows run besides deploys
    (the last two on the standard library alone)."""
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
        "push-image",
        _push_image,
        "Push the locally built backend image <repository>:<tag> unless ECR already holds that tag (the same "
        "image: nothing to do; another image: an error naming both), then move the environment's moving tag "
        "(backend.image_tag) to it.",
        f"{OPS} push-image --env dev --tag 3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3",
    )
    p.add_argument("--env", required=True, type=valid.environment, help="environment")
    p.add_argument("--tag", required=True, type=valid.full_sha, help="the commit's full 40-character SHA")
    p.add_argument(
        "--check", action="store_true", help="only print exists=true|false (is the tag in ECR?); push nothing"
    )

    review = sub.add_parser(
        "plan-review",
        help="Record the reviewed plan of a stack (value-free), or check a new plan against it (no network).",
        description="Record the reviewed plan of a stack (value-free), or check a new plan against it (no network).",
    )
    review_sub = review.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text, example in (
        ("record", "Write the review record of a plan: commit, code hash, value-free changes, hashes of the "
         "non-sensitive planned values; print changes=true|false.",
         f"{OPS} plan-review record --stack prod/base --plan plan.json --code cdk.tf.json --commit "
         "3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3 --out reviewed/base.json"),
        ("check", "Exit 1, listing the differences, unless a new plan is exactly the reviewed one.",
         f"{OPS} plan-review check --reviewed reviewed/base.json --stack prod/base --plan plan.json --code "
         "cdk.tf.json --commit 3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3"),
    ):  # fmt: skip
        p = _command(review_sub, action, _plan_review, text, example)
        p.add_argument("--stack", required=True, help="<env>/<stack>, e.g. prod/base")
        p.add_argument("--plan", required=True, metavar="FILE", help="`terraform show -json` of the saved plan")
        p.add_argument("--code", required=True, metavar="FILE", help="the synthesized stack (cdk.tf.json)")
        p.add_argument("--commit", required=True, type=valid.full_sha, help="the commit the plan is of")
        if action == "record":
            p.add_argument("--out", required=True, metavar="FILE", help="where to write the record")
        else:
            p.add_argument("--reviewed", required=True, metavar="FILE", help="the record of the reviewed plan")

    p = _command(
        sub,
        "apply-report",
        _apply_report,
        "Write what an apply did (changes, the outputs that matter, links) as Markdown; print "
        "backend_template=changed|unchanged (no network).",
        f"{OPS} apply-report --stack dev/platform --plan plan.json --outputs outputs.json --run-url "
        "https://github.com/Ilities/viberglass-infra/actions/runs/1 --commit-url "
        "https://github.com/Ilities/viberglass-infra/commit/3f2c1ab9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3 --out report.md",
    )
    p.add_argument("--stack", required=True, help="<env>/<stack>, e.g. dev/platform")
    p.add_argument("--plan", required=True, metavar="FILE", help="`terraform show -json` of the applied plan")
    p.add_argument("--outputs", metavar="FILE", help="`terraform output -json` after the apply")
    p.add_argument("--run-url", required=True, help="the workflow run")
    p.add_argument("--commit-url", required=True, help="the commit applied")
    p.add_argument("--failed", default="", help="the apply failed: say so, with this reason")
    p.add_argument("--out", required=True, metavar="FILE", help="where to write the Markdown")


@functools.cache
def build_parser() -> argparse.ArgumentParser:
    """The whole command line, built once per process (~3 ms; nothing in it depends on the environment or
    on a previous parse)."""
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
        "purge-state-history",
        _purge_state_history,
        "Delete every earlier (noncurrent) version of an environment's Terraform state objects, keeping the "
        "current ones (refuses another account than aws.account_id).",
        f"{OPS} purge-state-history --env prod --dry-run",
    )
    p.add_argument(
        "--env",
        required=True,
        type=valid.environment,
        help="environment (config/<env>.yaml names the bucket and key prefix)",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")

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
    _add_secret_commands(sub)

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

    _add_ci_commands(sub)
    _group_examples(parser)
    return parser


def _group_examples(parser: argparse.ArgumentParser) -> None:
    """A group command (deploy, secrets, ...) shows its sub-commands' examples in its own --help."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for group in action.choices.values():
            _group_examples(group)
            subs = [a for a in group._actions if isinstance(a, argparse._SubParsersAction)]
            if subs and not group.epilog:
                lines = [(child.epilog or "").splitlines()[1:] for child in subs[0].choices.values()]
                group.epilog = "examples:\n" + "\n".join(line for found in lines for line in found)
                group.formatter_class = argparse.RawDescriptionHelpFormatter


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
