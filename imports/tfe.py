"""HCP Terraform provider (tfe) resource classes, for the ``hcp`` stack only.

Imported by ``stacks.hcp``, which ``stacks.build_app`` imports only for an environment on
``state.backend: cloud``: synthesizing any other environment loads neither these modules nor the tfe jsii
assembly. Submodules load one by one, as for the AWS provider (:mod:`imports._fastpath`).
"""

from imports import _fastpath

_fastpath.install("cdktf_cdktf_provider_tfe")

from cdktf_cdktf_provider_tfe.data_tfe_agent_pool import DataTfeAgentPool as DataTfeAgentPool  # noqa: E402
from cdktf_cdktf_provider_tfe.project import Project as Project  # noqa: E402
from cdktf_cdktf_provider_tfe.provider import TfeProvider as TfeProvider  # noqa: E402
from cdktf_cdktf_provider_tfe.team import Team as Team  # noqa: E402
from cdktf_cdktf_provider_tfe.team_access import TeamAccess as TeamAccess  # noqa: E402
from cdktf_cdktf_provider_tfe.variable import Variable as Variable  # noqa: E402
from cdktf_cdktf_provider_tfe.variable_set import VariableSet as VariableSet  # noqa: E402
from cdktf_cdktf_provider_tfe.workspace import Workspace as Workspace  # noqa: E402
from cdktf_cdktf_provider_tfe.workspace_settings import WorkspaceSettings as WorkspaceSettings  # noqa: E402
from cdktf_cdktf_provider_tfe.workspace_variable_set import (  # noqa: E402
    WorkspaceVariableSet as WorkspaceVariableSet,
)
