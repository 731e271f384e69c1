"""Load ``config/<env>.yaml``: read it safely, refuse literal secrets, merge tier defaults, validate, check rules.

Every refusal is a :class:`ConfigError`: one line naming the file, the key (or line) and the fix. Nothing
a file can contain (other encodings, deep nesting, alias bombs, odd keys) gets past as a traceback.
"""

from __future__ import annotations

import copy
import datetime
import functools
import os
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from config.checks import REFUSED, show
from config.defaults import TIER_DEFAULTS, merge
from config.errors import ConfigError
from config.rules import check_all, check_tier_name
from config.schema import EnvironmentConfig
from core.naming import env_name_problem
from core.walk import leaves

CONFIG_DIR = Path(__file__).resolve().parent
ENV_VAR = "VIBERGLASS_ENV"
DIR_VAR = "VIBERGLASS_CONFIG_DIR"
DEFAULT_ENV = "dev"
TIERS = tuple(TIER_DEFAULTS)

# A configuration file is a few kilobytes. These bounds refuse hostile or broken files in milliseconds:
# a "billion laughs" of YAML aliases, thousands of nesting levels, a log file saved as config.
MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 20
MAX_VALUES = 10_000

# Keys whose values are secrets when written literally; `*_parameter` keys hold SSM names instead.
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|api[_-]?key|private[_-]?key|access[_-]?key)", re.I)
# Shapes of well-known credentials, wherever they appear.
_SECRET_VALUE = re.compile(
    r"^(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}|AKIA[0-9A-Z]{16}|xox[abprs]-[\w-]{10,}|sk-[\w-]{20,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----.*)$",
    re.S,
)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+", re.ASCII)


class _Refused(yaml.YAMLError):
    """A document PyYAML would read but we refuse, with the line and the fix."""

    def __init__(self, problem: str, fix: str, mark: yaml.Mark) -> None:
        super().__init__(problem)
        self.problem, self.fix, self.problem_mark = problem, fix, mark


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, refusing duplicate keys (PyYAML keeps the last one silently) and nesting
    deeper than ``MAX_DEPTH`` (PyYAML composes recursively and would hit Python's recursion limit)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise _Refused(
                    f"values are nested more than {MAX_DEPTH} levels deep",
                    "a configuration is a few levels deep; look for unclosed brackets or runaway indentation",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _construct_mapping(loader: _SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        try:
            duplicate = key in seen
        except TypeError:  # an unhashable key: a list or mapping written as a key
            raise yaml.constructor.ConstructorError(
                None, None, "a list or mapping used as a key", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {show(key)}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_SafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

# The longest integer a setting could need is an AWS account id (12 digits). Python refuses to convert one of
# more than 4,300 digits with a ValueError that PyYAML does not turn into a YAML error (no line, exit 1).
MAX_INTEGER_CHARACTERS = 40


def _construct_int(loader: _SafeLoader, node: yaml.ScalarNode) -> int:
    written = str(node.value)
    if len(written) > MAX_INTEGER_CHARACTERS:
        raise _Refused(
            f"a number is written with {len(written):,} characters",
            f"no setting takes a number of more than {MAX_INTEGER_CHARACTERS} characters",
            node.start_mark,
        )
    value: int = loader.construct_yaml_int(node)
    return value


_SafeLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def config_dir() -> Path:
    return Path(os.environ.get(DIR_VAR) or CONFIG_DIR)


def available_environments(directory: Path | None = None) -> list[str]:
    """The environments of the config folder: its ``<name>.yaml`` files (not folders, not odd names)."""
    folder = directory or config_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.yaml") if p.is_file() and env_name_problem(p.stem) is None)


def display_path(path: Path) -> str:
    """The path as the user would type it: relative to the working directory when possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _render_key(key: Any) -> str:
    return key if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else show(key)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{_render_key(part)}" if out else _render_key(part)
    return out


def _join(path: str, key: Any) -> str:
    rendered = _render_key(key)
    return f"{path}.{rendered}" if path else rendered


def check_document(raw: Any) -> None:
    """Refuse what the schema cannot describe: keys that are not text, documents that refer to themselves
    through aliases, and documents that aliases expand beyond ``MAX_VALUES`` values (alias bombs). Shared
    values are counted once per use without being walked again, so a bomb is refused in microseconds."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(value: Any, path: str) -> int:
        if not isinstance(value, dict | list):
            return 1
        ident = id(value)
        if ident in sizes:
            return sizes[ident]
        if ident in active:
            raise ConfigError(path, "refers to itself through a YAML alias", "write the value out")
        active.add(ident)
        total = 1
        if isinstance(value, dict):
            for key, child in value.items():
                if not isinstance(key, str):
                    raise ConfigError(path, f"the key {show(key)} is not text", "quote the key, or remove it")
                total += size(child, _join(path, key))
                if total > MAX_VALUES:
                    break
        else:
            for i, child in enumerate(value):
                total += size(child, f"{path}[{i}]")
                if total > MAX_VALUES:
                    break
        active.discard(ident)
        if total > MAX_VALUES:
            raise ConfigError(
                path,
                f"expands to more than {MAX_VALUES:,} values (YAML aliases repeat what they point at)",
                "write the settings out; a configuration needs a few hundred values at most",
            )
        sizes[ident] = total
        return total

    size(raw, "")


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
                "remove it from the file: no secret belongs in the configuration (the database password is "
                "RDS-managed, the backend's secrets are SSM parameters: `.venv/bin/viberglass-ops secrets --help`)",
            )


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The settings model an annotation holds: itself, or inside ``X | None``, ``Annotated[X, ...]``, ``list[X]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for a in getattr(annotation, "__args__", ()) if (m := _model_in(a)) is not None), None)


