"""Values AWS accepts, written down once so configuration fails before Terraform does."""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

# CloudWatch Logs PutRetentionPolicy accepts exactly these (0 = never expire, which we refuse:
# retention must be finite).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)

# Fargate task sizes (CPU units -> accepted memory in MiB), from the ECS task-size table.
_FARGATE: dict[int, range | tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}


def fargate_cpu_values() -> list[int]:
    """CPU units Fargate accepts."""
    return sorted(_FARGATE)


def fargate_memory_values(cpu: int) -> list[int]:
    """Memory sizes Fargate accepts for ``cpu`` (empty when the CPU value itself is invalid)."""
    return list(_FARGATE.get(cpu, ()))


def is_fargate_size(cpu: int, memory: int) -> bool:
    """Whether Fargate accepts this CPU/memory pair."""
    return memory in fargate_memory_values(cpu)


def describe_memory_choices(cpu: int) -> str:
    """Human-readable list of the memory values for ``cpu``: ``1024-4096 in steps of 1024``."""
    values = fargate_memory_values(cpu)
    if len(values) <= 3:
        return ", ".join(str(v) for v in values)
    return f"{values[0]}-{values[-1]} in steps of {values[1] - values[0]}"


def nearest_retention(days: int) -> int:
    """The accepted retention value closest to ``days`` (ties go to the longer one)."""
    return min(LOG_RETENTION_DAYS, key=lambda v: (abs(v - days), -v))


# ECS runs at most 5,000 tasks per service (a fixed service quota), so no count can go beyond it.
MAX_TASKS_PER_SERVICE = 5000

# VPC subnets: AWS accepts /16 to /28 and reserves 5 addresses in each. An Application Load Balancer
# needs subnets of at least /27 with 8 free addresses.
SUBNET_PREFIXES = range(16, 28 + 1)
RESERVED_PER_SUBNET = 5
ALB_MIN_PREFIX = 27
# Two Availability Zones at least (the load balancer and the database subnet group need two); no region
# has more than six.
ZONE_COUNTS = range(2, 6 + 1)


def usable_addresses(prefix: int) -> int:
    """Addresses of a /``prefix`` subnet that resources can use (AWS keeps 5)."""
    return int(2 ** (32 - prefix)) - RESERVED_PER_SUBNET


@functools.cache
def _partitions() -> list[dict[str, object]]:
    spec = importlib.util.find_spec("botocore")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("botocore is not installed; run `make setup`")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "partitions.json"
    partitions: list[dict[str, object]] = json.loads(path.read_text(encoding="utf-8"))["partitions"]
    return partitions


def partition_of(region: str) -> str:
    """The partition (``aws``, ``aws-cn``, ``aws-us-gov``, ...) botocore's endpoint data puts ``region`` in."""
    for part in _partitions():
        if region in part["regions"]:  # type: ignore[operator]
            return str(part["id"])
    raise ValueError(f"{region} is in no partition the installed AWS SDK knows")


@functools.cache
def regions() -> frozenset[str]:
    """Every AWS region the installed AWS SDK knows, from botocore's own endpoint data
    (``botocore/data/partitions.json``: the commercial, China, GovCloud, ISO and European Sovereign
    partitions), read without importing botocore (~0.1 ms instead of ~60 ms) and without network."""
    # `aws-global` and friends are endpoint aliases, not regions a VPC can live in.
    return frozenset(
        name
        for part in _partitions()
        for name in part["regions"]  # type: ignore[attr-defined]
        if not name.endswith("-global")
    )
