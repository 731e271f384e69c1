"""``ops deploy backend``, ``ops rollback backend`` and ``ops restart backend``.

deploy: discover the targets, resolve the image digest in ECR, start from **Terraform's** task definition
(the revision the platform stack registered, published as ``/viberglass/<env>/ecs/taskDefinition``), put the
digest in every container that runs the backend repository's image (the backend and its init container),
register that revision, point the service at it, wait for a steady state, smoke-test ``<api url>/health``;
on any failure point the service back at the revision it ran before and exit non-zero.

Nothing is copied from the running revision, so cpu, memory, environment and secrets always come from
Terraform. ``--running-image`` redeploys the image the service runs now on Terraform's latest definition:
the infrastructure workflows run it after every apply, so a Terraform-only change reaches the service.
A deploy whose revision would equal the running one registers nothing (a re-run is a no-op).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ops import discovery, images
from ops.common import InputError, OpsError, Report, aws_call, client
from ops.waiting import Timing, smoke, wait_until

# RegisterTaskDefinition accepts these keys of a DescribeTaskDefinition result; the rest are read-only.
REGISTER_KEYS = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
    "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform",
)  # fmt: skip
TARGETS = ("ecs/cluster", "ecs/service", "ecs/taskDefinition", "ecs/containerName", "deployment/ecrRepository",
           "frontend/apiUrl")  # fmt: skip
# How far back `rollback backend` looks for the previous digest-pinned revision.
ROLLBACK_SEARCH = 50


def short(task_definition: str) -> str:
    """``family:revision`` of an ARN or short name."""
    return task_definition.rsplit("/", 1)[-1]


def revision_number(task_definition: str) -> int:
    return int(short(task_definition).rsplit(":", 1)[1])


def image_repository(image: str) -> str:
    """``<registry>/<name>`` of ``<registry>/<name>:<tag>`` or ``<registry>/<name>@sha256:...``."""
    if "@" in image:
        return image.split("@", 1)[0]
    last = image.rsplit("/", 1)
    return image.rsplit(":", 1)[0] if ":" in last[-1] else image


def _normal(value: Any) -> Any:
    """A definition without the empty values ECS adds or drops when it stores one (for comparisons)."""
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in sorted(value.items()) if v not in (None, [], {}, "")}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def rollout(service: dict[str, Any], task_definition: str) -> tuple[bool | None, str]:
    """One look at a service (DescribeServices) rolling out ``task_definition``: True when it is steady,
    False when the rollout failed or the service runs another revision (the circuit breaker rolled it back),
    None while it rolls out; and the status to show."""
    primary: dict[str, Any] = next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), {})
    running, desired = service.get("runningCount", 0), service.get("desiredCount", 0)
    state = primary.get("rolloutState", "")
    status = f"{state or 'deploying'}, {running}/{desired} tasks running"
    runs = short(service.get("taskDefinition", ""))
    if runs != short(task_definition):
        return False, f"service moved to {runs} (circuit breaker?)"
    if state == "FAILED":
        return False, f"rollout failed: {primary.get('rolloutStateReason', '')}"
    others = [d for d in service.get("deployments", []) if d.get("status") != "PRIMARY"]
    done = (state == "COMPLETED" or (not state and running == desired)) and not others
    return (True if done else None), status


def unchanged(running: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether the running revision (DescribeTaskDefinition) already is ``wanted`` (RegisterTaskDefinition
    arguments): nothing to register."""
    return bool(_normal({k: running.get(k) for k in REGISTER_KEYS}) == _normal(wanted))


def backend_images(definition: dict[str, Any], repository_url: str) -> list[str]:
    """Names of the containers of ``definition`` that run an image of ``repository_url``."""
    # ECS requires an image for every container: DescribeTaskDefinition always returns one.
    return [c["name"] for c in definition["containerDefinitions"] if image_repository(c["image"]) == repository_url]


def pinned_to_digest(definition: dict[str, Any], repository_url: str) -> bool:
    """Whether every container of ``definition`` running an image of ``repository_url`` runs it by digest
    (a revision `deploy backend` registered; Terraform's own run a tag)."""
    names = set(backend_images(definition, repository_url))
    return bool(names) and all(
        "@sha256:" in c["image"] for c in definition["containerDefinitions"] if c["name"] in names
    )


def rollback_candidates(arns: list[str], current: str) -> list[str]:
    """The revisions of ``current``'s family in ``arns`` older than ``current`` (``family:N``), newest first,
    at most :data:`ROLLBACK_SEARCH` of them."""
    family, _, revision = current.rpartition(":")
    earlier = [a for a in arns if short(a).rpartition(":")[0] == family and revision_number(a) < int(revision)]
    return sorted(earlier, key=revision_number, reverse=True)[:ROLLBACK_SEARCH]


