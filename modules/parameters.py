"""SSM parameters of the stacks: plain discovery values only. The backend's secrets are SSM parameters
too, but not Terraform resources (`ops secrets init` creates them): see docs/security.md."""

from __future__ import annotations

from imports.aws import SsmParameter
from imports.cdktf import Construct


class DiscoveryParameter(Construct):
    """A plain String parameter a workflow or ops command reads to find its target (not a secret).

    :param name: parameter name under ``/viberglass/<env>/``.
    :param value: the value.
    """

    def __init__(self, scope: Construct, id: str, *, name: str, value: str, description: str | None = None) -> None:
        super().__init__(scope, id)
        self.parameter = SsmParameter(self, "parameter", name=name, type="String", value=value, description=description)

    @property
    def name(self) -> str:
        return self.parameter.name
