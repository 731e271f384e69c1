"""CIDR and availability-zone rules used by configuration validation and by the network construct."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from itertools import combinations

IPv4Net = ipaddress.IPv4Network


def parse_cidr(value: str) -> IPv4Net:
    """Parse an IPv4 CIDR block; host bits must be zero (``10.0.1.0/24``, not ``10.0.1.5/24``)."""
    return ipaddress.IPv4Network(value, strict=True)


def default_azs(region: str, count: int = 2) -> list[str]:
    """Availability zones derived from the region: ``eu-west-1`` -> ``eu-west-1a``, ``eu-west-1b``."""
    return [f"{region}{letter}" for letter in "abcdef"[:count]]


def az_key(az: str) -> str:
    """The stable part of an AZ name used in construct ids: ``eu-west-1b`` -> ``b``."""
    return az[-1]


def outside(vpc: IPv4Net, subnets: Sequence[IPv4Net]) -> list[IPv4Net]:
    """Subnets that are not fully inside the VPC block."""
    return [s for s in subnets if not s.subnet_of(vpc)]


def first_overlap(subnets: Sequence[IPv4Net]) -> tuple[IPv4Net, IPv4Net] | None:
    """The first pair of subnets that overlap, in input order, or ``None``."""
    for a, b in combinations(subnets, 2):
        if a.overlaps(b):
            return a, b
    return None
