"""workers: everything a clanker (coding-agent worker) runs with, as Lambda function or Fargate task."""

from __future__ import annotations

from config.schema import EnvironmentConfig
from core.iam import Statement, service_trust
from core.naming import Naming
from imports.cdktf import Construct, TerraformOutput
from modules.ecr import WorkerRegistry
from modules.ecs import Cluster, Container, FargateTask
from modules.grants import bucket_arn, logs_write, s3_read, s3_write, ssm_read
from modules.iam import Role
from stacks.base import BaseStack
from stacks.common import ViberglassStack

WORKER_SECRET_PATHS = ("/viberator/secrets", "/viberator/tenants")
CONVERSATION_PREFIX = "conversation-state/"
# The two images that get a baseline Fargate task definition (SPEC §4 workers).
ECS_TASK_IMAGES = ("multi-agent", "claude-code-ecs")


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
            images={key: image.repository for key, image in workers.images.items()},
            owns=workers.owns_repositories,
            account=account,
            key=base.key,
            tag_prefixes=workers.image_environments,
            keep=workers.keep_images_per_environment,
            protect=cfg.production,
        )
        self.cluster = Cluster(
            self, "cluster", name=naming.name("workers"), container_insights=workers.container_insights
        )

        uploads = bucket_arn(account, uploads_bucket_name(cfg))
        shared = [
            ssm_read(account, "ReadWorkerSecrets", WORKER_SECRET_PATHS),
            base.key.use_statement("DecryptWithEnvironmentKey"),
            *s3_read("ReadUploads", uploads),
            s3_write("WriteConversationState", uploads, CONVERSATION_PREFIX),
        ]
        self.execution_role = Role(
            self,
            "execution-role",
            name=naming.name("worker-execution"),
            description="ECS agent for clanker tasks: pull images, write logs, inject secrets",
            trust=service_trust("ecs-tasks.amazonaws.com", account.id),
            statements=[
                *self.registry.pull_statements(),
                logs_write("WriteWorkerLogs", [base.ecs_worker_logs.arn]),
                ssm_read(account, "InjectWorkerSecrets", WORKER_SECRET_PATHS),
                base.key.use_statement("DecryptSecrets", via=("ssm",)),
            ],
        )
        self.task_role = Role(
            self,
            "task-role",
            name=naming.name("worker-task"),
            description="What a clanker Fargate task may do",
            trust=service_trust("ecs-tasks.amazonaws.com", account.id),
            statements=[*shared, logs_write("WriteWorkerLogs", [base.ecs_worker_logs.arn])],
        )
        subnets = base.network.workload_subnets
        self.lambda_role = Role(
            self,
            "lambda-role",
            name=naming.name("worker-lambda"),
            description="Execution role of clanker Lambda functions",
            trust=service_trust("lambda.amazonaws.com", account.id),
            statements=[
                *shared,
                logs_write(
                    "WriteLambdaLogs",
                    [account.arn("logs", f"log-group:/aws/lambda/{naming.prefix}-*")],
                ),
                *self._eni_statements(subnets=[s.arn for s in subnets], security_group=base.worker_sg.arn),
            ],
        )

        self.tasks = {
            image: FargateTask(
                self,
                f"task-{image}",
                family=naming.name(f"worker-{image}"),
                cpu=workers.cpu,
                memory=workers.memory,
                container=Container(
                    name="worker",
                    image=f"{self.registry.uri(image)}:{cfg.name}-latest",
                    environment={"VIBERGLASS_ENV": cfg.name, "AWS_REGION": cfg.aws.region},
                    # Agents write only to their workspace and temp dirs.
                    scratch=("/workspace", "/tmp"),  # noqa: S108 (a container path, not the host's)
                ),
                execution_role=self.execution_role,
                task_role=self.task_role,
                log_group=base.ecs_worker_logs,
                region=cfg.aws.region,
            )
            for image in ECS_TASK_IMAGES
            if image in self.registry.names
        }
        self.subnet_ids = [s.id for s in subnets]
        self.security_group_id = base.worker_sg.id
        self.assign_public_ip = base.network.tasks_need_public_ip
        self.ecs_log_group_name = base.ecs_worker_logs.name
        self._outputs()

    def _eni_statements(self, *, subnets: list[str], security_group: str) -> list[Statement]:
        """Lambda attaches functions to the VPC through ENIs it creates with the execution role."""
        account = self.account
        return [
            Statement(
                sid="ManageFunctionEnis",
                actions=[
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:CreateNetworkInterface",
                    "ec2:DeleteNetworkInterface",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                resources=[account.arn("ec2", "network-interface/*"), *subnets, security_group],
            ),
            Statement(
                sid="DescribeEnis",
                actions=["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
                resources=["*"],
                wildcard_reason="EC2 Describe* actions support no resource-level permissions",
            ),
        ]

    @property
    def ecs_image(self) -> str:
        """The image the backend starts for ECS clankers (multi-agent), tagged for this environment."""
        return f"{self.registry.uri('multi-agent')}:{self.config.name}-latest"

    @property
    def lambda_image(self) -> str:
        return f"{self.registry.uri('lambda')}:{self.config.name}-latest"

    def _outputs(self) -> None:
        values: dict[str, object] = {
            "execution_role_arn": self.execution_role.arn,
            "task_role_arn": self.task_role.arn,
            "lambda_role_arn": self.lambda_role.arn,
            "registry_host": self.registry.host,
            "cluster_arn": self.cluster.arn,
            "cluster_name": self.cluster.name,
            "subnet_ids": self.subnet_ids,
            "security_group_id": self.security_group_id,
            "assign_public_ip": self.assign_public_ip,
            "ecs_image_uri": self.ecs_image,
            "lambda_image_uri": self.lambda_image,
        }
        values.update({f"image_uri_{k.replace('-', '_')}": self.registry.uri(k) for k in sorted(self.registry.names)})
        values.update({f"task_definition_{k.replace('-', '_')}": t.arn for k, t in self.tasks.items()})
        for name, value in values.items():
            TerraformOutput(self, name, value=value)