def _field(loc: tuple[Any, ...]) -> FieldInfo | None:
    """The schema field at ``loc`` (model attributes and list items followed; below a plain value, its field)."""
    model: type[BaseModel] | None = EnvironmentConfig
    field = None
    for part in loc:
        if isinstance(part, int) or model is None:  # a list item, or a path below a plain value: same field
            continue
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        model = _model_in(field.annotation)
    return field


def _description(field: FieldInfo | None) -> str:
    """What the schema says about a field: its own description, or the one of a ``Field`` inside its annotation
    (``Annotated[list[str], Field(max_length=6, description=...)] | None`` keeps it there)."""
    if field is None:
        return ""
    if field.description:
        return field.description
    pending = [field.annotation]
    while pending:
        annotation = pending.pop()
        inner = [m.description for m in getattr(annotation, "__metadata__", ()) if isinstance(m, FieldInfo)]
        if any(inner):
            return next(d for d in inner if d)
        pending.extend(getattr(annotation, "__args__", ()))
    return ""


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    parent = loc[:-1]
    field = _field(parent) if parent else None
    model = _model_in(field.annotation) if field is not None else EnvironmentConfig if not parent else None
    return sorted(model.model_fields) if model is not None else []


_TYPE_WORDS = {
    "string_type": ("text", "write text; quote it if it looks like a number, date or true/false"),
    "int_type": ("a whole number", "write a whole number without quotes"),
    "bool_type": ("true or false", "write true or false without quotes"),
    "list_type": ("a list", "write a YAML list, e.g. [a, b]"),
    "dict_type": ("a mapping of settings", "indent its keys under it"),
    "model_type": ("a mapping of settings", "indent its keys under it"),
    "model_attributes_type": ("a mapping of settings", "indent its keys under it"),
}


def _kind(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, dict | list):
        return "a mapping" if isinstance(value, dict) else "a list"
    words = {
        bool: "true/false",
        int: "a number",
        float: "a decimal number",
        str: "text",
        datetime.date: "a date",
        datetime.datetime: "a date and time",
    }
    return f"{show(value)} ({words.get(type(value), type(value).__name__)})"


_BOUNDS = {
    "greater_than_equal": ("below the minimum", "ge", "at least"),
    "less_than_equal": ("above the maximum", "le", "at most"),
    "greater_than": ("not above", "gt", "above"),
    "less_than": ("not below", "lt", "below"),
}