@dataclass
class Backend:
    env: str
    targets: discovery.Targets
    report: Report
    timing: Timing

    def __post_init__(self) -> None:
        self.ecs = client("ecs", self.targets.region)
        self.registry = images.Registry(self.targets.region)

    @property
    def cluster(self) -> str:
        return self.targets["ecs/cluster"]

    @property
    def service(self) -> str:
        return self.targets["ecs/service"]

    @property
    def repository_url(self) -> str:
        return self.targets["deployment/ecrRepository"]

    def current(self) -> dict[str, Any]:
        response = aws_call(
            "ecs DescribeServices", lambda: self.ecs.describe_services(cluster=self.cluster, services=[self.service])
        )
        services = [s for s in response["services"] if s.get("status") != "INACTIVE"]  # always in the answer
        if not services:
            raise OpsError(f"service {self.service} not found in cluster {self.cluster}")
        service: dict[str, Any] = services[0]
        return service

    def describe(self, task_definition: str) -> dict[str, Any]:
        definition: dict[str, Any] = aws_call(
            f"ecs DescribeTaskDefinition {short(task_definition)}",
            lambda: self.ecs.describe_task_definition(taskDefinition=task_definition),
        )["taskDefinition"]
        return definition

    def template(self) -> dict[str, Any]:
        """Terraform's latest task definition of the backend (the platform stack's own revision)."""
        definition = self.describe(self.targets["ecs/taskDefinition"])
        if definition.get("status") == "INACTIVE":
            raise OpsError(
                f"Terraform's task definition {short(definition['taskDefinitionArn'])} is deregistered: apply the "
                f"platform stack of {self.env} (it registers a new one and updates /viberglass/{self.env}/"
                "ecs/taskDefinition)"
            )
        return definition

    def backend_containers(self, definition: dict[str, Any]) -> list[str]:
        """Names of the containers running an image of the backend repository (backend and init container)."""
        names = backend_images(definition, self.repository_url)
        container = self.targets["ecs/containerName"]
        if container not in names:
            raise OpsError(
                f"task definition {short(definition['taskDefinitionArn'])} has no container {container!r} running "
                f"{self.repository_url} (its containers: {[c['name'] for c in definition['containerDefinitions']]})"
            )
        return names

    def pinned(self, image: str) -> str:
        """``<repository>@sha256:...`` for a tag (a short commit SHA resolved to its one full tag),
        ``<repository>:<tag>`` or ``<repository>@sha256:...``; the image must exist in ECR."""
        reference = image if "/" in image else f"{self.repository_url}:{image}"
        repository_url = image_repository(reference)
        if repository_url != self.repository_url:
            raise InputError(f"--image {image!r}: the backend runs images of {self.repository_url} only")
        _, name = images.split(repository_url)
        if "@" in reference:
            digest = reference.split("@", 1)[1]
            remote = self.registry.find(name, digest=digest)
            shown = digest
        else:
            tag = reference.rsplit(":", 1)[1]
            if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", tag):
                raise InputError(f"--image {image!r}: give a tag, <repository>:<tag> or <repository>@sha256:...")
            tag = self.registry.commit_tag(name, tag)
            remote = self.registry.find(name, tag=tag)
            shown = f"{repository_url}:{tag}"
        if remote is None:
            raise OpsError(f"{shown} is not in {repository_url} (ImageNotFoundException): push it first")
        self.report.info(f"image {shown} is {remote.digest}")
        return f"{repository_url}@{remote.digest}"

    def revision_for(self, template: dict[str, Any], image: str) -> dict[str, Any]:
        """RegisterTaskDefinition arguments: ``template`` with ``image`` in every backend container."""
        containers = set(self.backend_containers(template))
        wanted = {k: template[k] for k in REGISTER_KEYS if template.get(k) not in (None, [], {})}
        wanted["containerDefinitions"] = [
            {**c, "image": image} if c["name"] in containers else c for c in template["containerDefinitions"]
        ]
        return wanted

    def register(self, wanted: dict[str, Any], template: str) -> str:
        registered = aws_call("ecs RegisterTaskDefinition", lambda: self.ecs.register_task_definition(**wanted))
        arn: str = registered["taskDefinition"]["taskDefinitionArn"]
        self.report.info(f"registered {short(arn)} (Terraform's {short(template)} with the new image)")
        return arn

    def point_at(self, task_definition: str) -> None:
        aws_call(
            "ecs UpdateService",
            lambda: self.ecs.update_service(cluster=self.cluster, service=self.service, taskDefinition=task_definition),
        )
        self.report.info(f"service {self.service} now runs {short(task_definition)}")

    def steady(self, task_definition: str) -> tuple[bool, str]:
        return wait_until(
            self.report, "waiting for a steady state", lambda: rollout(self.current(), task_definition), self.timing
        )

    def health_url(self) -> str:
        return self.targets["frontend/apiUrl"].rstrip("/") + "/health"

    def running_image(self, running: dict[str, Any]) -> str | None:
        """The digest-pinned image the backend container runs now; None when the service still runs
        Terraform's placeholder tag and that tag is not in ECR (no image was ever pushed)."""
        container = self.targets["ecs/containerName"]
        image = next((str(c["image"]) for c in running["containerDefinitions"] if c["name"] == container), "")
        if image_repository(image) != self.repository_url:
            raise OpsError(
                f"{short(running['taskDefinitionArn'])} runs {image!r}, not an image of {self.repository_url}"
            )
        if "@" not in image:
            _, name = images.split(self.repository_url)
            remote = self.registry.find(name, tag=image.rsplit(":", 1)[1])
            return f"{self.repository_url}@{remote.digest}" if remote else None
        return image


