"""The hashicorp/random provider: only for the database password, which must live in Terraform."""

from cdktf_cdktf_provider_random.password import Password as Password
from cdktf_cdktf_provider_random.provider import RandomProvider as RandomProvider
