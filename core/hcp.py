"""HCP Terraform for an environment on ``state.backend: cloud``, as data (no cdktf, no network).

* **Workspaces**: one per stack, ``<workspace_prefix>-<env>-<stack>``, in the environment's own project
  (``state.cloud.project``). The ``hcp`` stack, which creates them, keeps its state in a workspace it does
  not create, ``<workspace_prefix>-<env>-hcp`` (docs/hcp-terraform.md).
* **Remote state sharing**: a workspace shares its state only with the workspaces whose stacks read it
  through cdktf's cross-stack references (:data:`READS`; a test compares it with the synthesized
  ``terraform_remote_state`` data sources).
* **Dynamic AWS credentials**: HCP Terraform signs each run phase an OIDC token whose ``sub`` is
  ``organization:<org>:project:<project>:workspace:<workspace>:run_phase:<plan|apply>`` and whose ``aud`` is
  ``aws.workload.identity``. The plan role trusts exactly the plan phase of the environment's three
  workspaces, the apply role exactly their apply phase (``StringEquals`` on lists of exact subjects).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.iam import Statement, policy_document

if TYPE_CHECKING:
    from config.schema import EnvironmentConfig

HCP_OIDC_HOST = "app.terraform.io"
HCP_OIDC_URL = f"https://{HCP_OIDC_HOST}"
# HCP Terraform's default audience for AWS (TFC_AWS_WORKLOAD_IDENTITY_AUDIENCE is left unset).
HCP_AUDIENCE = "aws.workload.identity"
HCP_STACK = "hcp"
PLAN, APPLY = "plan", "apply"
PHASES = (PLAN, APPLY)
# The stacks that run in HCP Terraform, in dependency order, and the stacks each one reads.
STACKS = ("base", "workers", "platform")
READS: dict[str, tuple[str, ...]] = {"base": (), "workers": ("base",), "platform": ("base", "workers")}
# The run environment's variables that switch on dynamic AWS credentials (HCP Terraform's names).
PROVIDER_AUTH = "TFC_AWS_PROVIDER_AUTH"
PLAN_ROLE_ARN = "TFC_AWS_PLAN_ROLE_ARN"
APPLY_ROLE_ARN = "TFC_AWS_APPLY_ROLE_ARN"
# The teams whose tokens the workflows hold: "plan" queues speculative plans, "write" applies.
TEAM_ACCESS = {PLAN: "plan", APPLY: "write"}


def _cloud(cfg: EnvironmentConfig) -> tuple[str, str, str]:
    cloud = cfg.state.cloud
    if cfg.state.backend != "cloud" or cloud is None or cloud.project is None:
        raise ValueError(f"{cfg.name} does not keep its state in HCP Terraform (state.backend: cloud)")
    return cloud.organization, cloud.project, cloud.workspace_prefix


def uses_hcp(cfg: EnvironmentConfig) -> bool:
    return cfg.state.backend == "cloud"


def workspace(cfg: EnvironmentConfig, stack: str) -> str:
    """The workspace of ``stack``: ``<workspace_prefix>-<env>-<stack>``."""
    cloud = cfg.state.cloud
    prefix = cloud.workspace_prefix if cloud is not None else "viberglass"
    return f"{prefix}-{cfg.name}-{stack}"


def consumers(stack: str) -> tuple[str, ...]:
    """The stacks that read ``stack``'s outputs (its remote state consumers)."""
    return tuple(reader for reader in STACKS if stack in READS[reader])


def team(cfg: EnvironmentConfig, phase: str) -> str:
    """The team whose token the workflows use for ``phase``: ``<workspace_prefix>-<env>-<plan|apply>``."""
    return workspace(cfg, phase)


def run_subject(organization: str, project: str, workspace_name: str, phase: str) -> str:
    """The ``sub`` claim HCP Terraform puts in a run phase's token."""
    if phase not in PHASES:
        raise ValueError(f"run phase {phase!r} is not one of {PHASES}")
    return f"organization:{organization}:project:{project}:workspace:{workspace_name}:run_phase:{phase}"


def subjects(cfg: EnvironmentConfig, phase: str) -> list[str]:
    """The exact subjects of ``phase`` for the environment's stacks' workspaces."""
    organization, project, _ = _cloud(cfg)
    return [run_subject(organization, project, workspace(cfg, stack), phase) for stack in STACKS]


def trust(provider_arn: str, subjects_: Sequence[str]) -> str:
    """Trust policy for HCP Terraform runs whose token has HCP's AWS audience and one of ``subjects_``
    (each exact, compared with StringEquals, never StringLike)."""
    if not subjects_ or any("*" in s or "?" in s for s in subjects_):
        raise ValueError("HCP Terraform trust needs exact subjects")
    return policy_document(
        [
            Statement(
                sid="HcpTerraformRuns",
                principals={"Federated": provider_arn},
                actions=["sts:AssumeRoleWithWebIdentity"],
                conditions={
                    "StringEquals": {f"{HCP_OIDC_HOST}:aud": HCP_AUDIENCE, f"{HCP_OIDC_HOST}:sub": list(subjects_)}
                },
            )
        ]
    )


def variables(plan_role_arn: str, apply_role_arn: str) -> dict[str, str]:
    """The environment variables of the workspaces' variable set: dynamic credentials, a role per phase."""
    return {PROVIDER_AUTH: "true", PLAN_ROLE_ARN: plan_role_arn, APPLY_ROLE_ARN: apply_role_arn}
