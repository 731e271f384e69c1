"""``ops deploy backend`` and ``ops rollback backend``.

deploy: discover the targets, resolve the image digest in ECR, register a task-definition revision copied
from the running one with only the image changed (pinned by digest), update the service, wait for a
steady state, smoke-test ``<api url>/health``; on any failure roll the service back to the revision it
ran before and exit non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ops import discovery
from ops.common import InputError, OpsError, Report, aws_call, client
from ops.waiting import Timing, smoke, wait_until

# RegisterTaskDefinition accepts these keys of a DescribeTaskDefinition result; the rest are read-only.
REGISTER_KEYS = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
    "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform",
)  # fmt: skip
TARGETS = ("ecs/cluster", "ecs/service", "ecs/taskFamily", "ecs/containerName", "deployment/ecrRepository",
           "frontend/apiUrl")  # fmt: skip


def short(task_definition: str) -> str:
    """``family:revision`` of an ARN or short name."""
    return task_definition.rsplit("/", 1)[-1]


@dataclass
class Backend:
    env: str
    targets: discovery.Targets
    report: Report
    timing: Timing

    def __post_init__(self) -> None:
        self.ecs = client("ecs", self.targets.region)
        self.ecr = client("ecr", self.targets.region)

    @property
    def cluster(self) -> str:
        return self.targets["ecs/cluster"]

    @property
    def service(self) -> str:
        return self.targets["ecs/service"]

    def current(self) -> dict[str, Any]:
        response = aws_call(
            "ecs DescribeServices", lambda: self.ecs.describe_services(cluster=self.cluster, services=[self.service])
        )
        services = response.get("services", [])
        if not services:
            raise OpsError(f"service {self.service} not found in cluster {self.cluster}")
        service: dict[str, Any] = services[0]
        return service

    def resolve_image(self, image: str) -> str:
        """``<repository>@sha256:...`` for a tag, ``repo:tag`` or ``repo@digest`` (the digest must exist)."""
        repository_url = self.targets["deployment/ecrRepository"]
        reference = image if "/" in image else f"{repository_url}:{image}"
        if "@" in reference:
            repository, digest = reference.split("@", 1)
            image_id = {"imageDigest": digest}
        else:
            repository, _, tag = reference.rpartition(":")
            if not repository or "/" in tag:
                raise InputError(f"--image {image!r}: give a tag, <repository>:<tag> or <repository>@sha256:...")
            image_id = {"imageTag": tag}
        name = repository.split("/", 1)[1]
        details = aws_call(
            f"ecr DescribeImages {name} {image_id}",
            lambda: self.ecr.describe_images(repositoryName=name, imageIds=[image_id]),
        )["imageDetails"]
        digest = details[0]["imageDigest"]
        self.report.info(f"image {reference} is {digest}")
        return f"{repository}@{digest}"

    def register(self, base: str, image: str) -> str:
        definition = aws_call(
            "ecs DescribeTaskDefinition", lambda: self.ecs.describe_task_definition(taskDefinition=base)
        )["taskDefinition"]
        container = self.targets["ecs/containerName"]
        names = [c["name"] for c in definition["containerDefinitions"]]
        if container not in names:
            raise OpsError(f"task definition {short(base)} has no container {container!r} (has {names})")
        copy = {k: definition[k] for k in REGISTER_KEYS if definition.get(k) not in (None, [], {})}
        copy["containerDefinitions"] = [
            {**c, "image": image} if c["name"] == container else c for c in definition["containerDefinitions"]
        ]
        registered = aws_call("ecs RegisterTaskDefinition", lambda: self.ecs.register_task_definition(**copy))
        arn: str = registered["taskDefinition"]["taskDefinitionArn"]
        self.report.info(f"registered {short(arn)} (copy of {short(base)} with the new image)")
        return arn

    def point_at(self, task_definition: str) -> None:
        aws_call(
            "ecs UpdateService",
            lambda: self.ecs.update_service(cluster=self.cluster, service=self.service, taskDefinition=task_definition),
        )
        self.report.info(f"service {self.service} now runs {short(task_definition)}")

    def steady(self, task_definition: str) -> tuple[bool, str]:
        def check() -> tuple[bool | None, str]:
            service = self.current()
            primary: dict[str, Any] = next(
                (d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {}
            )
            running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
            state = primary.get("rolloutState", "")
            status = f"{state or 'deploying'}, {running}/{desired} tasks running"
            if short(service.get("taskDefinition", "")) != short(task_definition):
                return False, f"service moved to {short(service.get('taskDefinition', ''))} (circuit breaker?)"
            if state == "FAILED":
                return False, f"rollout failed: {primary.get('rolloutStateReason', '')}"
            others = [d for d in service.get("deployments", []) if d.get("status") != "PRIMARY"]
            done = (state == "COMPLETED" or (not state and running == desired)) and not others
            return (True if done else None), status

        return wait_until(self.report, "waiting for a steady state", check, self.timing)

    def health_url(self) -> str:
        return self.targets["frontend/apiUrl"].rstrip("/") + "/health"


def deploy(env: str, image: str, *, timing: Timing, report: Report | None = None) -> None:
    report = report or Report()
    report.section(f"Deploying the backend of {env}")
    backend = Backend(env, discovery.read(env, *TARGETS), report, timing)
    previous = backend.current()["taskDefinition"]
    report.info(f"running now: {short(previous)}")
    pinned = backend.resolve_image(image)
    new = backend.register(previous, pinned)
    backend.point_at(new)
    ok, why = backend.steady(new)
    if ok and not smoke(report, backend.health_url(), timing):
        ok, why = False, f"{backend.health_url()} did not answer 2xx"
    if ok:
        report.section(f"Deployed {short(new)} ({pinned})")
        return
    report.section(f"Deploy failed: {why}; rolling back to {short(previous)}")
    backend.point_at(previous)
    back, status = backend.steady(previous)
    raise OpsError(
        f"deploy of {short(new)} failed ({why}); rolled back to {short(previous)}"
        + ("" if back else f", but the rollback is not steady yet: {status}")
    )


def rollback(env: str, *, to_revision: int | None, timing: Timing, report: Report | None = None) -> str:
    report = report or Report()
    targets = discovery.read(env, *TARGETS)
    backend = Backend(env, targets, report, timing)
    current = short(backend.current()["taskDefinition"])
    family, _, revision = current.partition(":")
    if to_revision is None:
        arns = aws_call(
            "ecs ListTaskDefinitions",
            lambda: backend.ecs.list_task_definitions(familyPrefix=family, status="ACTIVE", sort="DESC"),
        )["taskDefinitionArns"]
        earlier = [short(a) for a in arns if int(short(a).split(":")[1]) < int(revision)]
        if not earlier:
            raise OpsError(f"{current} has no earlier active revision to roll back to")
        target = max(earlier, key=lambda s: int(s.split(":")[1]))
    else:
        if str(to_revision) == revision:
            raise InputError(f"the service already runs {current}")
        target = f"{family}:{to_revision}"
    report.section(f"Rolling the backend of {env} back from {current} to {target}")
    backend.point_at(target)
    ok, status = backend.steady(target)
    if not ok:
        raise OpsError(f"rollback to {target} is not steady: {status}")
    report.section(f"Rolled back to {target}")
    return target


def restart(env: str, *, timing: Timing, report: Report | None = None) -> None:
    """A new deployment of the running revision (tasks restart and read their secrets again)."""
    report = report or Report()
    backend = Backend(env, discovery.read(env, *TARGETS), report, timing)
    current = backend.current()["taskDefinition"]
    report.section(f"Restarting the backend of {env} ({short(current)})")
    aws_call(
        "ecs UpdateService",
        lambda: backend.ecs.update_service(cluster=backend.cluster, service=backend.service, forceNewDeployment=True),
    )
    ok, status = backend.steady(current)
    if not ok:
        raise OpsError(f"restart is not steady: {status}")
    report.section("Restarted")
