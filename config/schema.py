"""The typed shape of ``config/<env>.yaml``.

Field-level rules (types, unknown keys, ranges) live here; rules that relate two fields to each other live
in :mod:`config.rules` so their messages can name both keys. Tier-dependent defaults (dev vs prod) are in
:mod:`config.defaults`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from config import checks
from config.checks import check, pattern
from core.aws_limits import MAX_TASKS_PER_SERVICE
from core.network import default_azs

Cidr = Annotated[str, check(checks.cidr)]
Domain = Annotated[
    str,
    check(
        pattern(
            r"([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}",
            "a lower-case DNS name",
            "api.example.com",
            max_length=253,
        )
    ),
]
Name = Annotated[
    str,
    check(
        pattern(r"[a-z0-9][a-z0-9-]*", "a name of lower-case letters, digits and dashes", "multi-agent", max_length=40)
    ),
]
EnvName = Annotated[str, check(checks.env_name)]
Region = Annotated[str, check(checks.aws_region)]
TaskCount = Annotated[
    int,
    Field(ge=0, le=MAX_TASKS_PER_SERVICE, description=f"ECS runs at most {MAX_TASKS_PER_SERVICE:,} tasks per service"),
]


class Section(BaseModel):
    """Every section rejects unknown keys and wrong types (no silent ``"256"`` -> ``256``)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AwsSettings(Section):
    """Where the environment runs. ``account_id`` is required: Terraform (``allowed_account_ids``) and the
    bootstrap commands refuse any other account. One account per environment is the default; two
    environment files naming the same account must both say ``shared_account: true`` (config.loader)."""

    region: Region = "eu-west-1"
    account_id: Annotated[
        str,
        check(checks.account_id),
        Field(description="the environment's own AWS account, quoted: `aws sts get-caller-identity` shows it"),
    ]
    shared_account: bool = False
    # Checked against the region by config.rules.check_network.
    availability_zones: Annotated[list[str], Field(max_length=6, description="no region has more than six")] | None = (
        None
    )


class NetworkSettings(Section):
    mode: Literal["enterprise", "standard"] = "enterprise"
    vpc_cidr: Cidr = "10.0.0.0/16"
    public_subnets: Annotated[list[Cidr], Field(max_length=6, description="one per zone")] = [
        "10.0.1.0/24",
        "10.0.2.0/24",
    ]
    private_subnets: Annotated[list[Cidr], Field(max_length=6, description="one per zone")] = [
        "10.0.10.0/24",
        "10.0.11.0/24",
    ]
    single_nat_gateway: bool
    flow_logs: bool


class LogSettings(Section):
    retention_days: int


class S3State(Section):
    bucket: Annotated[str, check(checks.s3_bucket)]
    region: Region
    dynamodb_table: Annotated[str, check(checks.dynamodb_table)] | None = None
    use_lockfile: bool = False
    key_prefix: Annotated[str, check(checks.state_key_prefix)] = "viberglass"


class CloudState(Section):
    organization: Annotated[
        str, check(pattern(r"[A-Za-z0-9_-]+", "an HCP Terraform organization name", "my-org", max_length=255))
    ]
    project: (
        Annotated[str, check(pattern(r"[A-Za-z0-9 _-]+", "an HCP Terraform project name", "viberglass", max_length=40))]
        | None
    ) = None
    workspace_prefix: Name = "viberglass"
    # How the environment's workspaces run (the `hcp` stack sets it): HCP Terraform's own workers, or the
    # agents of an agent pool the organization runs (`agent_pool`, by name).
    execution_mode: Annotated[
        Literal["remote", "agent"],
        Field(description="remote: HCP Terraform's workers; agent: the agents of `agent_pool`"),
    ] = "remote"
    agent_pool: (
        Annotated[
            str,
            check(pattern(r"[A-Za-z0-9_-]+", "an HCP Terraform agent pool name", "viberglass-agents", max_length=90)),
        ]
        | None
    ) = None


class StateSettings(Section):
    backend: Literal["s3", "cloud", "local"] = "s3"
    s3: S3State | None = None
    cloud: CloudState | None = None


class DatabaseSettings(Section):
    instance_class: Annotated[
        str, check(pattern(r"db\.[a-z0-9]+\.[a-z0-9]+", "an RDS instance class", "db.t4g.micro", max_length=40))
    ]
    allocated_storage: Annotated[int, Field(ge=20, le=65536, description="RDS gp3 storage is 20-65,536 GiB")]
    max_allocated_storage: Annotated[int, Field(le=65536, description="RDS storage ends at 65,536 GiB")] | None = None
    engine_version: Annotated[
        str, check(pattern(r"[0-9]{1,3}(\.[0-9]{1,3})?", "a PostgreSQL version", "16 or 16.4", max_length=7))
    ] = "16"
    multi_az: bool
    backup_retention_days: Annotated[int, Field(ge=1, le=35, description="RDS keeps automated backups 1-35 days")]
    deletion_protection: bool
    final_snapshot: bool
    performance_insights_retention_days: Literal[7, 31, 93, 186, 372, 731] = 7
    name: Annotated[
        str, check(pattern(r"[a-z][a-z0-9_]*", "a PostgreSQL database name", "viberglass", max_length=63))
    ] = "viberglass"
    username: Annotated[
        str, check(pattern(r"[a-z][a-z0-9_]*", "an RDS master user name", "viberglass", max_length=16))
    ] = "viberglass"


