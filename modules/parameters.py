"""SSM parameters: encrypted secrets, operator-set secrets, and plain discovery values."""

from __future__ import annotations

from imports.aws import SsmParameter
from imports.cdktf import Construct, TerraformResourceLifecycle
from modules.encryption import EnvironmentKey

# Written once at creation; operators replace it with `ops secrets set` and Terraform never looks again.
PLACEHOLDER = "unset: run `python -m ops secrets set`"


class SecretParameter(Construct):
    """A SecureString encrypted with the environment key.

    :param name: parameter name, e.g. ``/viberglass/dev/database/url``.
    :param value: the value Terraform writes; ``None`` for an operator-set secret (a placeholder is
        written once and ``value`` is then ignored, so Terraform never overwrites or reads it back into
        a diff). Default: ``None``.
    :param key: the environment key.
    :param description: what it holds. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EnvironmentKey,
        value: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        operator_set = value is None
        self.parameter = SsmParameter(
            self,
            "parameter",
            name=name,
            type="SecureString",
            key_id=key.arn,
            value=PLACEHOLDER if operator_set else value,
            description=description,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]) if operator_set else None,
        )

    @property
    def arn(self) -> str:
        return self.parameter.arn

    @property
    def name(self) -> str:
        return self.parameter.name


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
