"""The configuration of an environment for the ops commands, without boto3: ``ops region`` runs in every
deploy job and needs only the configuration, so it does not pay for importing boto3 (~0.1 s a call)."""

from __future__ import annotations

import config as configuration
from config.schema import EnvironmentConfig
from ops.errors import InputError


def load_config(env: str) -> EnvironmentConfig:
    """The configuration of ``--env``; an empty or unknown name is refused, never replaced by a default."""
    try:
        return configuration.load(env, source="--env")
    except configuration.ConfigError as error:
        raise InputError(str(error)) from None