class UploadsSettings(Section):
    versioning: bool
    noncurrent_version_days: Annotated[int, Field(ge=1, le=3650)] = 30
    abort_multipart_days: Annotated[int, Field(ge=1, le=365)] = 7


class BackendSettings(Section):
    """The backend service.

    ``desired_count``/``min_count``/``max_count`` default to 1 in every tier: the application runs its
    scheduler and job sweepers in every task without a lock and keeps agent-session presence in memory
    (apps/platform-backend/src/api/server.ts, src/services/agentSession/SessionPresenceService.ts in
    Ilities/viberglass), so two tasks duplicate scheduled work and split presence. ``max_count`` above 1
    (e.g. the earlier 1-3) adds CPU autoscaling; use it only once the application supports several tasks.
    """

    cpu: int
    memory: int
    desired_count: TaskCount
    min_count: TaskCount
    max_count: Annotated[TaskCount, Field(ge=1)]
    image_tag: Annotated[str, check(pattern(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", "an image tag", "latest", max_length=128))]
    container_port: Annotated[int, Field(ge=1, le=65535, description="TCP ports are 1-65535")] = 3000
    health_check_path: Annotated[
        str,
        check(
            pattern(
                r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*", "an HTTP path for the ALB health check", "/health", max_length=1024
            )
        ),
    ] = "/health"


class DomainSettings(Section):
    api_domain: Domain | None = None
    app_domain: Domain | None = None
    route53_zone_id: (
        Annotated[str, check(pattern(r"Z[A-Z0-9]{1,31}", "a Route 53 hosted zone id", "Z0123456789ABCDEFGHIJ"))] | None
    ) = None


class FrontendSettings(Section):
    """The Amplify app of ``github.app_repository``. Amplify reads the repository through the GitHub App;
    ``ops connect frontend`` connects it once with a token read from stdin (never stored)."""

    branch: Annotated[str, check(checks.git_branch)] = "main"
    app_root: Annotated[str, check(checks.repository_path)] = "apps/platform-frontend"


GithubRepository = Annotated[
    str,
    check(
        pattern(
            r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}/(?!\.\.?$)[A-Za-z0-9_.-]{1,100}",
            "a GitHub repository (owner/name, spelled as GitHub does: AWS compares the OIDC subject exactly)",
            "Ilities/viberglass",
        )
    ),
]


class GithubSettings(Section):
    """The two repositories GitHub Actions runs for (docs/security.md, "GitHub identities").

    * ``infra_repository``: this repository; its pull-request plans and its environments' applies.
    * ``app_repository``: the application; its environments run this repository's reusable deploy
      workflows, whose OIDC subject names the caller (``repo:<app>:environment:<env>``).
    * ``app_deploy_workflow_ref``: set it (e.g. ``refs/heads/main``) once the application repository's
      OIDC subject template is ``["repo", "context", "job_workflow_ref"]``; each deploy role then trusts
      only its own reusable workflow at that ref (AWS cannot check ``job_workflow_ref`` otherwise).
    """

    infra_repository: GithubRepository = "Ilities/viberglass-infra"
    app_repository: GithubRepository = "Ilities/viberglass"
    app_deploy_workflow_ref: (
        Annotated[
            str,
            check(
                pattern(
                    r"refs/(heads|tags)/[A-Za-z0-9._/-]+",
                    "a full git ref of this repository",
                    "refs/heads/main",
                    max_length=255,
                )
            ),
        ]
        | None
    ) = None


class WorkersSettings(Section):
    """Clanker workers. The repositories are the application's catalog (``core.app_contract``), created
    under ``image_prefix`` (default: the environment name), e.g. ``dev/viberator-worker-multi-agent``."""

    # An ECR repository path: lower-case words joined by `.`, `_`, `-`, segments by `/`.
    image_prefix: Annotated[str, Field(max_length=80), check(checks.ecr_repository)] | None = None
    keep_images_per_environment: Annotated[int, Field(ge=1, le=1000, description="images kept per repository")] = 30
    cpu: int = 2048
    memory: int = 4096
    container_insights: bool = True


class AlarmSettings(Section):
    enabled: bool


class EnvironmentConfig(Section):
    """A whole environment. ``name`` and ``tier`` come from the file name unless written."""

    name: EnvName
    tier: Literal["development", "production"]
    aws: AwsSettings
    network: NetworkSettings
    logs: LogSettings
    state: StateSettings = StateSettings()
    database: DatabaseSettings
    uploads: UploadsSettings
    backend: BackendSettings
    domains: DomainSettings = DomainSettings()
    frontend: FrontendSettings = FrontendSettings()
    github: GithubSettings = GithubSettings()
    workers: WorkersSettings = WorkersSettings()
    alarms: AlarmSettings

    @property
    def production(self) -> bool:
        return self.tier == "production"

    @property
    def worker_image_prefix(self) -> str:
        """Where this environment's worker repositories live: ``workers.image_prefix``, else the name."""
        return self.workers.image_prefix or self.name

    @property
    def availability_zones(self) -> list[str]:
        """The listed AZs, else ``<region>a`` and ``<region>b``."""
        return self.aws.availability_zones or default_azs(self.aws.region)