def _from_validation(error: ValidationError) -> ConfigError:
    first = error.errors()[0]
    loc = tuple(first["loc"])
    kind = first["type"]
    value = first.get("input")
    ctx = first.get("ctx") or {}
    description = _description(_field(loc))
    why = f" ({description})" if description else ""
    if kind == REFUSED:
        problem, fix = str(ctx["problem"]), str(ctx["fix"])
    elif kind == "extra_forbidden":
        known = _known_keys(loc)
        problem = "unknown key"
        fix = "remove it or fix the spelling" + (f" (known keys here: {', '.join(known)})" if known else "")
    elif kind == "missing":
        problem, fix = "required key is missing", f"add it{why}"
    elif kind in _TYPE_WORDS:
        wanted, fix = _TYPE_WORDS[kind]
        problem = f"is {_kind(value)}, not {wanted}"
        if value is None:
            fix = "give it a value, or remove the key to use the default"
    elif kind == "literal_error":
        problem, fix = f"{show(value)} is not one of: {ctx.get('expected', '')}", "use one of them"
    elif kind in _BOUNDS:
        words, name, wanted = _BOUNDS[kind]
        problem, fix = f"{show(value)} is {words} {ctx.get(name)}{why}", f"use a value {wanted} {ctx.get(name)}"
    elif kind == "too_long":
        problem = f"has {ctx.get('actual_length')} items, more than {ctx.get('max_length')}{why}"
        fix = "remove the extra items"
    else:
        message = str(first["msg"]).rstrip(".")
        problem, fix = f"{_kind(value)}: {message[0].lower() + message[1:]}", "correct the value"
    return ConfigError(_location(loc), problem, fix)


def _tier(raw: dict[str, Any], env: str) -> str:
    if "tier" not in raw:
        raise ConfigError(
            "tier",
            "is missing; every file says which tier it is, so a renamed or copied file keeps its protections",
            "add tier: production (protected, production minimums enforced) or tier: development",
        )
    tier = raw["tier"]
    if tier not in TIERS:
        raise ConfigError("tier", f"{show(tier)} is not a tier", f"use one of: {', '.join(TIERS)}")
    check_tier_name(env, tier)
    return str(tier)


def parse(raw: Any, env: str) -> EnvironmentConfig:
    """Validate an already-parsed YAML document for environment ``env``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError("", f"the file holds {_kind(raw)}, not a mapping of settings", "start from config/dev.yaml")
    check_document(raw)
    refuse_literal_secrets(raw)
    name = raw.get("name", env)
    if name != env:
        raise ConfigError("name", f"{show(name)} does not match the file name ({env})", f"set name: {env} or remove it")
    tier = _tier(raw, env)
    try:
        cfg = EnvironmentConfig.model_validate(merge(TIER_DEFAULTS[tier], {**raw, "name": env, "tier": tier}))
    except ValidationError as error:
        raise _from_validation(error) from None
    check_all(cfg)
    return cfg


MAX_CACHED_CHARACTERS = 65_536


@functools.lru_cache(maxsize=16)
def _parsed(text: str) -> Any:
    """The YAML document ``text``, parsed once per process: loading one environment reads every other
    environment's file too (``check_account_sharing``), and a process that loads several environments
    (``python -m stacks``, the ops commands, the policy rules) would parse each file again and again with
    PyYAML's pure-Python parser (~1.6 ms each). A document that does not parse raises every time."""
    return yaml.load(text, Loader=_SafeLoader)  # noqa: S506 (a SafeLoader)


