"""ECS clusters and Fargate task definitions."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from imports.aws import (
    EcsCluster,
    EcsClusterSetting,
    EcsTaskDefinition,
    EcsTaskDefinitionRuntimePlatform,
    EcsTaskDefinitionVolume,
)
from imports.cdktf import Construct
from modules.iam import Role
from modules.logs import LogGroup


class Cluster(Construct):
    """An ECS cluster.

    :param name: cluster name.
    :param container_insights: CloudWatch Container Insights. Default: ``True``.
    """

    def __init__(self, scope: Construct, id: str, *, name: str, container_insights: bool = True) -> None:
        super().__init__(scope, id)
        self.cluster = EcsCluster(
            self,
            "cluster",
            name=name,
            setting=[
                EcsClusterSetting(name="containerInsights", value="enabled" if container_insights else "disabled")
            ],
        )

    @property
    def arn(self) -> str:
        return self.cluster.arn

    @property
    def name(self) -> str:
        return self.cluster.name


@dataclass(frozen=True)
class Container:
    """One application container of a task definition.

    :param name: container name.
    :param image: image URI with tag or digest.
    :param user: the image's user (``uid``, ``uid:gid`` or a name the image knows); never root.
    :param environment: plain settings (never secrets). Default: none.
    :param secrets: variable -> ``valueFrom`` (SSM parameter ARN, or ``<secret arn>:<json key>::``),
        injected by the execution role. Default: none.
    :param port: container port to map. Default: none.
    :param health_check_path: an HTTP path the container answers on ``port``. Default: none.
    :param health_check_start_period: seconds of start-up during which failed checks do not count (ECS
        allows at most 300); match the service's load-balancer health-check grace. Default: 60.
    :param read_only_root: read-only root filesystem; ``writable`` paths get task volumes.
    :param writable: paths the application writes (each an ephemeral task volume). Default: none.
    :param stream_prefix: ``awslogs-stream-prefix``. Default: the container name.
    """

    name: str
    image: str
    user: str
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    port: int | None = None
    health_check_path: str | None = None
    health_check_start_period: int = 60
    read_only_root: bool = True
    writable: Sequence[str] = ()
    stream_prefix: str | None = None

    def __post_init__(self) -> None:
        if self.user.split(":")[0] in {"0", "root"}:
            raise ValueError(f"container {self.name}: runs as root")
        if not 0 <= self.health_check_start_period <= 300:
            raise ValueError(f"container {self.name}: health-check start period is 0-300 s in ECS")


INIT_CONTAINER = "prepare-volumes"
TMP = "/tmp"  # noqa: S108 (a container path)


def _volume_name(path: str) -> str:
    return "writable" + path.replace("/", "-")


def _mount(path: str) -> str:
    """Where the init container mounts the volume that the application sees at ``path``."""
    return "/mnt/volumes" + path


def init_script(container: Container) -> str:
    """The init container's shell script: give each writable volume what the image had at that path,
    then hand it to the application's user (``/tmp`` instead gets mode 1777, like any /tmp).

    Fargate creates task volumes empty, root-owned, mode 0755 (aws/containers-roadmap#938, #863), so a
    non-root application could neither write them nor find files its image keeps there.
    """
    steps = []
    for path in container.writable:
        target = _mount(path)
        steps.append(f"if [ -d {path} ]; then cp -a {path}/. {target}/; fi")
        steps.append(f"chmod 1777 {target}" if path == TMP else f"chown -R {container.user} {target}")
    return " && ".join(steps)


def _log(log_group: str, region: str, prefix: str) -> dict[str, object]:
    return {
        "logDriver": "awslogs",
        "options": {"awslogs-group": log_group, "awslogs-region": region, "awslogs-stream-prefix": prefix},
    }


def container_definitions(container: Container, *, log_group: str, region: str) -> str:
    """The ``container_definitions`` JSON: the application container first (tools that take the first
    container of a task definition find the application) and, when it has writable paths on a read-only
    root, a non-essential init container from the same image that prepares them (started first all the
    same: the application container ``dependsOn`` its success)."""
    volumes = container.writable
    definition: dict[str, object] = {
        "name": container.name,
        "image": container.image,
        "essential": True,
        "user": container.user,
        "readonlyRootFilesystem": container.read_only_root,
        "environment": [{"name": k, "value": v} for k, v in sorted(container.environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(container.secrets.items())],
        "mountPoints": [{"sourceVolume": _volume_name(p), "containerPath": p, "readOnly": False} for p in volumes],
        "logConfiguration": _log(log_group, region, container.stream_prefix or container.name),
    }
    if container.port is not None:
        definition["portMappings"] = [{"containerPort": container.port, "protocol": "tcp"}]
    if container.health_check_path is not None and container.port is not None:
        url = f"http://localhost:{container.port}{container.health_check_path}"
        definition["healthCheck"] = {
            # Node images ship node, not curl: fetch() keeps the check free of extra packages.
            "command": [
                "CMD",
                "node",
                "-e",
                f"fetch('{url}').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))",
            ],
            "interval": 30,
            "timeout": 5,
            "retries": 3,
            "startPeriod": container.health_check_start_period,
        }
    if not volumes:
        return json.dumps([definition])
    definition["dependsOn"] = [{"containerName": INIT_CONTAINER, "condition": "SUCCESS"}]
    init: dict[str, object] = {
        "name": INIT_CONTAINER,
        "image": container.image,
        "essential": False,
        # Root only here, only to chown/chmod the task's own volumes; the application never runs as root.
        "user": "0",
        "readonlyRootFilesystem": True,
        "entryPoint": ["sh", "-c"],
        "command": [init_script(container)],
        "environment": [],
        "secrets": [],
        "mountPoints": [
            {"sourceVolume": _volume_name(p), "containerPath": _mount(p), "readOnly": False} for p in volumes
        ],
        "logConfiguration": _log(log_group, region, INIT_CONTAINER),
    }
    return json.dumps([definition, init])


class FargateTask(Construct):
    """A Fargate task definition (awsvpc, Linux x86_64) with one application container logging to
    ``log_group`` (plus the init container that prepares its writable volumes, see
    :func:`container_definitions`; a deploy that swaps the image must swap it in both).

    :param family: task definition family.
    :param cpu: CPU units (a valid Fargate pair with ``memory``, checked in configuration).
    :param memory: MiB.
    :param container: the container.
    :param execution_role: pulls the image, writes logs, reads ``secrets``.
    :param task_role: what the application may do.
    :param log_group: where the container logs.
    :param region: the log group's region.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        family: str,
        cpu: int,
        memory: int,
        container: Container,
        execution_role: Role,
        task_role: Role,
        log_group: LogGroup,
        region: str,
    ) -> None:
        super().__init__(scope, id)
        self.container = container
        self.definition = EcsTaskDefinition(
            self,
            "definition",
            family=family,
            requires_compatibilities=["FARGATE"],
            network_mode="awsvpc",
            cpu=str(cpu),
            memory=str(memory),
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            volume=[EcsTaskDefinitionVolume(name=_volume_name(p)) for p in container.writable],
            container_definitions=container_definitions(container, log_group=log_group.name, region=region),
        )

    @property
    def arn(self) -> str:
        return self.definition.arn

    @property
    def family(self) -> str:
        return self.definition.family
