"""What the Viberglass application needs from its infrastructure, as data.

Every fact here was read from the application's code (public repository ``Ilities/viberglass`` at
``APP_COMMIT``) and names the file it comes from (``BE`` = ``apps/platform-backend/src``, ``W`` =
``apps/viberator/src``, ``FE`` = ``apps/platform-frontend``). The stacks build the backend's task
definition, every role the application runs with, the worker repositories and the Amplify settings from
these lists, and the contract tests check the synthesized JSON against them. No cdktf here: pure data.

Resource patterns use ``str.format`` fields that the stacks fill with Terraform references and the tests
with concrete values: ``{partition}``, ``{region}``, ``{account}``, ``{uploads}`` (the uploads bucket
name), ``{key_arn}`` (the environment KMS key), ``{workers_cluster_arn}``, ``{worker_execution_role_arn}``,
``{worker_task_role_arn}``, ``{worker_lambda_role_arn}``, ``{ecs_worker_log_group_arn}``,
``{backend_log_group_arn}``, ``{worker_repository_arns}`` / ``{backend_repository_arn}`` (expanded to
one resource per repository), ``{db_secret_arn}``, ``{backend_secret_arns}`` (one per SSM secret).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

APP_REPOSITORY = "Ilities/viberglass"
APP_COMMIT = "83ba6e1"  # the commit these facts were read at

BE = "apps/platform-backend/src"
W = "apps/viberator/src"

# -- formats a variable's value must have (checked by the contract tests) -----------------------------

Rule = Literal[
    "literal",  # exactly `value`
    "https-url",  # https://host[/path], no trailing slash
    "https-origins",  # comma-separated https origins, no spaces, no trailing slash, no path
    "csv",  # comma-separated, no spaces, no empty item
    "arn",  # one ARN
    "registry",  # <account>.dkr.ecr.<region>.amazonaws.com, no scheme, no path
    "image",  # registry/repository:tag
    "name",  # a non-empty token without spaces (host, bucket, region, prefix, log group)
    "port",  # a TCP port number
]


@dataclass(frozen=True)
class Variable:
    """A plain environment variable of the backend container.

    :param name: the variable.
    :param rule: the format its value must have.
    :param source: the application file that reads it.
    :param value: the exact value when the contract fixes one (``rule`` ``literal``).
    :param why: why it is set (defaults that differ, values that must not be left to chance).
    """

    name: str
    rule: Rule
    source: str
    value: str | None = None
    why: str = ""


@dataclass(frozen=True)
class Secret:
    """A backend variable injected from a secret store by the ECS agent.

    :param name: the variable.
    :param source: the file that reads it.
    :param origin: ``database`` (the RDS-managed master secret), ``generated`` (a random key Terraform
        writes once, write-only), ``operator`` (set with ``ops secrets set``; starts as ``initial``).
    :param parameter: the SSM parameter name under ``/viberglass/<env>/backend/`` (not for ``database``).
    :param initial: the value an operator-held secret starts with.
    """

    name: str
    source: str
    origin: Literal["database", "generated", "operator"]
    parameter: str = ""
    initial: str = ""
    why: str = ""


@dataclass(frozen=True)
class Permission:
    """Actions a role must be allowed on resources (and nothing the contract does not list).

    :param sid: the statement id the stacks use.
    :param actions: real IAM action names.
    :param resources: ARN patterns with ``{placeholders}`` (see the module docstring).
    :param source: the application file (or AWS rule) that makes the call.
    :param conditions: IAM conditions, values may hold placeholders.
    :param context: request-context values the contract tests pin when they check that the call is
        allowed (the condition keys AWS sends with the real call).
    :param wildcard_reason: required when ``resources`` is ``("*",)``.
    """

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str
    conditions: dict[str, dict[str, str | tuple[str, ...]]] = field(default_factory=dict)
    context: dict[str, str] = field(default_factory=dict)
    wildcard_reason: str = ""


# -- backend container ------------------------------------------------------------------------------------

BACKEND_DOCKERFILE = "apps/platform-backend/Dockerfile.prod"
BACKEND_USER = "1001"  # `adduser -S nodejs -u 1001` (group not pinned: a uid alone), Dockerfile.prod
BACKEND_PORT = 3000  # ENV PORT=3000 / EXPOSE 3000 in Dockerfile.prod; the code's own default is 8888
BACKEND_HEALTH_PATH = "/health"  # BE/api/app.ts: 200 JSON, no auth, no database check
# /health answers only after the migrations (RUN_MIGRATIONS_ON_STARTUP, 63 Kysely files) ran at start: the
# load balancer's health-check grace and the container health check's start period both cover this.
BACKEND_STARTUP_SECONDS = 180
# Paths the backend writes at run time: file logs under the working directory /app (BE/config/logger.ts,
# created at start when NODE_ENV=production) and uploaded media under /tmp/viberator-ticket-media
# (BE/services/ticket-media/mediaStoragePaths.ts, TICKET_MEDIA_DISK_ROOT).
BACKEND_WRITABLE_PATHS = ("/app/logs", "/tmp")  # noqa: S108 (container paths)
REQUEST_BODY_LIMIT_MB = 10  # express.json/urlencoded limit "10mb", BE/api/app.ts
SSE_HEARTBEAT_SECONDS = 30  # HEARTBEAT_MS = 30000, BE/api/routes/agentSessions.ts
# Scheduler, orphan and heartbeat sweepers run in every task without a lock, and session presence is
# held in memory (BE/api/server.ts, BE/services/agentSession/SessionPresenceService.ts).
BACKEND_MAX_SAFE_TASKS = 1
SINGLE_TASK_SOURCES = (f"{BE}/api/server.ts", f"{BE}/services/agentSession/SessionPresenceService.ts")

# Workers stop a job after `execution.defaultTimeout` = 2700 s unless its settings say otherwise
# (W/config/ConfigManager.ts, `maxExecutionTime`); the backend's orphan sweeper fails any job running longer
# than ORPHAN_JOB_TIMEOUT_MS, default 30 min (BE/api/server.ts, BE/workers/OrphanSweeper.ts). The sweeper
# must outlast the worker: its limit plus 5 minutes for the clone and the result callback.
WORKER_DEFAULT_TIMEOUT_SECONDS = 2700
ORPHAN_JOB_TIMEOUT_MS = (WORKER_DEFAULT_TIMEOUT_SECONDS + 300) * 1000

DEFAULT_TENANT_ID = "api-server"
SECRETS_SSM_PREFIX = "/viberator/secrets"  # Lambda workers get no environment and always use it (W)
TENANTS_SSM_PREFIX = "/viberator/tenants"  # AwsSsmProvider default, used while SSM_PARAMETER_PREFIX is unset

BACKEND_VARIABLES: tuple[Variable, ...] = (
    Variable("NODE_ENV", "literal", f"{BE}/config/logger.ts", "production", "file logs, Secure cookies"),
    Variable("PORT", "port", f"{BE}/api/server.ts", why="the code defaults to 8888; the image sets 3000"),
    Variable("AWS_REGION", "name", f"{BE}/config/credentials.ts", why="clients default to eu-west-1; enables SSM"),
    Variable("DB_HOST", "name", f"{BE}/persistence/config/database.ts",
             why="app and migrator (BE/migrations/migrator.ts) have different defaults: set all of DB_*"),
    Variable("DB_PORT", "port", f"{BE}/persistence/config/database.ts"),
    Variable("DB_NAME", "name", f"{BE}/persistence/config/database.ts"),
    Variable("DB_USER", "name", f"{BE}/persistence/config/database.ts"),
    Variable("DB_SSL", "literal", f"{BE}/persistence/config/database.ts", "true", "only the literal true enables TLS"),
    Variable("RUN_MIGRATIONS_ON_STARTUP", "literal", f"{BE}/config/env.ts", "true"),
    Variable("ALLOWED_ORIGINS", "https-origins", f"{BE}/api/app.ts", why="exact match on Origin, split on ','"),
    Variable("PLATFORM_API_URL", "https-url", f"{BE}/workers/invokers/EcsInvoker.ts",
             why="workers call ${PLATFORM_API_URL}/api/jobs/...; Lambda workers from outside the VPC"),
    Variable("PLATFORM_FRONTEND_URL", "https-url", f"{BE}/chat/platformLinks.ts"),
    Variable("AWS_S3_BUCKET", "name", f"{BE}/services/FileUploadService.ts"),
    Variable("AUTH_ENABLED", "literal", f"{BE}/api/auth/config.ts", "true", "never a mock admin when deployed"),
    Variable("DEFAULT_TENANT_ID", "literal", f"{BE}/api/middleware/tenantValidation.ts", DEFAULT_TENANT_ID,
             "BE/webhooks/webhookServiceFactory.ts defaults to 'default' instead: one value for both"),
    Variable("SECRETS_SSM_PREFIX", "literal", f"{BE}/services/SecretService.ts", SECRETS_SSM_PREFIX,
             "forwarded to ECS workers; Lambda workers always use this default"),
    Variable("ORPHAN_JOB_TIMEOUT_MS", "literal", f"{BE}/api/server.ts", str(ORPHAN_JOB_TIMEOUT_MS),
             "default 30 min fails jobs the workers still run for up to 45 min (W/config/ConfigManager.ts)"),
    Variable("VIBERATOR_WORKER_REGISTRY", "registry", f"{BE}/provisioning/shared/workerImage.ts",
             why="empty means a bare Docker Hub image name"),
    Variable("VIBERATOR_WORKER_IMAGE_PREFIX", "name", f"{BE}/provisioning/shared/workerImage.ts",
             why="each environment pulls from its own <prefix>/<repository>"),
    Variable("VIBERATOR_LAMBDA_ROLE_ARN", "arn", f"{BE}/provisioning/strategies/LambdaFunctionProvisioner.ts"),
    Variable("VIBERATOR_ECS_CLUSTER_ARN", "arn", f"{BE}/workers/invokers/EcsInvoker.ts"),
    Variable("VIBERATOR_ECS_EXECUTION_ROLE_ARN", "arn", f"{BE}/provisioning/strategies/ecsTaskDefinitionUtils.ts"),
    Variable("VIBERATOR_ECS_TASK_ROLE_ARN", "arn", f"{BE}/provisioning/strategies/ecsTaskDefinitionUtils.ts"),
    Variable("VIBERATOR_ECS_SUBNET_IDS", "csv", f"{BE}/workers/invokers/EcsInvoker.ts", why="split, not trimmed"),
    Variable("VIBERATOR_ECS_SECURITY_GROUP_IDS", "csv", f"{BE}/workers/invokers/EcsInvoker.ts"),
    Variable("VIBERATOR_ECS_CONTAINER_IMAGE", "image", f"{BE}/provisioning/strategies/EcsProvisioningHandler.ts",
             why="required by the preflight check"),
    Variable("VIBERATOR_ECS_LOG_GROUP", "name", f"{BE}/provisioning/strategies/ecsTaskDefinitionUtils.ts",
             why="default /ecs/viberator-worker does not exist"),
)  # fmt: skip

# Variables a deployed backend must NOT have.
FORBIDDEN_VARIABLES = {
    "DATABASE_URL": f"{BE}/persistence/config/database.ts parses it naively (a query string becomes the "
    "database name, ':' '@' '/' break the password); DB_* are used instead",
    "SSM_PARAMETER_PREFIX": f"{BE}/workers/invokers/EcsInvoker.ts forwards it and workers then read tenant-"
    "scoped paths nothing writes; the default /viberator/tenants is what the backend uses",
}

SLACK_NOT_CONFIGURED = "not-configured"  # BE/chat/bot.ts: Slack stays off while the signing secret is this

BACKEND_SECRETS: tuple[Secret, ...] = (
    Secret("DB_PASSWORD", f"{BE}/persistence/config/database.ts", "database",
           why="the RDS-managed master secret's password key"),
    Secret("WEBHOOK_SECRET_ENCRYPTION_KEY", f"{BE}/webhooks/WebhookSecretService.ts", "generated",
           "webhookSecretEncryptionKey", why="any non-empty string is used as the key: never a placeholder"),
    Secret("SECRETS_ENCRYPTION_KEY", f"{BE}/services/SecretService.ts", "generated", "secretsEncryptionKey",
           why="encrypts secrets stored in the database; storing one throws without it"),
    Secret("SLACK_SIGNING_SECRET", f"{BE}/chat/bot.ts", "operator", "slackSigningSecret", SLACK_NOT_CONFIGURED),
    Secret("SLACK_BOT_TOKEN", f"{BE}/api/routes/integrations.ts", "operator", "slackBotToken", SLACK_NOT_CONFIGURED),
)  # fmt: skip

# -- frontend (Amplify build) -------------------------------------------------------------------------------

FRONTEND_APP_ROOT = "apps/platform-frontend"  # amplify.yml appRoot; Amplify needs AMPLIFY_MONOREPO_APP_ROOT
FRONTEND_VARIABLES: tuple[Variable, ...] = (
    Variable("VITE_API_URL", "https-url", "apps/platform-frontend/src/lib/index.ts",
             why="unset silently means http://localhost:8888; the page is HTTPS, so http:// is blocked"),
    Variable("VITE_AUTH_ENABLED", "literal", "apps/platform-frontend/src/context/auth-context.tsx", "true"),
    Variable("AMPLIFY_MONOREPO_APP_ROOT", "literal", "amplify.yml", FRONTEND_APP_ROOT),
)  # fmt: skip
# BrowserRouter (FE/src): every path that is not a file is the SPA shell (Amplify's documented SPA rule).
SPA_REWRITE_SOURCE = "</^[^.]+$|\\.(?!(css|gif|ico|jpg|jpeg|js|json|map|png|svg|txt|webp|woff|woff2|ttf)$)([^.]+$)/>"

# -- workers (clankers) -------------------------------------------------------------------------------------

WORKER_CATALOG_FILE = "packages/types/src/workerImageCatalog.json"


@dataclass(frozen=True)
class WorkerImage:
    """One entry of the application's worker image catalog.

    :param variant: the catalog's ``variant``.
    :param repository: ``repositoryName``: the name the backend builds image URIs from.
    :param dockerfile: ``dockerfilePath``, relative to the application repository root.
    :param agent: ``isAgentImage``: built ``FROM`` the base image (``--build-arg BASE_IMAGE``).
    :param run_by_backend: the backend starts this image (``resolveWorkerImageVariantForAgent`` in
        packages/types/src/workerImages.ts picks it for an agent, or the Lambda strategy).
    """

    variant: str
    repository: str
    dockerfile: str
    agent: bool
    run_by_backend: bool


WORKER_IMAGES: tuple[WorkerImage, ...] = (
    WorkerImage("base", "viberator-base-worker", "infra/workers/docker/base/base-worker.Dockerfile", False, False),
    WorkerImage("ecs", "viberator-ecs-worker", "infra/workers/docker/viberator-ecs-worker.Dockerfile", False, False),
    WorkerImage("lambda", "viberator-lambda-worker", "infra/workers/docker/viberator-lambda.Dockerfile", False, True),
    WorkerImage("multi-agent", "viberator-worker-multi-agent",
                "infra/workers/docker/viberator-worker-multi-agent.Dockerfile", False, True),
    WorkerImage("claude", "viberator-worker", "infra/workers/docker/generated/claude.Dockerfile", True, False),
    *(WorkerImage(agent, f"viberator-worker-{agent}", f"infra/workers/docker/generated/{agent}.Dockerfile", True, True)
      for agent in ("codex", "gemini", "kimi", "mistral", "opencode", "pi", "qwen")),
)  # fmt: skip
BASE_IMAGE_VARIANT = "base"
LAMBDA_IMAGE_VARIANT = "lambda"
DEFAULT_ECS_IMAGE_VARIANT = "multi-agent"  # DEFAULT_WORKER_IMAGE_VARIANT, packages/types/src/workerImages.ts
# The backend builds `[registry/][prefix/]<repository>:latest` (BE/provisioning/shared/workerImage.ts).
RUN_TAG = "latest"

WORKER_USER = "viberator"  # `useradd -r ... viberator` (uid not pinned), infra/workers/docker/*.Dockerfile
# What the ECS worker writes: the git work dir (WORK_DIR), session state, the user's home (agent CLIs'
# config) and Codex's config dir (W/workers/core/ViberatorWorker.ts, W/workers/runtime/SessionStateManager.ts,
# infra/workers/docker/generated/codex.Dockerfile). /tmp covers three of them.
WORKER_WRITABLE_PATHS = ("/tmp", "/home/viberator")  # noqa: S108 (container paths)
WORKER_CONTAINER_NAME = "worker"  # BE/provisioning/strategies/ecsTaskDefinitionUtils.ts
WORKER_LOG_STREAM_PREFIX = "ecs"  # same file
ECS_FAMILY_PREFIX = "viberator-worker-"  # buildEcsFamilyName, same file
LAMBDA_FUNCTION_PREFIX = "viberator-"  # buildLambdaFunctionName, BE/provisioning/strategies/lambdaFunctionUtils.ts

# -- IAM: what each role the application runs with calls -----------------------------------------------------

_SSM = "arn:{partition}:ssm:{region}:{account}:parameter"
_UPLOADS = "arn:{partition}:s3:::{uploads}"
_INSTRUCTIONS = (f"{_UPLOADS}/clankers/*/instructions/*", f"{_UPLOADS}/jobs/*/clankers/*/instructions/*")

BACKEND_TASK_PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "WorkerSecrets",
        ("ssm:DeleteParameter", "ssm:GetParameter", "ssm:PutParameter"),
        (f"{_SSM}{SECRETS_SSM_PREFIX}/*",),
        f"{BE}/services/SecretService.ts",
    ),
    Permission(
        "TenantCredentials",
        ("ssm:DeleteParameter", "ssm:GetParameter", "ssm:GetParametersByPath", "ssm:PutParameter"),
        (f"{_SSM}{TENANTS_SSM_PREFIX}", f"{_SSM}{TENANTS_SSM_PREFIX}/*"),
        f"{BE}/credentials/providers/AwsSsmProvider.ts",
    ),
    Permission(
        "Uploads",
        ("s3:DeleteObject", "s3:GetObject", "s3:PutObject"),
        (
            f"{_UPLOADS}/ticket-media/*",  # BE/services/ticket-media/mediaStoragePaths.ts (default prefix)
            f"{_UPLOADS}/ticket-phase-docs/*",  # BE/services/TicketPhaseDocumentService.ts
            *_INSTRUCTIONS,  # BE/services/instructions/InstructionStorageService.ts
        ),
        f"{BE}/services/FileUploadService.ts",
    ),
    Permission(
        "UploadsKey",  # the uploads bucket is SSE-KMS with the environment key
        ("kms:Decrypt", "kms:GenerateDataKey"),
        ("{key_arn}",),
        "S3 SSE-KMS: PutObject needs GenerateDataKey, GetObject (and presigned GETs) Decrypt",
        conditions={"StringEquals": {"kms:ViaService": "s3.{region}.amazonaws.com"}},
        context={"kms:ViaService": "s3.{region}.amazonaws.com"},
    ),
    Permission(
        "ClankerFunctions",
        (
            "lambda:CreateFunction",
            "lambda:DeleteFunction",
            "lambda:GetFunction",
            "lambda:InvokeFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
        ),
        (f"arn:{{partition}}:lambda:{{region}}:{{account}}:function:{LAMBDA_FUNCTION_PREFIX}*",),
        f"{BE}/provisioning/adapters/AwsLambdaClientAdapter.ts",
    ),
    Permission(
        "ClankerTaskDefinitions",
        ("ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"),
        ("*",),
        f"{BE}/provisioning/adapters/AwsEcsClientAdapter.ts",
        wildcard_reason="ECS task-definition registration and description support no resource-level permissions",
    ),
    Permission(
        "RunClankerTasks",
        ("ecs:RunTask",),
        (f"arn:{{partition}}:ecs:{{region}}:{{account}}:task-definition/{ECS_FAMILY_PREFIX}*:*",),
        f"{BE}/workers/invokers/EcsInvoker.ts",
        conditions={"ArnEquals": {"ecs:cluster": "{workers_cluster_arn}"}},
        context={"ecs:cluster": "{workers_cluster_arn}"},
    ),
    Permission(
        "PassWorkerRolesToEcs",
        ("iam:PassRole",),
        ("{worker_execution_role_arn}", "{worker_task_role_arn}"),
        f"{BE}/provisioning/strategies/ecsTaskDefinitionUtils.ts (RegisterTaskDefinition with both roles)",
        conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        context={"iam:PassedToService": "ecs-tasks.amazonaws.com"},
    ),
    Permission(
        "PassWorkerRoleToLambda",
        ("iam:PassRole",),
        ("{worker_lambda_role_arn}",),
        f"{BE}/provisioning/strategies/LambdaFunctionProvisioner.ts (CreateFunction Role)",
        conditions={"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}},
        context={"iam:PassedToService": "lambda.amazonaws.com"},
    ),
)

# The ECS agent for the backend task: pull the image, write the log group, inject the secrets.
BACKEND_EXECUTION_PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "RegistryLogin",
        ("ecr:GetAuthorizationToken",),
        ("*",),
        "ECS pulls from ECR",
        wildcard_reason="ecr:GetAuthorizationToken supports no resource-level permissions",
    ),
    Permission(
        "PullBackendImage",
        ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
        ("{backend_repository_arn}",),
        "ECS pulls from ECR",
    ),
    Permission(
        "WriteBackendLogs",
        ("logs:CreateLogStream", "logs:PutLogEvents"),
        ("{backend_log_group_arn}", "{backend_log_group_arn}:log-stream:*"),
        "awslogs log driver",
    ),
    Permission(
        "InjectDatabasePassword",
        ("secretsmanager:GetSecretValue",),
        ("{db_secret_arn}",),
        "ECS secrets valueFrom a Secrets Manager secret",
    ),
    Permission(
        "InjectBackendSecrets",
        ("ssm:GetParameters",),
        ("{backend_secret_arns}",),
        "ECS secrets valueFrom SSM parameters",
    ),
    Permission(
        "DecryptSecrets",
        ("kms:Decrypt",),
        ("{key_arn}",),
        "the secrets are encrypted with the environment key",
        conditions={
            "StringEquals": {"kms:ViaService": ("secretsmanager.{region}.amazonaws.com", "ssm.{region}.amazonaws.com")}
        },
        context={"kms:ViaService": "ssm.{region}.amazonaws.com"},
    ),
)

# The ECS agent for clanker tasks (the backend registers them without secrets).
WORKER_EXECUTION_PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "RegistryLogin",
        ("ecr:GetAuthorizationToken",),
        ("*",),
        "ECS pulls from ECR",
        wildcard_reason="ecr:GetAuthorizationToken supports no resource-level permissions",
    ),
    Permission(
        "PullWorkerImages",
        ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
        ("{worker_repository_arns}",),
        f"{BE}/provisioning/shared/workerImage.ts",
    ),
    Permission(
        "WriteWorkerLogs",
        ("logs:CreateLogStream", "logs:PutLogEvents"),
        ("{ecs_worker_log_group_arn}", "{ecs_worker_log_group_arn}:log-stream:*"),
        f"{BE}/provisioning/strategies/ecsTaskDefinitionUtils.ts (awslogs to VIBERATOR_ECS_LOG_GROUP)",
    ),
)

# The clanker itself (apps/viberator) on ECS.
WORKER_TASK_PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "ReadWorkerSecrets",
        ("ssm:GetParameter",),
        (f"{_SSM}{SECRETS_SSM_PREFIX}/*",),
        f"{W}/workers/infrastructure/CredentialProvider.ts",
    ),
    Permission("ReadInstructions", ("s3:GetObject",), _INSTRUCTIONS, f"{W}/workers/infrastructure/ConfigLoader.ts"),
    Permission(
        "ConversationState",
        ("s3:GetObject", "s3:PutObject"),
        (f"{_UPLOADS}/conversation-state/*",),
        f"{W}/workers/runtime/SessionStateManager.ts",
    ),
    Permission(
        "UploadsKey",
        ("kms:Decrypt", "kms:GenerateDataKey"),
        ("{key_arn}",),
        "S3 SSE-KMS objects of the uploads bucket",
        conditions={"StringEquals": {"kms:ViaService": "s3.{region}.amazonaws.com"}},
        context={"kms:ViaService": "s3.{region}.amazonaws.com"},
    ),
)

# The clanker on Lambda: functions created by the backend with no environment and no VPC.
LAMBDA_LOG_GROUPS = f"arn:{{partition}}:logs:{{region}}:{{account}}:log-group:/aws/lambda/{LAMBDA_FUNCTION_PREFIX}*"
WORKER_LAMBDA_PERMISSIONS: tuple[Permission, ...] = (
    Permission(
        "CreateFunctionLogGroups",
        ("logs:CreateLogGroup",),
        (LAMBDA_LOG_GROUPS,),
        "Lambda writes /aws/lambda/<function name>, creating it on first use (AWSLambdaBasicExecutionRole)",
    ),
    Permission(
        "WriteFunctionLogs",
        ("logs:CreateLogStream", "logs:PutLogEvents"),
        (LAMBDA_LOG_GROUPS, f"{LAMBDA_LOG_GROUPS}:log-stream:*"),
        "Lambda runtime logging",
    ),
    Permission(
        "ReadWorkerSecrets",
        ("ssm:GetParameter",),
        (f"{_SSM}{SECRETS_SSM_PREFIX}/*",),
        f"{W}/workers/infrastructure/CredentialProvider.ts",
    ),
    Permission("ReadInstructions", ("s3:GetObject",), _INSTRUCTIONS, f"{W}/workers/infrastructure/ConfigLoader.ts"),
    Permission(
        "UploadsKey",
        ("kms:Decrypt",),
        ("{key_arn}",),
        "S3 SSE-KMS objects of the uploads bucket",
        conditions={"StringEquals": {"kms:ViaService": "s3.{region}.amazonaws.com"}},
        context={"kms:ViaService": "s3.{region}.amazonaws.com"},
    ),
)

# Lambda pulls a function's image with its service principal; the repository policy must allow it
# (AWS Lambda, "Amazon ECR permissions" for container images), limited to the backend's functions.
LAMBDA_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
LAMBDA_PULL_SOURCE_ARN = f"arn:{{partition}}:lambda:{{region}}:{{account}}:function:{LAMBDA_FUNCTION_PREFIX}*"

# Not used by the backend (so never granted): CloudWatch Logs API, STS, KMS calls of its own (SSM
# SecureStrings the app writes use the AWS-managed aws/ssm key), SQS, ecs:StopTask, ecs:DescribeTasks,
# lambda:TagResource, ecs:TagResource (no tags are passed), cloudwatch:PutMetricData (only when
# CLOUDWATCH_METRICS_ENABLED=true, BE/services/metrics.ts, which stays off).
ROLE_PERMISSIONS = {
    "backend-task": BACKEND_TASK_PERMISSIONS,
    "backend-execution": BACKEND_EXECUTION_PERMISSIONS,
    "worker-execution": WORKER_EXECUTION_PERMISSIONS,
    "worker-task": WORKER_TASK_PERMISSIONS,
    "worker-lambda": WORKER_LAMBDA_PERMISSIONS,
}


def variable(name: str) -> Variable:
    """The backend or frontend variable ``name`` (KeyError when the contract has none)."""
    return {v.name: v for v in (*BACKEND_VARIABLES, *FRONTEND_VARIABLES)}[name]


def worker_image(variant: str) -> WorkerImage:
    """The catalog entry of ``variant`` (KeyError when the catalog has none)."""
    return {image.variant: image for image in WORKER_IMAGES}[variant]