def deploy(
    env: str, image: str | None, *, timing: Timing, report: Report | None = None, running_image: bool = False
) -> str:
    """Deploy ``image`` (or, with ``running_image``, the image running now) on Terraform's latest task
    definition; the revision the service runs afterwards."""
    report = report or Report()
    report.section(f"Deploying the backend of {env}")
    backend = Backend(env, discovery.read(env, *TARGETS), report, timing)
    previous: str = backend.current()["taskDefinition"]
    running = backend.describe(previous)
    template = backend.template()
    report.info(f"running now: {short(previous)}; Terraform's definition: {short(template['taskDefinitionArn'])}")
    if running_image:
        found = backend.running_image(running)
        if found is None:
            report.section(
                f"Nothing to redeploy: {short(previous)} runs Terraform's placeholder tag, which is not in "
                f"{backend.repository_url} yet (the first `deploy backend --image` brings an image)"
            )
            return previous
        pinned = found
        report.info(f"redeploying the running image {pinned}")
    else:
        assert image is not None
        pinned = backend.pinned(image)
    wanted = backend.revision_for(template, pinned)
    if unchanged(running, wanted):
        report.info(f"{short(previous)} is already Terraform's definition with {pinned}: nothing to register")
        new = previous
    else:
        new = backend.register(wanted, template["taskDefinitionArn"])
        backend.point_at(new)
    ok, why = backend.steady(new)
    if ok and not smoke(report, backend.health_url(), timing):
        ok, why = False, f"{backend.health_url()} did not answer 2xx"
    if ok:
        report.section(f"Deployed {short(new)} ({pinned})")
        return new
    if new == previous:
        raise OpsError(f"{short(new)} is not healthy ({why}); nothing was changed")
    report.section(f"Deploy failed: {why}; rolling back to {short(previous)}")
    backend.point_at(previous)
    back, status = backend.steady(previous)
    raise OpsError(rolled_back(new, why, previous, steady=back, status=status))


def rolled_back(new: str, why: str, previous: str, *, steady: bool, status: str) -> str:
    """The error of a deploy of ``new`` that failed (``why``) and was rolled back to ``previous``."""
    message = f"deploy of {short(new)} failed ({why}); rolled back to {short(previous)}"
    return message if steady else f"{message}, but the rollback is not steady yet: {status}"


def parse_revision(text: str, family: str) -> str:
    """``family:N`` for what people type: ``N``, ``family:N`` or a task-definition ARN."""
    match = re.fullmatch(r"(?:arn:[^:]+:ecs:[^:]+:\d+:task-definition/)?(?:([A-Za-z0-9_-]+):)?([0-9]+)", text)
    if not match or int(match.group(2)) < 1:
        raise InputError(
            f"--to-revision {text!r}: give a revision number of {family} (e.g. 41), {family}:41 or its ARN"
        )
    if match.group(1) and match.group(1) != family:
        raise InputError(f"--to-revision {text!r}: the backend's task family is {family}, not {match.group(1)}")
    return f"{family}:{int(match.group(2))}"


def rollback(
    env: str,
    *,
    to_revision: str | None = None,
    to_image: str | None = None,
    timing: Timing,
    report: Report | None = None,
) -> str:
    """Put the service back on an earlier revision (default: the previous digest-pinned one), or deploy an
    earlier image (``to_image``: a tag or a commit SHA, short or full) on Terraform's definition."""
    report = report or Report()
    if to_image is not None:
        report.section(f"Rolling the backend of {env} back to image {to_image}")
        return deploy(env, to_image, timing=timing, report=report)
    targets = discovery.read(env, *TARGETS)
    backend = Backend(env, targets, report, timing)
    current = short(backend.current()["taskDefinition"])
    family = current.rpartition(":")[0]
    if to_revision is None:
        arns = aws_call(
            "ecs ListTaskDefinitions",
            lambda: backend.ecs.list_task_definitions(familyPrefix=family, status="ACTIVE", sort="DESC"),
        )["taskDefinitionArns"]
        target = next(
            (
                short(a)
                for a in rollback_candidates(arns, current)
                if pinned_to_digest(backend.describe(a), backend.repository_url)
            ),
            None,
        )
        if target is None:
            raise OpsError(
                f"{current} has no earlier active revision that `deploy backend` registered (pinned to an image "
                f"digest); give --to-revision N or --to-image <commit sha>"
            )
    else:
        target = parse_revision(to_revision, family)
        if target == current:
            raise InputError(f"the service already runs {current}")
        definition = backend.describe(target)
        if definition.get("status") == "INACTIVE":
            raise InputError(
                f"{target} is deregistered (INACTIVE): pick an active revision (`aws ecs list-task-definitions "
                f"--family-prefix {family}`), or roll back by image with --to-image <commit sha>"
            )
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
