"""The hashicorp/random provider: its ephemeral ``random_password`` generates keys that never reach state.

cdktf 0.21 has no class for ephemeral resources; :func:`ephemeral_password` writes the block through a
stack override (Terraform >= 1.10 reads it; write-only arguments that consume it need >= 1.11).
"""

from cdktf import TerraformStack
from cdktf_cdktf_provider_random.provider import RandomProvider as RandomProvider


def ephemeral_password(stack: TerraformStack, name: str, *, length: int) -> str:
    """Declare ``ephemeral "random_password" "<name>"`` (letters and digits) and return the reference to
    its ``result``, for a write-only argument."""
    stack.add_override(f"ephemeral.random_password.{name}", {"length": length, "special": False})
    return f"${{ephemeral.random_password.{name}.result}}"
