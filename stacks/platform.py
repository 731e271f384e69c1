"""platform: the always-on half of Viberglass (backend, database, uploads, ALB, frontend) and the
parameters deploy workflows use to find it."""

from __future__ import annotations

from config.schema import EnvironmentConfig
from core import app_contract as app
from core import deploy_roles, discovery
from core.iam import from_permissions, github_trust, service_trust
from imports.aws import DataAwsElbServiceAccount
from imports.cdktf import Construct, TerraformOutput
from modules import grants
from modules.alarms import Alarms
from modules.api_edge import ApiEdge
from modules.database import Database
from modules.ecr import Repository
from modules.ecs import Cluster, Container, FargateTask
from modules.frontend import Frontend
from modules.iam import Role
from modules.load_balancer import HTTP_PORT, LoadBalancer, log_delivery_statements
from modules.parameters import DiscoveryParameter
from modules.rotation import RestartOnRotation
from modules.security_groups import Firewall
from modules.service import WebService
from modules.storage import PrivateBucket
from stacks.base import BaseStack
from stacks.common import ViberglassStack, aws_provider, github_provider_arn
from stacks.workers import WorkersStack, uploads_bucket_name

CONTAINER_NAME = "backend"
# Earlier versions of this stack managed the backend's four SSM secrets (generated keys write-only, Slack's
# as placeholders). An environment applied with them keeps them: Terraform forgets them without deleting
# them (`removed`, destroy = false; Terraform >= 1.7), so the keys the application encrypted with survive
# and `ops secrets init` finds them in place. The addresses are those of the state files written then.
FORMER_SECRET_RESOURCES = (
    "aws_ssm_parameter.secret-webhookSecretEncryptionKey_parameter_269289A1",
    "aws_ssm_parameter.secret-secretsEncryptionKey_parameter_DCBEDF71",
    "aws_ssm_parameter.secret-slackSigningSecret_parameter_37752E00",
    "aws_ssm_parameter.secret-slackBotToken_parameter_56E2F776",
)


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
        protect = cfg.production
        self.add_override(
            "removed", [{"from": address, "lifecycle": {"destroy": False}} for address in FORMER_SECRET_RESOURCES]
        )

        self.repository = Repository(
            self,
            "backend-repository",
            name=naming.env_first("backend"),
            key=base.key,
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
            boundary=self.boundary_arn,
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
        self.backend_secrets = self._backend_secret_arns()

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
        # HTTPS for the API everywhere: the ALB's own TLS listener on the API domain, or else CloudFront's
        # default certificate in front of an ALB that only CloudFront's origin-facing addresses reach.
        self.edge: ApiEdge | None = None
        if self.load_balancer.https:
            for listener_port in self.load_balancer.ports:
                self.alb_sg.allow_from_cidr("0.0.0.0/0", listener_port, "public listener", rule_id="internet")
            self.api_url = self.load_balancer.url
        else:
            self.edge = ApiEdge(self, "api-edge", name=naming.name("api"), alb_dns_name=self.load_balancer.dns_name)
            self.alb_sg.allow_from_prefix_list(
                self.edge.prefix_list_id, HTTP_PORT, "CloudFront origin-facing addresses", rule_id="cloudfront"
            )
            self.api_url = self.edge.url
        self.alb_sg.allow_to(base.backend_sg, port, "backend tasks")
        base.backend_sg.allow_from(self.alb_sg, port, "from the load balancer", scope=self)

        self.frontend = Frontend(
            self,
            "frontend",
            name=naming.name("frontend"),
            branch=cfg.frontend.branch,
            variables=self.frontend_variables(),
            spa_rewrite=app.SPA_REWRITE_SOURCE,
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
                user=app.BACKEND_USER,
                port=port,
                health_check_path=cfg.backend.health_check_path,
                environment=self.backend_environment(workers),
                secrets=self.backend_secret_refs(),
                writable=app.BACKEND_WRITABLE_PATHS,
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
        self.restart_on_rotation = RestartOnRotation(
            self,
            "restart-on-rotation",
            naming=naming,
            account=account,
            secret_arn=self.database.secret_arn,
            cluster_arn=self.cluster.arn,
            cluster_name=self.cluster.name,
            service_name=self.service.name,
            boundary=self.boundary_arn,
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
        self.deploy_roles = self._deploy_roles(workers)
        self.discovery = self._discovery_parameters(workers)
        self._outputs()

    # -- backend -----------------------------------------------------------------------------------

    def _backend_secret_arns(self) -> dict[str, str]:
        """variable -> SSM parameter ARN of the backend's SSM secrets (contract ``BACKEND_SECRETS``). The
        parameters are not Terraform resources: `ops secrets init` creates them (generated keys, operator
        placeholders) so no value is ever in a plan or in state, and Terraform never needs to decrypt one
        (docs/security.md, "What lands in state")."""
        return {
            secret.name: self.account.arn("ssm", f"parameter{self.naming.parameter('backend', secret.parameter)}")
            for secret in app.BACKEND_SECRETS
            if secret.origin != "database"
        }

    def frontend_variables(self) -> dict[str, str]:
        """The Amplify build environment (contract ``FRONTEND_VARIABLES``)."""
        values = {"VITE_API_URL": self.api_url}
        return contract_values(app.FRONTEND_VARIABLES, values)

    def backend_environment(self, workers: WorkersStack) -> dict[str, str]:
        """The backend container's plain environment (contract ``BACKEND_VARIABLES``)."""
        cfg = self.config
        values = {
            "PORT": str(cfg.backend.container_port),
            "AWS_REGION": cfg.aws.region,
            "DB_HOST": self.database.address,
            "DB_PORT": str(self.database.port),
            "DB_NAME": self.database.database_name,
            "DB_USER": self.database.username,
            # Python joins, not Fn.join: a function call would put quotes inside the container JSON.
            "ALLOWED_ORIGINS": ",".join(self.frontend.origins),
            "PLATFORM_API_URL": self.api_url,
            "PLATFORM_FRONTEND_URL": self.frontend.url,
            "AWS_S3_BUCKET": self.uploads.name,
            "VIBERATOR_WORKER_REGISTRY": workers.registry.host,
            "VIBERATOR_WORKER_IMAGE_PREFIX": workers.registry.prefix,
            "VIBERATOR_LAMBDA_ROLE_ARN": workers.lambda_role.arn,
            "VIBERATOR_ECS_CLUSTER_ARN": workers.cluster.arn,
            "VIBERATOR_ECS_EXECUTION_ROLE_ARN": workers.execution_role.arn,
            "VIBERATOR_ECS_TASK_ROLE_ARN": workers.task_role.arn,
            "VIBERATOR_ECS_SUBNET_IDS": ",".join(workers.subnet_ids),
            "VIBERATOR_ECS_SECURITY_GROUP_IDS": workers.security_group_id,
            "VIBERATOR_ECS_CONTAINER_IMAGE": workers.ecs_image,
            "VIBERATOR_ECS_LOG_GROUP": workers.ecs_log_group_name,
        }
        return contract_values(app.BACKEND_VARIABLES, values)

    def backend_secret_refs(self) -> dict[str, str]:
        """``secrets`` of the backend container: variable -> ``valueFrom``."""
        refs = {"DB_PASSWORD": f"{self.database.secret_arn}:password::"}
        refs.update(self.backend_secrets)
        assert set(refs) == {s.name for s in app.BACKEND_SECRETS}
        return refs

    def _backend_roles(self, base: BaseStack, workers: WorkersStack) -> tuple[Role, Role]:
        naming, account = self.naming, self.account
        values: dict[str, str | list[str]] = {
            "partition": account.partition,
            "region": account.region,
            "account": account.id,
            "uploads": self.uploads.name,
            "key_arn": base.key.arn,
            "workers_cluster_arn": workers.cluster.arn,
            "worker_execution_role_arn": workers.execution_role.arn,
            "worker_task_role_arn": workers.task_role.arn,
            "worker_lambda_role_arn": workers.lambda_role.arn,
            "backend_repository_arn": self.repository.arn,
            "backend_log_group_arn": base.backend_logs.arn,
            "db_secret_arn": self.database.secret_arn,
            "backend_secret_arns": list(self.backend_secrets.values()),
        }
        execution = Role(
            self,
            "execution-role",
            name=naming.name("backend-execution"),
            description="ECS agent for the backend: pull its image, write its logs, inject its secrets",
            trust=service_trust("ecs-tasks.amazonaws.com", account.id),
            statements=from_permissions(app.BACKEND_EXECUTION_PERMISSIONS, values),
            boundary=self.boundary_arn,
        )
        task = Role(
            self,
            "task-role",
            name=naming.name("backend-task"),
            description="What the Viberglass backend calls (core/app_contract.py BACKEND_TASK_PERMISSIONS)",
            trust=service_trust("ecs-tasks.amazonaws.com", account.id),
            statements=from_permissions(app.BACKEND_TASK_PERMISSIONS, values),
            boundary=self.boundary_arn,
        )
        return execution, task

    # -- the application repository's deploy roles and discovery -------------------------------------------

    def _deploy_roles(self, workers: WorkersStack) -> dict[str, Role]:
        """The backend and frontend deploy roles (core/deploy_roles.py): each trusted for one subject of the
        application repository, able to do what its deploy needs on this environment's resources only."""
        naming, account, cfg = self.naming, self.account, self.config
        app_arn = self.frontend.app.arn
        values: dict[str, str | list[str]] = {
            "partition": account.partition,
            "region": account.region,
            "account": account.id,
            "discovery_arns": self.discovery_arns(),
            "backend_repository_arn": self.repository.arn,
            "backend_service_arn": account.arn("ecs", f"service/{self.cluster.name}/{self.service.name}"),
            "backend_execution_role_arn": self.execution_role.arn,
            "backend_task_role_arn": self.task_role.arn,
            "amplify_app_arn": app_arn,
        }
        purposes = {
            "backend-deploy": "push the backend image, register its task definition, roll its service",
            "frontend-deploy": "release the Amplify frontend",
        }
        return {
            role: Role(
                self,
                f"{role}-role",
                name=naming.name(role),
                description=f"GitHub Actions ({cfg.github.app_repository}, {cfg.name}): {purpose}",
                trust=github_trust(github_provider_arn(account), deploy_roles.subject(cfg, role)),
                statements=from_permissions(deploy_roles.ROLE_PERMISSIONS[role], values),
                boundary=self.boundary_arn,
            )
            for role, purpose in purposes.items()
        } | {"workers-deploy": workers.deploy_role}

    def discovery_arns(self) -> list[str]:
        """Every discovery parameter of the environment (what the deploy roles may read)."""
        names = [*discovery.PARAMETERS, discovery.ALARM_TOPIC]
        return [self.account.arn("ssm", f"parameter{self.naming.parameter(*n.split('/'))}") for n in names]

    def _discovery_parameters(self, workers: WorkersStack) -> dict[str, DiscoveryParameter]:
        naming, cfg = self.naming, self.config
        values: dict[str, str] = {
            "deployment/region": cfg.aws.region,
            "deployment/ecrRepository": self.repository.url,
            "deployment/backendDeployRoleArn": self.deploy_roles["backend-deploy"].arn,
            "deployment/frontendDeployRoleArn": self.deploy_roles["frontend-deploy"].arn,
            "deployment/workersDeployRoleArn": workers.deploy_role.arn,
            "ecs/cluster": self.cluster.name,
            "ecs/service": self.service.name,
            "ecs/taskFamily": self.task.family,
            # Terraform's own revision: `ops deploy backend` builds every revision from it (plus the image),
            # so cpu, memory, environment and secrets changed here reach the service.
            "ecs/taskDefinition": self.task.arn,
            "ecs/containerName": CONTAINER_NAME,
            "alb/dns": self.load_balancer.dns_name,
            "frontend/apiUrl": self.api_url,
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
            "api_url": self.api_url,
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
            "backend_deploy_role_arn": self.deploy_roles["backend-deploy"].arn,
            "frontend_deploy_role_arn": self.deploy_roles["frontend-deploy"].arn,
        }
        for name, value in values.items():
            TerraformOutput(self, name, value=value)


def contract_values(variables: tuple[app.Variable, ...], values: dict[str, str]) -> dict[str, str]:
    """Every contract variable with its value: the contract's own for fixed ones, ``values`` for the rest.
    A variable the contract lists and the stack does not give (or the reverse) is a synth-time error."""
    fixed = {v.name: v.value for v in variables if v.value is not None}
    missing = {v.name for v in variables} - set(fixed) - set(values)
    extra = set(values) - {v.name for v in variables}
    overlap = set(fixed) & set(values)
    if missing or extra or overlap:
        raise ValueError(f"environment does not match the contract: missing {missing}, extra {extra}, both {overlap}")
    return {**values, **{k: v for k, v in fixed.items() if v is not None}}
