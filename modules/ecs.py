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
    """One container of a task definition.

    :param name: container name.
    :param image: image URI with tag or digest.
    :param environment: plain settings (never secrets). Default: none.
    :param secrets: variable -> SSM parameter ARN, injected by the execution role. Default: none.
    :param port: container port to map. Default: none.
    :param health_check_path: an HTTP path the container answers on ``port``. Default: none.
    :param read_only_root: read-only root filesystem; ``scratch`` paths get writable volumes.
    :param scratch: writable paths (each an ephemeral task volume). Default: none.
    :param user: run as this ``uid:gid``. Default: ``1000:1000`` (non-root).
    """

    name: str
    image: str
    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    port: int | None = None
    health_check_path: str | None = None
    read_only_root: bool = True
    scratch: Sequence[str] = ()
    user: str = "1000:1000"


def _volume_name(path: str) -> str:
    return "scratch" + path.replace("/", "-")


def container_definitions(container: Container, *, log_group: str, region: str, stream_prefix: str) -> str:
    """The ``container_definitions`` JSON for one container."""
    definition: dict[str, object] = {
        "name": container.name,
        "image": container.image,
        "essential": True,
        "user": container.user,
        "readonlyRootFilesystem": container.read_only_root,
        "environment": [{"name": k, "value": v} for k, v in sorted(container.environment.items())],
        "secrets": [{"name": k, "valueFrom": v} for k, v in sorted(container.secrets.items())],
        "mountPoints": [
            {"sourceVolume": _volume_name(p), "containerPath": p, "readOnly": False} for p in container.scratch
        ],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": log_group,
                "awslogs-region": region,
                "awslogs-stream-prefix": stream_prefix,
            },
        },
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
            "startPeriod": 60,
        }
    return json.dumps([definition])


class FargateTask(Construct):
    """A Fargate task definition (awsvpc, Linux x86_64) with one container logging to ``log_group``.

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
            volume=[EcsTaskDefinitionVolume(name=_volume_name(p)) for p in container.scratch],
            container_definitions=container_definitions(
                container, log_group=log_group.name, region=region, stream_prefix=container.name
            ),
        )

    @property
    def arn(self) -> str:
        return self.definition.arn

    @property
    def family(self) -> str:
        return self.definition.family
