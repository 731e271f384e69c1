"""platform: the always-on half of Viberglass (backend, database, uploads, ALB, frontend) and the
parameters deploy workflows use to find it."""

from __future__ import annotations

from config.schema import EnvironmentConfig
from core import discovery
from core.iam import GITHUB_OIDC_AUDIENCE, GITHUB_OIDC_HOST, Statement, policy_document, service_trust
from imports.aws import DataAwsElbServiceAccount
from imports.cdktf import Construct, TerraformOutput
from imports.random import RandomProvider
from modules import grants
from modules.alarms import Alarms
from modules.database import Database
from modules.ecr import Repository, pull_statements
from modules.ecs import Cluster, Container, FargateTask
from modules.frontend import Frontend
from modules.iam import Role
from modules.load_balancer import LoadBalancer, log_delivery_statements
from modules.parameters import DiscoveryParameter, SecretParameter
from modules.security_groups import Firewall
from modules.service import WebService
from modules.storage import PrivateBucket
from stacks.base import BaseStack
from stacks.common import ViberglassStack, aws_provider
from stacks.workers import WorkersStack, uploads_bucket_name

CONTAINER_NAME = "backend"
# Operator-set secrets of the backend: variable -> parameter name under /viberglass/<env>/backend/.
BACKEND_SECRETS = {
    "WEBHOOK_SECRET_ENCRYPTION_KEY": "webhookSecretEncryptionKey",
    "SLACK_SIGNING_SECRET": "slackSigningSecret",
    "SLACK_BOT_TOKEN": "slackBotToken",
}