def read_yaml(path: Path, shown: str) -> Any:
    """The YAML document in ``path``, or a :class:`ConfigError` naming the line and the problem."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(
                "", f"is {size:,} bytes; a configuration file is at most {MAX_FILE_BYTES:,}", "is it the right file?"
            ).in_file(shown)
        data = path.read_bytes()
    except OSError as error:
        raise ConfigError("", f"cannot be read ({error.strerror})", "check the file and its permissions").in_file(
            shown
        ) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(
            f"line {line}",
            f"byte 0x{data[error.start]:02x} is not UTF-8 text",
            "save the file as UTF-8",
        ).in_file(shown) from None
    try:
        # A copy: the parsed document is shared by every read of the same text in this process. Only texts of
        # a configuration's size are kept (~2 KB; a file may be up to MAX_FILE_BYTES).
        if len(text) > MAX_CACHED_CHARACTERS:
            return _parsed.__wrapped__(text)
        return copy.deepcopy(_parsed(text))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        position = getattr(error, "position", None)  # a ReaderError (a character YAML forbids)
        if mark is not None:
            where = f"line {mark.line + 1}"
        elif position is not None:
            where = f"line {text[:position].count(chr(10)) + 1}"
        else:
            where = "the file"
        if isinstance(error, _Refused):
            raise ConfigError(where, error.problem, error.fix).in_file(shown) from None
        problem = getattr(error, "problem", None) or getattr(error, "reason", None) or str(error).splitlines()[0]
        raise ConfigError(where, f"invalid YAML: {problem}", "fix the syntax").in_file(shown) from None


def _environment(env: str | None, source: str) -> tuple[str, str]:
    """The environment name and where it came from (for the message)."""
    if env is None:
        value = os.environ.get(ENV_VAR)
        if value is None:
            return DEFAULT_ENV, ENV_VAR
        env, source = value, ENV_VAR
    if env == "":
        raise ConfigError(
            source, "is set but empty", f"name an environment, or unset {source} for the default ({DEFAULT_ENV})"
        )
    return env, source


def load(env: str | None = None, directory: Path | None = None, *, source: str = ENV_VAR) -> EnvironmentConfig:
    """Load the environment named by ``env`` (default: ``$VIBERGLASS_ENV``, else ``dev``).

    :param source: what the user set to choose ``env`` (``VIBERGLASS_ENV``, ``--env``), for messages.
    """
    env, source = _environment(env, source)
    folder_source = "the config folder"
    if directory is None:
        directory = config_dir()
        if os.environ.get(DIR_VAR):
            folder_source = DIR_VAR
    if not directory.is_dir():
        what = "is not a folder" if directory.exists() else "does not exist"
        raise ConfigError(
            folder_source if folder_source == DIR_VAR else "",
            f"{display_path(directory)} {what}",
            f"point {DIR_VAR} at the folder holding <env>.yaml files, or unset it"
            if folder_source == DIR_VAR
            else "restore config/ from git",
        )
    problem = env_name_problem(env)
    known = ", ".join(available_environments(directory)) or "none"
    if problem:
        raise ConfigError(source, problem, f"use one of: {known}")
    path = directory / f"{env}.yaml"
    shown = display_path(path)
    if path.exists() and not path.is_file():
        raise ConfigError("", f"{shown} is a folder, not a file", f"put the settings of {env} in a file {shown}")
    if not path.exists():
        other = directory / f"{env}.yml"
        hint = f"; {display_path(other)} exists: rename it to {env}.yaml" if other.is_file() else ""
        raise ConfigError(
            source,
            f"unknown environment {env!r}",
            f"use one of: {known} (files in {display_path(directory)}){hint}",
        )
    raw = read_yaml(path, shown)
    try:
        cfg = parse(raw, env)
        check_account_sharing(cfg, directory)
    except ConfigError as error:
        raise error.in_file(shown) from None
    return cfg


def _declared_account(path: Path) -> tuple[str | None, bool]:
    """(``aws.account_id``, ``aws.shared_account``) as another environment file writes them; a file that
    cannot be read counts as naming no account (its own load reports what is wrong with it)."""
    try:
        raw = read_yaml(path, display_path(path))
    except ConfigError:
        return None, False
    aws = raw.get("aws") if isinstance(raw, dict) else None
    if not isinstance(aws, dict):
        return None, False
    account = aws.get("account_id")
    return (account if isinstance(account, str) else None), aws.get("shared_account") is True


def account_peers(cfg: EnvironmentConfig, directory: Path | None = None) -> list[str]:
    """The other environments of the config folder whose files name the same AWS account."""
    folder = directory or config_dir()
    return [
        env
        for env in available_environments(folder)
        if env != cfg.name and _declared_account(folder / f"{env}.yaml")[0] == cfg.aws.account_id
    ]


def check_account_sharing(cfg: EnvironmentConfig, directory: Path) -> None:
    """One AWS account per environment, unless every environment in it says ``aws.shared_account: true``:
    the application's own names (Lambda functions, task families, ``/viberator/...`` parameters) carry
    no environment, so a shared account mixes them (docs/security.md)."""
    for peer in account_peers(cfg, directory):
        peer_shared = _declared_account(directory / f"{peer}.yaml")[1]
        if not (cfg.aws.shared_account and peer_shared):
            missing = " and ".join(
                f"{name}.yaml"
                for name, shared in ((cfg.name, cfg.aws.shared_account), (peer, peer_shared))
                if not shared
            )
            raise ConfigError(
                "aws.account_id",
                f"{cfg.aws.account_id} is also the account of {peer} ({peer}.yaml); environments get an account "
                "each by default",
                f"give {cfg.name} its own account, or set aws.shared_account: true in {missing} "
                "(docs/security.md lists what a shared account mixes)",
            )
