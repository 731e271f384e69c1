"""``ops deploy workers``: build and push the application's worker images into this environment's
repositories (``<registry>/<image prefix>/<repository>``), each tagged with the immutable per-commit
tag and the moving ``latest`` the backend runs. The images, their Dockerfiles and the base-image
relation are the application's catalog (``core.app_contract.WORKER_IMAGES``); the base image is built
first because agent images are built ``FROM`` it."""

from __future__ import annotations

import base64
import json
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from core import app_contract as app
from ops import images
from ops.bootstrap_oidc import caller, require_account
from ops.common import InputError, OpsError, Report, aws_call, client, load_config


@dataclass(frozen=True)
class Build:
    key: str
    repository: str
    commands: list[list[str]]


def check_catalog(context: Path) -> None:
    """Refuse an application checkout whose worker catalog differs from the contract: its images would
    go to repositories the stacks do not create, or the backend would run images nobody pushes."""
    path = context / app.WORKER_CATALOG_FILE
    if not path.is_file():
        return
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        theirs = {(e["variant"], e["repositoryName"], e["dockerfilePath"], bool(e["isAgentImage"])) for e in entries}
    except (ValueError, KeyError, TypeError) as error:
        raise InputError(f"{path}: not a worker image catalog ({error})") from None
    ours = {(i.variant, i.repository, i.dockerfile, i.agent) for i in app.WORKER_IMAGES}
    if theirs != ours:
        added = ", ".join(sorted(r for _, r, _, _ in theirs - ours)) or "none"
        removed = ", ".join(sorted(r for _, r, _, _ in ours - theirs)) or "none"
        raise InputError(
            f"{path} differs from core/app_contract.py WORKER_IMAGES (new or changed: {added}; missing or "
            f"changed: {removed}); update the contract and deploy the workers stack first"
        )


def plan_builds(*, tag: str, registry: str, prefix: str, context: Path) -> list[Build]:
    """The docker commands for every catalog image, base first. ``tag`` is the immutable per-commit tag (the
    full commit SHA); ``latest``, the tag the backend runs, is moved to it once every image is pushed."""
    if not images.FULL_SHA.fullmatch(tag):
        raise InputError(
            f"--tag {tag!r}: give the commit's full 40-character SHA (git rev-parse HEAD); it is the images' "
            f"immutable tag, and {app.RUN_TAG} is moved to it"
        )
    check_catalog(context)
    ordered = sorted(app.WORKER_IMAGES, key=lambda i: (i.variant != app.BASE_IMAGE_VARIANT, i.agent, i.variant))
    base = f"{registry}/{prefix}/{app.worker_image(app.BASE_IMAGE_VARIANT).repository}:{tag}"
    builds = []
    for image in ordered:
        target = f"{registry}/{prefix}/{image.repository}"
        build = ["docker", "build", "--file", str(context / image.dockerfile), "--tag", f"{target}:{tag}"]
        if image.agent:
            build += ["--build-arg", f"BASE_IMAGE={base}"]
        build.append(str(context))
        builds.append(Build(image.variant, target, [build, ["docker", "push", f"{target}:{tag}"]]))
    return builds


def missing_dockerfiles(context: Path) -> tuple[list[str], list[str]]:
    """(Dockerfiles of images the backend runs, of images it never runs) that ``context`` lacks."""
    run: list[str] = []
    unused: list[str] = []
    for image in app.WORKER_IMAGES:
        if not (context / image.dockerfile).is_file():
            (run if image.run_by_backend else unused).append(image.dockerfile)
    return run, unused