class PlatformStack(ViberglassStack):
    def __init__(
        self,
        scope: Construct,
        stack_name: str,
        *,
        config: EnvironmentConfig,
        base: BaseStack,
        workers: WorkersStack,
    ) -> None:
        super().__init__(scope, stack_name, config=config)
        naming, cfg, account = self.naming, config, self.account
        RandomProvider(self, "random")
        protect = cfg.production

        self.repository = Repository(
            self,
            "backend-repository",
            name=naming.env_first("backend"),
            key=base.key,
            tag_prefixes=(),
            keep=cfg.workers.keep_images_per_environment,
            protect=protect,
        )
        self.uploads = PrivateBucket(
            self,
            "uploads",
            name=uploads_bucket_name(cfg),
            key=base.key,
            versioning=cfg.uploads.versioning,
            noncurrent_version_days=cfg.uploads.noncurrent_version_days,
            abort_multipart_days=cfg.uploads.abort_multipart_days,
            protect=protect,
        )
        db = cfg.database
        self.database = Database(
            self,
            "database",
            naming=naming,
            subnets=list(base.network.private_subnets.values()),
            firewall=base.rds_sg,
            key=base.key,
            account=account,
            engine_version=db.engine_version,
            instance_class=db.instance_class,
            allocated_storage=db.allocated_storage,
            max_allocated_storage=db.max_allocated_storage,
            multi_az=db.multi_az,
            backup_retention_days=db.backup_retention_days,
            deletion_protection=db.deletion_protection,
            final_snapshot=db.final_snapshot,
            database_name=db.name,
            username=db.username,
            performance_insights_retention_days=db.performance_insights_retention_days,
        )
        self.backend_secrets = {
            variable: SecretParameter(
                self,
                f"secret-{name}",
                name=naming.parameter("backend", name),
                key=base.key,
                description=f"{variable}; set with `python -m ops secrets set {name} --env {cfg.name}`",
            )
            for variable, name in BACKEND_SECRETS.items()
        }

        alb_logs_name = naming.env_first("alb-logs")
        elb_account = DataAwsElbServiceAccount(self, "elb-account")
        self.alb_logs = PrivateBucket(
            self,
            "alb-logs",
            name=alb_logs_name,
            key=None,  # ALB access logs support SSE-S3 only
            noncurrent_version_days=7,
            expire_days=cfg.logs.retention_days,
            writers=log_delivery_statements(account, grants.bucket_arn(account, alb_logs_name), elb_account.arn),
            protect=protect,
        )

        # Load balancer: its own group, open to the internet on its listener ports only, talking only to
        # the backend group on the container port.
        port = cfg.backend.container_port
        self.alb_sg = Firewall(
            self,
            "alb-sg",
            name=naming.name("alb-sg"),
            description="Viberglass public load balancer",
            vpc=base.network.vpc,
        )
        self.load_balancer = LoadBalancer(
            self,
            "load-balancer",
            naming=naming,
            vpc=base.network.vpc,
            subnets=list(base.network.public_subnets.values()),
            firewall=self.alb_sg,
            target_port=port,
            health_check_path=cfg.backend.health_check_path,
            domain=cfg.domains.api_domain,
            zone_id=cfg.domains.route53_zone_id,
            deletion_protection=protect,
            log_bucket=self.alb_logs,
        )
        for listener_port in self.load_balancer.ports:
            self.alb_sg.allow_from_cidr("0.0.0.0/0", listener_port, "public listener", rule_id="internet")
        self.alb_sg.allow_to(base.backend_sg, port, "backend tasks")
        base.backend_sg.allow_from(self.alb_sg, port, "from the load balancer", scope=self)

        self.frontend = Frontend(
            self,
            "frontend",
            name=naming.name("frontend"),
            repository=cfg.frontend.repository,
            branch=cfg.frontend.branch,
            app_root=cfg.frontend.app_root,
            token_parameter=cfg.frontend.github_token_parameter,
            api_url=self.load_balancer.url,
            production=cfg.production,
        )
        if cfg.domains.app_domain:
            us_east_1 = aws_provider(self, "aws-us-east-1", cfg, region="us-east-1", alias="us_east_1")
            self.frontend.add_domain(
                domain=cfg.domains.app_domain, zone_id=cfg.domains.route53_zone_id, us_east_1=us_east_1
            )

        self.cluster = Cluster(self, "cluster", name=naming.name("backend"))
        self.execution_role, self.task_role = self._backend_roles(base, workers)
        self.task = FargateTask(
            self,
            "task",
            family=naming.name("backend"),
            cpu=cfg.backend.cpu,
            memory=cfg.backend.memory,
            container=Container(
                name=CONTAINER_NAME,
                image=f"{self.repository.url}:{cfg.backend.image_tag}",
                port=port,
                health_check_path=cfg.backend.health_check_path,
                environment=self.backend_environment(workers),
                secrets=self.backend_secret_refs(),
                scratch=("/tmp",),  # noqa: S108 (a container path)
            ),
            execution_role=self.execution_role,
            task_role=self.task_role,
            log_group=base.backend_logs,
            region=cfg.aws.region,
        )
        self.service = WebService(
            self,
            "service",
            name=naming.name("backend"),
            cluster=self.cluster,
            task=self.task,
            subnets=base.network.workload_subnets,
            firewall=base.backend_sg,
            assign_public_ip=base.network.tasks_need_public_ip,
            load_balancer=self.load_balancer,
            desired_count=cfg.backend.desired_count,
            min_count=cfg.backend.min_count,
            max_count=cfg.backend.max_count,
        )
        self.alarms = (
            Alarms(
                self,
                "alarms",
                naming=naming,
                key=base.key,
                cluster=self.cluster,
                service=self.service,
                load_balancer=self.load_balancer,
                database=self.database,
                allocated_storage_gib=cfg.database.allocated_storage,
            )
            if cfg.alarms.enabled
            else None
        )
        self.deploy_role = self._frontend_deploy_role()
        self.discovery = self._discovery_parameters()
        self._outputs()

    # -- backend -----------------------------------------------------------------------------------

    def backend_environment(self, workers: WorkersStack) -> dict[str, str]:
        cfg = self.config
        return {
            "NODE_ENV": "production",
            "PORT": str(cfg.backend.container_port),
            "AWS_REGION": cfg.aws.region,
            "DB_SSL": "true",
            "RUN_MIGRATIONS_ON_STARTUP": "true",
            "ALLOWED_ORIGINS": self.frontend.url,
            "PLATFORM_API_URL": self.load_balancer.url,
            "PLATFORM_FRONTEND_URL": self.frontend.url,
            "AWS_S3_BUCKET": self.uploads.name,
            "TICKET_MEDIA_S3_PREFIX": cfg.uploads.ticket_media_prefix,
            "VIBERATOR_ECS_EXECUTION_ROLE_ARN": workers.execution_role.arn,
            "VIBERATOR_ECS_TASK_ROLE_ARN": workers.task_role.arn,
            "VIBERATOR_ECS_CONTAINER_IMAGE": workers.ecs_image,
            "VIBERATOR_WORKER_REGISTRY": workers.registry.host,
            "VIBERATOR_LAMBDA_IMAGE_URI": workers.lambda_image,
            "VIBERATOR_LAMBDA_ROLE_ARN": workers.lambda_role.arn,
            "VIBERATOR_ECS_CLUSTER_ARN": workers.cluster.arn,
            # A Python join of the references, not Fn.join: a function call would put quotes inside the
            # container-definitions JSON string.
            "VIBERATOR_ECS_SUBNET_IDS": ",".join(workers.subnet_ids),
            "VIBERATOR_ECS_SECURITY_GROUP_IDS": workers.security_group_id,
            "VIBERATOR_ECS_LOG_GROUP": workers.ecs_log_group_name,
        }

    def backend_secret_refs(self) -> dict[str, str]:
        refs = {"DATABASE_URL": self.database.url_parameter.arn}
        refs.update({variable: parameter.arn for variable, parameter in self.backend_secrets.items()})
        return refs

    def _backend_roles(self, base: BaseStack, workers: WorkersStack) -> tuple[Role, Role]:
        naming, account, cfg = self.naming, self.account, self.config
        secret_arns = [self.database.url_parameter.arn, *(p.arn for p in self.backend_secrets.values())]
        execution = Role(
            self,
            "execution-role",
            name=naming.name("backend-execution"),
            description="ECS agent for the backend: pull its image, write its logs, inject its secrets",
            trust=service_trust("ecs-tasks.amazonaws.com", account.id),
            statements=[
                *pull_statements("PullBackendImage", [self.repository.arn]),
                grants.logs_write("WriteBackendLogs", [base.backend_logs.arn]),
                Statement(sid="InjectSecrets", actions=["ssm:GetParameters"], resources=secret_arns),
                base.key.use_statement("DecryptSecrets", via=("ssm",)),
            ],
        )
        workers_cluster = workers.cluster.arn
        worker_families = account.arn("ecs", f"task-definition/{naming.prefix}-worker-*")
        prefix = cfg.workers.lambda_name_prefix
        task = Role(
            self,
            "task-role",
            name=naming.name("backend-task"),
            description="What the Viberglass backend may do",
            trust=service_trust("ecs-tasks.amazonaws.com", account.id),
            statements=[
                *self.uploads.read_write_statements("Uploads"),
                grants.ssm_read(account, "ReadOwnParameters", [naming.parameter()]),
                grants.ssm_read(account, "ReadWorkerSecrets", ["/viberator/secrets"]),
                grants.ssm_write(account, "WriteWorkerSecrets", ["/viberator/secrets"]),
                Statement(
                    sid="UseEnvironmentKey",
                    actions=["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
                    resources=[base.key.arn],
                ),
                Statement(
                    sid="RunClankerTasks",
                    actions=["ecs:RunTask"],
                    resources=[worker_families],
                    conditions={"ArnEquals": {"ecs:cluster": workers_cluster}},
                ),
                Statement(
                    sid="ManageClankerTasks",
                    actions=["ecs:DescribeTasks", "ecs:StopTask"],
                    resources=[account.arn("ecs", f"task/{naming.name('workers')}/*")],
                ),
                Statement(
                    sid="ListClankerTasks",
                    actions=["ecs:ListTasks"],
                    resources=[account.arn("ecs", f"container-instance/{naming.name('workers')}/*")],
                    conditions={"ArnEquals": {"ecs:cluster": workers_cluster}},
                ),
                Statement(
                    sid="RegisterClankerTaskDefinitions",
                    actions=[
                        "ecs:DeregisterTaskDefinition",
                        "ecs:DescribeTaskDefinition",
                        "ecs:RegisterTaskDefinition",
                    ],
                    resources=["*"],
                    wildcard_reason="ECS task-definition registration/description has no resource-level permissions",
                ),
                Statement(
                    sid="TagClankerTasks",
                    actions=["ecs:TagResource"],
                    resources=[worker_families, account.arn("ecs", f"task/{naming.name('workers')}/*")],
                    conditions={"StringEquals": {"ecs:CreateAction": ["RunTask", "RegisterTaskDefinition"]}},
                ),
                Statement(
                    sid="ManageClankerFunctions",
                    actions=[
                        "lambda:CreateFunction",
                        "lambda:DeleteFunction",
                        "lambda:GetFunction",
                        "lambda:GetFunctionConfiguration",
                        "lambda:InvokeFunction",
                        "lambda:TagResource",
                        "lambda:UpdateFunctionCode",
                        "lambda:UpdateFunctionConfiguration",
                    ],
                    resources=[account.arn("lambda", f"function:{prefix}*")],
                ),
                Statement(
                    sid="PassWorkerRolesToEcs",
                    actions=["iam:PassRole"],
                    resources=[workers.execution_role.arn, workers.task_role.arn],
                    conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
                ),
                Statement(
                    sid="PassWorkerRoleToLambda",
                    actions=["iam:PassRole"],
                    resources=[workers.lambda_role.arn],
                    conditions={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
                ),
                Statement(
                    sid="EcsExecChannels",
                    actions=[
                        "ssmmessages:CreateControlChannel",
                        "ssmmessages:CreateDataChannel",
                        "ssmmessages:OpenControlChannel",
                        "ssmmessages:OpenDataChannel",
                    ],
                    resources=["*"],
                    wildcard_reason="ssmmessages channels support no resource-level permissions (ECS Exec)",
                ),
            ],
        )
        return execution, task

    # -- frontend deploys and discovery ------------------------------------------------------------------

    def _frontend_deploy_role(self) -> Role:
        """GitHub Actions (OIDC) role that may release this Amplify app and read its discovery values."""
        naming, account, cfg = self.naming, self.account, self.config
        repo = cfg.github.repository
        provider_arn = f"arn:{account.partition}:iam::{account.id}:oidc-provider/{GITHUB_OIDC_HOST}"
        trust = policy_document(
            [
                Statement(
                    sid="GitHubActions",
                    principals={"Federated": provider_arn},
                    actions=["sts:AssumeRoleWithWebIdentity"],
                    conditions={
                        "StringEquals": {
                            f"{GITHUB_OIDC_HOST}:aud": GITHUB_OIDC_AUDIENCE,
                            f"{GITHUB_OIDC_HOST}:sub": [
                                f"repo:{repo}:ref:refs/heads/{cfg.frontend.branch}",
                                f"repo:{repo}:environment:{cfg.name}",
                            ],
                        }
                    },
                )
            ]
        )
        app_arn = self.frontend.app.arn
        return Role(
            self,
            "frontend-deploy-role",
            name=naming.name("frontend-deploy"),
            description="GitHub Actions: release the Amplify frontend",
            trust=trust,
            statements=[
                Statement(
                    sid="ReleaseFrontend",
                    actions=[
                        "amplify:GetApp",
                        "amplify:GetBranch",
                        "amplify:GetJob",
                        "amplify:ListJobs",
                        "amplify:StartDeployment",
                        "amplify:StartJob",
                    ],
                    resources=[app_arn, f"{app_arn}/branches/*", f"{app_arn}/branches/*/jobs/*"],
                ),
                grants.ssm_read(
                    account,
                    "ReadDiscovery",
                    [naming.parameter("deployment"), naming.parameter("frontend"), naming.parameter("amplify")],
                ),
            ],
        )

    def _discovery_parameters(self) -> dict[str, DiscoveryParameter]:
        naming, cfg = self.naming, self.config
        values: dict[str, str] = {
            "deployment/region": cfg.aws.region,
            "deployment/ecrRepository": self.repository.url,
            "deployment/oidcRoleArn": self.deploy_role.arn,
            "ecs/cluster": self.cluster.name,
            "ecs/service": self.service.name,
            "ecs/taskFamily": self.task.family,
            "ecs/containerName": CONTAINER_NAME,
            "alb/dns": self.load_balancer.dns_name,
            "frontend/apiUrl": self.load_balancer.url,
            "amplify/appId": self.frontend.app.id,
            "amplify/branchName": self.frontend.branch.branch_name,
            "amplify/region": cfg.aws.region,
        }
        if self.alarms is not None:
            values[discovery.ALARM_TOPIC] = self.alarms.topic_arn
        assert set(values) - {discovery.ALARM_TOPIC} == set(discovery.PARAMETERS)
        return {
            path: DiscoveryParameter(
                self,
                f"discovery-{path.replace('/', '-')}",
                name=naming.parameter(*path.split("/")),
                value=value,
                description=discovery.PARAMETERS.get(path, "alarm notifications topic"),
            )
            for path, value in values.items()
        }

    def _outputs(self) -> None:
        values: dict[str, object] = {
            "api_url": self.load_balancer.url,
            "frontend_url": self.frontend.url,
            "frontend_branch_url": self.frontend.branch_url,
            "alb_dns_name": self.load_balancer.dns_name,
            "backend_repository_url": self.repository.url,
            "backend_cluster_name": self.cluster.name,
            "backend_service_name": self.service.name,
            "backend_task_family": self.task.family,
            "database_identifier": self.database.identifier,
            "uploads_bucket": self.uploads.name,
            "amplify_app_id": self.frontend.app.id,
            "frontend_deploy_role_arn": self.deploy_role.arn,
        }
        for name, value in values.items():
            TerraformOutput(self, name, value=value)
