"""HCP Terraform for one environment: its project, workspaces, run credentials and teams (tfe provider), and
the AWS identities its runs assume (core/hcp.py has the names, subjects and trust as data)."""

from __future__ import annotations

import json

from config.schema import EnvironmentConfig
from core import ci_iam, hcp
from core.aws_limits import partition_of
from core.toolchain import terraform_env
from imports.aws import IamOpenidConnectProvider, IamRole, IamRolePolicy, IamRolePolicyAttachment
from imports.cdktf import Construct, TerraformResourceLifecycle
from imports.tfe import (
    DataTfeAgentPool,
    Project,
    Team,
    TeamAccess,
    Variable,
    VariableSet,
    Workspace,
    WorkspaceSettings,
    WorkspaceVariableSet,
)
from modules.account import Account


class RunIdentities(Construct):
    """HCP Terraform's OIDC provider in the environment's account and the two roles its runs assume.

    The plan role has the GitHub plan roles' documents (``ReadOnlyAccess`` minus secret values and state
    writes), the apply role the GitHub apply role's (``PowerUserAccess``, bounded role management, the
    guards); both carry the environment's boundary, which in turn denies anything under it changing them.

    :param config: the environment (``state.backend: cloud``).
    :param account: the stack's account and partition.
    :param boundary: the environment's permissions boundary ARN.
    """

    def __init__(
        self, scope: Construct, id: str, *, config: EnvironmentConfig, account: Account, boundary: str
    ) -> None:
        super().__init__(scope, id)
        self.provider = IamOpenidConnectProvider(
            self, "provider", url=hcp.HCP_OIDC_URL, client_id_list=[hcp.HCP_AUDIENCE]
        )
        provider_arn = f"arn:{account.partition}:iam::{account.id}:oidc-provider/{hcp.HCP_OIDC_HOST}"
        place = ci_iam.Place.of(config, partition_of(config.aws.region))
        documents = {hcp.PLAN: ci_iam.plan_document(place), hcp.APPLY: ci_iam.apply_document(place)}
        kinds = {hcp.PLAN: ci_iam.HCP_PLAN, hcp.APPLY: ci_iam.HCP_APPLY}
        self.roles: dict[str, IamRole] = {}
        for phase in hcp.PHASES:
            kind = kinds[phase]
            role = IamRole(
                self,
                phase,
                name=place.role_name(kind),
                assume_role_policy=hcp.trust(provider_arn, hcp.subjects(config, phase)),
                permissions_boundary=boundary,
                description=f"HCP Terraform {phase} phase of the {config.name} workspaces (dynamic credentials)",
                depends_on=[self.provider],
            )
            IamRolePolicyAttachment(
                self,
                f"{phase}-managed",
                role=role.name,
                policy_arn=f"arn:{account.partition}:iam::aws:policy/{ci_iam.MANAGED[kind]}",
            )
            IamRolePolicy(
                self, f"{phase}-policy", role=role.id, name="permissions", policy=json.dumps(documents[phase])
            )
            self.roles[phase] = role


class Workspaces(Construct):
    """The environment's project, one workspace per stack (remote or agent execution, the Terraform version
    of ``terraform.env``), remote state shared only with the workspaces that read it, the dynamic
    credentials variable set, and a plan team and an apply team (their tokens are created out of band:
    a token resource would keep the token in this stack's state).

    :param config: the environment (``state.backend: cloud``).
    :param plan_role_arn: the role of the runs' plan phase.
    :param apply_role_arn: the role of the runs' apply phase.
    """

    def __init__(
        self, scope: Construct, id: str, *, config: EnvironmentConfig, plan_role_arn: str, apply_role_arn: str
    ) -> None:
        super().__init__(scope, id)
        cloud = config.state.cloud
        assert cloud is not None  # config.rules.check_state
        assert cloud.project is not None
        organization = cloud.organization
        # Deleting a workspace deletes its state: production's cannot go by a stray destroy.
        keep = TerraformResourceLifecycle(prevent_destroy=True) if config.production else None
        self.project = Project(
            self,
            "project",
            organization=organization,
            name=cloud.project,
            description=f"Viberglass {config.name}: one workspace per stack (viberglass-infra, the hcp stack)",
            lifecycle=keep,
        )
        pool = (
            DataTfeAgentPool(self, "agent-pool", organization=organization, name=cloud.agent_pool)
            if cloud.execution_mode == "agent" and cloud.agent_pool is not None
            else None
        )
        self.workspaces: dict[str, Workspace] = {}
        for stack in hcp.STACKS:
            self.workspaces[stack] = Workspace(
                self,
                f"workspace-{stack}",
                organization=organization,
                name=hcp.workspace(config, stack),
                project_id=self.project.id,
                description=f"The {stack} stack of {config.name} (cdktf.out/stacks/{stack}; CLI-driven runs)",
                terraform_version=terraform_env()["TERRAFORM_VERSION"],
                # CLI-driven: runs come from `cdktf deploy` and the plan workflows, never from a VCS hook.
                queue_all_runs=False,
                speculative_enabled=True,
                allow_destroy_plan=not config.production,
                lifecycle=keep,
            )
        for stack, workspace in self.workspaces.items():
            WorkspaceSettings(
                self,
                f"settings-{stack}",
                workspace_id=workspace.id,
                execution_mode=cloud.execution_mode,
                agent_pool_id=pool.id if pool is not None else None,
                global_remote_state=False,
                remote_state_consumer_ids=[self.workspaces[reader].id for reader in hcp.consumers(stack)],
            )
        variable_set = VariableSet(
            self,
            "aws-credentials",
            organization=organization,
            name=hcp.workspace(config, "aws-credentials"),
            description=f"Dynamic AWS credentials of the {config.name} workspaces (a role per run phase)",
        )
        for key, value in hcp.variables(plan_role_arn, apply_role_arn).items():
            Variable(
                self,
                f"variable-{key}",
                variable_set_id=variable_set.id,
                category="env",
                key=key,
                value=value,
                sensitive=False,  # role ARNs grant nothing without the run's signed token
            )
        for stack, workspace in self.workspaces.items():
            WorkspaceVariableSet(
                self, f"credentials-{stack}", variable_set_id=variable_set.id, workspace_id=workspace.id
            )
        self.teams: dict[str, Team] = {}
        for phase, access in hcp.TEAM_ACCESS.items():
            team = Team(self, f"team-{phase}", organization=organization, name=hcp.team(config, phase),
                        visibility="secret")  # fmt: skip
            for stack, workspace in self.workspaces.items():
                TeamAccess(self, f"access-{phase}-{stack}", team_id=team.id, workspace_id=workspace.id,
                           access=access)  # fmt: skip
            self.teams[phase] = team
