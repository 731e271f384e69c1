"""Per-environment configuration: ``config/<env>.yaml`` validated into :class:`EnvironmentConfig`."""

from config.errors import ConfigError
from config.loader import available_environments, load, parse
from config.schema import EnvironmentConfig

__all__ = ["ConfigError", "EnvironmentConfig", "available_environments", "load", "parse"]
