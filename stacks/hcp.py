"""The ``hcp`` stack: HCP Terraform for an environment on ``state.backend: cloud`` (wiring only).

Synthesized only for such an environment (``stacks.build_app``). Applied by an operator, never by CI: it
needs an HCP Terraform token that may create projects, workspaces and teams, and AWS credentials of the
environment's account that may create an OIDC provider and the run roles (both outside what the boundary
lets any CI identity do). Its own state lives in ``<workspace_prefix>-<env>-hcp``, a workspace with local
execution that it does not create (docs/hcp-terraform.md).
"""

from __future__ import annotations

from config.schema import EnvironmentConfig
from core import hcp
from imports.cdktf import Construct, TerraformOutput
from imports.tfe import TfeProvider
from modules.hcp import RunIdentities, Workspaces
from stacks.common import ViberglassStack


class HcpStack(ViberglassStack):
    """Project, workspaces, dynamic credentials and teams of one environment, and the AWS roles its runs take."""

    def __init__(self, scope: Construct, stack_name: str, *, config: EnvironmentConfig) -> None:
        super().__init__(scope, stack_name, config=config)
        cloud = config.state.cloud
        assert cloud is not None
        # The token comes from the operator's `terraform login` (or TFE_TOKEN); nothing here names one.
        TfeProvider(self, "tfe", organization=cloud.organization)
        identities = RunIdentities(self, "run-identities", config=config, account=self.account,
                                   boundary=self.boundary_arn)  # fmt: skip
        self.workspaces = Workspaces(
            self,
            "workspaces",
            config=config,
            plan_role_arn=identities.roles[hcp.PLAN].arn,
            apply_role_arn=identities.roles[hcp.APPLY].arn,
        )
        for phase, role in identities.roles.items():
            TerraformOutput(self, f"{phase}_role_arn", value=role.arn)
        for phase, team in self.workspaces.teams.items():
            TerraformOutput(self, f"{phase}_team", value=team.name)
