"""The typed shape of ``config/<env>.yaml``.

Field-level rules (types, unknown keys, ranges) live here; rules that relate two fields to each other live
in :mod:`config.rules` so their messages can name both keys. Tier-dependent defaults (dev vs prod) are in
:mod:`config.defaults`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core.network import default_azs

Cidr = Annotated[str, StringConstraints(pattern=r"^\d{1,3}(\.\d{1,3}){3}/\d{1,2}$")]
SsmName = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9_.\-/]+$")]
Domain = Annotated[str, StringConstraints(pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")]
Name = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=40)]
PositiveInt = Annotated[int, Field(ge=1)]


class Section(BaseModel):
    """Every section rejects unknown keys and wrong types (no silent ``"256"`` -> ``256``)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class AwsSettings(Section):
    region: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = "eu-west-1"
    account_id: Annotated[str, StringConstraints(pattern=r"^\d{12}$")] | None = None
    availability_zones: list[str] | None = None


class NetworkSettings(Section):
    mode: Literal["enterprise", "standard"] = "enterprise"
    vpc_cidr: Cidr = "10.0.0.0/16"
    public_subnets: list[Cidr] = ["10.0.1.0/24", "10.0.2.0/24"]
    private_subnets: list[Cidr] = ["10.0.10.0/24", "10.0.11.0/24"]
    single_nat_gateway: bool
    flow_logs: bool


class LogSettings(Section):
    retention_days: int


class S3State(Section):
    bucket: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    region: str
    dynamodb_table: str | None = None
    use_lockfile: bool = False
    key_prefix: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$")] = "viberglass"


class CloudState(Section):
    organization: str
    project: str | None = None
    workspace_prefix: Name = "viberglass"


class StateSettings(Section):
    backend: Literal["s3", "cloud", "local"] = "s3"
    s3: S3State | None = None
    cloud: CloudState | None = None


class DatabaseSettings(Section):
    instance_class: Annotated[str, StringConstraints(pattern=r"^db\.[a-z0-9]+\.[a-z0-9]+$")]
    allocated_storage: Annotated[int, Field(ge=20, le=65536)]
    max_allocated_storage: Annotated[int, Field(le=65536)] | None = None
    engine_version: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)?$")] = "16"
    multi_az: bool
    backup_retention_days: Annotated[int, Field(ge=1, le=35)]
    deletion_protection: bool
    final_snapshot: bool
    performance_insights_retention_days: Literal[7, 31, 93, 186, 372, 731] = 7
    name: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")] = "viberglass"
    username: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,15}$")] = "viberglass"


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
    desired_count: Annotated[int, Field(ge=0)]
    min_count: Annotated[int, Field(ge=0)]
    max_count: PositiveInt
    image_tag: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")]
    container_port: Annotated[int, Field(ge=1, le=65535)] = 3000
    health_check_path: Annotated[str, StringConstraints(pattern=r"^/\S*$")] = "/health"


class DomainSettings(Section):
    api_domain: Domain | None = None
    app_domain: Domain | None = None
    route53_zone_id: Annotated[str, StringConstraints(pattern=r"^Z[A-Z0-9]{1,31}$")] | None = None


class FrontendSettings(Section):
    repository: Annotated[str, StringConstraints(pattern=r"^https://github\.com/[\w.-]+/[\w.-]+$")] = (
        "https://github.com/ilities/viberglass"
    )
    branch: str = "main"
    app_root: str = "apps/platform-frontend"
    github_token_parameter: SsmName = "/viberglass/github/amplify-token"  # noqa: S105 (a parameter name)


class GithubSettings(Section):
    repository: Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")] = "ilities/viberglass"


# An ECR repository path segment (lower-case, `.`, `_`, `-` inside, `/` between segments).
RepositoryPrefix = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", max_length=80)
]


class WorkersSettings(Section):
    """Clanker workers. The repositories are the application's catalog (``core.app_contract``), created
    under ``image_prefix`` (default: the environment name), e.g. ``dev/viberator-worker-multi-agent``."""

    image_prefix: RepositoryPrefix | None = None
    keep_images_per_environment: Annotated[int, Field(ge=1, le=1000)] = 30
    cpu: int = 2048
    memory: int = 4096
    container_insights: bool = True


class AlarmSettings(Section):
    enabled: bool


class EnvironmentConfig(Section):
    """A whole environment. ``name`` and ``tier`` come from the file name unless written."""

    name: Name
    tier: Literal["development", "production"]
    aws: AwsSettings = AwsSettings()
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