def registry_login(region: str) -> tuple[str, str]:
    """(registry host, password) from ECR; the password goes to `docker login --password-stdin`."""
    ecr = client("ecr", region)
    data = aws_call("ecr GetAuthorizationToken", ecr.get_authorization_token)["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    assert user == "AWS"
    return data["proxyEndpoint"].removeprefix("https://"), password


def docker_login(env: str) -> str:
    """`docker login` to the account's registry; the token never appears in argv or output."""
    host, password = registry_login(load_config(env).aws.region)
    login = ["docker", "login", "--username", "AWS", "--password-stdin", host]
    result = subprocess.run(login, input=password.encode(), check=False, capture_output=True)  # noqa: S603
    if result.returncode != 0:
        raise OpsError(f"docker login to {host} failed: {result.stderr.decode(errors='replace').strip()[-300:]}")
    return host


def print_plan(builds: list[Build], *, registry: str, tag: str, context: Path, skipped: list[str], missing: list[str],
               out: TextIO) -> None:  # fmt: skip
    """The exact commands a deploy runs (no AWS beyond the account id, no Docker)."""
    print(f"# ECR login (the password comes from ecr:GetAuthorizationToken and goes to stdin)\n"
          f"docker login --username AWS --password-stdin {registry}", file=out)  # fmt: skip
    for dockerfile in skipped:
        print(f"# skipped: {context / dockerfile} does not exist and the backend never runs it", file=out)
    for dockerfile in missing:
        print(f"# MISSING: {context / dockerfile} (the backend runs this image)", file=out)
    print(f"# each image is built and pushed unless ECR already holds {tag} (a re-run pushes nothing)", file=out)
    for build in builds:
        print(f"\n# {build.key} ({build.repository})", file=out)
        for command in build.commands:
            print(shlex.join(command), file=out)
    print(
        f"\n# then, once every image is in ECR, {app.RUN_TAG} moves to {tag} (ecr PutImage of its manifest):", file=out
    )
    for build in builds:
        print(f"# move {build.repository}:{app.RUN_TAG} -> {tag}", file=out)


def deploy(env: str, *, tag: str, context: Path, plan_only: bool, report: Report | None = None) -> list[Build]:
    report = report or Report()
    cfg = load_config(env)
    # The registry is the configured account's: --plan needs no credentials, and the tag is checked (in
    # plan_builds) before anything talks to AWS.
    registry = f"{cfg.aws.account_id}.dkr.ecr.{cfg.aws.region}.amazonaws.com"
    builds = plan_builds(tag=tag, registry=registry, prefix=cfg.worker_image_prefix, context=context)
    needed, unused = missing_dockerfiles(context) if context.is_dir() else ([], [])
    if needed and not plan_only:
        raise InputError(f"{context} has no {', '.join(needed)}: the backend runs these images")
    if unused:
        # e.g. the catalog's claude image: its Dockerfile is not in the application repository and the
        # backend never selects it (packages/types/src/workerImages.ts).
        skipped = {i.variant for i in app.WORKER_IMAGES if i.dockerfile in unused}
        builds = [b for b in builds if b.key not in skipped]
    if plan_only:
        print_plan(builds, registry=registry, tag=tag, context=context, skipped=unused, missing=needed, out=report.out)
        return builds
    require_account(cfg, caller(cfg.aws.region)[0], file=f"config/{cfg.name}.yaml")
    docker_login(env)
    ecr = images.Registry(cfg.aws.region)
    pushed: list[tuple[Build, images.Remote]] = []
    for number, build in enumerate(builds, start=1):
        report.section(f"[{number}/{len(builds)}] {build.repository}:{tag}")
        if images.exists(ecr, build.repository, tag) and images.local_id(f"{build.repository}:{tag}") is None:
            report.info("already in ECR (an earlier run pushed it): not built again")
        else:
            report.info(shlex.join(build.commands[0]))
            if subprocess.run(build.commands[0], check=False).returncode != 0:  # noqa: S603 (argv built above)
                raise OpsError(f"{shlex.join(build.commands[0])} failed; images before it were pushed, none after")
        pushed.append((build, images.publish(ecr, build.repository, tag, report)))
    report.section(f"Moving {app.RUN_TAG} (the tag the backend runs) to {tag}")
    for build, remote in pushed:
        images.move_tag(ecr, build.repository, remote, app.RUN_TAG, report)
    report.section(f"{len(builds)} images tagged {tag} and {app.RUN_TAG}")
    return builds
