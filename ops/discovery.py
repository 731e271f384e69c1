"""Read the deployment-discovery parameters the platform stack writes (core/discovery.py)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any

from core import discovery
from ops.common import InputError, OpsError, aws_call, client, load_config


@dataclass(frozen=True)
class Targets:
    env: str
    region: str
    values: dict[str, str]

    def __getitem__(self, suffix: str) -> str:
        return self.values[suffix]


def read(env: str, *suffixes: str, ssm: Any = None) -> Targets:
    """The named discovery values of ``env``; any missing one is an error naming the stack to deploy."""
    known = [*discovery.PARAMETERS, discovery.ALARM_TOPIC]
    unknown = [s for s in suffixes if s not in known]
    if unknown:
        raise InputError(f"{', '.join(map(repr, unknown))}: not discovery parameters; use one of: {', '.join(known)}")
    cfg = load_config(env)
    ssm = ssm or client("ssm", cfg.aws.region)
    names = {f"/viberglass/{env}/{s}": s for s in suffixes}
    values: dict[str, str] = {}
    missing: list[str] = []
    batch = list(names)
    for start in range(0, len(batch), 10):  # GetParameters takes at most 10 names
        chunk = batch[start : start + 10]
        response = aws_call("ssm GetParameters", partial(ssm.get_parameters, Names=chunk))
        values.update({names[p["Name"]]: p["Value"] for p in response.get("Parameters", [])})
        missing += response.get("InvalidParameters", [])
    if missing:
        raise OpsError(
            f"{', '.join(sorted(missing))} not found in {cfg.aws.region}: the platform stack creates it; "
            f"run `VIBERGLASS_ENV={env} cdktf deploy base platform workers` first"
        )
    return Targets(env, cfg.aws.region, values)
