"""Load ``config/<env>.yaml``: parse, refuse literal secrets, merge tier defaults, validate, check rules."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from config.defaults import TIER_DEFAULTS, merge, tier_for
from config.errors import ConfigError
from config.rules import check_all
from config.schema import EnvironmentConfig
from core.walk import leaves

CONFIG_DIR = Path(__file__).resolve().parent
ENV_VAR = "VIBERGLASS_ENV"
DIR_VAR = "VIBERGLASS_CONFIG_DIR"
DEFAULT_ENV = "dev"

# Keys whose values are secrets when written literally; `*_parameter` keys hold SSM names instead.
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key)", re.I)
# Shapes of well-known credentials, wherever they appear.
_SECRET_VALUE = re.compile(
    r"^(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|AKIA[0-9A-Z]{16}|xox[abprs]-[\w-]{10,}|sk-[\w-]{20,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*)$",
    re.S,
)

_PATTERN_HINTS = {
    "cidr": "an IPv4 CIDR block such as 10.0.0.0/16",
    "domain": "a lower-case DNS name such as api.example.com",
    "ssm": "an SSM parameter name starting with /",
    "region": "an AWS region such as eu-west-1",
    "account": "a 12-digit AWS account id",
}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A SafeLoader that refuses duplicate keys (PyYAML keeps the last one silently)."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def config_dir() -> Path:
    return Path(os.environ.get(DIR_VAR) or CONFIG_DIR)


def available_environments(directory: Path | None = None) -> list[str]:
    return sorted(p.stem for p in (directory or config_dir()).glob("*.yaml"))


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def refuse_literal_secrets(raw: dict[str, Any]) -> None:
    """Raise on any value that looks like a secret. The value itself is never repeated in the message."""
    for path, value in leaves(raw):
        if not isinstance(value, str) or not value:
            continue
        leaf = re.sub(r"(\[\d+\])+$", "", path).rsplit(".", 1)[-1]
        named_secret = bool(_SECRET_KEY.search(leaf)) and not leaf.endswith("_parameter")
        if (named_secret and not value.startswith("/")) or _SECRET_VALUE.match(value):
            raise ConfigError(
                path,
                "looks like a literal secret (value not shown)",
                "remove it from the file; store it with `python -m ops secrets set` (reads stdin) and "
                "reference the SSM parameter name in a *_parameter key",
            )


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _known_keys(loc: tuple[int | str, ...]) -> list[str]:
    model: Any = EnvironmentConfig
    for part in loc[:-1]:
        if isinstance(part, int) or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return []
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
        if model is None:
            # dict[str, Model] (the worker catalog): look one level deeper.
            inner = [a for c in candidates for a in getattr(c, "__args__", ())]
            model = next((c for c in inner if isinstance(c, type) and issubclass(c, BaseModel)), None)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return sorted(model.model_fields)
    return []


def _pattern_hint(key: str) -> str:
    leaf = key.rsplit(".", 1)[-1]
    for word, hint in (
        ("cidr", "cidr"),
        ("subnets", "cidr"),
        ("domain", "domain"),
        ("parameter", "ssm"),
        ("region", "region"),
        ("account_id", "account"),
    ):
        if word in leaf:
            return _PATTERN_HINTS[hint]
    return "the expected format"


def _from_validation(error: ValidationError) -> ConfigError:
    first = error.errors()[0]
    loc = tuple(first["loc"])
    key = _location(loc)
    kind = first["type"]
    value = first.get("input")
    if kind == "extra_forbidden":
        known = _known_keys(loc)
        hint = f" (known keys here: {', '.join(known)})" if known else ""
        return ConfigError(key, "unknown key", f"remove it or fix the spelling{hint}")
    if kind == "missing":
        return ConfigError(key, "required key is missing", "add it")
    if kind == "string_pattern_mismatch":
        return ConfigError(key, f"{value!r} is not {_pattern_hint(key)}", "correct the value")
    message = str(first["msg"]).rstrip(".")
    message = message[0].lower() + message[1:]
    shown = "null" if value is None else repr(value)
    return ConfigError(key, f"{shown}: {message}", "correct the value")


def parse(raw: Any, env: str) -> EnvironmentConfig:
    """Validate an already-parsed YAML document for environment ``env``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("", "the file is not a mapping of settings", "start from config/dev.yaml")
    refuse_literal_secrets(raw)
    name = raw.get("name", env)
    if name != env:
        raise ConfigError("name", f"{name!r} does not match the file name ({env})", f"set name: {env} or remove it")
    tier = raw.get("tier", tier_for(env))
    defaults = TIER_DEFAULTS.get(tier, TIER_DEFAULTS["development"])
    try:
        cfg = EnvironmentConfig.model_validate(merge(defaults, {**raw, "name": env, "tier": tier}))
    except ValidationError as error:
        raise _from_validation(error) from None
    check_all(cfg)
    return cfg


def load(env: str | None = None, directory: Path | None = None) -> EnvironmentConfig:
    """Load the environment named by ``env`` (default: ``$VIBERGLASS_ENV``, else ``dev``)."""
    env = env or os.environ.get(ENV_VAR) or DEFAULT_ENV
    directory = directory or config_dir()
    path = directory / f"{env}.yaml"
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", env) or not path.is_file():
        known = ", ".join(available_environments(directory)) or "none"
        raise ConfigError(
            ENV_VAR, f"unknown environment {env!r}", f"use one of: {known} (files in {display_path(directory)})"
        )
    shown = display_path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark else "the file"
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(line, f"invalid YAML: {problem}", "fix the syntax").in_file(shown) from None
    try:
        return parse(raw, env)
    except ConfigError as error:
        raise error.in_file(shown) from None
