"""workers: everything a clanker (coding-agent worker) runs with, as Lambda function or Fargate task."""

from __future__ import annotations

from config.schema import EnvironmentConfig
from core import app_contract as app
from core import deploy_roles
from core.iam import from_permissions, github_trust, resolve, service_trust
from core.naming import Naming
from imports.cdktf import Construct, TerraformOutput
from modules.ecr import WorkerRegistry
from modules.ecs import Cluster, Container, FargateTask
from modules.iam import Role
from stacks.base import BaseStack
from stacks.common import ViberglassStack, github_provider_arn

# Baseline Fargate task definitions (an operator can point a clanker's "prebuilt" ECS strategy at one):
# the backend's default image and the application's ECS worker image.
BASELINE_TASK_IMAGES = (app.DEFAULT_ECS_IMAGE_VARIANT, "ecs")


def uploads_bucket_name(config: EnvironmentConfig) -> str:
    """The uploads bucket the platform stack creates; workers address it by name (platform depends on
    workers, so a reference would be a cycle). A test checks both stacks agree."""
    return Naming(config.name).env_first("uploads")


class WorkersStack(ViberglassStack):
    def __init__(self, scope: Construct, stack_name: str, *, config: EnvironmentConfig, base: BaseStack) -> None:
        super().__init__(scope, stack_name, config=config)
        naming, cfg, account = self.naming, config, self.account
        workers = cfg.workers

        self.registry = WorkerRegistry(
            self,
            "registry",
            images=app.WORKER_IMAGES,
            prefix=cfg.worker_image_prefix,
            account=account,
            key=base.key,
            keep=workers.keep_images_per_environment,
            protect=cfg.production,
        )
        self.cluster = Cluster(
            self, "cluster", name=naming.name("workers"), container_insights=workers.container_insights
        )
        self.uploads_bucket = uploads_bucket_name(cfg)
        values: dict[str, str | list[str]] = {
            "partition": account.partition,
            "region": account.region,
            "account": account.id,
            "uploads": self.uploads_bucket,
            "key_arn": base.key.arn,
            "worker_repository_arns": self.registry.arns,
            "ecs_worker_log_group_arn": base.ecs_worker_logs.arn,
        }
        self.registry.allow_lambda_pulls(
            app.LAMBDA_IMAGE_VARIANT, source_arn=resolve(app.LAMBDA_PULL_SOURCE_ARN, values)
        )
        self.execution_role = Role(
            self,
            "execution-role",
            name=naming.name("worker-execution"),
            description="ECS agent for clanker tasks: pull the worker images, write the worker log group",
            trust=service_trust("ecs-tasks.amazonaws.com", account.id),
            statements=from_permissions(app.WORKER_EXECUTION_PERMISSIONS, values),
            boundary=self.boundary_arn,
        )
        self.task_role = Role(
            self,
            "task-role",
            name=naming.name("worker-task"),
            description="What a clanker Fargate task may do",
            trust=service_trust("ecs-tasks.amazonaws.com", account.id),
            statements=from_permissions(app.WORKER_TASK_PERMISSIONS, values),
            boundary=self.boundary_arn,
        )
        self.lambda_role = Role(
            self,
            "lambda-role",
            name=naming.name("worker-lambda"),
            description="Execution role of clanker Lambda functions (viberator-*, created by the backend)",
            trust=service_trust("lambda.amazonaws.com", account.id),
            statements=from_permissions(app.WORKER_LAMBDA_PERMISSIONS, values),
            boundary=self.boundary_arn,
        )

        self.deploy_role = Role(
            self,
            "workers-deploy-role",
            name=naming.name("workers-deploy"),
            description=f"GitHub Actions ({cfg.github.app_repository}, {cfg.name}): push the worker images",
            trust=github_trust(github_provider_arn(account), deploy_roles.subject(cfg, "workers-deploy")),
            statements=from_permissions(deploy_roles.WORKERS_DEPLOY_PERMISSIONS, values),
            boundary=self.boundary_arn,
        )

        self.tasks = {
            variant: FargateTask(
                self,
                f"task-{variant}",
                family=naming.name(f"worker-{variant}"),
                cpu=workers.cpu,
                memory=workers.memory,
                container=Container(
                    name=app.WORKER_CONTAINER_NAME,
                    image=f"{self.registry.uri(variant)}:{app.RUN_TAG}",
                    user=app.WORKER_USER,
                    environment={
                        "AWS_REGION": cfg.aws.region,
                        "AWS_S3_BUCKET": self.uploads_bucket,
                        "SECRETS_SSM_PREFIX": app.SECRETS_SSM_PREFIX,
                    },
                    writable=app.WORKER_WRITABLE_PATHS,
                    stream_prefix=app.WORKER_LOG_STREAM_PREFIX,
                ),
                execution_role=self.execution_role,
                task_role=self.task_role,
                log_group=base.ecs_worker_logs,
                region=cfg.aws.region,
            )
            for variant in BASELINE_TASK_IMAGES
        }
        self.subnet_ids = [s.id for s in base.network.workload_subnets]
        self.security_group_id = base.worker_sg.id
        self.assign_public_ip = base.network.tasks_need_public_ip
        self.ecs_log_group_name = base.ecs_worker_logs.name
        self._outputs()

    @property
    def ecs_image(self) -> str:
        """The image the backend's ECS preflight check needs (it then runs its own choice, same tag)."""
        return f"{self.registry.uri(app.DEFAULT_ECS_IMAGE_VARIANT)}:{app.RUN_TAG}"

    @property
    def lambda_image(self) -> str:
        return f"{self.registry.uri(app.LAMBDA_IMAGE_VARIANT)}:{app.RUN_TAG}"

    def _outputs(self) -> None:
        values: dict[str, object] = {
            "execution_role_arn": self.execution_role.arn,
            "task_role_arn": self.task_role.arn,
            "lambda_role_arn": self.lambda_role.arn,
            "workers_deploy_role_arn": self.deploy_role.arn,
            "registry_host": self.registry.host,
            "cluster_arn": self.cluster.arn,
            "cluster_name": self.cluster.name,
            "subnet_ids": self.subnet_ids,
            "security_group_id": self.security_group_id,
            "assign_public_ip": self.assign_public_ip,
            "ecs_image_uri": self.ecs_image,
            "lambda_image_uri": self.lambda_image,
        }
        values["image_prefix"] = self.registry.prefix
        values.update(
            {f"image_uri_{k.replace('-', '_')}": self.registry.uri(k) for k in sorted(self.registry.repositories)}
        )
        values.update({f"task_definition_{k.replace('-', '_')}": t.arn for k, t in self.tasks.items()})
        for name, value in values.items():
            TerraformOutput(self, name, value=value)
