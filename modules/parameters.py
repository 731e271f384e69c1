"""SSM parameters: generated and operator-held secrets, and plain discovery values."""

from __future__ import annotations

from imports.aws import SsmParameter
from imports.cdktf import Construct, TerraformResourceLifecycle
from modules.encryption import EnvironmentKey


class SecretParameter(Construct):
    """A SecureString encrypted with the environment key, in one of two forms.

    * **generated** (``write_only``): Terraform sends the value through the write-only ``value_wo``
      argument (Terraform >= 1.11), so it never appears in a plan or in state. ``write_only_version``
      is what makes Terraform send it: bump it only to replace the value on purpose.
    * **operator-held** (``initial``): created with ``initial`` and ``ignore_changes = [value]``;
      an operator sets the real value with ``ops secrets set`` and Terraform never writes it again.

    :param name: parameter name, e.g. ``/viberglass/dev/backend/slackBotToken``.
    :param key: the environment key.
    :param write_only: a reference to an ephemeral value (``${ephemeral...result}``). Default: none.
    :param write_only_version: Default: 1.
    :param initial: the value an operator-held secret starts with. Default: none.
    :param description: what it holds. Default: none.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        name: str,
        key: EnvironmentKey,
        write_only: str | None = None,
        write_only_version: int = 1,
        initial: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        if (write_only is None) == (initial is None):
            raise ValueError(f"{name}: give exactly one of write_only (generated) or initial (operator-held)")
        self.generated = write_only is not None
        self.parameter = SsmParameter(
            self,
            "parameter",
            name=name,
            type="SecureString",
            key_id=key.arn,
            value=initial,
            value_wo=write_only,
            value_wo_version=write_only_version if write_only is not None else None,
            description=description,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["value"]) if initial is not None else None,
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
