"""What every stack shares: the AWS provider (region, default tags, allowed account) and its state backend."""

from __future__ import annotations

from config.schema import EnvironmentConfig
from core import hcp
from core.ci_iam import BOUNDARY
from core.iam import GITHUB_OIDC_HOST
from core.naming import Naming
from core.toolchain import required_version
from imports.aws import AwsProvider, AwsProviderDefaultTags
from imports.cdktf import CloudBackend, Construct, LocalBackend, NamedCloudWorkspace, S3Backend, TerraformStack
from modules.account import Account

LOCAL_STATE_DIR = "terraform-state"


def default_tags(config: EnvironmentConfig) -> dict[str, str]:
    return {"Project": "viberglass", "Environment": config.name, "ManagedBy": "terraform"}


def aws_provider(
    stack: TerraformStack, id: str, config: EnvironmentConfig, *, region: str, alias: str | None = None
) -> AwsProvider:
    """An AWS provider with the environment's default tags and its one allowed account (``aws.account_id``):
    credentials of any other account stop Terraform before it reads or changes anything."""
    return AwsProvider(
        stack,
        id,
        region=region,
        alias=alias,
        default_tags=[AwsProviderDefaultTags(tags=default_tags(config))],
        allowed_account_ids=[config.aws.account_id],
    )


def configure_backend(stack: TerraformStack, config: EnvironmentConfig, stack_name: str) -> None:
    """Point ``stack`` at its own state: one S3 key, HCP workspace or local file per environment and stack."""
    state = config.state
    if state.backend == "s3":
        assert state.s3 is not None  # guaranteed by config.rules.check_state
        s3 = state.s3
        backend = S3Backend(
            stack,
            bucket=s3.bucket,
            key=f"{s3.key_prefix}/{config.name}/{stack_name}.tfstate",
            region=s3.region,
            encrypt=True,
            dynamodb_table=s3.dynamodb_table,
        )
        if s3.use_lockfile:
            # S3-native locking (Terraform >= 1.10); cdktf 0.21's S3Backend predates the argument.
            backend.add_override("use_lockfile", True)
    elif state.backend == "cloud":
        assert state.cloud is not None
        cloud = state.cloud
        # The hcp stack's own workspace exists before its project does (docs/hcp-terraform.md): it is found
        # by name, wherever the operator put it.
        project = None if stack_name == hcp.HCP_STACK else cloud.project
        CloudBackend(
            stack,
            organization=cloud.organization,
            workspaces=NamedCloudWorkspace(hcp.workspace(config, stack_name), project),
        )
    else:
        # Relative to cdktf.out/stacks/<stack>/, where Terraform runs: state survives a fresh synth.
        LocalBackend(stack, path=f"../../../{LOCAL_STATE_DIR}/{config.name}/{stack_name}.tfstate")


def github_provider_arn(account: Account) -> str:
    """The account's GitHub OIDC provider (``ops bootstrap-github-oidc`` creates it)."""
    return f"arn:{account.partition}:iam::{account.id}:oidc-provider/{GITHUB_OIDC_HOST}"


class ViberglassStack(TerraformStack):
    """A stack of one environment: provider, backend, naming and account info set up.

    :param config: the validated environment configuration.
    """

    def __init__(self, scope: Construct, stack_name: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, stack_name)
        # The Terraform floor lives in terraform.env, with the version the workflows install.
        self.add_override("terraform.required_version", required_version())
        self.config = config
        self.naming = Naming(config.name)
        aws_provider(self, "aws", config, region=config.aws.region)
        configure_backend(self, config, stack_name)
        self.account = Account(self, "account", region=config.aws.region)
        # Every role of the environment carries the boundary `ops bootstrap-github-oidc` installs; the apply
        # role cannot create one without it (core/ci_iam.py).
        self.boundary_arn = self.account.arn("iam", f"policy/{self.naming.name(BOUNDARY)}", global_=True)
