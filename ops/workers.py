"""``ops deploy workers``: build and push every worker image of the catalog, tagged ``<env>-<sha>`` and
``<env>-latest``. Agent images are built on the base image of the same tag."""

from __future__ import annotations

import base64
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ops.common import InputError, OpsError, Report, aws_call, client, load_config

ORDER = {"base": 0, "lambda": 1, "ecs": 1, "agent": 2}


@dataclass(frozen=True)
class Build:
    key: str
    repository: str
    commands: list[list[str]]


def plan_builds(env: str, *, tag: str, registry: str, context: Path) -> list[Build]:
    """The docker commands for every image, base first (the agent images build FROM it)."""
    if not re.fullmatch(rf"{re.escape(env)}-[0-9a-f]{{7,40}}", tag):
        raise InputError(f"--tag {tag!r}: expected {env}-<git sha> (immutable tags carry the environment)")
    cfg = load_config(env)
    images = sorted(cfg.workers.images.items(), key=lambda item: (ORDER[item[1].kind], item[0]))
    base = next((i.repository for i in cfg.workers.images.values() if i.kind == "base"), None)
    builds = []
    for key, image in images:
        target = f"{registry}/{image.repository}"
        build = ["docker", "build", "--file", str(context / "workers" / key / "Dockerfile"),
                 "--tag", f"{target}:{tag}", "--tag", f"{target}:{env}-latest"]  # fmt: skip
        if image.kind == "agent" and base:
            build += ["--build-arg", f"BASE_IMAGE={registry}/{base}:{tag}"]
        build.append(str(context))
        pushes = [["docker", "push", f"{target}:{tag}"], ["docker", "push", f"{target}:{env}-latest"]]
        builds.append(Build(key, image.repository, [build, *pushes]))
    return builds


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


def deploy(env: str, *, tag: str, context: Path, plan_only: bool, report: Report | None = None) -> list[Build]:
    report = report or Report()
    cfg = load_config(env)
    sts = client("sts", cfg.aws.region)
    account = aws_call("sts GetCallerIdentity", sts.get_caller_identity)["Account"]
    registry = f"{account}.dkr.ecr.{cfg.aws.region}.amazonaws.com"
    builds = plan_builds(env, tag=tag, registry=registry, context=context)
    if plan_only:
        print(f"# ECR login (the password comes from ecr:GetAuthorizationToken and goes to stdin)\n"
              f"docker login --username AWS --password-stdin {registry}", file=report.out)  # fmt: skip
        for build in builds:
            print(f"\n# {build.key} ({build.repository})", file=report.out)
            for command in build.commands:
                print(shlex.join(command), file=report.out)
        return builds
    docker_login(env)
    for number, build in enumerate(builds, start=1):
        report.section(f"[{number}/{len(builds)}] {build.repository}")
        for command in build.commands:
            report.info(shlex.join(command))
            if subprocess.run(command, check=False).returncode != 0:  # noqa: S603 (argv built above, no shell)
                raise OpsError(f"{shlex.join(command)} failed; images before it were pushed, none after")
    report.section(f"Pushed {len(builds)} images tagged {tag} and {env}-latest")
    return builds
